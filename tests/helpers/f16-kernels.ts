// Shared checks of the f16 kernels (src/kernels/matmul-f16.ts, attention-f16.ts) against float64,
// for both WGSL variants: tests/gpu/*f16*.test.ts run the emulated one on any adapter (CI),
// tests/gpu-f16/ the native one where the adapter has `shader-f16`. Each check compares twice:
//  1. with float64 on the inputs rounded to f16 (what the kernel reads): only the kernel's f32
//     arithmetic is left, so the bound is f32's — matmul |err| ≤ (K + 2)·2⁻²⁴·Σ|terms|, doubled
//     for slack; attention the f32 attention kernel's own tolerance (1e-4 relative and absolute);
//  2. with float64 on the unrounded f32 inputs: the bound adds what rounding the inputs to f16
//     explains — each product a·b moves by at most (2u + u²)·|a·b|, u = 2⁻¹¹ (a, b each within a
//     relative u of their f16 roundings); in attention each score by at most
//     ε = scale·(2u + u²)·Σ_d |q_d·k_d|, so each probability by a factor within e^{±2ε} and the
//     output by at most (e^{2·ε_max} − 1)·max|v| + u·max|v| beyond check 1's tolerance.
// Inputs are drawn, rounded to f16, and any value below the smallest normal f16 (2⁻¹⁴) is set
// to 0: WGSL lets an implementation flush f16 subnormals, which no bound here would cover.
import { expect } from 'vitest';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { matmulF16 } from '../../src/kernels/matmul-f16';
import { attentionF16Forward } from '../../src/kernels/attention-f16';
import { attentionQkvWidth, attentionRowStatsSize } from '../../src/kernels/attention';
import type { F16Variant } from '../../src/kernels/f16-variant';
import { packF16, toF16 } from '../../src/reference/f16';
import { attentionGqaForwardRef } from '../../src/reference/attention-gqa';
import { Rng } from '../../src/util/rng';

const U = 2 ** -11; // unit roundoff of f16
const U32 = 2 ** -24; // of f32
const ROUNDING = 2 * U + U * U;

/** n values in [lo, hi): the f32 draws and their f16 roundings (subnormals set to 0, both). */
export function drawF16(rng: Rng, n: number, lo = -1, hi = 1): { raw: Float32Array; rounded: Float64Array; words: Uint32Array } {
  const raw = rng.floats(n, lo, hi);
  const rounded = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = toF16(raw[i]);
    if (Math.abs(r) < 2 ** -14) raw[i] = 0;
    rounded[i] = Math.abs(r) < 2 ** -14 ? 0 : r;
  }
  return { raw, rounded, words: packF16(rounded) };
}

/** Fails naming the worst element unless |got − want| ≤ bound elementwise. */
export function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>, what: string): { worstRatio: number } {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = 0, worstRatio = -1;
  for (let i = 0; i < want.length; i++) {
    const ratio = Number.isFinite(got[i]) ? Math.abs(got[i] - want[i]) / bound[i] : Infinity;
    if (!(ratio <= worstRatio)) { worstRatio = ratio; worst = i; }
  }
  const msg = `${what}: worst element [${worst}] got ${got[worst]} want ${want[worst]} (|err| ${Math.abs(got[worst] - want[worst]).toExponential(3)}, bound ${bound[worst].toExponential(3)})`;
  expect(worstRatio <= 1, msg).toBe(true);
  return { worstRatio };
}

export interface ProductCase { M: number; N: number; K: number; TRANS_A: boolean; TRANS_B: boolean; ACCUMULATE: boolean; bias: boolean; label: string }

/** The model's products for a layer of R rows, IC inputs, OC outputs (src/kernels/matmul-f16.ts's table). */
export function modelProducts(R: number, IC: number, OC: number): ProductCase[] {
  const c = (label: string, M: number, N: number, K: number, TRANS_A: boolean, TRANS_B: boolean, ACCUMULATE: boolean, bias: boolean): ProductCase => ({ label: `${label} ${M}×${N}×${K}`, M, N, K, TRANS_A, TRANS_B, ACCUMULATE, bias });
  return [
    c('Conv1D forward out = inp·W + b (NN)', R, OC, IC, false, false, false, true),
    c('Conv1D dinp = dout·Wᵀ (NT)', R, IC, OC, false, true, false, false),
    c('Conv1D dW += inpᵀ·dout (TN)', IC, OC, R, true, false, true, false),
    c('Linear forward out = inp·Wᵀ + b (NT)', R, OC, IC, false, true, false, true),
    c('Linear dinp = dout·W (NN)', R, IC, OC, false, false, false, false),
    c('Linear dW += doutᵀ·inp (TN)', OC, IC, R, true, false, true, false),
  ];
}

