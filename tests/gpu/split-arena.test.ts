// Split arenas (src/engine/arena.ts): a GpuContext whose arena buffers are capped far below the
// device's limits (arenaBufferLimit) makes tiny GPT-2 and Llama-family models span several
// buffers, with the embedding (and Qwen's untied LM head) split by rows into parts. They must
// compute what the unsplit model computes: per-token log-probs and sums, gradients, one update of
// SGD and of AdamW (f32 and bf16 moments, weight decay, clipping by the one global norm), and the
// by-name download/upload of weights and moments.
// - Parts of whole LM-head chunks (512 KiB buffers, vocabulary 4200: the real models' case,
//   parts rounded to the 4096-row chunk): bitwise equal, except the gradient norm, whose partial
//   sums group elements by buffer (so a clipped update is equal to 1e-6).
// - Parts smaller than a chunk (8–16 KiB buffers, vocabulary 257): the LM head merges its online
//   log-sum-exp at other boundaries, so equal to f32 rounding.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { layoutArena, type TensorSpec } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { GptModel } from '../../src/model/gpt';
import { LlamaModel, llamaStackScratchBytes } from '../../src/model/llama';
import { createModel, isLlamaConfig, type ModelConfig } from '../../src/model/family';
import { paramSpec, presetConfig, type GPTConfig } from '../../src/model/config';
import { llamaParamSpec, llamaPresetConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';
import { buildBatch } from '../../src/model/batch';
import { Trainer } from '../../src/train/trainer';
import { OptimizerState } from '../../src/train/optimizer-state';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import { randomSeqs } from '../helpers/random-model';
import type { PairIds } from '../../src/train/pairs';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

/** The same device, arena buffers capped at `bytes`. */
const capped = (bytes: number): GpuContext => ({ ...gpu, arenaBufferLimit: bytes });

const GPT_TINY: GPTConfig = { ...presetConfig('tiny'), nPositions: 32 };
const LLAMA_TINY: LlamaFamilyConfig = { ...llamaPresetConfig('llama-tiny'), maxPositionEmbeddings: 32 };
const QWEN_TINY: LlamaFamilyConfig = { ...llamaPresetConfig('qwen-tiny'), maxPositionEmbeddings: 32 };

/** Matrices 0.2·N(0,1), biases 0.1·N(0,1), norm gains 1 + 0.1·N(0,1). */
function randomWeights(config: ModelConfig, rng: Rng): Map<string, Float32Array> {
  const spec: TensorSpec[] = isLlamaConfig(config) ? llamaParamSpec(config) : paramSpec(config);
  const m = new Map<string, Float32Array>();
  for (const s of spec) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const gain = /(ln_\w+|norm|layernorm)\.weight$/.test(s.name);
    const sd = s.name.endsWith('bias') ? 0.1 : 0.2;
    m.set(s.name, Float32Array.from({ length: n }, () => (gain ? 1 + 0.1 * rng.normal() : sd * rng.normal())));
  }
  return m;
}

function trainCfg(over: Partial<TrainConfig>): TrainConfig {
  return { ...TRAIN_DEFAULTS, objective: { method: 'orpo' }, steps: 1, batchSize: 3, lr: 1e-2, ...over };
}

/** |a − b| ≤ tol + tol·|b| everywhere, by name (tol 0: bitwise). */
function expectMapsClose(got: Map<string, Float32Array>, want: Map<string, Float32Array>, what: string, tol = 1e-6): void {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [name, w] of want) expectClose(got.get(name)!, w, { rtol: tol, atol: tol, what: `${what} ${name}` });
}

