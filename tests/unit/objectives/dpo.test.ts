// DPO loss types: derivatives vs central finite differences on random batches, and each loss
// type's value at a fixed input computed here from the docs/objectives.md table with plain Math.
import { describe, expect, it } from 'vitest';
import { DPO_LOSS_TYPES, dpoObjective, type DpoLossType, type DpoOptions, type PairBatch } from '../../../src/train/objectives';
import { canonicalDpoLossType, DPO_LOSS_TYPE_ALIASES } from '../../../src/train/objectives/dpo';
import { Rng } from '../../../src/util/rng';
import { expectClose, freshSeed } from '../../helpers/close';
import { fdPairs, randomPairs, FIXED_PAIRS } from './fixtures';

const OPTS: Record<string, DpoOptions> = {
  robust: { labelSmoothing: 0.2 },
  exo_pair: { labelSmoothing: 0.05 },
  discopop: { discopopTau: 0.05 },
  aot: { labelSmoothing: 0.1 },
  aot_unpaired: { labelSmoothing: 0.2 },
};

/** Smallest gap between two of the values (∞ for fewer than two). */
function minGap(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  let g = Infinity;
  for (let k = 1; k < s.length; k++) g = Math.min(g, s[k] - s[k - 1]);
  return g;
}

/**
 * Random pairs; for the sorting losses (aot, aot_unpaired) redrawn until the sorted quantities
 * are at least 0.05 apart, far more than a finite-difference step, so no step crosses a tie
 * (where the loss has a kink and the central difference averages two one-sided slopes).
 */
function gradientFixture(rng: Rng, n: number, sorts: boolean): ReturnType<typeof randomPairs> {
  for (;;) {
    const f = randomPairs(rng, n);
    if (!sorts) return f;
    const rw = f.chosenLogp.map((x, i) => x - f.chosenRefLogp[i]);
    const rl = f.rejectedLogp.map((x, i) => x - f.rejectedRefLogp[i]);
    const x = f.chosenLogp.map((v, i) => v - f.rejectedLogp[i]);
    if (Math.min(minGap(rw), minGap(rl), minGap(x)) > 0.05) return f;
  }
}

function checkGradients(opts: DpoOptions, seed: number, n: number): void {
  const rng = new Rng(seed);
  const types = opts.lossType === undefined ? [] : typeof opts.lossType === 'string' ? [opts.lossType] : [...opts.lossType];
  const f = gradientFixture(rng, n, types.some((t) => t.startsWith('aot')));
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
const FIXED: PairBatch = FIXED_PAIRS;
const B = 0.5;
const RW = [1, -0.5];
const RL = [-0.5, 0.5];
const LW = [4, 2];
const LL = [3, 5];
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const avg = (f: (i: number) => number) => (f(0) + f(1)) / 2;
const ascending = (v: number[]) => [...v].sort((a, b) => a - b);
/** AOT from its definition: mean over k of −(1−ε) log σ(βδ_k) − ε log σ(−βδ_k), δ = sorted(x) − sorted(y). */
function aotHand(x: number[], y: number[], beta: number, eps: number): number {
  const xs = ascending(x);
  const ys = ascending(y);
  let s = 0;
  for (let k = 0; k < xs.length; k++) {
    const d = xs[k] - ys[k];
    s += -Math.log(sig(beta * d)) * (1 - eps) - Math.log(sig(-beta * d)) * eps;
  }
  return s / xs.length;
}

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
  bco_pair: () => avg((i) => -Math.log(sig(B * RW[i])) - Math.log(sig(-B * RL[i]))),
  // policy S_w − S_l = (2, −1), reference (0.5, 0): δ = (−1 − 0, 2 − 0.5).
  aot: () => aotHand([2, -1], [0.5, 0], B, 0.1),
  // r_w = (1, −0.5), r_l = (−0.5, 0.5): δ = (−0.5 − (−0.5), 1 − 0.5).
  aot_unpaired: () => aotHand(RW, RL, B, 0.2),
  sppo_hard: () => avg((i) => (RW[i] - 1 / (2 * B)) ** 2 + (RL[i] + 1 / (2 * B)) ** 2),
  apo_zero: () => avg((i) => 1 - sig(B * RW[i]) + sig(B * RL[i])),
  apo_down: () => avg((i) => sig(B * RW[i]) + 1 - sig(B * (RW[i] - RL[i]))),
  discopop: () => avg((i) => {
    const z = B * (RW[i] - RL[i]);
    const m = sig(z / 0.05);
    return (1 - m) * -Math.log(sig(z)) + m * Math.exp(-z);
  }),
};

