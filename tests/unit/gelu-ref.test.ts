// Tier 1: the float64 gelu_new reference against known values and central finite
// differences (sum(out · dout) trick, random upstream gradient), including large |x|.
import { describe, it, expect } from 'vitest';
import { geluForwardRef, geluBackwardRef } from '../../src/reference/gelu';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';
import { centralDiff } from '../helpers/fd';


describe('gelu reference', () => {
  it('forward matches gelu_new at known points', () => {
    // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) evaluated by hand at x = 1, -1
    const v = 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * 1.044715));
    const out = geluForwardRef([0, 1, -1, 20, -20], 5);
    expect(out[0]).toBe(0);
    expect(out[1]).toBeCloseTo(0.8411919906, 9);
    expect(out[1]).toBeCloseTo(v, 15);
    expect(out[2]).toBeCloseTo(-(1 - v), 15);
    expect(out[3]).toBe(20);
    expect(Math.abs(out[4])).toBeLessThan(1e-300);
  });

  it('backward matches central finite differences on [-6, 6] and at large |x|', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const inp = Float64Array.from([...Array.from({ length: 24 }, () => rng.uniform(-6, 6)), 0, 8, -8, 15, -15, 20, -20]);
    const n = inp.length;
    const dout = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const f = () => geluForwardRef(inp, n).reduce((s, o, i) => s + o * dout[i], 0);
    expectClose(geluBackwardRef(inp, dout, n), centralDiff(inp, f), { rtol: 1e-6, atol: 1e-8, what: `dinp seed=${seed}` });
  });
});