/** Runs matmulF16 in `variant` on random inputs and checks it against float64 both ways; returns the f32 output. */
export async function checkMatmulF16(gpu: GpuContext, variant: F16Variant, p: ProductCase, seed: number): Promise<Float32Array> {
  const { M, N, K } = p;
  const rng = new Rng(seed);
  const a = drawF16(rng, M * K), b = drawF16(rng, K * N);
  const bias = p.bias ? rng.floats(N) : null;
  const c0 = rng.floats(M * N); // garbage when not accumulating: the kernel overwrites it
  const d = gpu.device;
  const vc = createView(d, 'c', [M * N], c0);
  const va = createView(d, 'a16', [a.words.length], a.words);
  const vb = createView(d, 'b16', [b.words.length], b.words);
  const vbias = bias ? createView(d, 'bias', [N], bias) : null;
  const enc = new StepEncoder(gpu);
  matmulF16(enc, vc, va, vb, vbias, M, N, K, { TRANS_A: p.TRANS_A, TRANS_B: p.TRANS_B, ACCUMULATE: p.ACCUMULATE, variant });
  enc.submit();
  const got = await readF32(d, vc);
  for (const v of [vc, va, vb, vbias]) v?.buffer.destroy();
  // float64: on the rounded inputs (want16) and the raw ones (want32), with Σ|terms| for the bounds
  const want16 = new Float64Array(M * N), want32 = new Float64Array(M * N), absSum = new Float64Array(M * N);
  const ai = (m: number, k: number) => (p.TRANS_A ? k * M + m : m * K + k);
  const bi = (k: number, n: number) => (p.TRANS_B ? n * K + k : k * N + n);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s16 = 0, s32 = 0, abs = 0;
    for (let k = 0; k < K; k++) {
      s16 += a.rounded[ai(m, k)] * b.rounded[bi(k, n)];
      s32 += a.raw[ai(m, k)] * b.raw[bi(k, n)];
      abs += Math.abs(a.rounded[ai(m, k)] * b.rounded[bi(k, n)]);
    }
    let extra = 0;
    if (bias) extra += bias[n];
    if (p.ACCUMULATE) extra += c0[m * N + n];
    want16[m * N + n] = s16 + extra;
    want32[m * N + n] = s32 + extra;
    absSum[m * N + n] = abs + Math.abs(extra);
  }
  const what = `${variant} ${p.label} seed=${seed}`;
  const f32Bound = absSum.map((s) => 2 * (K + 2) * U32 * s + 1e-30);
  expectWithin(got, want16, f32Bound, `${what} vs float64 on the f16 inputs`);
  // |raw·raw − f16·f16| ≤ (2u + u²)|raw·raw|, and |raw| ≤ |f16|·(1 + u)/(1 − u)... bounded via the rounded sum with one more u
  expectWithin(got, want32, absSum.map((s, i) => f32Bound[i] + ROUNDING * (1 + 2 * U) * s), `${what} vs float64 on the unrounded inputs`);
  return got;
}

export interface AttentionCase { B: number; T: number; NH: number; NKV: number; HS: number; lengths: number[] }

/** [R rows, IC, OC] of the layers whose products the tests check: a tiny one; partial 64-tiles with K one stage plus a partial one; two tiles in every direction with K over three stages. */
export const MATMUL_F16_LAYERS: Array<[number, number, number]> = [
  [5, 4, 8],
  [37, 20, 36],
  [70, 68, 132],
];

export const ATTENTION_F16_CASES: AttentionCase[] = [
  { B: 1, T: 7, NH: 2, NKV: 2, HS: 8, lengths: [7] }, // multi-head
  { B: 3, T: 13, NH: 4, NKV: 2, HS: 12, lengths: [13, 6, 0] }, // GQA ratio 2, ragged, an empty sequence
  { B: 2, T: 67, NH: 3, NKV: 1, HS: 64, lengths: [67, 30] }, // multi-query, T over one 64-row workgroup
];

