// Tier 3 for LoRA (docs/design.md, "LoRA"): whole models with adapters on WebGPU against the
// float64 references with the same adapters — token log-probs, then every adapter gradient by
// name with random coefficients and B ≠ 0 — for GPT-2 (Conv1D projections) and the Llama family
// (stacked q|k|v and gate|up, GQA, Qwen2's biases); adapters switched off compute the base model;
// activation checkpointing gives bitwise the stored path's log-probs and gradients; a bf16 / f16
// base computes the model with rounded weights.
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { StepEncoder } from '../../src/engine/encoder';
import { buildBatch, type HostBatch, type SequenceSpec } from '../../src/model/batch';
import { createModel, isLlamaConfig, type ModelConfig, type ModelRunner, type TrainableModel } from '../../src/model/family';
import { presetConfig } from '../../src/model/config';
import { llamaParamSpec, llamaPresetConfig, llamaRefConfig } from '../../src/model/llama-config';
import { paramSpec } from '../../src/model/config';
import { gpt2BackwardRef, gpt2ForwardRef } from '../../src/reference/gpt2';
import { llamaBackwardRef, llamaForwardRef } from '../../src/reference/llama';
import { loraScale, loraSpec, type BaseDtype, type LoraConfig } from '../../src/model/lora';
import { roundWeights } from '../../src/model/packed-base';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';
import { randomSeqs } from '../helpers/random-model';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});
afterEach(() => forceAdapterClass(null));

const GPT = { ...presetConfig('tiny'), nPositions: 32 };
const CONFIGS: Array<[string, ModelConfig]> = [
  ['gpt2 tiny', GPT],
  ['llama-tiny', llamaPresetConfig('llama-tiny')],
  ['qwen-tiny', llamaPresetConfig('qwen-tiny')],
];

const LENGTHS = [17, 5, 23];
const T = 24;

function randomWeights(c: ModelConfig, rng: Rng): Map<string, Float32Array> {
  const specs = isLlamaConfig(c) ? llamaParamSpec(c) : paramSpec(c);
  const m = new Map<string, Float32Array>();
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const gain = /(ln_\w+|norm)\.weight$/.test(s.name);
    const sd = s.name.endsWith('.bias') ? 0.05 : 0.3;
    m.set(s.name, Float32Array.from({ length: n }, () => (gain ? 1 + 0.2 * rng.normal() : sd * rng.normal())));
  }
  return m;
}

/** Adapters with B ≠ 0 at a scale where their update matters. */
function randomAdapters(c: ModelConfig, lora: LoraConfig, rng: Rng): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const s of loraSpec(c, lora)) m.set(s.name, Float32Array.from({ length: s.shape[0] * s.shape[1] }, () => 0.3 * rng.normal()));
  return m;
}

function reference(c: ModelConfig, w: Map<string, Float32Array>, seqs: number[][], lora?: { scale: number; weights: Map<string, Float32Array> }) {
  if (isLlamaConfig(c)) {
    const r = llamaForwardRef(w, llamaRefConfig(c), seqs, undefined, lora);
    return { logp: r.logp, grads: (coef: number[][]) => llamaBackwardRef(r.cache, coef) };
  }
  const r = gpt2ForwardRef(w, c, seqs, undefined, lora);
  return { logp: r.logp, grads: (coef: number[][]) => gpt2BackwardRef(r.cache, coef) };
}

interface Setup {
  model: TrainableModel;
  runner: ModelRunner;
  batch: HostBatch;
  seqs: SequenceSpec[];
  coef: Float32Array;
  coefRef: number[][];
}

function setup(c: ModelConfig, lora: LoraConfig, base: Map<string, Float32Array>, adapters: Map<string, Float32Array>, rng: Rng, opts: { baseDtype?: BaseDtype; checkpoint?: boolean; act?: 'f32' | 'f16'; seqs?: SequenceSpec[] } = {}): Setup {
  const seqs = opts.seqs ?? randomSeqs(rng, c.vocabSize, LENGTHS);
  const batch = buildBatch(seqs, 0, T);
  const model = createModel(gpu, { config: c }, { lora, baseDtype: opts.baseDtype });
  model.upload(base);
  model.lora!.upload(adapters);
  const runner = model.createRunner(batch.B, batch.T, opts.act ?? 'f32', opts.checkpoint ?? false);
  runner.setBatch(batch);
  const coefRef = seqs.map((s) => Array.from({ length: s.ids.length - 1 }, () => rng.uniform(-1, 1)));
  const coef = new Float32Array(batch.B * batch.T);
  coefRef.forEach((row, b) => row.forEach((v, t) => (coef[b * batch.T + t] = v)));
  return { model, runner, batch, seqs, coef, coefRef };
}

