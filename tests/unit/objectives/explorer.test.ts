// Formula explorer: docs/objectives.md's worked check (0.8 / 0.2), seed 000's score form, and the
// gradients against central differences in log-probability.
import { describe, expect, it } from 'vitest';
import { dpoObjective, exploreFormulas, type ExplorerInput } from '../../../src/train/objectives';

describe('formula explorer', () => {
  it('P(chosen) = 0.8, P(rejected) = 0.2: probability ratio 4, odds ratio 16, ln 16, L_OR', () => {
    const r = exploreFormulas({ pChosen: 0.8, pRejected: 0.2, beta: 0.1, lambda: 0.1 });
    expect(r.probabilityRatio).toBeCloseTo(4, 12);
    expect(r.oddsChosen).toBeCloseTo(4, 12);
    expect(r.oddsRejected).toBeCloseTo(0.25, 12);
    expect(r.oddsRatio).toBeCloseTo(16, 12);
    expect(r.logOddsRatio).toBeCloseTo(2.7726, 4);
    expect(r.orpo.orLoss).toBeCloseTo(Math.log(17 / 16), 12);
    expect(Math.abs(r.orpo.orLoss - 0.06058)).toBeLessThan(5e-5);
    expect(r.orpo.delta).toBeCloseTo(1 / 17, 12);
    expect(r.orpo.loss).toBeCloseTo(-Math.log(0.8) + 0.1 * Math.log(17 / 16), 12);
  });

  it("seed 000's score form −log σ((2.5 − 1.0)/1.0) = 0.20141 is DPO sigmoid with β = 1/τ", () => {
    // r_w = 2.5, r_l = 1.0 as policy − reference sums; τ = 1.
    const b = { chosenLogp: [-1], chosenRefLogp: [-3.5], rejectedLogp: [-2], rejectedRefLogp: [-3], chosenLen: [1], rejectedLen: [1], chosenLogitSum: [0], chosenLogitCount: [1], rejectedLogitSum: [0], rejectedLogitCount: [1] };
    expect(dpoObjective({ beta: 1 / 1.0 }).compute(b).loss).toBeCloseTo(0.20141, 5);
    expect(Math.log1p(Math.exp(-1.5))).toBeCloseTo(0.20141, 5);
  });

  it('DPO against a reference: Δ, loss and weight σ(−βΔ)', () => {
    const r = exploreFormulas({ pChosen: 0.3, pRejected: 0.4, beta: 0.5, lambda: 1, refChosen: 0.2, refRejected: 0.5 });
    const delta = Math.log(0.3 / 0.2) - Math.log(0.4 / 0.5);
    expect(r.dpo.delta).toBeCloseTo(delta, 12);
    expect(r.dpo.loss).toBeCloseTo(Math.log1p(Math.exp(-0.5 * delta)), 12);
    expect(r.dpo.weight).toBeCloseTo(1 / (1 + Math.exp(0.5 * delta)), 12);
  });

  it('gradients match central differences in ln P', () => {
    const base: ExplorerInput = { pChosen: 0.35, pRejected: 0.6, beta: 0.7, lambda: 0.4, refChosen: 0.3, refRejected: 0.45 };
    const h = 1e-6;
    const at = (dw: number, dl: number) => exploreFormulas({ ...base, pChosen: base.pChosen * Math.exp(dw), pRejected: base.pRejected * Math.exp(dl) });
    const r = exploreFormulas(base);
    const fd = (f: (x: ReturnType<typeof exploreFormulas>) => number, w: boolean) => (f(at(w ? h : 0, w ? 0 : h)) - f(at(w ? -h : 0, w ? 0 : -h))) / (2 * h);
    expect(r.dpo.dLogpChosen).toBeCloseTo(fd((x) => x.dpo.loss, true), 8);
    expect(r.dpo.dLogpRejected).toBeCloseTo(fd((x) => x.dpo.loss, false), 8);
    expect(r.orpo.dOrLogpChosen).toBeCloseTo(fd((x) => x.orpo.orLoss, true), 8);
    expect(r.orpo.dOrLogpRejected).toBeCloseTo(fd((x) => x.orpo.orLoss, false), 8);
    expect(r.orpo.dLogpChosen).toBeCloseTo(fd((x) => x.orpo.loss, true), 8);
    expect(r.orpo.dLogpRejected).toBeCloseTo(fd((x) => x.orpo.loss, false), 8);
  });

  it('rejects probabilities outside (0, 1) by name', () => {
    expect(() => exploreFormulas({ pChosen: 1, pRejected: 0.2, beta: 0.1, lambda: 0.1 })).toThrow(/pChosen is 1, expected a probability strictly between 0 and 1/);
    expect(() => exploreFormulas({ pChosen: 0.5, pRejected: NaN, beta: 0.1, lambda: 0.1 })).toThrow(/pRejected is NaN/);
    expect(() => exploreFormulas({ pChosen: 0.5, pRejected: 0.2, beta: -1, lambda: 0.1 })).toThrow(/beta is -1/);
  });
});
