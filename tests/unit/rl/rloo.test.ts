// RLOO's sequence-level clipped loss: hand values, ∂loss/∂S vs central finite differences, and
// the spread of per-sequence derivatives over the token mask.
import { describe, expect, it } from 'vitest';
import { rlooLoss, sequenceCoefficients } from '../../../src/train/rl';
import { Rng } from '../../../src/util/rng';
import { centralDiff } from '../../helpers/fd';
import { expectClose, freshSeed } from '../../helpers/close';

describe('RLOO loss', () => {
  it('ρ = 1: loss = −mean A, ∂/∂S_i = −A_i/B', () => {
    const res = rlooLoss({ logpSums: [-3, -5], oldLogpSums: [-3, -5], advantages: [1, -0.5] });
    expect(res.loss).toBeCloseTo(-0.25, 15);
    expectClose(res.dLogpSums, [-0.5, 0.25], { rtol: 1e-15, atol: 0 });
  });

  it('clip regions: (A>0, ρ=1.5) and (A<0, ρ=0.5) have zero gradient; metrics are per-sequence fractions', () => {
    const res = rlooLoss({ logpSums: [0, 0, 0, 0], oldLogpSums: [-Math.log(1.5), -Math.log(0.5), -Math.log(0.5), -Math.log(1.5)], advantages: [1, -1, 1, -1] }, { gradAccum: 2 });
    expectClose(res.dLogpSums, [0, 0, -0.5 / 8, 1.5 / 8], { rtol: 1e-14, atol: 1e-16 });
    expect(res.loss).toBeCloseTo((-1.2 + 0.8 - 0.5 + 1.5) / 8, 14);
    expect(res.metrics['clip_ratio/low_mean']).toBe(0.25);
    expect(res.metrics['clip_ratio/high_mean']).toBe(0.25);
    expect(res.metrics['clip_ratio/region_mean']).toBe(0.5);
    expect(res.metrics['clip_ratio/low_min']).toBe(0);
    expect(res.metrics['clip_ratio/high_max']).toBe(1);
  });

  it('derivatives match central finite differences', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const B = 9;
    const S = Float64Array.from({ length: B }, () => -rng.uniform(1, 30));
    const S0 = Float64Array.from(S, (s) => {
      let r: number;
      do r = rng.uniform(-0.5, 0.5);
      while (Math.abs(Math.exp(r) - 0.8) < 1e-3 || Math.abs(Math.exp(r) - 1.2) < 1e-3);
      return s - r;
    });
    const A = Float64Array.from({ length: B }, () => rng.uniform(-2, 2));
    const res = rlooLoss({ logpSums: S, oldLogpSums: S0, advantages: A }, { gradAccum: 3 });
    const fd = centralDiff(S, () => rlooLoss({ logpSums: S, oldLogpSums: S0, advantages: A }, { gradAccum: 3 }).loss);
    expectClose(res.dLogpSums, fd, { rtol: 1e-6, atol: 1e-9, what: `dLogpSums seed=${seed}` });
  });

  it('sequenceCoefficients puts ∂loss/∂S_i on every loss token of completion i', () => {
    expect(Array.from(sequenceCoefficients([2, -1], [1, 1, 0, 0, 1, 0], 2, 3))).toEqual([2, 2, 0, -0, -1, -0]);
  });
});