/** Forward, then backward with the coefficients into freshly cleared adapter gradients. */
async function run(s: Setup): Promise<{ logp: Float32Array; grads: Map<string, Float32Array> }> {
  const lora = s.model.lora!;
  let enc = new StepEncoder(gpu, 'forward');
  s.runner.forward(enc);
  enc.submit();
  const logp = await s.runner.readTokenLogps();
  s.runner.setCoefficients(s.coef);
  enc = new StepEncoder(gpu, 'backward');
  for (const ch of lora.grads.chunks()) enc.clear(ch);
  s.runner.backward(enc);
  enc.submit();
  return { logp, grads: await lora.download(lora.grads) };
}

function tokenLogps(logp: Float32Array, seqs: SequenceSpec[], T: number, want: number[][]): { got: number[]; ref: number[] } {
  const got: number[] = [], ref: number[] = [];
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.ids.length - 1; t++) {
      got.push(logp[b * T + t]);
      ref.push(want[b][t]);
    }
  });
  return { got, ref };
}

function expectGradsClose(got: Map<string, Float32Array>, want: Map<string, ArrayLike<number>>, names: string[], what: string): void {
  for (const name of names) {
    const w = want.get(name)!;
    let scale = 0;
    for (let i = 0; i < w.length; i++) scale = Math.max(scale, Math.abs(w[i]));
    expectClose(got.get(name)!, w, { rtol: 1e-3, atol: 1e-4 * scale + 1e-7, what: `${what} ${name}` });
  }
}

const LORA: LoraConfig = { r: 4, alpha: 8 };

describe('LoRA on WebGPU vs the float64 references', () => {
  const cases = CONFIGS.flatMap(([label, c]) => (['cpu', 'gpu'] as AdapterClass[]).map((cls) => [label, cls, c] as const));
  it.each(cases)('%s, %s kernel forms: log-probs and every adapter gradient by name (B ≠ 0)', async (_label, cls, c) => {
    forceAdapterClass(cls);
    const seed = freshSeed();
    const rng = new Rng(seed);
    const base = randomWeights(c, rng);
    const adapters = randomAdapters(c, LORA, rng);
    const s = setup(c, LORA, base, adapters, rng);
    const { logp, grads } = await run(s);
    const ref = reference(c, base, s.seqs.map((q) => [...q.ids]), { scale: loraScale(LORA), weights: adapters });
    const { got, ref: want } = tokenLogps(logp, s.seqs, s.batch.T, ref.logp);
    expectClose(got, want, { rtol: 1e-4, atol: 1e-5, what: `token logp seed=${seed}` });
    const refGrads = ref.grads(s.coefRef);
    const names = loraSpec(c, LORA).map((t) => t.name);
    expect([...grads.keys()].sort()).toEqual([...names].sort());
    expectGradsClose(grads, refGrads, names, `adapter gradient seed=${seed}`);
    expect(() => s.model.grads).toThrow(/frozen/);
    s.runner.destroy();
    s.model.destroy();
  });

  it.each(CONFIGS)('%s: a target subset adapts only its projections; adapters off compute the base model exactly', async (_label, c) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const lora: LoraConfig = { r: 3, alpha: 5, targets: isLlamaConfig(c) ? ['k_proj', 'up_proj'] : ['attn.c_proj'] };
    const base = randomWeights(c, rng);
    const adapters = randomAdapters(c, lora, rng);
    const s = setup(c, lora, base, adapters, rng);
    const { logp, grads } = await run(s);
    const ref = reference(c, base, s.seqs.map((q) => [...q.ids]), { scale: loraScale(lora), weights: adapters });
    const t = tokenLogps(logp, s.seqs, s.batch.T, ref.logp);
    expectClose(t.got, t.ref, { rtol: 1e-4, atol: 1e-5, what: `token logp seed=${seed}` });
    const names = loraSpec(c, lora).map((x) => x.name);
    expect(names.length).toBe(isLlamaConfig(c) ? 4 * c.numHiddenLayers : 2 * c.nLayer);
    expectGradsClose(grads, ref.grads(s.coefRef), names, `adapter gradient seed=${seed}`);
    // adapters off: the base model's log-probs, as a model without adapters computes them
    s.model.lora!.enabled = false;
    const enc = new StepEncoder(gpu, 'forward-off');
    s.runner.forward(enc);
    enc.submit();
    const off = await s.runner.readTokenLogps();
    const plain = createModel(gpu, { config: c });
    plain.upload(base);
    const pr = plain.createRunner(s.batch.B, s.batch.T, 'f32');
    pr.setBatch(s.batch);
    const enc2 = new StepEncoder(gpu, 'forward-plain');
    pr.forward(enc2);
    enc2.submit();
    expect(Array.from(off)).toEqual(Array.from(await pr.readTokenLogps()));
    pr.destroy();
    plain.destroy();
    s.runner.destroy();
    s.model.destroy();
  });
});

