// Tier 3 of the testing recipe (docs/design.md) for the Llama family: the whole model on WebGPU
// against the independent float64 model in src/reference/llama.ts — per-token log-probs, mean
// logits, per-sequence sums and every parameter gradient by Hugging Face name, on ragged batches
// of odd length; one full-batch SGD step with lr 1 moves every weight by minus the gradient; and
// padding never changes a result.
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import { compareClose } from '../../src/reference/compare';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { LlamaModel, LlamaRunner, llamaActivationBytes } from '../../src/model/llama';
import { buildBatch, type SequenceSpec } from '../../src/model/batch';
import { llamaParamSpec, llamaPresetConfig, llamaRefConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';
import { llamaForwardRef, llamaBackwardRef } from '../../src/reference/llama';
import { gradNormPartialsSize, gradNormSquared, sgdStep, writeOptimizerHp, OPTIMIZER_HP_SIZE } from '../../src/kernels/optimizer';
import { randomSeqs } from '../helpers/random-model';
import { Rng } from '../../src/util/rng';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});
afterEach(() => forceAdapterClass(null));

/**
 * head_dim 12 with hidden_size 20 (not hidden/heads), 3 query heads over 1 key/value head, an
 * untied head, llama's attention_bias (q/k/v and o_proj biases), an odd vocabulary; its
 * intermediate size 36 keeps gate_proj and up_proj apart in the arena (36·20 floats is not a
 * multiple of the 256-byte alignment), so every stacked projection goes through the scratch.
 */
const ODD: LlamaFamilyConfig = {
  ...llamaPresetConfig('llama-tiny'),
  vocabSize: 101, hiddenSize: 20, intermediateSize: 36, numAttentionHeads: 3, numKeyValueHeads: 1, headDim: 12,
  tieWordEmbeddings: false, attentionBias: true, ropeTheta: 500000, bosTokenId: 1, eosTokenId: 2,
};

const CONFIGS: Array<[string, LlamaFamilyConfig]> = [
  ['llama-tiny', llamaPresetConfig('llama-tiny')],
  ['qwen-tiny', llamaPresetConfig('qwen-tiny')],
  ['odd (HS≠C/NH, GQA 3:1, untied, all biases)', ODD],
];

/** Weights at a scale where every path matters: matrices 0.3, biases 0.05, RMSNorm gains 1 ± 0.2. */
function randomLlamaParams(c: LlamaFamilyConfig, rng: Rng): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const s of llamaParamSpec(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const norm = /(layernorm|norm)\.weight$/.test(s.name);
    const sd = s.name.endsWith('.bias') ? 0.05 : 0.3;
    m.set(s.name, Float32Array.from({ length: n }, () => (norm ? 1 + 0.2 * rng.normal() : sd * rng.normal())));
  }
  return m;
}

/**
 * Every tensor by name within rtol 1e-3 and an atol of 1e-4 of the tensor's largest |ref|; prints
 * the element closest to its tolerance over all tensors (the worst of the model).
 */
function expectTensorsClose(got: Map<string, Float32Array>, want: Map<string, ArrayLike<number>>, names: string[], what: string): void {
  let worst = { ratio: -1, message: '' };
  for (const name of names) {
    const w = want.get(name)!;
    let scale = 0;
    for (let i = 0; i < w.length; i++) scale = Math.max(scale, Math.abs(w[i]));
    const r = compareClose(got.get(name)!, w, 1e-3, 1e-4 * scale + 1e-7, `${what} ${name}`);
    expectClose(got.get(name)!, w, { rtol: 1e-3, atol: 1e-4 * scale + 1e-7, what: `${what} ${name}` });
    if (r.worstRatio > worst.ratio) worst = { ratio: r.worstRatio, message: r.message };
  }
  console.log(`worst of ${names.length} tensors (error / tolerance ${worst.ratio.toFixed(3)}): ${worst.message}`);
}

const LENGTHS = [17, 5, 23];
const T = 23;

