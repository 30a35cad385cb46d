// Reward model (TRL RewardTrainer): a hand-computed pair, derivatives vs central finite
// differences (with margins and the centering term), metric definitions and input errors.
import { describe, expect, it } from 'vitest';
import { rewardModelLoss } from '../../../src/train/rl';
import { Rng } from '../../../src/util/rng';
import { centralDiff } from '../../helpers/fd';
import { expectClose, freshSeed } from '../../helpers/close';

describe('reward model values', () => {
  it('one pair r_c = 1, r_r = 0: loss = ln(1 + e^−1), ∂/∂r_c = −σ(−1)', () => {
    const res = rewardModelLoss({ chosen: [1], rejected: [0] });
    expect(res.loss).toBeCloseTo(0.31326168751822286, 15);
    expect(res.dChosen[0]).toBeCloseTo(-0.2689414213699951, 15);
    expect(res.dRejected[0]).toBeCloseTo(0.2689414213699951, 15);
  });

  it('metrics: min/mean/max over all 2N rewards, strict accuracy, margin without the margin column', () => {
    const m = rewardModelLoss({ chosen: [2, 0.5, 1], rejected: [-1, 0.5, 3], margin: [1, 1, 1] }).metrics;
    expect(m.min_reward).toBe(-1);
    expect(m.max_reward).toBe(3);
    expect(m.mean_reward).toBeCloseTo((2 + 0.5 + 1 - 1 + 0.5 + 3) / 6, 15);
    expect(m.accuracy).toBeCloseTo(1 / 3, 15); // the tie 0.5 = 0.5 is not a hit
    expect(m.margin).toBeCloseTo((3 + 0 - 2) / 3, 15);
  });

  it('margin and centering: loss = mean −log σ(Δ − m) + c·mean (r_c + r_r)²', () => {
    const sp = (x: number) => Math.log1p(Math.exp(-x));
    const res = rewardModelLoss({ chosen: [1, 0], rejected: [0.5, 1], margin: [0.25, -0.5] }, { centerRewardsCoefficient: 0.01 });
    const want = (sp(0.25) + sp(-0.5)) / 2 + (0.01 * (1.5 ** 2 + 1)) / 2;
    expect(res.loss).toBeCloseTo(want, 15);
  });

  it('gradAccum divides the derivatives, not the reported loss', () => {
    const a = rewardModelLoss({ chosen: [1, 2], rejected: [0, 3] });
    const b = rewardModelLoss({ chosen: [1, 2], rejected: [0, 3] }, { gradAccum: 4 });
    expect(b.loss).toBe(a.loss);
    expectClose(b.dChosen, Array.from(a.dChosen, (x) => x / 4), { rtol: 1e-15, atol: 0 });
  });
});

describe('reward model derivatives match central finite differences', () => {
  it.each([
    ['plain', null, false],
    ['margin + centering', 0.01, true],
    ['strong centering', 0.5, false],
  ] as const)('%s', (_n, center, margin) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 6;
    const rc = Float64Array.from({ length: n }, () => rng.uniform(-3, 3));
    const rr = Float64Array.from({ length: n }, () => rng.uniform(-3, 3));
    const m = margin ? Float64Array.from({ length: n }, () => rng.uniform(0, 1)) : undefined;
    const f = () => rewardModelLoss({ chosen: rc, rejected: rr, margin: m }, { centerRewardsCoefficient: center }).loss;
    const res = rewardModelLoss({ chosen: rc, rejected: rr, margin: m }, { centerRewardsCoefficient: center });
    expectClose(res.dChosen, centralDiff(rc, f), { rtol: 1e-6, atol: 1e-9, what: `dChosen seed=${seed}` });
    expectClose(res.dRejected, centralDiff(rr, f), { rtol: 1e-6, atol: 1e-9, what: `dRejected seed=${seed}` });
  });
});

describe('reward model input errors', () => {
  it('names the pair and the field', () => {
    expect(() => rewardModelLoss({ chosen: [0, NaN], rejected: [0, 0] })).toThrow(/reward: pair 1: chosen is NaN/);
    expect(() => rewardModelLoss({ chosen: [0], rejected: [0, 0] })).toThrow(/rejected has length 2, expected 1/);
    expect(() => rewardModelLoss({ chosen: [], rejected: [] })).toThrow(/empty batch/);
  });
});