describe('DPO loss values at a fixed input (docs/objectives.md table, plain Math)', () => {
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

// Four pairs whose policy and reference orders differ, so sorting changes which terms meet.
const AOT: PairBatch = {
  chosenLogp: [-3, -7.5, -2, -5],
  rejectedLogp: [-4, -5, -6.5, -4.5],
  chosenRefLogp: [-3.5, -6, -3, -4],
  rejectedRefLogp: [-3, -6.5, -4, -5.5],
  chosenLen: [3, 6, 2, 4],
  rejectedLen: [4, 5, 5, 4],
  chosenLogitSum: [1, 2, 3, 4],
  chosenLogitCount: [3, 6, 2, 4],
  rejectedLogitSum: [-1, 0, 1, 2],
  rejectedLogitCount: [4, 5, 5, 4],
};
const diff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a, (x, i) => x - b[i]);

describe('bco_pair, aot, aot_unpaired (TRL main)', () => {
  it('bco_pair has no running reward mean: the same batch gives the same loss on every call', () => {
    const obj = dpoObjective({ lossType: 'bco_pair', beta: 0.3 });
    const other: PairBatch = { ...AOT, chosenLogp: [-1, -1, -1, -1] };
    const first = obj.compute(AOT).loss;
    obj.compute(other);
    expect(obj.compute(AOT).loss).toBe(first);
    const rw = diff(AOT.chosenLogp, AOT.chosenRefLogp!);
    const rl = diff(AOT.rejectedLogp, AOT.rejectedRefLogp!);
    let want = 0;
    for (let i = 0; i < 4; i++) want += (-Math.log(sig(0.3 * rw[i])) - Math.log(sig(-0.3 * rl[i]))) / 4;
    expect(first).toBeCloseTo(want, 12);
  });

  it('aot pairs sorted policy margins with sorted reference margins', () => {
    const x = diff(AOT.chosenLogp, AOT.rejectedLogp); // (1, −2.5, 4.5, −0.5)
    const y = diff(AOT.chosenRefLogp!, AOT.rejectedRefLogp!); // (−0.5, 0.5, 1, 1.5)
    for (const eps of [0, 0.15]) {
      const got = dpoObjective({ lossType: 'aot', beta: 0.7, labelSmoothing: eps }).compute(AOT).loss;
      expect(got).toBeCloseTo(aotHand(x, y, 0.7, eps), 12);
      // Sorting matters here: the unsorted pairing is DPO's (label-smoothed) sigmoid loss.
      expect(Math.abs(got - aotHand(x.map((v, i) => v - y[i]), [0, 0, 0, 0], 0.7, eps))).toBeGreaterThan(1e-3);
    }
  });

  it('aot_unpaired pairs sorted chosen log-ratios with sorted rejected log-ratios', () => {
    const rw = diff(AOT.chosenLogp, AOT.chosenRefLogp!);
    const rl = diff(AOT.rejectedLogp, AOT.rejectedRefLogp!);
    const got = dpoObjective({ lossType: 'aot_unpaired', beta: 1.3, labelSmoothing: 0.05 }).compute(AOT).loss;
    expect(got).toBeCloseTo(aotHand(rw, rl, 1.3, 0.05), 12);
  });

  it('aot derivatives flow to the pair at each sorted position (finite differences, values ≥ 0.05 apart)', () => {
    const seed = freshSeed();
    for (const [k, lossType] of (['aot', 'aot_unpaired'] as const).entries()) {
      for (const [j, n] of [1, 2, 7, 16].entries()) checkGradients({ lossType, beta: [0.1, 0.5, 1, 3][j], labelSmoothing: 0.1 * k }, seed + 10 * k + j, n);
    }
    checkGradients({ lossType: ['aot', 'sigmoid', 'sft'], lossWeights: [0.5, 1, 0.2], labelSmoothing: 0.3 }, seed + 99, 6);
  });

  it('aot derivatives at the fixed batch, from the sorted order by hand', () => {
    const beta = 0.7;
    const res = dpoObjective({ lossType: 'aot', beta }).compute(AOT);
    // x = (1, −2.5, 4.5, −0.5) ascending: pairs 1, 3, 0, 2; y ascending: (−0.5, 0.5, 1, 1.5).
    const order = [1, 3, 0, 2];
    const x = diff(AOT.chosenLogp, AOT.rejectedLogp);
    const ys = [-0.5, 0.5, 1, 1.5];
    const want = new Array<number>(4).fill(0);
    order.forEach((i, k) => (want[i] = (-beta * sig(-beta * (x[i] - ys[k]))) / 4));
    expectClose(res.dChosenLogp, want, { rtol: 1e-12, atol: 1e-15, what: 'aot dChosenLogp' });
    expectClose(res.dRejectedLogp, want.map((g) => -g), { rtol: 1e-12, atol: 1e-15, what: 'aot dRejectedLogp' });
  });

  it('the loss is invariant to the order of the pairs and the derivatives follow them', () => {
    const perm = [2, 0, 3, 1];
    const pick = <T,>(v: ArrayLike<T>) => perm.map((i) => v[i]);
    const shuffled: PairBatch = Object.fromEntries(Object.entries(AOT).map(([k, v]) => [k, pick(v as number[])])) as unknown as PairBatch;
    for (const lossType of ['aot', 'aot_unpaired'] as const) {
      const obj = dpoObjective({ lossType, beta: 0.9, labelSmoothing: 0.1 });
      const a = obj.compute(AOT);
      const b = obj.compute(shuffled);
      expect(b.loss).toBeCloseTo(a.loss, 14);
      expectClose(b.dChosenLogp, pick(a.dChosenLogp), { rtol: 1e-12, atol: 1e-15, what: `${lossType} permuted dChosenLogp` });
      expectClose(b.dRejectedLogp, pick(a.dRejectedLogp), { rtol: 1e-12, atol: 1e-15, what: `${lossType} permuted dRejectedLogp` });
    }
  });

  it('aot_pair is accepted as an alias of aot_unpaired (TRL’s old name)', () => {
    expect(DPO_LOSS_TYPE_ALIASES).toEqual({ aot_pair: 'aot_unpaired' });
    expect(canonicalDpoLossType('aot_pair')).toBe('aot_unpaired');
    expect(canonicalDpoLossType('aot')).toBe('aot');
    expect(canonicalDpoLossType('nope')).toBeUndefined();
    expect(canonicalDpoLossType('toString')).toBeUndefined();
    const alias = dpoObjective({ lossType: 'aot_pair', beta: 0.4 });
    const canon = dpoObjective({ lossType: 'aot_unpaired', beta: 0.4 });
    expect(alias.label).toBe('DPO (aot_unpaired)');
    expect(alias.compute(AOT).loss).toBe(canon.compute(AOT).loss);
    expect(dpoObjective({ lossType: ['sigmoid', 'aot_pair'], lossWeights: [1, 0.5] }).label).toBe('DPO (1·sigmoid + 0.5·aot_unpaired)');
    expect(() => dpoObjective({ lossType: 'aot_pairs' as DpoLossType })).toThrow(/"aot_pairs" is unknown/);
  });

  it('aot label smoothing must lie in [0, 1)', () => {
    expect(() => dpoObjective({ lossType: 'aot', labelSmoothing: 1 })).toThrow(/labelSmoothing/);
    expect(() => dpoObjective({ lossType: 'aot_unpaired', labelSmoothing: -0.1 })).toThrow(/labelSmoothing/);
    expect(() => dpoObjective({ lossType: ['aot', 'robust'], labelSmoothing: 0.6 })).toThrow(/labelSmoothing/);
  });
});