describe('activation checkpointing', () => {
  const cases = CONFIGS.flatMap(([label, c]) => (['f32', 'f16'] as const).map((act) => [label, act, c] as const));
  it.each(cases)('%s, %s activations: log-probs and adapter gradients are bitwise the stored path', async (_label, act, c) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const base = randomWeights(c, rng);
    const adapters = randomAdapters(c, LORA, rng);
    const seqs = randomSeqs(rng, c.vocabSize, LENGTHS);
    const stored = setup(c, LORA, base, adapters, new Rng(seed + 1), { act, seqs });
    const ckpt = setup(c, LORA, base, adapters, new Rng(seed + 1), { act, seqs, checkpoint: true });
    const a = await run(stored);
    const b = await run(ckpt);
    expect(Array.from(b.logp)).toEqual(Array.from(a.logp));
    for (const [name, g] of a.grads) expect(Array.from(b.grads.get(name)!), name).toEqual(Array.from(g));
    expect(ckpt.runner.acts.bytes).toBeLessThan(stored.runner.acts.bytes);
    for (const s of [stored, ckpt]) {
      s.runner.destroy();
      s.model.destroy();
    }
  });

  it.each(CONFIGS)('%s, full fine-tuning: every parameter gradient is bitwise the stored path', async (_label, c) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const base = randomWeights(c, rng);
    const seqs = randomSeqs(rng, c.vocabSize, LENGTHS);
    const batch = buildBatch(seqs, 0, T);
    const coef = rng.floats(batch.B * batch.T);
    const out: Array<Map<string, Float32Array>> = [];
    for (const checkpoint of [false, true]) {
      const model = createModel(gpu, { config: c });
      model.upload(base);
      const runner = model.createRunner(batch.B, batch.T, 'f32', checkpoint);
      runner.setBatch(batch);
      runner.setCoefficients(coef);
      const enc = new StepEncoder(gpu, 'step');
      for (const ch of model.grads.chunks()) enc.clear(ch);
      runner.forward(enc);
      runner.backward(enc);
      enc.submit();
      out.push(await model.download(model.grads));
      runner.destroy();
      model.destroy();
    }
    for (const [name, g] of out[0]) expect(Array.from(out[1].get(name)!), name).toEqual(Array.from(g));
  });
});

describe('16-bit frozen base weights', () => {
  const cases = CONFIGS.flatMap(([label, c]) => (['bf16', 'f16'] as const).map((dt) => [label, dt, c] as const));
  it.each(cases)('%s, %s base: log-probs and adapter gradients of the model with rounded weights; the rounding explains the rest', async (_label, dtype, c) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const base = randomWeights(c, rng);
    const adapters = randomAdapters(c, LORA, rng);
    const s = setup(c, LORA, base, adapters, rng, { baseDtype: dtype });
    const { logp, grads } = await run(s);
    // the packed weights are the linear projections'; everything else stays f32
    const rounded = new Map(base);
    for (const name of (s.model as unknown as { packed: { names(): string[] } }).packed.names()) rounded.set(name, roundWeights(base.get(name)!, dtype));
    const lora = { scale: loraScale(LORA), weights: adapters };
    const ids = s.seqs.map((q) => [...q.ids]);
    const onRounded = reference(c, rounded, ids, lora);
    const t = tokenLogps(logp, s.seqs, s.batch.T, onRounded.logp);
    expectClose(t.got, t.ref, { rtol: 1e-4, atol: 1e-5, what: `token logp vs rounded seed=${seed}` });
    const names = loraSpec(c, LORA).map((x) => x.name);
    expectGradsClose(grads, onRounded.grads(s.coefRef), names, `adapter gradient vs rounded seed=${seed}`);
    // against the unrounded model: off by what the rounding moves the float64 model, no more
    const exact = tokenLogps(logp, s.seqs, s.batch.T, reference(c, base, ids, lora).logp);
    const err = Math.max(...exact.got.map((g, i) => Math.abs(g - exact.ref[i])));
    const moved = Math.max(...exact.ref.map((x, i) => Math.abs(t.ref[i] - x)));
    const errRounded = Math.max(...t.got.map((g, i) => Math.abs(g - t.ref[i])));
    console.log(`${dtype} base seed=${seed}: max |Δ log p| vs unrounded ${err.toExponential(2)} (the rounding moves float64 by ${moved.toExponential(2)}), vs rounded ${errRounded.toExponential(2)}`);
    expect(err).toBeLessThanOrEqual(moved + 1e-4);
    expect(errRounded).toBeLessThan(moved);
    // the base is stored in half the bytes of its f32 form, and downloads widened exactly
    const back = await s.model.download();
    for (const [name, w] of rounded) expect(Array.from(back.get(name)!), name).toEqual(Array.from(w));
    s.runner.destroy();
    s.model.destroy();
  });

  it('a 16-bit base without adapters is refused (full fine-tuning keeps f32 master weights)', () => {
    expect(() => createModel(gpu, { config: GPT }, { baseDtype: 'bf16' })).toThrow(/needs LoRA/);
  });
});


