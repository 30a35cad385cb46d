import { expect } from 'vitest';
import { compareClose } from '../../src/reference/compare';

/** Assert GPU (or reference) values match the expected ones; the failure names the worst element. */
export function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, opts: { rtol?: number; atol?: number; what?: string } = {}): void {
  const r = compareClose(got, want, opts.rtol ?? 1e-4, opts.atol ?? 1e-5, opts.what ?? 'tensor');
  expect(r.ok, r.message).toBe(true);
}

/** A fresh seed per run, printed so a failure can be replayed with SEED=... */
export function freshSeed(): number {
  const s = process.env.SEED ? Number(process.env.SEED) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) >>> 0;
  return s;
}
