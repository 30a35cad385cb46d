// ORPO: derivatives (including averages A close to 0), docs/objectives.md's worked odds-ratio values, the
// NLL token mean and the TRL metrics (rewards β·A, logps A, log_odds_ratio, log_odds_chosen).
import { describe, expect, it } from 'vitest';
import { log1mexp, MAX_AVG_LOGP, orpoObjective, type PairBatch } from '../../../src/train/objectives';
import { Rng } from '../../../src/util/rng';
import { expectClose, freshSeed } from '../../helpers/close';
import { fdPairs, randomPairs } from './fixtures';

describe('ORPO derivatives match central finite differences', () => {
  it.each([
    ['typical averages', false],
    ['averages near 0 (−1e−3 … −1e−6)', true],
  ])('%s', (_name, nearZero) => {
    const seed = freshSeed();
    for (const [k, lambda] of [0.1, 0.25, 1].entries()) {
      const f = randomPairs(new Rng(seed + k), 4 + k, { nearZero });
      const obj = orpoObjective({ beta: lambda });
      const res = obj.compute(f);
      const loss = (b: PairBatch) => obj.compute(b).loss;
      const what = `λ=${lambda} seed=${seed + k}`;
      // Near 0 the sums are ~1e−6, so the step is ~1e−9 and float64 rounding of the O(1) loss
      // leaves ~1e−7 of noise in the difference quotient; the closed-form test below is exact there.
      const tol = nearZero ? { rtol: 1e-4, atol: 1e-6 } : { rtol: 1e-5, atol: 1e-8 };
      expectClose(res.dChosenLogp, fdPairs(f, 'chosenLogp', loss), { ...tol, what: `dChosenLogp ${what}` });
      expectClose(res.dRejectedLogp, fdPairs(f, 'rejectedLogp', loss), { ...tol, what: `dRejectedLogp ${what}` });
      expectClose(res.dChosenNllSum, fdPairs(f, 'chosenNllSum', loss), { rtol: 1e-6, atol: 1e-9, what: `dChosenNllSum ${what}` });
    }
  });

  it('matches the closed form −λσ(−ℓ)/(N(1 − e^A)|y|) at A = −1e−4 and −1e−6', () => {
    const lw = [3, 2];
    const ll = [4, 5];
    const aw = [-1e-4, -0.3];
    const al = [-0.7, -1e-6];
    const b: PairBatch = { chosenLogp: [aw[0] * 3, aw[1] * 2], rejectedLogp: [al[0] * 4, al[1] * 5], chosenLen: lw, rejectedLen: ll, chosenLogitSum: [0, 0], chosenLogitCount: lw, rejectedLogitSum: [0, 0], rejectedLogitCount: ll, chosenNllSum: [-2, -3], chosenNllCount: [6, 4] };
    const lambda = 0.2;
    const res = orpoObjective({ beta: lambda }).compute(b);
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    for (let i = 0; i < 2; i++) {
      const ell = aw[i] - al[i] - (Math.log(-Math.expm1(aw[i])) - Math.log(-Math.expm1(al[i])));
      const g = (-lambda * sig(-ell)) / 2;
      expect(res.dChosenLogp[i]).toBeCloseTo(g / (-Math.expm1(aw[i]) * lw[i]), 12);
      expect(res.dRejectedLogp[i] / (-g / (-Math.expm1(al[i]) * ll[i]))).toBeCloseTo(1, 12);
    }
  });

  it('stays finite at A = 0 exactly (a fully confident model): the clamp guards log(1 − e^A)', () => {
    const b: PairBatch = { chosenLogp: [0, -2], rejectedLogp: [-3, 0], chosenLen: [3, 2], rejectedLen: [4, 1], chosenLogitSum: [0, 0], chosenLogitCount: [3, 2], rejectedLogitSum: [0, 0], rejectedLogitCount: [4, 1], chosenNllSum: [-1, -4], chosenNllCount: [5, 4] };
    const res = orpoObjective().compute(b);
    expect(Number.isFinite(res.loss)).toBe(true);
    expect(Array.from(res.dChosenLogp).every(Number.isFinite)).toBe(true);
    expect(res.dChosenLogp[0] === 0).toBe(true);
    expect(res.dRejectedLogp[1] === 0).toBe(true);
    expect(log1mexp(0)).toBeCloseTo(Math.log(-Math.expm1(MAX_AVG_LOGP)), 12);
  });

  it('log(1 − e^A) switches branch at −ln 2 without a jump', () => {
    const below = log1mexp(-Math.LN2 - 1e-12);
    const above = log1mexp(-Math.LN2 + 1e-12);
    expect(Math.abs(below - above)).toBeLessThan(1e-10);
    expect(log1mexp(-Math.LN2)).toBeCloseTo(Math.log(0.5), 14);
    expect(log1mexp(-50)).toBeCloseTo(-Math.exp(-50), 30);
  });
});

