// The online methods' registry entries (src/train/objectives/online.ts): CLI flags and their
// validation by flag name, and the objectives' two steps equal the host math they wrap.
import { describe, expect, it } from 'vitest';
import { objectiveFromFlags } from '../../../src/cli/method-flags';
import { createObjective, type OnlineObjective } from '../../../src/train/objectives';
import { grpoAdvantages, rlooAdvantages } from '../../../src/train/rl/advantages';
import { grpoLoss } from '../../../src/train/rl/grpo';
import { rlooLoss, sequenceCoefficients } from '../../../src/train/rl/rloo';
import { rewardFunctions } from '../../../src/train/rl/rewards';

describe('grpo and rloo flags', () => {
  it('take rewards with weights, generation settings, and default β = 0.04', () => {
    const spec = objectiveFromFlags({ method: 'grpo', reward: 'judge:arithmetic,judge:politeness', 'reward-weights': '1,0.5', 'num-generations': '4', 'max-new-tokens': '16', temperature: '0.7', 'top-k': '20', 'top-p': '0.9' });
    expect(spec).toMatchObject({ method: 'grpo', reward: ['judge:arithmetic', 'judge:politeness'], rewardWeights: [1, 0.5], numGenerations: 4, maxNewTokens: 16, temperature: 0.7, topK: 20, topP: 0.9, beta: 0.04, lossType: 'dapo' });
    const o = createObjective(spec) as OnlineObjective;
    expect(o.kind).toBe('online');
    expect(o.generation).toEqual({ numGenerations: 4, maxNewTokens: 16, temperature: 0.7, topK: 20, topP: 0.9 });
    expect(o.rewards).toEqual({ names: ['judge:arithmetic', 'judge:politeness'], weights: [1, 0.5] });
    expect((createObjective({ method: 'rloo' }) as OnlineObjective).beta).toBe(0.04);
    expect((createObjective({ method: 'rloo' }) as OnlineObjective).generation.numGenerations).toBe(2); // TRL RLOOConfig
    expect((createObjective({ method: 'grpo' }) as OnlineObjective).generation.numGenerations).toBe(8); // TRL GRPOConfig
  });

  it('refuses bad values by flag', () => {
    expect(() => objectiveFromFlags({ method: 'grpo', reward: 'judge:arithmetic', 'reward-weights': '1,2' })).toThrow(/--reward-weights: .*has 2 weights for 1 reward function/);
    expect(() => objectiveFromFlags({ method: 'grpo', 'num-generations': '1' })).toThrow(/--num-generations: .*numGenerations must be ≥ 2/);
    expect(() => objectiveFromFlags({ method: 'rloo', 'num-generations': '2.5' })).toThrow(/--num-generations: .*whole number/);
    expect(() => objectiveFromFlags({ method: 'grpo', 'top-p': '0' })).toThrow(/--top-p: .*topP must be > 0/);
    expect(() => objectiveFromFlags({ method: 'grpo', temperature: '0' })).toThrow(/--temperature: .*temperature must be > 0/);
    expect(() => objectiveFromFlags({ method: 'grpo', reward: 'judge:reference' })).toThrow(/--reward: .*"judge:reference" is unknown/);
    expect(() => objectiveFromFlags({ method: 'dpo', reward: 'judge:arithmetic' })).toThrow(/--reward applies to --method grpo, rloo only/);
    expect(() => objectiveFromFlags({ method: 'grpo', 'normalize-advantages': true })).toThrow(/--normalize-advantages applies to --method rloo only/);
  });
});

describe('the objectives wrap the host math', () => {
  const table = { names: ['a', 'b'], weights: [1, 0.5], values: [[1, 0], [0, 1], [0.5, 0.5], [0, 0]] };
  const B = 4, T = 3;
  const mask = [1, 1, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0];
  const logps = [-1, -2, 0, -0.5, 0, 0, -1.5, -0.2, -3, -1, -1, 0];
  const refLogps = [-1.2, -1.5, 0, -0.7, 0, 0, -1.4, -0.4, -2, -1.1, -0.9, 0];
  const batch = { B, T, logps, refLogps, mask, entropySums: [1, 2, 3, 4], tokenCounts: [2, 1, 3, 2], activeTokens: 8, gradAccum: 1 };

  it('grpo: group advantages, then grpoLoss with β and the batch’s active tokens; entropy Σ H / Σ m', () => {
    const o = createObjective({ method: 'grpo', numGenerations: 2, beta: 0.1 }) as OnlineObjective;
    const adv = o.advantages(table);
    expect(adv.advantages).toEqual(grpoAdvantages(table, { numGenerations: 2 }).advantages);
    const got = o.microLoss({ ...batch, advantages: adv.advantages });
    const want = grpoLoss({ B, T, logps, refLogps, mask, advantages: adv.advantages }, { beta: 0.1, activeTokens: 8 });
    expect(got.loss).toBe(want.loss);
    expect(got.coef).toEqual(want.coef);
    expect(got.metrics.kl).toBe(want.metrics.kl);
    expect(got.metrics.entropy).toBe(10 / 8);
  });

  it('rloo: the KL sums enter the advantages; sequence-level loss on-policy (ρ = 1), spread over the mask', () => {
    const o = createObjective({ method: 'rloo', numGenerations: 2, beta: 0.1 }) as OnlineObjective;
    expect(o.klInReward).toBe(true);
    const kl = { sums: [0.1, -0.2, 0.3, 0], counts: [2, 1, 3, 2] };
    const adv = o.advantages(table, kl);
    expect(adv.advantages).toEqual(rlooAdvantages(table, { numGenerations: 2, beta: 0.1, klSums: kl.sums, klCounts: kl.counts }).advantages);
    expect(adv.metrics.kl).toBeCloseTo(0.2 / 8, 15);
    const got = o.microLoss({ ...batch, advantages: adv.advantages });
    const S = [-3, -0.5, -4.7, -2];
    const want = rlooLoss({ logpSums: S, oldLogpSums: S, advantages: adv.advantages });
    expect(got.loss).toBeCloseTo(want.loss, 15);
    expect(Array.from(got.coef)).toEqual(Array.from(sequenceCoefficients(want.dLogpSums, mask, B, T)));
    expect(got.metrics['clip_ratio/region_mean']).toBe(0);
  });

  it('judge rewards score decoded text with the judge’s verdict', () => {
    const [arith, polite] = rewardFunctions(['judge:arithmetic', 'judge:politeness']);
    expect(arith.name).toBe('arithmetic');
    expect(arith.score('Q: What is 4+1?\nA: ', '5')).toBe(1);
    expect(arith.score('Q: What is 4+1?\nA: ', '6')).toBe(0);
    expect(polite.score('', 'Of course, glad to help')).toBe(1);
    expect(() => rewardFunctions(['judge:nope'])).toThrow(/unknown reward function "judge:nope"/);
  });
});