describe('split arenas: layout', () => {
  it('packs tensors in order, each inside one buffer, and splits only the allowed tensor by rows', () => {
    const spec = [{ name: 'a', shape: [3] }, { name: 'emb', shape: [10, 8] }, { name: 'b', shape: [40] }, { name: 'c', shape: [20] }];
    const l = layoutArena(spec, 64, { maxBytes: 192, split: ['emb'], rowMultiple: 4 });
    // emb is 320 bytes: 6 rows (192 bytes) fit a buffer, rounded down to 4 (the row multiple)
    expect(l.slots.get('emb')!.map((p) => [p.row0, p.rows])).toEqual([[0, 4], [4, 4], [8, 2]]);
    expect(l.buffers.every((b) => b <= 192 && b % 64 === 0)).toBe(true);
    for (const list of l.slots.values()) for (const p of list) expect(p.offset + p.length * 4).toBeLessThanOrEqual(l.buffers[p.chunk]);
    expect(l.slots.get('emb')!.map((p) => [p.chunk, p.offset])).toEqual([[0, 64], [1, 0], [1, 128]]);
    expect(l.slots.get('b')![0]).toMatchObject({ chunk: 2, offset: 0 }); // 160 bytes do not fit after emb's last part
    expect(l.slots.get('c')![0]).toMatchObject({ chunk: 3, offset: 0 });
    expect(l.bytes).toBe(l.buffers.reduce((a, b) => a + b, 0));
    // arena element indices stay those of the single-buffer layout, parts counted from their row
    expect([...l.offsets.values()]).toEqual([0, 16, 96, 144]);
    expect(l.slots.get('emb')!.map((p) => p.index)).toEqual([16, 48, 80]);
    // one buffer when everything fits: the layout it always was
    const one = layoutArena(spec, 64);
    expect(one.buffers).toEqual([one.bytes]);
    expect([...one.offsets.values()]).toEqual([0, 16, 96, 144]);
    expect(() => layoutArena(spec, 64, { maxBytes: 192 })).toThrow('arena: tensor "emb" [10, 8] needs 320 bytes, more than the 192 bytes one buffer may hold');
    expect(() => layoutArena([{ name: 'emb', shape: [2, 100] }], 64, { maxBytes: 192, split: ['emb'] })).toThrow('one row of tensor "emb" [2, 100] needs 400 bytes');
  });

  it('tiny models split into many buffers; a whole tensor too large for one buffer is refused by name', () => {
    const g = new GptModel(capped(16384), GPT_TINY);
    expect(g.params.chunks().length).toBeGreaterThan(4);
    expect(g.params.chunks().every((c) => c.size <= 16384)).toBe(true);
    expect(g.params.parts('wte.weight').map((p) => [p.row0, p.rows])).toEqual([[0, 128], [128, 128], [256, 1]]);
    expect(() => g.params.whole()).toThrow(/spans \d+ buffers .*use chunks\(\)/);
    expect(() => g.params.get('wte.weight')).toThrow('tensor "wte.weight" is split by rows into 3 parts across buffers');
    expect(g.grads.layout.buffers).toEqual(g.params.layout.buffers);
    g.destroy();
    expect(() => new GptModel(capped(8192), GPT_TINY)).toThrow(
      /^arena: tensor "h\.0\.attn\.c_attn\.weight" \[32, 96\] needs 12288 bytes, more than the 8192 bytes one arena buffer may hold here \(capped below this device's maxBufferSize \d+, maxStorageBufferBindingSize \d+\) \(only wte\.weight may be split by rows\)$/,
    );
    const l = new LlamaModel(capped(8192), QWEN_TINY);
    expect(l.params.parts('lm_head.weight').length).toBe(5);
    expect(l.params.parts('model.embed_tokens.weight').map((p) => p.rows)).toEqual([64, 64, 64, 64, 1]);
    // gate and up each fill a buffer: the stacked projection goes through the scratch, as estimated
    expect(l.packedGroups).toContain('gate_up_w');
    expect(l.stackScratchBytes).toBe(llamaStackScratchBytes(QWEN_TINY, gpu.device.limits.minStorageBufferOffsetAlignment, 8192));
    l.destroy();
  });
});

/** Random ids in [0, V) with the last id in every sequence (the last row part is looked up too). */
function seqsOver(rng: Rng, V: number) {
  return randomSeqs(rng, V, [19, 7, 26]).map((q, i) => ({ ...q, ids: q.ids.map((id, t) => (t === 2 + i ? V - 1 : id)) }));
}

/** n pairs over the whole vocabulary [0, V), ending in eos. */
function pairsOver(rng: Rng, n: number, V: number, eos: number): PairIds[] {
  const ids = (k: number) => Array.from({ length: k }, () => rng.int(V));
  return Array.from({ length: n }, (_, i) => ({ promptIds: [...ids(2 + rng.int(5)), V - 1], chosenIds: [...ids(1 + rng.int(7)), eos], rejectedIds: [...ids(1 + rng.int(7)), eos], index: i }));
}

/** Log-probs, per-sequence sums and every gradient of one batch, on the unsplit and the split model. */
async function forwardBackward(config: ModelConfig, cap: number, seed: number) {
  const rng = new Rng(seed);
  const weights = randomWeights(config, rng);
  const seqs = seqsOver(rng, config.vocabSize);
  const batch = buildBatch(seqs, 0, 26);
  const coef = Float32Array.from({ length: batch.B * batch.T }, () => rng.uniform(-1, 1));
  const out = [];
  for (const ctx of [gpu, capped(cap)]) {
    const m = createModel(ctx, { config });
    m.upload(weights);
    const runner = m.createRunner(batch.B, batch.T, 'f32');
    runner.setBatch(batch);
    const enc = new StepEncoder(m.gpu, 'forward');
    for (const g of m.grads.chunks()) enc.clear(g);
    runner.forward(enc);
    enc.submit();
    const logps = await runner.readTokenLogps();
    const stats = await runner.readStats();
    runner.setCoefficients(coef);
    const enc2 = new StepEncoder(m.gpu, 'backward');
    runner.backward(enc2);
    enc2.submit();
    out.push({ logps, stats, grads: await m.download(m.grads), chunks: m.params.chunks().length });
    runner.destroy();
    m.destroy();
  }
  return out;
}

/** One trainer update from the same weights and pairs on the unsplit and the split model. */
async function oneUpdate(config: ModelConfig, cap: number, seed: number, over: Partial<TrainConfig>) {
  const rng = new Rng(seed);
  const weights = randomWeights(config, rng);
  const pairs = pairsOver(rng, 3, config.vocabSize, 0);
  const out = [];
  for (const ctx of [gpu, capped(cap)]) {
    const model = createModel(ctx, { config });
    model.upload(weights);
    const trainer = new Trainer(model, pairs, [], trainCfg(over));
    await trainer.allocated();
    const metrics = await trainer.trainStep();
    out.push({ metrics, params: await model.download(), moments: await trainer.optimizerState() });
    trainer.destroy();
    model.destroy();
  }
  return out;
}

const UPDATES: Array<[string, Partial<TrainConfig>]> = [
  ['SGD', { optimizer: 'sgd' }],
  ['AdamW, no weight decay (one dispatch per buffer)', { optimizer: 'adamw', weightDecay: 0 }],
  ['AdamW with weight decay (per tensor part)', { optimizer: 'adamw', weightDecay: 0.1 }],
  ['AdamW, bf16 moments (stochastic rounding)', { optimizer: 'adamw', weightDecay: 0, momentsDtype: 'bf16' }],
];

// A vocabulary of 4200 with 512 KiB buffers: parts of 4096 rows (the LM head's chunk) and 104, so
// the split model's chunks are the unsplit model's and every kernel sees the same operands.
const EXACT: Array<[string, ModelConfig, string[]]> = [
  ['gpt2 tiny', { ...GPT_TINY, vocabSize: 4200 }, ['wte.weight']],
  ['llama-tiny (tied)', { ...LLAMA_TINY, vocabSize: 4200 }, ['model.embed_tokens.weight']],
  ['qwen-tiny (untied head, q/k/v biases)', { ...QWEN_TINY, vocabSize: 4200 }, ['model.embed_tokens.weight', 'lm_head.weight']],
];
const EXACT_CAP = 512 * 1024;

describe.each(EXACT)('split arenas, parts of whole LM-head chunks: %s', (_label, config, splitNames) => {
  it('gives bitwise the unsplit model\'s log-probs, sums and gradients', async () => {
    for (const n of splitNames) {
      const l = layoutArena(isLlamaConfig(config) ? llamaParamSpec(config) : paramSpec(config), 256, { maxBytes: EXACT_CAP, split: splitNames, rowMultiple: 4096 });
      expect(l.slots.get(n)!.map((p) => p.rows)).toEqual([4096, 104]);
    }
    const seed = freshSeed();
    const [a, b] = await forwardBackward(config, EXACT_CAP, seed);
    expect([a.chunks, b.chunks]).toEqual([1, 2 * splitNames.length]);
    expectClose(b.logps, a.logps, { rtol: 0, atol: 0, what: `log-probs seed=${seed}` });
    for (const k of Object.keys(a.stats) as Array<keyof typeof a.stats>) expectClose(b.stats[k] as ArrayLike<number>, a.stats[k] as ArrayLike<number>, { rtol: 0, atol: 0, what: `sums ${k} seed=${seed}` });
    expectMapsClose(b.grads, a.grads, `gradient seed=${seed}`, 0);
  });

  it.each(UPDATES)('one %s update is bitwise the unsplit one; clipped, within 1e-6', async (_what, over) => {
    const seed = freshSeed();
    const [a, b] = await oneUpdate(config, EXACT_CAP, seed, { ...over, maxGradNorm: 0 });
    for (const k of ['loss', 'rewards/margins', 'logps/chosen'] as const) expect(b.metrics[k], `${k} seed=${seed}`).toBe(a.metrics[k]);
    // the norm's partial sums group elements by buffer: equal to f32 rounding
    expect(Math.abs(b.metrics.grad_norm - a.metrics.grad_norm), `grad_norm seed=${seed}`).toBeLessThanOrEqual(1e-6 * a.metrics.grad_norm);
    expectMapsClose(b.params, a.params, `params after one update seed=${seed}`, 0);
    if (a.moments && b.moments) {
      expectMapsClose(b.moments.m, a.moments.m, `m seed=${seed}`, 0);
      expectMapsClose(b.moments.v, a.moments.v, `v seed=${seed}`, 0);
    }
    // clipping by the global norm: the clip factor comes from that norm, so within f32 rounding;
    // with bf16 moments a value that close to a rounding boundary may round to the neighbouring
    // bf16 (2⁻⁸ relative), which moves that weight by up to lr·2⁻⁷
    const [c, d] = await oneUpdate(config, EXACT_CAP, seed, { ...over, maxGradNorm: 0.5 });
    expect(c.metrics.grad_norm, 'the clip must bite').toBeGreaterThan(0.5);
    expectMapsClose(d.params, c.params, `clipped params seed=${seed}`, over.momentsDtype === 'bf16' ? 1e-2 * 2 ** -7 : 1e-6);
  });
});

// A few KiB per buffer (GPT-2 tiny's largest whole tensors, c_fc and c_proj, are 16 KiB;
// llama-tiny's and qwen-tiny's 8 KiB): every tiny model spans many buffers and its embedding is split into parts
// smaller than one LM-head chunk, so the head's online log-sum-exp merges at other boundaries and
// its gradient sums chunks in another order: equal to f32 rounding.
const TINY: Array<[string, ModelConfig, number, string[]]> = [
  ['gpt2 tiny, 16 KiB buffers', GPT_TINY, 16384, ['wte.weight']],
  ['llama-tiny (tied), 8 KiB buffers', LLAMA_TINY, 8192, ['model.embed_tokens.weight']],
  ['qwen-tiny (untied head, q/k/v biases), 8 KiB buffers', QWEN_TINY, 8192, ['model.embed_tokens.weight', 'lm_head.weight']],
];

describe.each(TINY)('split arenas, small row parts: %s', (_label, config, cap, splitNames) => {
  it('gives the unsplit model\'s log-probs, sums and gradients to f32 rounding', async () => {
    const split = createModel(capped(cap), { config });
    expect(split.params.chunks().length).toBeGreaterThan(3);
    for (const n of splitNames) expect(split.params.parts(n).length).toBeGreaterThan(2);
    split.destroy();
    const seed = freshSeed();
    const [a, b] = await forwardBackward(config, cap, seed);
    expectClose(b.logps, a.logps, { rtol: 1e-6, atol: 1e-6, what: `log-probs seed=${seed}` });
    for (const k of Object.keys(a.stats) as Array<keyof typeof a.stats>) expectClose(b.stats[k] as ArrayLike<number>, a.stats[k] as ArrayLike<number>, { rtol: 1e-6, atol: 1e-5, what: `sums ${k} seed=${seed}` });
    for (const [name, w] of a.grads) {
      const scale = w.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectClose(b.grads.get(name)!, w, { rtol: 1e-5, atol: 1e-5 * scale + 1e-7, what: `gradient ${name} seed=${seed}` });
    }
  });

  it('one clipped SGD update matches the unsplit one within 1e-6', async () => {
    const seed = freshSeed();
    const [a, b] = await oneUpdate(config, cap, seed, { optimizer: 'sgd', maxGradNorm: 0.5 });
    expect(a.metrics.grad_norm, 'the clip must bite').toBeGreaterThan(0.5);
    expectMapsClose(b.params, a.params, `params seed=${seed}`, 1e-6);
  });

  it('downloads and uploads weights and moments by Hugging Face name (split tensors reassembled)', async () => {
    const rng = new Rng(freshSeed());
    const model = createModel(capped(cap), { config });
    const weights = randomWeights(config, rng);
    model.upload(weights);
    const back = await model.download();
    expect([...back.keys()]).toEqual(model.spec.map((s) => s.name));
    for (const [name, w] of weights) expect(Buffer.from(back.get(name)!.buffer).equals(Buffer.from(w.buffer)), name).toBe(true);
    // bf16-exact values (low 16 bits cleared), so both storages give them back unchanged
    const bf16 = (x: Float32Array) => new Float32Array(Uint32Array.from(new Uint32Array(Float32Array.from(x).buffer), (b) => b & 0xffff0000).buffer);
    const m = new Map([...weights].map(([k, v]) => [k, bf16(v)]));
    const v = new Map([...weights].map(([k, x]) => [k, bf16(x.map(Math.abs))]));
    for (const dtype of ['f32', 'bf16'] as const) {
      const opt = new OptimizerState(model, { ...trainCfg({}), momentsDtype: dtype });
      await opt.allocated();
      opt.restore({ m, v });
      const got = (await opt.moments())!;
      expectMapsClose(got.m, m, `${dtype} m`, 0);
      expectMapsClose(got.v, v, `${dtype} v`, 0);
      opt.destroy();
    }
    model.destroy();
  });
});

