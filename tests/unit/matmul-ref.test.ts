// Tier 1: the float64 matmul reference's backward against central finite differences,
// using the sum(out · dout) trick with a random upstream gradient.
import { describe, it, expect } from 'vitest';
import { matmulForwardRef, matmulBackwardRef } from '../../src/reference/matmul';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';
import { centralDiff } from '../helpers/fd';

function objective(inp: Float64Array, w: Float64Array, b: Float64Array, dout: Float64Array, R: number, IC: number, OC: number): number {
  const out = matmulForwardRef(inp, w, b, R, IC, OC);
  let s = 0;
  for (let i = 0; i < out.length; i++) s += out[i] * dout[i];
  return s;
}


describe('matmul reference', () => {
  it('forward matches a hand-computed product', () => {
    // inp (1,2) · W (2,3) + b
    const out = matmulForwardRef([1, 2], [1, 2, 3, 4, 5, 6], [0.5, 0, -1], 1, 2, 3);
    expect(Array.from(out)).toEqual([9.5, 12, 14]);
  });

  it.each([
    [3, 5, 4],
    [1, 7, 2],
    [6, 1, 3],
  ])('backward matches central finite differences (R=%i IC=%i OC=%i)', (R, IC, OC) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rand = (n: number) => Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const inp = rand(R * IC), w = rand(IC * OC), b = rand(OC), dout = rand(R * OC);
    const { dinp, dweight, dbias } = matmulBackwardRef(dout, inp, w, R, IC, OC);
    const f = () => objective(inp, w, b, dout, R, IC, OC);
    expectClose(dinp, centralDiff(inp, f), { rtol: 1e-6, atol: 1e-8, what: `dinp seed=${seed}` });
    expectClose(dweight, centralDiff(w, f), { rtol: 1e-6, atol: 1e-8, what: `dweight seed=${seed}` });
    expectClose(dbias, centralDiff(b, f), { rtol: 1e-6, atol: 1e-8, what: `dbias seed=${seed}` });
  });
});
