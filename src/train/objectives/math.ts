// Scalar float64 helpers shared by every objective: stable log-sigmoid and the guarded
// log(1 − e^A) that ORPO's odds need. All functions take and return plain numbers.

/** σ(x) = 1 / (1 + e^−x), without overflow for large |x|. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** log σ(x) = −softplus(−x), exact for large |x| (no log(0)). */
export function logSigmoid(x: number): number {
  return x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x));
}

/**
 * Largest average log-prob A that log(1 − e^A) accepts. Per-token log-probs read back from float32
 * are quantised near 0 (1 − 2^−24 ≈ e^−6e−8), so a fully confident model yields A = 0 exactly and
 * log(1 − e^0) = −∞. A is clamped to ≤ −1e−7 ("guard A → 0"); in the clamped region the derivative
 * of the clamped function is 0, which is what the objectives return.
 */
export const MAX_AVG_LOGP = -1e-7;

/**
 * log(1 − e^A) for A ≤ 0 (Mächler's stable split): log1p(−exp A) for A < −ln 2, log(−expm1 A)
 * otherwise; A is first clamped to MAX_AVG_LOGP.
 */
export function log1mexp(A: number): number {
  const a = Math.min(A, MAX_AVG_LOGP);
  return a < -Math.LN2 ? Math.log1p(-Math.exp(a)) : Math.log(-Math.expm1(a));
}

/** log odds(A) = A − log(1 − e^A): the log-odds of the per-token geometric-mean probability e^A. */
export function logOdds(A: number): number {
  return Math.min(A, MAX_AVG_LOGP) - log1mexp(A);
}

/** d logOdds / dA = 1 / (1 − e^A); 0 where A is clamped. */
export function dLogOdds(A: number): number {
  return A >= MAX_AVG_LOGP ? 0 : 1 / -Math.expm1(A);
}

export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}
