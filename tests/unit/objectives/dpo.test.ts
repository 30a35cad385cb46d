// DPO loss types: derivatives vs central finite differences on random batches, and each loss
// type's value at a fixed input computed here from the SPEC §5 table with plain Math.
import { describe, expect, it } from 'vitest';
import { DPO_LOSS_TYPES, dpoObjective, type DpoLossType, type DpoOptions, type PairBatch } from '../../../src/train/objectives';
import { Rng } from '../../../src/util/rng';
import { expectClose, freshSeed } from '../../helpers/close';
import { fdPairs, randomPairs } from './fixtures';

const OPTS: Record<string, DpoOptions> = {
  robust: { labelSmoothing: 0.2 },
  exo_pair: { labelSmoothing: 0.05 },
  discopop: { discopopTau: 0.05 },
};

function checkGradients(opts: DpoOptions, seed: number, n: number): void {
  const rng = new Rng(seed);
  const f = randomPairs(rng, n);
  const obj = dpoObjective(opts);
  const res = obj.compute(f);
  const loss = (b: PairBatch) => obj.compute(b).loss;
  const what = `${obj.label} seed=${seed}`;
  // discopop's σ(z/τ) with τ = 0.05 has a third derivative ~1/τ²: a smaller step keeps truncation down.
  const rel = obj.label.includes('discopop') ? 1e-7 : 1e-5;
  expectClose(res.dChosenLogp, fdPairs(f, 'chosenLogp', loss, rel), { rtol: 1e-5, atol: 1e-8, what: `dChosenLogp ${what}` });
  expectClose(res.dRejectedLogp, fdPairs(f, 'rejectedLogp', loss, rel), { rtol: 1e-5, atol: 1e-8, what: `dRejectedLogp ${what}` });
  expect(Array.from(res.dChosenNllSum)).toEqual(new Array(n).fill(0));
}

describe('DPO derivatives match central finite differences', () => {
  for (const t of DPO_LOSS_TYPES) {
    it(`loss_type=${t}`, () => {
      const seed = freshSeed();
      for (const [k, beta] of [0.1, 0.5, 2].entries()) checkGradients({ ...OPTS[t], lossType: t, beta }, seed + k, 3 + k * 2);
    });
  }

  it('weighted combinations (sigmoid + sft, MPO-style triples)', () => {
    const seed = freshSeed();
    checkGradients({ lossType: ['sigmoid', 'sft'], lossWeights: [1, 0.3] }, seed, 5);
    checkGradients({ lossType: ['sigmoid', 'ipo', 'sft'], lossWeights: [0.8, 0.2, 1], beta: 0.3 }, seed + 1, 6);
    checkGradients({ lossType: ['apo_zero', 'robust'], labelSmoothing: 0.1 }, seed + 2, 4);
  });
});

// Two pairs, β = 0.5: r_w = (1, −0.5), r_l = (−0.5, 0.5), |y_w| = (4, 2), |y_l| = (3, 5).
const FIXED: PairBatch = {
  chosenLogp: [-4, -3],
  rejectedLogp: [-6, -2],
  chosenRefLogp: [-5, -2.5],
  rejectedRefLogp: [-5.5, -2.5],
  chosenLen: [4, 2],
  rejectedLen: [3, 5],
  chosenLogitSum: [2, -1],
  chosenLogitCount: [4, 2],
  rejectedLogitSum: [0.5, 4],
  rejectedLogitCount: [3, 5],
};
const B = 0.5;
const RW = [1, -0.5];
const RL = [-0.5, 0.5];
const LW = [4, 2];
const LL = [3, 5];
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const avg = (f: (i: number) => number) => (f(0) + f(1)) / 2;

