// f16 activation storage for the Llama family (LlamaRunner activationsDtype 'f16', docs/perf.md):
// each layer keeps the q|k|v projection (before RoPE) and gate|up as packed f16 and computes with
// the rounded values, so the GPU computes one function — the model with those activations rounded
// to f16 — and its backward is that function's gradient. The float64 reference evaluated with the
// same rounding points (llamaForwardRef(…, round)) is the oracle: log-probs at the f32 tolerance
// (1e-4), every parameter gradient by Hugging Face name at the gradient tolerance (1e-3), on
// llama-tiny (GQA 2:1, tied head, arena-direct projections) and qwen-tiny (q/k/v biases,
// multi-query, untied head, the stacking scratch), B = 2 ragged sequences, T = 23.
//
// Ties at rounding boundaries. Rounding is discontinuous: where the GPU's f32 value and the
// reference's float64 value lie on both sides of an f16 rounding boundary (measured: 10–27 of
// ~10⁴ rounded values per run, each within 1e-6 of the boundary), they round to neighbouring f16
// values one f16 ulp (~5e-4 relative) apart, and the difference cascades into the next layer's
// roundings. Against plain toF16 the log-probs then differ by up to ~1.6× the 1e-4 tolerance and
// the gradients by up to ~4× the 1e-3 one (12 seeds each). So the reference rounds as toF16 except
// where the GPU's kept value is the f16 rounding of a value within δ = 4e-6 + 1e-6·|x| of the
// float64 value x (an f32-vs-float64 tie): there it takes the GPU's neighbour. Every kept value
// must be such a rounding — anything else (a wrong rounding mode, a layout error) is listed and
// fails. With ties resolved the errors are f32 noise: log-probs at ~0.002, gradients at ~0.01 of
// their tolerances. And the arena shrinks by exactly the packed bytes less the one f32 scratch.
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import { compareClose } from '../../src/reference/compare';
import type { GpuContext } from '../../src/engine/gpu';
import { StepEncoder } from '../../src/engine/encoder';
import { LlamaModel, LlamaRunner, llamaActivationBytes } from '../../src/model/llama';
import { buildBatch } from '../../src/model/batch';
import { llamaParamSpec, llamaPresetConfig, llamaRefConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';
import { llamaForwardRef, llamaBackwardRef, type RoundActivation, type RoundingPoint } from '../../src/reference/llama';
import { toF16, unpackF16 } from '../../src/reference/f16';
import { readU32 } from '../../src/engine/readback';
import { randomSeqs } from '../helpers/random-model';
import { Rng } from '../../src/util/rng';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});
afterEach(() => forceAdapterClass(null));

const CONFIGS: Array<[string, LlamaFamilyConfig]> = [
  ['llama-tiny', llamaPresetConfig('llama-tiny')],
  ['qwen-tiny', llamaPresetConfig('qwen-tiny')],
];

/** Weights at a scale where every path matters: matrices 0.3, biases 0.05, RMSNorm gains 1 ± 0.2 (as llama-model.test.ts). */
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

// B = 2 ragged sequences, T odd
const LENGTHS = [23, 10];
const T = 23;

/**
 * The reference's rounding for the runner's last forward: toF16(x), or at a tie (the runner's kept
 * value is the f16 rounding of some value within δ of x) the runner's. `unexplained` lists kept
 * values that are neither.
 */
async function roundLikeRunner(runner: LlamaRunner, c: LlamaFamilyConfig) {
  const { numAttentionHeads: NH, numKeyValueHeads: NKV, headDim: HS, intermediateSize: I, numHiddenLayers: L } = c;
  const QC = NH * HS, KC = NKV * HS, W = QC + 2 * KC, BT = runner.B * runner.T;
  const kept: Array<{ qkv: Float64Array; gateUp: Float64Array }> = [];
  for (let l = 0; l < L; l++) {
    kept.push({
      qkv: unpackF16(await readU32(gpu.device, runner.a(`${l}.qkv_f16`)), BT * W),
      gateUp: unpackF16(await readU32(gpu.device, runner.a(`${l}.gate_up_f16`)), BT * 2 * I),
    });
  }
  // where the reference's (seq, layer, tensor, index) lies in the runner's (BT, W) and (BT, 2I) rows
  const width = { q: QC, k: KC, v: KC, gate: I, up: I };
  const column = { q: 0, k: QC, v: QC + KC, gate: 0, up: I };
  const keptAt = (at: RoundingPoint) => {
    const t = Math.floor(at.index / width[at.tensor]), row = at.seq * runner.T + t, col = column[at.tensor] + (at.index % width[at.tensor]);
    return at.tensor === 'gate' || at.tensor === 'up' ? kept[at.layer].gateUp[row * 2 * I + col] : kept[at.layer].qkv[row * W + col];
  };
  const out = { ties: 0, values: 0, unexplained: [] as string[], round: null as unknown as RoundActivation };
  out.round = (x, at) => {
    out.values++;
    const r = toF16(x), g = keptAt(at);
    if (g === r) return r;
    // measured: a tie needs |x' − x| ≤ 1e-6 (f32 accumulation over C terms of size ≲ 1); δ allows 4×
    const delta = 4e-6 + 1e-6 * Math.abs(x);
    if (toF16(x - delta) <= g && g <= toF16(x + delta)) {
      out.ties++;
      return g;
    }
    if (out.unexplained.length < 5) out.unexplained.push(`seq ${at.seq} layer ${at.layer} ${at.tensor}[${at.index}]: float64 ${x}, kept ${g}, toF16 ${r}`);
    return r;
  };
  return out;
}

