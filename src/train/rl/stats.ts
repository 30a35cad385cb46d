// Float64 statistics with TRL's exact conventions (docs/rlhf.md), shared by the reward model,
// GRPO/RLOO and PPO. NaN marks "no value" as in TRL (a reward function that returned None):
// the nan* helpers skip it; nanstd is the Bessel-corrected (unbiased) estimator, as torch.std
// and trl.trainer.utils.nanstd, and is NaN when fewer than two values remain.
// Per-token arrays are flat (B,T) row-major, like the engine's HostBatch.
import { ObjectiveInputError, ObjectiveOptionError } from '../objectives/check';
import type { Vec } from '../objectives/types';

export type { Vec };

/** Mean of the non-NaN entries; NaN when there are none (torch.nanmean). */
export function nanmean(xs: Vec): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isNaN(xs[i])) {
      s += xs[i];
      n++;
    }
  }
  return n === 0 ? NaN : s / n;
}

/** Σ of the non-NaN entries; 0 when there are none (torch.nansum). */
export function nansum(xs: Vec): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) if (!Number.isNaN(xs[i])) s += xs[i];
  return s;
}

/**
 * Unbiased standard deviation of the non-NaN entries (trl/trainer/utils.py `nanstd`): the
 * nanmean of squared deviations times n/(n−1); NaN when n ≤ 1.
 */
export function nanstd(xs: Vec): number {
  const m = nanmean(xs);
  let s = 0;
  let n = 0;
  for (let i = 0; i < xs.length; i++) {
    if (!Number.isNaN(xs[i])) {
      s += (xs[i] - m) ** 2;
      n++;
    }
  }
  if (n <= 1) return NaN;
  return Math.sqrt((s / n) * (n / (n - 1)));
}

/** Minimum of the non-NaN entries; NaN when there are none (trl nanmin). */
export function nanmin(xs: Vec): number {
  let m = NaN;
  for (let i = 0; i < xs.length; i++) if (!Number.isNaN(xs[i]) && !(xs[i] >= m)) m = xs[i];
  return m;
}

/** Maximum of the non-NaN entries; NaN when there are none (trl nanmax). */
export function nanmax(xs: Vec): number {
  let m = NaN;
  for (let i = 0; i < xs.length; i++) if (!Number.isNaN(xs[i]) && !(xs[i] <= m)) m = xs[i];
  return m;
}

/** torch.isclose(x, 0) with the default rtol 1e−5, atol 1e−8: |x| ≤ 1e−8 (NaN is not close). */
export function isCloseToZero(x: number): boolean {
  return Math.abs(x) <= 1e-8;
}

/** Plain mean (torch .mean()); NaN for an empty array. */
export function mean(xs: Vec): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

/** Unbiased variance (torch .var()); NaN for fewer than two values. */
export function variance(xs: Vec): number {
  const n = xs.length;
  if (n <= 1) return NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < n; i++) s += (xs[i] - m) ** 2;
  return s / (n - 1);
}

/** Σ values·mask / Σ mask (TRL PPO `masked_mean`; NaN when the mask is empty, as 0/0 in torch). */
export function maskedMean(values: Vec, mask: Vec): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    s += values[i] * mask[i];
    n += mask[i];
  }
  return s / n;
}

/**
 * TRL PPO `masked_whiten` (trl/experimental/ppo/ppo_trainer.py): (x − mean)·rsqrt(var + 1e−8) with
 * the masked mean and the Bessel-corrected masked variance; with `shiftMean` false the mean is
 * added back. Every entry is transformed (callers zero the masked-out ones, as TRL does).
 * TRL raises when the mask is empty and returns NaN for a single active entry (n/(n−1) = ∞);
 * both throw here, naming `what`.
 */
