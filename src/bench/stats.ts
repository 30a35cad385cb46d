// Small timing helpers shared by the benchmarks: medians, phase records, rates.

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Milliseconds per phase of a training step, one entry per timed step. */
export interface PhaseTimes {
  forward: number[];
  readback: number[];
  backward: number[];
  optimizer: number[];
  /** The peer cannot split forward from backward (tf.variableGrads does both). */
  forward_backward: number[];
}

export function emptyPhases(): PhaseTimes {
  return { forward: [], readback: [], backward: [], optimizer: [], forward_backward: [] };
}

/** Median of each phase that was measured. */
export function phaseMedians(p: PhaseTimes): Partial<Record<keyof PhaseTimes, number>> {
  const out: Partial<Record<keyof PhaseTimes, number>> = {};
  for (const k of Object.keys(p) as Array<keyof PhaseTimes>) if (p[k].length) out[k] = round(median(p[k]), 2);
  return out;
}

export function round(x: number, digits = 3): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** GFLOP/s of `flops` floating-point operations done in `ms` milliseconds. */
export function gflops(flops: number, ms: number): number {
  return flops / (ms * 1e6);
}