describe('f16 activations: the Llama family on WebGPU vs the float64 reference rounded the same way', () => {
  const cases = CONFIGS.flatMap(([label, config]) => (['cpu', 'gpu'] as AdapterClass[]).map((cls) => [label, cls, config] as const));
  it.each(cases)('%s, %s kernel forms: log-probs within 1e-4 and every gradient within 1e-3 of the rounded model', async (label, cls, config) => {
    forceAdapterClass(cls);
    const seed = freshSeed();
    const rng = new Rng(seed);
    const weights = randomLlamaParams(config, rng);
    const seqs = randomSeqs(rng, config.vocabSize, LENGTHS);
    const ids = seqs.map((s) => [...s.ids]);
    const batch = buildBatch(seqs, 0, T);
    const model = new LlamaModel(gpu, config);
    model.upload(weights);
    const runner = new LlamaRunner(model, batch.B, batch.T, 'f16');
    expect(runner.acts.has('0.qkv') || runner.acts.has('0.gate_up')).toBe(false);
    runner.setBatch(batch);
    const coefRef = seqs.map((s) => Array.from({ length: s.ids.length - 1 }, () => rng.uniform(-1, 1)));
    const coef = new Float32Array(batch.B * batch.T);
    coefRef.forEach((row, b) => row.forEach((c, t) => (coef[b * batch.T + t] = c)));

    let enc = new StepEncoder(gpu, 'forward');
    runner.forward(enc);
    enc.submit();
    const logp = await runner.readTokenLogps();
    const got = seqs.flatMap((s, b) => Array.from({ length: s.ids.length - 1 }, (_, t) => logp[b * batch.T + t]));
    const refCfg = llamaRefConfig(config);
    const tie = await roundLikeRunner(runner, config);
    const ref = llamaForwardRef(weights, refCfg, ids, tie.round);
    expect(tie.unexplained, `${label}: kept values that are no f16 rounding of the float64 activation, seed=${seed}`).toEqual([]);
    expect(tie.values).toBe(config.numHiddenLayers * (LENGTHS[0] + LENGTHS[1]) * ((config.numAttentionHeads + 2 * config.numKeyValueHeads) * config.headDim + 2 * config.intermediateSize));
    const want = ref.logp.flat();
    const maxErr = (w: number[]) => got.reduce((m, x, i) => Math.max(m, Math.abs(x - w[i])), 0);
    const errR = maxErr(want);
    const errPlain = maxErr(llamaForwardRef(weights, refCfg, ids, toF16).logp.flat());
    const errU = maxErr(llamaForwardRef(weights, refCfg, ids).logp.flat());
    expectClose(got, want, { rtol: 1e-4, atol: 1e-5, what: `${label} token logp (f16 activations) vs rounded float64 seed=${seed}` });
    // It computes the rounded model, not the unrounded one: rounding moves log-probs (~5e-3) far
    // more than what remains against the rounded reference (a forward without the unpack round
    // trip would sit at the unrounded model and fail the line above).
    expect(errR, `seed=${seed}`).toBeLessThan(0.1 * errU);
    const stats = await runner.readStats();
    const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
    expectClose(stats.logp, seqs.map((s, b) => sum(ref.logp[b].slice(s.promptLen - 1))), { rtol: 1e-4, atol: 1e-5, what: `${label} sequence sums seed=${seed}` });

    runner.setCoefficients(coef);
    enc = new StepEncoder(gpu, 'backward');
    enc.clear(model.grads.whole());
    runner.backward(enc);
    enc.submit();
    const grads = await model.download(model.grads);
    const refGrads = llamaBackwardRef(ref.cache, coefRef);
    let worst = { ratio: -1, message: '' };
    let worstScaled = 0;
    for (const s of model.spec) {
      const g = grads.get(s.name)!, w = refGrads.get(s.name)!;
      const scale = w.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      // the gradient tolerance of llama-model.test.ts: rtol 1e-3, atol 1e-4 of the tensor's scale
      const r = compareClose(g, w, 1e-3, 1e-4 * scale + 1e-7, `${label} d${s.name} (f16 activations) seed=${seed}`);
      expect(r.ok, r.message).toBe(true);
      if (r.worstRatio > worst.ratio) worst = { ratio: r.worstRatio, message: r.message };
      worstScaled = Math.max(worstScaled, r.maxAbsErr / scale);
    }
    console.log(`${label} ${cls} f16 activations seed=${seed}: ${tie.ties} ties of ${tie.values} rounded values; max |Δ logp| vs rounded ${errR.toExponential(2)} (plain toF16, ties unresolved: ${errPlain.toExponential(2)}), vs unrounded ${errU.toExponential(2)}; gradients: max |Δ|/scale ${worstScaled.toExponential(2)}, worst error/tolerance ${worst.ratio.toFixed(3)} (${worst.message})`);
    runner.destroy();
    model.destroy();
  });

  it('keeps qkv and gate_up packed; the arena shrinks by exactly the packed bytes less one f32 scratch', () => {
    for (const [, config] of CONFIGS) {
      const { numAttentionHeads: NH, numKeyValueHeads: NKV, headDim: HS, intermediateSize: I } = config;
      const W = (NH + 2 * NKV) * HS;
      const model = new LlamaModel(gpu, config);
      const r32 = new LlamaRunner(model, 2, T);
      const r16 = model.createRunner(2, T, 'f16');
      expect(r32.a('1.qkv').length).toBe(2 * T * W);
      expect(r32.a('1.gate_up').length).toBe(2 * T * 2 * I);
      expect(r32.acts.has('unpacked')).toBe(false);
      expect(r16.a('1.qkv_f16').length).toBe((2 * T * W) / 2);
      expect(r16.a('1.gate_up_f16').length).toBe((2 * T * 2 * I) / 2);
      expect(r16.a('unpacked').length).toBe(2 * T * Math.max(W, 2 * I));
      expect(r16.acts.bytes).toBeGreaterThanOrEqual(llamaActivationBytes(config, 2, T, 'f16'));
      expect(r16.acts.bytes).toBeLessThan(llamaActivationBytes(config, 2, T, 'f16') + 256 * 64);
      expect(r16.acts.bytes).toBeLessThan(r32.acts.bytes);
      expect(() => new LlamaRunner(model, 2, T, 'bf16' as never)).toThrow(/activationsDtype must be f32 or f16, got bf16/);
      r32.destroy();
      r16.destroy();
      model.destroy();
    }
    // Per run: q|k|v (W) and gate|up (2I) floats per token and layer drop from 4 to 2 bytes each,
    // and one f32 scratch of max(W, 2I) floats per token is added.
    const smol = { ...llamaPresetConfig('llama-tiny'), hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30, numAttentionHeads: 9, numKeyValueHeads: 3, headDim: 64, maxPositionEmbeddings: 8192, vocabSize: 49152 };
    const qwen05 = { ...llamaPresetConfig('qwen-tiny'), hiddenSize: 896, intermediateSize: 4864, numHiddenLayers: 24, numAttentionHeads: 14, numKeyValueHeads: 2, headDim: 64, maxPositionEmbeddings: 32768, vocabSize: 151936 };
    for (const [c, B, TT] of [[CONFIGS[0][1], 2, T], [CONFIGS[1][1], 3, 17], [smol, 2, 512], [qwen05, 2, 512]] as const) {
      const W = (c.numAttentionHeads + 2 * c.numKeyValueHeads) * c.headDim, I2 = 2 * c.intermediateSize;
      const BT = B * TT;
      expect(llamaActivationBytes(c, B, TT, 'f32') - llamaActivationBytes(c, B, TT, 'f16')).toBe(BT * ((W + I2) * c.numHiddenLayers * 2 - 4 * Math.max(W, I2)));
    }
    const [f32, f16] = (['f32', 'f16'] as const).map((d) => llamaActivationBytes(smol, 2, 512, d));
    console.log(`SmolLM2-135M shape, 2 × 512: activations ${(f32 / 1e6).toFixed(1)} → ${(f16 / 1e6).toFixed(1)} MB (${(100 * (1 - f16 / f32)).toFixed(1)} % saved)`);
  });
});
