// Tier 1: the float64 residual reference against hand values and central finite
// differences, using the sum(out · dout) trick with a random upstream gradient.
import { describe, it, expect } from 'vitest';
import { residualForwardRef, residualBackwardRef, accumulateRef } from '../../src/reference/residual';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';
import { centralDiff } from '../helpers/fd';


describe('residual reference', () => {
  it('forward and accumulate match hand-computed sums', () => {
    expect(Array.from(residualForwardRef([1, -2, 0.5], [3, 2, 0.25], 3))).toEqual([4, 0, 0.75]);
    expect(Array.from(accumulateRef([1, 1], [-1, 2.5], 2))).toEqual([0, 3.5]);
  });

  it.each([[1], [9]])('backward matches central finite differences (n=%i)', (n) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rand = (k: number) => Float64Array.from({ length: k }, () => rng.uniform(-1, 1));
    const a = rand(n), b = rand(n), dout = rand(n);
    const f = () => residualForwardRef(a, b, n).reduce((s, o, i) => s + o * dout[i], 0);
    const { dinp1, dinp2 } = residualBackwardRef(dout, n);
    expectClose(dinp1, centralDiff(a, f), { rtol: 1e-6, atol: 1e-8, what: `dinp1 seed=${seed}` });
    expectClose(dinp2, centralDiff(b, f), { rtol: 1e-6, atol: 1e-8, what: `dinp2 seed=${seed}` });
  });
});
