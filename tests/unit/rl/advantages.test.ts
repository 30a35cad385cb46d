// GRPO and RLOO advantages and reward metrics at hand-computed values (TRL v1.9.0 semantics:
// unbiased group std, + 1e−4, leave-one-out baseline, NaN = unscorable).
import { describe, expect, it } from 'vitest';
import { combineRewards, grpoAdvantages, rlooAdvantages } from '../../../src/train/rl';
import { expectClose } from '../../helpers/close';

const one = (xs: number[]) => ({ names: ['judge'], values: xs.map((x) => [x]) });

describe('GRPO advantages', () => {
  it('(r − mean_group) / (std_group + 1e−4) with the unbiased std', () => {
    // group [1, 0, 0, 1]: mean ½, std = √(4·¼ / 3) = √⅓
    const s = Math.sqrt(1 / 3);
    const res = grpoAdvantages(one([1, 0, 0, 1]), { numGenerations: 4 });
    expectClose(res.advantages, [0.5, -0.5, -0.5, 0.5].map((x) => x / (s + 1e-4)), { rtol: 1e-15, atol: 0 });
    expect(res.metrics.reward).toBe(0.5);
    expect(res.metrics.reward_std).toBeCloseTo(s, 15);
    expect(res.metrics['rewards/judge/mean']).toBe(0.5);
    expect(res.metrics['rewards/judge/std']).toBeCloseTo(s, 15);
    expect(res.metrics.frac_reward_zero_std).toBe(0);
  });

  it('a group with equal rewards has zero advantages and counts in frac_reward_zero_std (per completion)', () => {
    const res = grpoAdvantages(one([1, 1, 0, 1]), { numGenerations: 2 });
    expect(Array.from(res.advantages.slice(0, 2))).toEqual([0, 0]);
    expect(res.metrics.frac_reward_zero_std).toBe(0.5);
  });

  it("scale_rewards 'none' only centres; 'batch' divides by the batch std", () => {
    expect(Array.from(grpoAdvantages(one([3, 1, 0, 2]), { numGenerations: 2, scaleRewards: 'none' }).advantages)).toEqual([1, -1, -1, 1]);
    const sb = Math.sqrt(((1.5 ** 2 + 0.5 ** 2) * 2) / 3); // batch std of [3, 1, 0, 2]
    expectClose(grpoAdvantages(one([3, 1, 0, 2]), { numGenerations: 2, scaleRewards: 'batch' }).advantages, [1, -1, -1, 1].map((x) => x / (sb + 1e-4)), { rtol: 1e-14, atol: 0 });
  });

  it('G = 1: std 0, advantages 0, every completion counts as zero std', () => {
    const res = grpoAdvantages(one([0.3, 0.9]), { numGenerations: 1 });
    expect(Array.from(res.advantages)).toEqual([0, 0]);
    expect(res.metrics.frac_reward_zero_std).toBe(1);
  });

  it('several weighted reward functions: r = Σ w·R, per-function means; NaN skipped, all-NaN rows unscorable', () => {
    const t = { names: ['a', 'b'], values: [[1, 2], [0, NaN], [NaN, NaN], [2, 0]], weights: [1, 0.5] };
    expect(Array.from(combineRewards(t))).toEqual([2, 0, NaN, 2]);
    const res = grpoAdvantages(t, { numGenerations: 2 });
    expect(res.metrics['rewards/a/mean']).toBe(1);
    expect(res.metrics['rewards/b/mean']).toBe(1);
    expect(res.metrics.reward).toBeCloseTo(4 / 3, 15);
    expect(res.advantages[2]).toBe(0); // unscorable
    expect(res.advantages[3]).toBe(0); // alone in its group: nanstd NaN → advantage NaN → 0
  });
});

describe('RLOO advantages', () => {
  it('leave-one-out baseline: A_i = r_i − mean of the other G − 1', () => {
    const res = rlooAdvantages(one([1, 0, 0, 1]), { numGenerations: 4, beta: 0 });
    expectClose(res.advantages, [2 / 3, -2 / 3, -2 / 3, 2 / 3], { rtol: 1e-15, atol: 1e-16 });
    expect('kl' in res.metrics).toBe(false);
  });

  it('β·KL is subtracted from the reward before the baseline; kl metric is the token mean', () => {
    const res = rlooAdvantages(one([1, 0]), { numGenerations: 2, beta: 0.1, klSums: [2, -1], klCounts: [4, 2] });
    // rewards 1 − 0.2 = 0.8 and 0 + 0.1 = 0.1 → A = ±0.7
    expectClose(res.advantages, [0.7, -0.7], { rtol: 1e-14, atol: 0 });
    expect(res.metrics.kl).toBeCloseTo(1 / 6, 15);
    expect(res.metrics.reward).toBe(0.5); // logged without the KL penalty
  });

  it('frac_reward_zero_std counts groups; normalize_advantages whitens over the batch', () => {
    const res = rlooAdvantages(one([1, 1, 0, 2]), { numGenerations: 2, beta: 0 });
    expect(res.metrics.frac_reward_zero_std).toBe(0.5);
    const nrm = rlooAdvantages(one([1, 1, 0, 2]), { numGenerations: 2, beta: 0, normalizeAdvantages: true });
    const s = Math.sqrt(8 / 3); // advantages [0, 0, −2, 2]: nanstd = √(8/4 · 4/3)
    expectClose(nrm.advantages, [0, 0, -2 / (s + 1e-4), 2 / (s + 1e-4)], { rtol: 1e-14, atol: 1e-16 });
  });

  it('with β = 0 the KL sums only feed the kl metric (logged so the chart shows drift; TRL logs it only for β ≠ 0)', () => {
    const res = rlooAdvantages(one([1, 0]), { numGenerations: 2, beta: 0, klSums: [2, -1], klCounts: [4, 2] });
    expectClose(res.advantages, [1, -1], { rtol: 0, atol: 0 });
    expect(res.metrics.kl).toBeCloseTo(1 / 6, 15);
  });

  it('requires the KL sums when β ≠ 0', () => {
    expect(() => rlooAdvantages(one([1, 0]), { numGenerations: 2 })).toThrow(/rloo: klSums is missing/);
  });
});