describe('ORPO worked values (docs/objectives.md)', () => {
  // One-token completions: A = ln P, so P(chosen) = 0.8, P(rejected) = 0.2.
  const b: PairBatch = {
    chosenLogp: [Math.log(0.8)],
    rejectedLogp: [Math.log(0.2)],
    chosenLen: [1],
    rejectedLen: [1],
    chosenLogitSum: [0.3],
    chosenLogitCount: [1],
    rejectedLogitSum: [-0.1],
    rejectedLogitCount: [1],
    chosenNllSum: [Math.log(0.8) + Math.log(0.5)],
    chosenNllCount: [2],
  };

  // The product brief printed L_OR = 0.06058; exactly it is −log σ(ln 16) = ln(17/16) = 0.0606246
  // (docs/objectives.md, note 1). The test pins the exact value and the printed one within 5e−5.
  it('odds ratio 16, log-odds ratio ln 16 = 2.7726, L_OR = ln(17/16) ≈ 0.06058', () => {
    const res = orpoObjective({ beta: 0.1 }).compute(b);
    expect(res.metrics.log_odds_chosen).toBeCloseTo(2.7726, 4);
    expect(Math.exp(res.metrics.log_odds_chosen)).toBeCloseTo(16, 10);
    const lOr = -res.metrics.log_odds_ratio;
    expect(lOr).toBeCloseTo(0.0606246, 7);
    expect(Math.abs(lOr - 0.06058)).toBeLessThan(5e-5);
    const nll = -(Math.log(0.8) + Math.log(0.5)) / 2;
    expect(res.metrics.nll_loss).toBeCloseTo(nll, 12);
    expect(res.loss).toBeCloseTo(nll + 0.1 * 0.0606246, 7);
  });

  it('metrics: rewards are λ·A, logps are A, log-odds per side', () => {
    const m = orpoObjective({ beta: 0.1 }).compute(b).metrics;
    expect(m['rewards/chosen']).toBeCloseTo(0.1 * Math.log(0.8), 12);
    expect(m['rewards/rejected']).toBeCloseTo(0.1 * Math.log(0.2), 12);
    expect(m['rewards/accuracies']).toBe(1);
    expect(m['logps/chosen']).toBeCloseTo(Math.log(0.8), 12);
    expect(m['log_odds/chosen']).toBeCloseTo(Math.log(4), 12);
    expect(m['log_odds/rejected']).toBeCloseTo(Math.log(0.25), 12);
    expect(m['logits/chosen']).toBeCloseTo(0.3, 12);
  });
});

describe('ORPO NLL scope', () => {
  it('declares prompt + completion by default and completion only with the option', () => {
    expect(orpoObjective().nll).toBe('prompt_and_completion');
    expect(orpoObjective({ nllIncludesPrompt: false }).nll).toBe('completion');
    expect(orpoObjective().needsReference).toBe(false);
  });

  it('the NLL is a token mean over the batch: −Σ sums / Σ counts, derivative −1/Σ counts', () => {
    const f = randomPairs(new Rng(7), 3);
    const res = orpoObjective().compute(f);
    const sum = f.chosenNllSum.reduce((a, x) => a + x, 0);
    const count = f.chosenNllCount.reduce((a, x) => a + x, 0);
    expect(res.metrics.nll_loss).toBeCloseTo(-sum / count, 12);
    for (const d of res.dChosenNllSum) expect(d).toBeCloseTo(-1 / count, 15);
  });
});
