// |got − want| ≤ atol + rtol·|want|, reporting the worst element (docs/design.md). Used by the
// kernel tests and by the page's GPU self-check.

export interface CloseReport {
  ok: boolean;
  /** Index of the element with the largest error relative to its tolerance. */
  worst: number;
  got: number;
  want: number;
  maxAbsErr: number;
  /** Largest |got − want| / (atol + rtol·|want|): ≤ 1 passes. */
  worstRatio: number;
  message: string;
}

export function compareClose(got: ArrayLike<number>, want: ArrayLike<number>, rtol = 1e-4, atol = 1e-5, what = 'tensor'): CloseReport {
  if (got.length !== want.length) {
    return { ok: false, worst: -1, got: NaN, want: NaN, maxAbsErr: Infinity, worstRatio: Infinity, message: `${what}: length ${got.length} != expected ${want.length}` };
  }
  let worst = -1;
  let worstRatio = -1;
  let maxAbsErr = 0;
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const err = Math.abs(g - w);
    const ratio = Number.isFinite(g) ? err / (atol + rtol * Math.abs(w)) : Infinity;
    if (ratio > worstRatio) {
      worstRatio = ratio;
      worst = i;
    }
    maxAbsErr = Math.max(maxAbsErr, Number.isFinite(err) ? err : Infinity);
  }
  const ok = worstRatio <= 1;
  const g = worst >= 0 ? got[worst] : NaN;
  const w = worst >= 0 ? want[worst] : NaN;
  const message = `${what}: ${ok ? 'ok' : 'MISMATCH'} — worst element [${worst}] got ${g} want ${w} (|err| ${Math.abs(g - w).toExponential(3)}, tolerance ${(atol + rtol * Math.abs(w)).toExponential(3)}); max abs err ${maxAbsErr.toExponential(3)} over ${want.length} elements`;
  return { ok, worst, got: g, want: w, maxAbsErr, worstRatio, message };
}