/** Runs attentionF16Forward in `variant` and checks out and lse against float64 both ways; returns [out, lse]. */
export async function checkAttentionF16(gpu: GpuContext, variant: F16Variant, x: AttentionCase, seed: number): Promise<[Float32Array, Float32Array]> {
  const { B, T, NH, NKV, HS, lengths } = x;
  const rng = new Rng(seed);
  const QW = NH * HS, KW = NKV * HS, W = attentionQkvWidth(NH, NKV, HS);
  const q = drawF16(rng, B * T * QW, -2, 2), k = drawF16(rng, B * T * KW, -2, 2), v = drawF16(rng, B * T * KW, -2, 2);
  const qkv = new Float64Array(B * T * W);
  for (let r = 0; r < B * T; r++) {
    qkv.set(q.rounded.subarray(r * QW, (r + 1) * QW), r * W);
    qkv.set(k.rounded.subarray(r * KW, (r + 1) * KW), r * W + QW);
    qkv.set(v.rounded.subarray(r * KW, (r + 1) * KW), r * W + QW + KW);
  }
  const d = gpu.device;
  const rows = attentionRowStatsSize(B, T, NH);
  const words = packF16(qkv);
  const vOut = createView(d, 'out', [B * T * QW], rng.floats(B * T * QW)); // garbage: written
  const vLse = createView(d, 'lse', [rows], rng.floats(rows));
  const vQkv = createView(d, 'qkv16', [words.length], words);
  const vLen = createView(d, 'lengths', [B], Uint32Array.from(lengths));
  const enc = new StepEncoder(gpu);
  attentionF16Forward(enc, vOut, vLse, vQkv, vLen, B, T, NH, NKV, HS, variant);
  enc.submit();
  const out = await readF32(d, vOut), lse = await readF32(d, vLse);
  for (const view of [vOut, vLse, vQkv, vLen]) view.buffer.destroy();
  const what = `${variant} attention B=${B} T=${T} NH=${NH} NKV=${NKV} HS=${HS} seed=${seed}`;
  const TOL = 1e-4; // the f32 attention kernel's own (tests/gpu/attention-gqa.test.ts)
  const ref16 = attentionGqaForwardRef(q.rounded, k.rounded, v.rounded, lengths, B, T, NH, NKV, HS);
  expectWithin(out, ref16.out, ref16.out.map((w) => TOL + TOL * Math.abs(w)), `${what}: out vs float64 on the f16 inputs`);
  expectWithin(lse, ref16.lse, ref16.lse.map((w) => TOL + TOL * Math.abs(w)), `${what}: lse vs float64 on the f16 inputs`);
  // unrounded inputs: the score shift ε per (b, h, t) row over its keys, then the output bound
  const ref32 = attentionGqaForwardRef(q.raw, k.raw, v.raw, lengths, B, T, NH, NKV, HS);
  const scale = 1 / Math.sqrt(HS), G = NH / NKV;
  const outBound = new Float64Array(B * T * QW), lseBound = new Float64Array(rows);
  for (let b = 0; b < B; b++) for (let h = 0; h < NH; h++) for (let t = 0; t < T; t++) {
    const kvh = Math.floor(h / G);
    let eps = 0, vmax = 0;
    for (let s = 0; s <= t && t < lengths[b]; s++) {
      let abs = 0;
      for (let dd = 0; dd < HS; dd++) {
        abs += Math.abs(q.rounded[(b * T + t) * QW + h * HS + dd] * k.rounded[(b * T + s) * KW + kvh * HS + dd]);
        vmax = Math.max(vmax, Math.abs(v.rounded[(b * T + s) * KW + kvh * HS + dd]));
      }
      eps = Math.max(eps, scale * ROUNDING * (1 + 2 * U) * abs);
    }
    const row = (b * NH + h) * T + t;
    lseBound[row] = TOL + TOL * Math.abs(ref16.lse[row]) + eps; // log Σ exp moves by at most max |Δscore|
    for (let dd = 0; dd < HS; dd++) {
      const i = (b * T + t) * QW + h * HS + dd;
      outBound[i] = TOL + TOL * Math.abs(ref16.out[i]) + (Math.exp(2 * eps) - 1) * vmax + U * (1 + U) * vmax;
    }
  }
  expectWithin(out, ref32.out, outBound, `${what}: out vs float64 on the unrounded inputs`);
  expectWithin(lse, ref32.lse, lseBound, `${what}: lse vs float64 on the unrounded inputs`);
  return [out, lse];
}

/**
 * The GPU context for tests/gpu-f16/: fails (never skips) unless the device has `shader-f16`,
 * naming the feature, the adapter and whether the adapter offers it (then the engine did not ask).
 */
export function requireShaderF16(gpu: GpuContext): void {
  if (gpu.features.has('shader-f16')) return;
  const name = gpu.adapter.description || gpu.adapter.architecture || gpu.adapter.vendor || 'unnamed adapter';
  if (gpu.adapter.features.includes('shader-f16')) throw new Error(`the adapter (${name}) offers 'shader-f16' but the device was created without it: src/engine/gpu.ts ENGINE_FEATURES must request it`);
  throw new Error(`npm run test:gpu-f16 needs a WebGPU adapter with the feature 'shader-f16'; this one (${name}) does not offer it (features: ${gpu.adapter.features.join(', ') || 'none'}). Run these tests on a GPU whose driver has shader-f16 (CI runs only the emulated variant: npm run test:gpu).`);
}
