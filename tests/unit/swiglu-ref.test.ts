// Tier 1: the float64 SwiGLU references (the elementwise silu(gate)·up and the whole MLP with
// nn.Linear projections) against hand values and central finite differences.
import { describe, it, expect } from 'vitest';
import { swigluForwardRef, swigluBackwardRef, swigluMlpForwardRef, swigluMlpBackwardRef } from '../../src/reference/swiglu';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';
import { centralDiff } from '../helpers/fd';

describe('swiglu reference', () => {
  it('forward matches silu(gate)·up at known points', () => {
    const s1 = 1 / (1 + Math.exp(-1));
    const out = swigluForwardRef([0, 1, -1, 40, 2], [5, 2, 3, 0.5, -1], 5);
    expectClose(out, [0, 2 * s1, -3 * (1 - s1), 20, -2 / (1 + Math.exp(-2))], { rtol: 1e-14, atol: 1e-15 });
  });

  it('the MLP is down(silu(gate(x))·up(x)) with weights (out, in), by hand (N=1 C=2 I=1)', () => {
    // gate = [1, 2]·[3, -1] = 1, up = [1, 2]·[0.5, 0.25] = 1, h = silu(1); out = [2h, -h]
    const { out, h } = swigluMlpForwardRef([1, 2], [3, -1], [0.5, 0.25], [2, -1], 1, 2, 1);
    const silu1 = 1 / (1 + Math.exp(-1));
    expectClose(h, [silu1], { rtol: 1e-14, atol: 0 });
    expectClose(out, [2 * silu1, -silu1], { rtol: 1e-14, atol: 0 });
  });

  it('elementwise backward matches central finite differences', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 29;
    const gate = Float64Array.from({ length: n }, () => rng.uniform(-6, 6));
    const up = Float64Array.from({ length: n }, () => rng.uniform(-2, 2));
    const dout = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const f = () => swigluForwardRef(gate, up, n).reduce((s, o, i) => s + o * dout[i], 0);
    const { dgate, dup } = swigluBackwardRef(dout, gate, up, n);
    expectClose(dgate, centralDiff(gate, f), { rtol: 1e-6, atol: 1e-8, what: `dgate seed=${seed}` });
    expectClose(dup, centralDiff(up, f), { rtol: 1e-6, atol: 1e-8, what: `dup seed=${seed}` });
  });

  it.each([
    [3, 5, 7],
    [1, 4, 1],
    [5, 3, 11],
  ])('MLP backward matches central finite differences (N=%i C=%i I=%i)', (N, C, I) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rand = (k: number) => Float64Array.from({ length: k }, () => rng.uniform(-1.5, 1.5));
    const inp = rand(N * C), wg = rand(I * C), wu = rand(I * C), wd = rand(C * I), dout = rand(N * C);
    const f = () => swigluMlpForwardRef(inp, wg, wu, wd, N, C, I).out.reduce((s, o, i) => s + o * dout[i], 0);
    const { gate, up, h } = swigluMlpForwardRef(inp, wg, wu, wd, N, C, I);
    const g = swigluMlpBackwardRef(dout, inp, wg, wu, wd, gate, up, h, N, C, I);
    expect(g.dinp.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    expectClose(g.dinp, centralDiff(inp, f), { rtol: 1e-6, atol: 1e-8, what: `dinp seed=${seed}` });
    expectClose(g.dwGate, centralDiff(wg, f), { rtol: 1e-6, atol: 1e-8, what: `dwGate seed=${seed}` });
    expectClose(g.dwUp, centralDiff(wu, f), { rtol: 1e-6, atol: 1e-8, what: `dwUp seed=${seed}` });
    expectClose(g.dwDown, centralDiff(wd, f), { rtol: 1e-6, atol: 1e-8, what: `dwDown seed=${seed}` });
  });
});