const HAND: Record<Exclude<DpoLossType, 'sft'>, () => number> = {
  sigmoid: () => avg((i) => -Math.log(sig(B * (RW[i] - RL[i])))),
  robust: () => avg((i) => {
    const z = B * (RW[i] - RL[i]);
    return (-(1 - 0.2) * Math.log(sig(z)) + 0.2 * Math.log(sig(-z))) / (1 - 2 * 0.2);
  }),
  hinge: () => avg((i) => Math.max(0, 1 - B * (RW[i] - RL[i]))),
  ipo: () => avg((i) => (RW[i] / LW[i] - RL[i] / LL[i] - 1 / (2 * B)) ** 2),
  sigmoid_norm: () => avg((i) => -Math.log(sig(B * (RW[i] / LW[i] - RL[i] / LL[i])))),
  exo_pair: () => avg((i) => {
    const z = B * (RW[i] - RL[i]);
    return sig(z) * (Math.log(sig(z)) - Math.log(1 - 0.05)) + sig(-z) * (Math.log(sig(-z)) - Math.log(0.05));
  }),
  nca_pair: () => avg((i) => -Math.log(sig(B * RW[i])) - 0.5 * Math.log(sig(-B * RW[i])) - 0.5 * Math.log(sig(-B * RL[i]))),
  sppo_hard: () => avg((i) => (RW[i] - 1 / (2 * B)) ** 2 + (RL[i] + 1 / (2 * B)) ** 2),
  apo_zero: () => avg((i) => 1 - sig(B * RW[i]) + sig(B * RL[i])),
  apo_down: () => avg((i) => sig(B * RW[i]) + 1 - sig(B * (RW[i] - RL[i]))),
  discopop: () => avg((i) => {
    const z = B * (RW[i] - RL[i]);
    const m = sig(z / 0.05);
    return (1 - m) * -Math.log(sig(z)) + m * Math.exp(-z);
  }),
};

describe('DPO loss values at a fixed input (SPEC §5 table, plain Math)', () => {
  for (const [t, hand] of Object.entries(HAND)) {
    it(t, () => {
      const got = dpoObjective({ ...OPTS[t], lossType: t as DpoLossType, beta: B }).compute(FIXED).loss;
      expect(got).toBeCloseTo(hand(), 12);
    });
  }

  it('sft: token-mean cross-entropy of the chosen completions', () => {
    expect(dpoObjective({ lossType: 'sft' }).compute(FIXED).loss).toBeCloseTo((4 + 3) / (4 + 2), 12);
  });

  it('a weighted combination is the weighted sum', () => {
    const got = dpoObjective({ lossType: ['sigmoid', 'sft'], lossWeights: [1, 0.25], beta: B }).compute(FIXED).loss;
    expect(got).toBeCloseTo(HAND.sigmoid() + 0.25 * (7 / 6), 12);
  });

  it('exo_pair with label_smoothing 0 uses ε = 1e-3', () => {
    const z = [B * 1.5, B * -1];
    const want = avg((i) => sig(z[i]) * (Math.log(sig(z[i])) - Math.log(1 - 1e-3)) + sig(-z[i]) * (Math.log(sig(-z[i])) - Math.log(1e-3)));
    expect(dpoObjective({ lossType: 'exo_pair', beta: B }).compute(FIXED).loss).toBeCloseTo(want, 12);
  });

  it('metrics: rewards β·r, strict accuracy, logps are sums, logits token mean', () => {
    const m = dpoObjective({ beta: B }).compute(FIXED).metrics;
    expect(m['rewards/chosen']).toBeCloseTo(B * (1 - 0.5) / 2, 12);
    expect(m['rewards/rejected']).toBeCloseTo(B * (-0.5 + 0.5) / 2, 12);
    expect(m['rewards/margins']).toBeCloseTo(B * (1.5 - 1) / 2, 12);
    expect(m['rewards/accuracies']).toBe(0.5);
    expect(m['logps/chosen']).toBe(-3.5);
    expect(m['logps/rejected']).toBe(-4);
    expect(m['logits/chosen']).toBeCloseTo(1 / 6, 12);
    expect(m['logits/rejected']).toBeCloseTo(4.5 / 8, 12);
    const lo = (a: number) => a - Math.log(1 - Math.exp(a));
    expect(m['log_odds/chosen']).toBeCloseTo((lo(-1) + lo(-1.5)) / 2, 12);
    expect(m['log_odds/rejected']).toBeCloseTo((lo(-2) + lo(-0.4)) / 2, 12);
  });

  it('a tie r_w = r_l is not counted as accurate', () => {
    const tie: PairBatch = { ...FIXED, chosenLogp: [-4, -3], chosenRefLogp: [-3.5, -2.5], rejectedLogp: [-6, -2], rejectedRefLogp: [-5.5, -2.5] };
    expect(dpoObjective().compute(tie).metrics['rewards/accuracies']).toBe(0);
  });
});
