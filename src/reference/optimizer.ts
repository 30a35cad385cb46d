// float64 reference for the optimizer family: the specification shaders/optimizer.wgsl must
// match. All arrays hold n elements; params, m, v are updated in place.
// Clipping is torch.nn.utils.clip_grad_norm_; AdamW is torch.optim.AdamW (single-tensor path);
// SGD is torch.optim.SGD without momentum or weight decay.
type Arr = ArrayLike<number>;

export interface OptimizerHp {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1-based step count (after increment), as torch's state['step']. */
  step: number;
  /** 0 disables clipping. */
  maxGradNorm: number;
}

export function gradNormSquaredRef(grads: Arr): number {
  let s = 0;
  for (let i = 0; i < grads.length; i++) s += grads[i] * grads[i];
  return s;
}

/** The factor clip_grad_norm_ multiplies every gradient by. */
export function clipCoefRef(normSq: number, maxGradNorm: number): number {
  if (!(maxGradNorm > 0)) return 1;
  return Math.min(1, maxGradNorm / (Math.sqrt(normSq) + 1e-6));
}

export function adamwStepRef(params: Float64Array, m: Float64Array, v: Float64Array, grads: Arr, normSq: number, hp: OptimizerHp): void {
  const clip = clipCoefRef(normSq, hp.maxGradNorm);
  const bc1 = 1 - hp.beta1 ** hp.step;
  const bc2 = 1 - hp.beta2 ** hp.step;
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] * clip;
    params[i] *= 1 - hp.lr * hp.weightDecay;
    m[i] = hp.beta1 * m[i] + (1 - hp.beta1) * g;
    v[i] = hp.beta2 * v[i] + (1 - hp.beta2) * g * g;
    params[i] -= (hp.lr / bc1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + hp.eps);
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The bf16 bit pattern (16 bits) of the f32 with bit pattern b: its upper 16 bits rounded to
 * nearest, ties to even. Overflow rounds to ±Inf; a NaN stays a quiet NaN with its sign (tested
 * on the bits: a NaN with payload only in the low 16 bits would otherwise round to Inf).
 */
export function bf16Bits(b: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return (b >>> 16) | 0x40;
  return (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // < 2³² for every non-NaN b: no wrap
}

/** x rounded to bfloat16, as a number: x goes to f32 first, then bf16Bits of its pattern. */
export function toBf16(x: number): number {
  f32[0] = x;
  u32[0] = bf16Bits(u32[0]) << 16;
  return f32[0];
}

/**
 * PCG hash (Jarzynski & Olano 2020, "Hash Functions for GPU Rendering"): u32 -> u32, a
 * bijection whose output bits are close to independent for consecutive inputs. u32 arithmetic
 * as WGSL does it (Math.imul wraps the product, >>> 0 the sum), so shaders/optimizer.wgsl's
 * pcg_hash gives the same bits.
 */
export function pcgHash(x: number): number {
  const s = (Math.imul(x, 747796405) + 2891336453) >>> 0;
  const w = Math.imul((s >>> ((s >>> 28) + 4)) ^ s, 277803737) >>> 0;
  return ((w >>> 22) ^ w) >>> 0;
}

/**
 * The 32 random bits of adamw_step_bf16's stochastic rounding for element `index` (of the
 * parameter arena) at 1-based `step`: the low 16 round m, the high 16 round v. A function of
 * (index, step) only, so a run, a resumed run and the reference draw the same bits.
 */
export function bf16RoundingBits(index: number, step: number): number {
  return pcgHash((index + pcgHash(step >>> 0)) >>> 0);
}

/**
 * The bf16 bit pattern of the f32 with bit pattern b, rounded stochastically: r (16 random
 * bits) is added to the low half before it is cut off, so b rounds away from zero with
 * probability (b's low 16 bits)/2¹⁶ and the expected value is the f32 value exactly (bf16
 * values are evenly spaced between consecutive ones, and the carry walks the exponent as
 * IEEE bit patterns do). Only values above the largest bf16 — within one spacing of it — can
 * reach Inf; ±Inf stay, NaN stays a quiet NaN with its sign as in bf16Bits.
 */
export function bf16BitsStochastic(b: number, r: number): number {
  if ((b & 0x7fffffff) > 0x7f800000) return (b >>> 16) | 0x40;
  return (b + (r & 0xffff)) >>> 16; // ≤ 0xff80ffff for every non-NaN b: no wrap
}

/** x rounded to bfloat16 stochastically with 16 random bits r: x goes to f32 first, then bf16BitsStochastic. */
export function toBf16Stochastic(x: number, r: number): number {
  f32[0] = x;
  u32[0] = bf16BitsStochastic(u32[0], r) << 16;
  return f32[0];
}

/**
 * AdamW with bf16 moments: adamwStepRef in float64, except that the new m and v are rounded
 * to bf16 (the stored state) before they drive the parameter update. The rounding is
 * stochastic with bf16RoundingBits(indexBase + i, step): round-to-nearest would freeze v,
 * since v·β2 with β2 = 0.999 moves v by less than half a bf16 spacing and rounds back to v.
 */
export function adamwStepBf16Ref(params: Float64Array, m: Float64Array, v: Float64Array, grads: Arr, normSq: number, hp: OptimizerHp, indexBase = 0): void {
  const clip = clipCoefRef(normSq, hp.maxGradNorm);
  const bc1 = 1 - hp.beta1 ** hp.step;
  const bc2 = 1 - hp.beta2 ** hp.step;
  for (let i = 0; i < params.length; i++) {
    const g = grads[i] * clip;
    const r = bf16RoundingBits(indexBase + i, hp.step);
    params[i] *= 1 - hp.lr * hp.weightDecay;
    m[i] = toBf16Stochastic(hp.beta1 * m[i] + (1 - hp.beta1) * g, r & 0xffff);
    v[i] = toBf16Stochastic(hp.beta2 * v[i] + (1 - hp.beta2) * g * g, r >>> 16);
    params[i] -= (hp.lr / bc1) * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + hp.eps);
  }
}

export function sgdStepRef(params: Float64Array, grads: Arr, normSq: number, hp: Pick<OptimizerHp, 'lr' | 'maxGradNorm'>): void {
  const clip = clipCoefRef(normSq, hp.maxGradNorm);
  for (let i = 0; i < params.length; i++) params[i] -= hp.lr * clip * grads[i];
}
