// Tier 1: the float64 LayerNorm reference against a hand example and central finite
// differences (sum(out · dout) trick, random upstream gradient).
import { describe, it, expect } from 'vitest';
import { layernormForwardRef, layernormBackwardRef } from '../../src/reference/layernorm';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';
import { centralDiff } from '../helpers/fd';


describe('layernorm reference', () => {
  it('forward matches a hand-computed row', () => {
    // [1, 2, 3]: mean 2, biased variance 2/3, so norm = [-√1.5, 0, √1.5]
    const { out, mean, rstd } = layernormForwardRef([1, 2, 3], [1, 2, 1], [0, 0.5, -1], 1, 3, 0);
    expect(mean[0]).toBe(2);
    expect(rstd[0]).toBeCloseTo(Math.sqrt(1.5), 14);
    expectClose(out, [-Math.sqrt(1.5), 0.5, Math.sqrt(1.5) - 1], { rtol: 1e-14, atol: 1e-14 });
  });

  it.each([
    [3, 5],
    [1, 7],
    [4, 1],
    [2, 16],
  ])('backward matches central finite differences (N=%i C=%i)', (N, C) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rand = (k: number, lo = -1, hi = 1) => Float64Array.from({ length: k }, () => rng.uniform(lo, hi));
    const eps = 1e-5;
    const inp = rand(N * C, -1, 3), w = rand(C, 0.5, 1.5), b = rand(C), dout = rand(N * C);
    const f = () => layernormForwardRef(inp, w, b, N, C, eps).out.reduce((s, o, i) => s + o * dout[i], 0);
    const { mean, rstd } = layernormForwardRef(inp, w, b, N, C, eps);
    const { dinp, dweight, dbias } = layernormBackwardRef(dout, inp, w, mean, rstd, N, C);
    expectClose(dinp, centralDiff(inp, f), { rtol: 1e-6, atol: 1e-8, what: `dinp seed=${seed}` });
    expectClose(dweight, centralDiff(w, f), { rtol: 1e-6, atol: 1e-8, what: `dweight seed=${seed}` });
    expectClose(dbias, centralDiff(b, f), { rtol: 1e-6, atol: 1e-8, what: `dbias seed=${seed}` });
  });
});
