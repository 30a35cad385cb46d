// The diagnostics' numbers, as pure float64 functions of logged per-pair statistics (tracked
// points, ./pair-track.ts) and metrics rows: the change of each tracked pair's chosen and rejected
// log-probs since the starting weights (likelihood displacement), the margin gained, their mean and
// quantiles over pairs, and the notices the page shows beside them. Tested against a direct
// float64 computation in tests/unit/displacement.test.ts.
import type { Metrics } from './trainer';

/** Per-token averages (ΔS/|y|, nats/token) or sums (ΔS, nats per answer). */
export type Scale = 'avg' | 'sum';

/** Sums of the tracked pairs under one set of weights. */
export interface SumsPoint {
  step: number;
  chosen: readonly number[];
  rejected: readonly number[];
}

/** Answer lengths of the tracked pairs (completion tokens). */
export interface PairLens {
  chosen: readonly number[];
  rejected: readonly number[];
}

/** Quantile q ∈ [0, 1] of values already sorted ascending: linear interpolation between order statistics (numpy's default). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

export interface Spread {
  mean: number;
  p10: number;
  p25: number;
  p50: number;
  p75: number;
  p90: number;
}

export function spread(xs: readonly number[]): Spread {
  const s = [...xs].sort((a, b) => a - b);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, p10: quantileSorted(s, 0.1), p25: quantileSorted(s, 0.25), p50: quantileSorted(s, 0.5), p75: quantileSorted(s, 0.75), p90: quantileSorted(s, 0.9) };
}

/** Each pair's change since `start`: Δ chosen, Δ rejected, and the margin gained Δ chosen − Δ rejected. */
export function pairDeltas(start: SumsPoint, at: SumsPoint, lens: PairLens, scale: Scale): { chosen: number[]; rejected: number[]; margin: number[] } {
  const n = Math.min(start.chosen.length, at.chosen.length);
  const per = (d: number, len: number) => (scale === 'avg' ? d / len : d);
  const chosen = Array.from({ length: n }, (_, i) => per(at.chosen[i] - start.chosen[i], lens.chosen[i]));
  const rejected = Array.from({ length: n }, (_, i) => per(at.rejected[i] - start.rejected[i], lens.rejected[i]));
  return { chosen, rejected, margin: chosen.map((c, i) => c - rejected[i]) };
}

export interface DisplacementRow {
  step: number;
  chosen: Spread;
  rejected: Spread;
  margin: Spread;
  /** Share of pairs whose margin gained is positive (DPO's reward accuracy on these pairs, β aside). */
  accuracy: number;
}

/** One row per point (the start gives step 0 with every change 0). */
export function displacementRows(start: SumsPoint, points: readonly SumsPoint[], lens: PairLens, scale: Scale): DisplacementRow[] {
  return [start, ...points.filter((p) => p.step > 0)].map((p) => {
    const d = pairDeltas(start, p, lens, scale);
    return { step: p.step, chosen: spread(d.chosen), rejected: spread(d.rejected), margin: spread(d.margin), accuracy: d.margin.filter((m) => m > 0).length / d.margin.length };
  });
}

/** Likelihood displacement: at the last point both answers' mean log-probs are below the start while the mean margin rose above it. */
export function displaced(rows: readonly DisplacementRow[]): boolean {
  const last = rows[rows.length - 1];
  if (!last || last.step === 0) return false;
  return last.chosen.mean < 0 && last.rejected.mean < 0 && last.margin.mean > 0;
}

/** Mean of `key` over the last `n` rows that have it (NaN when none). */
function recent(rows: readonly Metrics[], key: string, n: number): number {
  const xs = rows.filter((r) => Number.isFinite(r[key])).slice(-n).map((r) => r[key]);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
}

/** Train accuracy counted as saturated at or above this (over the last SATURATION_WINDOW updates). */
export const SATURATION_ACCURACY = 0.95;
export const SATURATION_WINDOW = 5;

export type Saturation =
  /** Train accuracy ≥ 0.95 while the latest eval is no better than an earlier one (accuracy or margin). */
  | { kind: 'eval-stalled'; trainAccuracy: number; stalled: Array<'accuracy' | 'margin'> }
  /** Train accuracy ≥ 0.95 and no held-out pairs to tell. */
  | { kind: 'no-eval'; trainAccuracy: number }
  | null;

/**
 * The saturation notice of one run from its metrics rows: the mean `rewards/accuracies` of the last
 * SATURATION_WINDOW train rows ≥ 0.95, and among ≥ 2 eval rows the latest `eval_rewards/accuracies`
 * or `eval_rewards/margins` no higher than the best before it.
 */
export function saturation(train: readonly Metrics[], evals: readonly Metrics[]): Saturation {
  const acc = recent(train, 'rewards/accuracies', SATURATION_WINDOW);
  if (!(acc >= SATURATION_ACCURACY)) return null;
  if (!evals.length) return { kind: 'no-eval', trainAccuracy: acc };
  const stalled: Array<'accuracy' | 'margin'> = [];
  for (const [key, name] of [['eval_rewards/accuracies', 'accuracy'], ['eval_rewards/margins', 'margin']] as const) {
    const xs = evals.map((r) => r[key]).filter((x) => Number.isFinite(x));
    if (xs.length >= 2 && xs[xs.length - 1] <= Math.max(...xs.slice(0, -1))) stalled.push(name);
  }
  return stalled.length ? { kind: 'eval-stalled', trainAccuracy: acc, stalled } : null;
}

/** Of `fell` (a pair's chosen log-prob fell) among the quarter of pairs with the highest and with the lowest CHES: [fell, pairs]. */
export function chesQuarters(ches: readonly number[], fell: readonly boolean[]): { top: [number, number]; bottom: [number, number] } {
  const order = ches.map((c, i) => [c, i] as const).sort((a, b) => b[0] - a[0]).map(([, i]) => i);
  const q = Math.max(1, Math.floor(order.length / 4));
  const count = (idx: readonly number[]): [number, number] => [idx.filter((i) => fell[i]).length, idx.length];
  return { top: count(order.slice(0, q)), bottom: count(order.slice(-q)) };
}
