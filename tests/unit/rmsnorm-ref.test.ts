// Tier 1: the float64 RMSNorm reference against a hand example and central finite differences
// (sum(out · dout) trick, random upstream gradient).
import { describe, it, expect } from 'vitest';
import { rmsnormForwardRef, rmsnormBackwardRef } from '../../src/reference/rmsnorm';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';
import { centralDiff } from '../helpers/fd';

describe('rmsnorm reference', () => {
  it('forward matches a hand-computed row (no mean subtraction, no bias)', () => {
    // [1, 2, 3, -2]: mean square (1 + 4 + 9 + 4)/4 = 4.5, eps 0.5 -> rstd = 1/√5
    const { out, rstd } = rmsnormForwardRef([1, 2, 3, -2], [1, 2, 0.5, -1], 1, 4, 0.5);
    const r = 1 / Math.sqrt(5);
    expect(rstd[0]).toBeCloseTo(r, 15);
    expectClose(out, [r, 4 * r, 1.5 * r, 2 * r], { rtol: 1e-14, atol: 1e-15 });
  });

  it('is invariant to scaling its input when eps = 0', () => {
    const x = [0.3, -1.2, 2.5, 0.7, -0.1];
    const w = [1, 0.5, -2, 1.5, 3];
    const a = rmsnormForwardRef(x, w, 1, 5, 0).out;
    const b = rmsnormForwardRef(x.map((v) => 7 * v), w, 1, 5, 0).out;
    expectClose(b, a, { rtol: 1e-13, atol: 1e-15 });
  });

  it.each([
    [3, 5, 1e-5],
    [1, 7, 1e-6],
    [4, 1, 0.5], // C=1 with a small eps is ≈ sign(x)·w, whose dinp vanishes
    [2, 16, 0.1],
  ])('backward matches central finite differences (N=%i C=%i eps=%f)', (N, C, eps) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rand = (k: number, lo = -1, hi = 1) => Float64Array.from({ length: k }, () => rng.uniform(lo, hi));
    const inp = rand(N * C, -1, 3), w = rand(C, -1.5, 1.5), dout = rand(N * C);
    const f = () => rmsnormForwardRef(inp, w, N, C, eps).out.reduce((s, o, i) => s + o * dout[i], 0);
    const { rstd } = rmsnormForwardRef(inp, w, N, C, eps);
    const { dinp, dweight } = rmsnormBackwardRef(dout, inp, w, rstd, N, C);
    expect(dinp.some((g) => Math.abs(g) > 1e-3)).toBe(true);
    expectClose(dinp, centralDiff(inp, f), { rtol: 1e-6, atol: 1e-8, what: `dinp seed=${seed}` });
    expectClose(dweight, centralDiff(w, f), { rtol: 1e-6, atol: 1e-8, what: `dweight seed=${seed}` });
  });
});