export function maskedWhiten(values: Vec, mask: Vec, shiftMean = true, what = 'values'): Float64Array {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  if (n <= 1) throw new Error(`masked_whiten(${what}): ${n} active entr${n === 1 ? 'y' : 'ies'}; whitening needs at least 2 (TRL: "increase the mini_batch_size")`);
  const m = maskedMean(values, mask);
  let v = 0;
  for (let i = 0; i < values.length; i++) v += (values[i] - m) ** 2 * mask[i];
  v = (v / n) * (n / (n - 1));
  const r = 1 / Math.sqrt(v + 1e-8);
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = (values[i] - m) * r + (shiftMean ? 0 : m);
  return out;
}

/**
 * The gradient split of torch.maximum(a, b) (or minimum with `min`): weight on a and on b.
 * Equal values share the gradient half and half (PyTorch's derivatives.yaml for max/min).
 */
export function pickWeights(a: number, b: number, min = false): [number, number] {
  if (a === b) return [0.5, 0.5];
  return (min ? a < b : a > b) ? [1, 0] : [0, 1];
}

/** d clamp(x, lo, hi)/dx as torch: 1 on the closed interval [lo, hi], else 0. */
export function clampGrad(x: number, lo: number, hi: number): number {
  return x >= lo && x <= hi ? 1 : 0;
}

export function clamp(x: number, lo: number, hi: number): number {
  return Math.min(Math.max(x, lo), hi);
}

/** Checks a flat per-token array has B·T entries, all finite. */
export function checkTokens(fn: string, field: string, v: Vec | undefined, B: number, T: number, allowNaN = false): Vec {
  if (v === undefined || v === null) throw new ObjectiveInputError(fn, -1, field, 'is missing');
  if (v.length !== B * T) throw new ObjectiveInputError(fn, -1, field, `has length ${v.length}, expected B·T = ${B}·${T} = ${B * T}`);
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'number' || (!Number.isFinite(v[i]) && !(allowNaN && Number.isNaN(v[i])))) {
      throw new ObjectiveInputError(fn, Math.floor(i / T), field, `[${i % T}] is ${v[i]}, not a finite number`, 'sequence');
    }
  }
  return v;
}

/** Checks a per-sequence array has n finite entries (NaN allowed with `allowNaN`). */
export function checkSeq(fn: string, field: string, v: Vec | undefined, n: number, allowNaN = false, unit = 'sequence'): Vec {
  if (v === undefined || v === null) throw new ObjectiveInputError(fn, -1, field, 'is missing');
  if (v.length !== n) throw new ObjectiveInputError(fn, -1, field, `has length ${v.length}, expected ${n}`);
  for (let i = 0; i < n; i++) {
    if (typeof v[i] !== 'number' || (!Number.isFinite(v[i]) && !(allowNaN && Number.isNaN(v[i])))) {
      throw new ObjectiveInputError(fn, i, field, `is ${v[i]}, not a finite number`, unit);
    }
  }
  return v;
}

/** Checks a 0/1 mask of B·T entries. */
export function checkMask(fn: string, field: string, v: Vec | undefined, B: number, T: number): Vec {
  checkTokens(fn, field, v, B, T);
  for (let i = 0; i < v!.length; i++) {
    if (v![i] !== 0 && v![i] !== 1) throw new ObjectiveInputError(fn, Math.floor(i / T), field, `[${i % T}] is ${v![i]}, expected 0 or 1`, 'sequence');
  }
  return v!;
}

export function requireInt(fn: string, option: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new ObjectiveOptionError(fn, option, `is ${v}, expected an integer ≥ ${min}`);
  return v;
}

export function requireFinite(fn: string, option: string, v: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ObjectiveOptionError(fn, option, `is ${v}, expected a finite number`);
  return v;
}

export function requireNonNeg(fn: string, option: string, v: number): number {
  requireFinite(fn, option, v);
  if (v < 0) throw new ObjectiveOptionError(fn, option, `is ${v}, expected ≥ 0`);
  return v;
}

export function requirePos(fn: string, option: string, v: number): number {
  requireFinite(fn, option, v);
  if (v <= 0) throw new ObjectiveOptionError(fn, option, `is ${v}, expected > 0`);
  return v;
}
