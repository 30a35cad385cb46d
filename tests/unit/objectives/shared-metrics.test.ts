// PrefPlay's method-independent log-prob metrics (docs/objectives.md, "Metrics"): every paired
// method reports the same logps_avg/*, logps_sum/*, margins_avg and margins_sum for the same batch,
// while TRL's logps/* keep each method's own meaning.
import { describe, expect, it } from 'vitest';
import { createObjective, METHODS, methodDescriptor, SHARED_LOGP_METRICS, type PairObjective } from '../../../src/train/objectives';

// two pairs: S_w = −2 over 2 tokens, −3 over 2; S_l = −6 over 3, −1 over 5
const batch = {
  chosenLogp: [-2, -3],
  rejectedLogp: [-6, -1],
  chosenRefLogp: [-2.5, -2.5],
  rejectedRefLogp: [-5, -1.5],
  chosenLen: [2, 2],
  rejectedLen: [3, 5],
  chosenLogitSum: [0.2, 0.4],
  chosenLogitCount: [2, 2],
  rejectedLogitSum: [0.3, 0.5],
  rejectedLogitCount: [3, 5],
  chosenNllSum: [-2.5, -3.5],
  chosenNllCount: [3, 3],
};
const want = {
  'logps_avg/chosen': (-1 + -1.5) / 2,
  'logps_avg/rejected': (-2 + -0.2) / 2,
  margins_avg: (-1 - -2 + (-1.5 - -0.2)) / 2,
  'logps_sum/chosen': -2.5,
  'logps_sum/rejected': -3.5,
  margins_sum: (-2 - -6 + (-3 - -1)) / 2,
};

describe('shared log-prob metrics', () => {
  // log-prob methods (a reward model's objective reads scores, not log-probs)
  const paired = METHODS.filter((m) => methodDescriptor(m).data === 'pairs' && methodDescriptor(m).head !== 'score');
  it.each(paired)('%s reports them with one definition', (method) => {
    const obj = createObjective({ method }) as PairObjective;
    const m = obj.compute(batch).metrics;
    for (const k of SHARED_LOGP_METRICS) expect(m[k], `${method} ${k}`).toBeCloseTo(want[k], 12);
  });

  it('keeps TRL’s logps/*: sums for DPO, averages for ORPO', () => {
    const dpo = (createObjective({ method: 'dpo' }) as PairObjective).compute(batch).metrics;
    const orpo = (createObjective({ method: 'orpo' }) as PairObjective).compute(batch).metrics;
    expect(dpo['logps/chosen']).toBeCloseTo(want['logps_sum/chosen'], 12);
    expect(orpo['logps/chosen']).toBeCloseTo(want['logps_avg/chosen'], 12);
    expect(dpo['rewards/margins']).toBeCloseTo(0.1 * (0.5 - -1 + (-0.5 - 0.5)) / 2, 12);
  });
});