describe('Llama family on WebGPU vs the float64 reference', () => {
  // Both kernel forms (src/kernels/plan.ts): CPU adapters' register-blocked matmul and 4-wide
  // reductions, GPUs' tiled matmul and 64–256-wide reductions, whichever this adapter is.
  const cases = CONFIGS.flatMap(([label, config]) => (['cpu', 'gpu'] as AdapterClass[]).map((cls) => [label, cls, config] as const));
  it.each(cases)('%s, %s kernel forms: log-probs, sums and every parameter gradient by name match', async (_label, cls, config) => {
    forceAdapterClass(cls);
    const seed = freshSeed();
    const rng = new Rng(seed);
    const weights = randomLlamaParams(config, rng);
    const seqs = randomSeqs(rng, config.vocabSize, LENGTHS);
    const batch = buildBatch(seqs, 0, T);
    const model = new LlamaModel(gpu, config);
    model.upload(weights);
    const runner = new LlamaRunner(model, batch.B, batch.T);
    runner.setBatch(batch);

    const coefRef = seqs.map((s) => Array.from({ length: s.ids.length - 1 }, () => rng.uniform(-1, 1)));
    const coef = new Float32Array(batch.B * batch.T);
    coefRef.forEach((row, b) => row.forEach((c, t) => (coef[b * batch.T + t] = c)));

    let enc = new StepEncoder(gpu, 'forward');
    runner.forward(enc);
    enc.submit();
    const ref = llamaForwardRef(weights, llamaRefConfig(config), seqs.map((s) => [...s.ids]));
    const logp = await runner.readTokenLogps();
    const meanLogit = await readF32(gpu.device, runner.a('mean_logit'));
    const gotLogp: number[] = [], wantLogp: number[] = [], gotML: number[] = [], wantML: number[] = [];
    seqs.forEach((s, b) => {
      for (let t = 0; t < s.ids.length - 1; t++) {
        gotLogp.push(logp[b * batch.T + t]);
        wantLogp.push(ref.logp[b][t]);
        gotML.push(meanLogit[b * batch.T + t]);
        wantML.push(ref.meanLogit[b][t]);
      }
    });
    expectClose(gotLogp, wantLogp, { rtol: 1e-4, atol: 1e-5, what: `token logp seed=${seed}` });
    expectClose(gotML, wantML, { rtol: 1e-4, atol: 1e-5, what: `mean logit seed=${seed}` });

    const stats = await runner.readStats();
    const V = config.vocabSize;
    const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
    expectClose(stats.logp, seqs.map((s, b) => sum(ref.logp[b].slice(s.promptLen - 1))), { rtol: 1e-4, atol: 1e-5, what: `sequence sums seed=${seed}` });
    expectClose(stats.nll, seqs.map((s, b) => sum(ref.logp[b].slice(s.promptLen - 1))), { rtol: 1e-4, atol: 1e-5, what: `NLL sums seed=${seed}` });
    expectClose(stats.logitSum, seqs.map((s, b) => sum(ref.meanLogit[b].slice(s.promptLen - 1))), { rtol: 1e-4, atol: 1e-5, what: `mean-logit sums seed=${seed}` });
    const wantH = seqs.map((s, b) => {
      let h = 0;
      for (let t = s.promptLen - 1; t < s.ids.length - 1; t++) {
        const lp = ref.cache.seqs[b].logprobs.slice(t * V, (t + 1) * V);
        h -= lp.reduce((acc, x) => acc + Math.exp(x) * x, 0);
      }
      return h;
    });
    expectClose(stats.entropySum, wantH, { rtol: 1e-4, atol: 1e-5, what: `entropy sums seed=${seed}` });

    runner.setCoefficients(coef);
    enc = new StepEncoder(gpu, 'backward');
    enc.clear(model.grads.whole());
    runner.backward(enc);
    enc.submit();
    const grads = await model.download(model.grads);
    const refGrads = llamaBackwardRef(ref.cache, coefRef);
    const names = model.spec.map((s) => s.name);
    expect([...refGrads.keys()].sort()).toEqual([...names].sort());
    expectTensorsClose(grads, refGrads, names, `${config.family} gradient seed=${seed}`);

    // Accumulation: a second backward adds the same gradients again (parameter gradients +=).
    enc = new StepEncoder(gpu, 'backward2');
    runner.backward(enc);
    enc.submit();
    const twice = await model.download(model.grads);
    const doubled = new Map(names.map((n) => [n, refGrads.get(n)!.map((x) => 2 * x)]));
    expectTensorsClose(twice, doubled, names, `${config.family} twice-accumulated gradient seed=${seed}`);
    runner.destroy();
    model.destroy();
  });

  it.each(CONFIGS)('%s: one full-batch SGD step with lr 1 moves each weight by minus the float64 gradient', async (_label, config) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const weights = randomLlamaParams(config, rng);
    const seqs = randomSeqs(rng, config.vocabSize, LENGTHS);
    const batch = buildBatch(seqs, 0, T);
    const model = new LlamaModel(gpu, config);
    model.upload(weights);
    const runner = new LlamaRunner(model, batch.B, batch.T);
    runner.setBatch(batch);
    const coefRef = seqs.map((s) => Array.from({ length: s.ids.length - 1 }, () => rng.uniform(-1, 1)));
    const coef = new Float32Array(batch.B * batch.T);
    coefRef.forEach((row, b) => row.forEach((c, t) => (coef[b * batch.T + t] = c)));
    runner.setCoefficients(coef);

    const n = model.params.whole().length;
    const normSq = createView(gpu.device, 'norm_sq', [1]);
    const partials = createView(gpu.device, 'partials', [gradNormPartialsSize(n)]);
    const hp = createView(gpu.device, 'hp', [OPTIMIZER_HP_SIZE]);
    writeOptimizerHp(gpu.device, hp, { lr: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, maxGradNorm: 0 });
    const enc = new StepEncoder(gpu, 'step');
    enc.clear(model.grads.whole());
    runner.forward(enc);
    runner.backward(enc);
    gradNormSquared(enc, normSq, partials, model.grads.whole(), n);
    sgdStep(enc, model.params.whole(), model.grads.whole(), normSq, hp, n);
    enc.submit();
    const after = await model.download();
    const ref = llamaForwardRef(weights, llamaRefConfig(config), seqs.map((s) => [...s.ids]));
    const refGrads = llamaBackwardRef(ref.cache, coefRef);
    for (const s of model.spec) {
      const w0 = weights.get(s.name)!;
      const moved = after.get(s.name)!.map((x, i) => x - w0[i]);
      const want = refGrads.get(s.name)!.map((x) => -x);
      const scale = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      // atol adds the f32 rounding of the update itself (|w| ≲ 2, one ulp ≈ 2.4e-7)
      expectClose(moved, want, { rtol: 1e-3, atol: 1e-4 * scale + 1e-6, what: `Δ${s.name} seed=${seed}` });
    }
    for (const v of [normSq, partials, hp]) v.buffer.destroy();
    runner.destroy();
    model.destroy();
  });

  it('the stacked projections read the arena directly when back to back, else a scratch copy', () => {
    const llama = new LlamaModel(gpu, llamaPresetConfig('llama-tiny'));
    expect(llama.packedGroups).toEqual([]);
    const qwen = new LlamaModel(gpu, llamaPresetConfig('qwen-tiny'));
    expect(qwen.packedGroups.sort()).toEqual(['qkv_b', 'qkv_w']);
    const odd = new LlamaModel(gpu, ODD);
    expect(odd.packedGroups.sort()).toEqual(['gate_up_w', 'qkv_b', 'qkv_w']);
    for (const m of [llama, qwen, odd]) m.destroy();
  });

  it('a sequence alone and inside a padded batch gives the same log-probs', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const config = llamaPresetConfig('qwen-tiny');
    const model = new LlamaModel(gpu, config);
    model.upload(randomLlamaParams(config, rng));
    const [short, ...others] = randomSeqs(rng, config.vocabSize, [6, 19, 11]);
    const sums = async (seqs: SequenceSpec[], len: number) => {
      const batch = buildBatch(seqs, 0, len);
      const runner = new LlamaRunner(model, batch.B, batch.T);
      runner.setBatch(batch);
      const enc = new StepEncoder(gpu);
      runner.forward(enc);
      enc.submit();
      const st = await runner.readStats();
      runner.destroy();
      return st;
    };
    const alone = await sums([short], 6);
    const padded = await sums([...others, short], 21);
    expect(Math.abs(padded.logp[2] - alone.logp[0]), `seed=${seed}`).toBeLessThanOrEqual(1e-5 * Math.abs(alone.logp[0]) + 1e-6);
    model.destroy();
  });

  it('refuses what the kernels cannot hold, naming it', () => {
    const base = llamaPresetConfig('llama-tiny');
    expect(() => new LlamaModel(gpu, { ...base, headDim: 6 })).toThrow(/head_dim = 6 must be a multiple of 4/);
    const model = new LlamaModel(gpu, base);
    expect(() => new LlamaRunner(model, 1, 65)).toThrow(/exceeds the model's max_position_embeddings 64/);
    expect(() => new LlamaRunner(model, 1, 8, 'bf16' as never)).toThrow(/activationsDtype must be f32 or f16, got bf16/);
    model.destroy();
  });

  it('the activation arena grows linearly in T: no (T × T) attention storage', () => {
    const big = { ...llamaPresetConfig('qwen-tiny'), hiddenSize: 896, intermediateSize: 4864, numAttentionHeads: 14, numKeyValueHeads: 2, headDim: 64, maxPositionEmbeddings: 4096 };
    const [b1, b2, b3] = [128, 256, 512].map((len) => llamaActivationBytes(big, 2, len));
    expect(b3 - b2).toBe(2 * (b2 - b1));
  });
});
