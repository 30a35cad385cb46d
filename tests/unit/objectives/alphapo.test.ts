// AlphaPO (TRL CPOTrainer, loss_type='alphapo'): values at a fixed input from TRL's formula
// r = (1 − p^(−α))/α with p = exp(average log-prob), in plain Math; derivatives vs central finite
// differences on random batches.
import { describe, expect, it } from 'vitest';
import { simpoObjective, type PairBatch, type PairObjective } from '../../../src/train/objectives';
import { alphapoObjective, alphapoReward } from '../../../src/train/objectives/alphapo';
import { CPO_METRICS } from '../../../src/train/objectives/cpo';
import { Rng } from '../../../src/util/rng';
import { expectClose, freshSeed } from '../../helpers/close';
import { fdPairs, randomPairs, FIXED_PAIRS } from './fixtures';

function checkGradients(obj: PairObjective, seed: number, n: number): void {
  const f = randomPairs(new Rng(seed), n);
  const res = obj.compute(f);
  const loss = (b: PairBatch) => obj.compute(b).loss;
  expectClose(res.dChosenLogp, fdPairs(f, 'chosenLogp', loss), { rtol: 1e-5, atol: 1e-8, what: `dChosenLogp ${obj.label} seed=${seed}` });
  expectClose(res.dRejectedLogp, fdPairs(f, 'rejectedLogp', loss), { rtol: 1e-5, atol: 1e-8, what: `dRejectedLogp ${obj.label} seed=${seed}` });
  expect(Array.from(res.dChosenNllSum)).toEqual(new Array(n).fill(0));
}

// Two pairs: A_w = (−1, −1.5), A_l = (−2, −0.4).
const FIXED: PairBatch = FIXED_PAIRS;
const AW = [-1, -1.5];
const AL = [-2, -0.4];
const sig = (x: number) => 1 / (1 + Math.exp(-x));
/** TRL's transformation, written as TRL writes it. */
const trlReward = (a: number, alpha: number) => (1 - Math.pow(Math.exp(a), -alpha)) / alpha;

interface Hand {
  loss: number;
  rc: number[];
  rr: number[];
}

/** TRL cpo_loss for loss_type='simpo' with alpha ≠ 0, then losses.mean() + cpo_alpha·nll. */
function hand(beta: number, alpha: number, gamma: number, eps: number, cpoAlpha = 0): Hand {
  const rc: number[] = [];
  const rr: number[] = [];
  let loss = 0;
  for (let i = 0; i < 2; i++) {
    rc.push(trlReward(AW[i], alpha));
    rr.push(trlReward(AL[i], alpha));
    const logits = rc[i] - rr[i] - gamma / beta;
    loss += (-Math.log(sig(beta * logits)) * (1 - eps) - Math.log(sig(-beta * logits)) * eps) / 2;
  }
  return { loss: loss + cpoAlpha * (7 / 6), rc, rr };
}

describe('AlphaPO values at a fixed input (TRL formula, plain Math)', () => {
  for (const [beta, alpha, gamma, eps] of [
    [2, 0.5, 0.5, 0],
    [2.5, -0.7, 1, 0.1],
    [0.1, 0.25, 0.5, 0],
    [8, 1.5, 0.3, 0.2],
  ]) {
    it(`β=${beta} α=${alpha} γ=${gamma} ε=${eps}`, () => {
      const want = hand(beta, alpha, gamma, eps);
      const res = alphapoObjective({ beta, alpha, simpoGamma: gamma, labelSmoothing: eps }).compute(FIXED);
      expect(res.loss).toBeCloseTo(want.loss, 12);
      const m = res.metrics;
      expect(m.loss).toBe(res.loss);
      expect(m['rewards/chosen']).toBeCloseTo((beta * (want.rc[0] + want.rc[1])) / 2, 12);
      expect(m['rewards/rejected']).toBeCloseTo((beta * (want.rr[0] + want.rr[1])) / 2, 12);
      expect(m['rewards/margins']).toBeCloseTo((beta * (want.rc[0] - want.rr[0] + want.rc[1] - want.rr[1])) / 2, 12);
      expect(m['rewards/accuracies']).toBe(0.5);
      expect(m['logps/chosen']).toBeCloseTo(-1.25, 12);
      expect(m['logps/rejected']).toBeCloseTo(-1.2, 12);
      expect(m['logits/chosen']).toBeCloseTo(1 / 6, 12);
      expect(m['logits/rejected']).toBeCloseTo(4.5 / 8, 12);
      const lo = (a: number) => a - Math.log(1 - Math.exp(a));
      expect(m['log_odds/chosen']).toBeCloseTo((lo(-1) + lo(-1.5)) / 2, 12);
      expect(m['log_odds/rejected']).toBeCloseTo((lo(-2) + lo(-0.4)) / 2, 12);
      expect(m.nll_loss).toBe(0);
      expect(Object.keys(m)).toEqual([...CPO_METRICS]);
    });
  }

  it('cpoAlpha adds the NLL of the chosen completions (TRL loss_type=simpo with alpha ≠ 0)', () => {
    const res = alphapoObjective({ beta: 2, alpha: 0.5, cpoAlpha: 0.3 }).compute(FIXED);
    expect(res.loss).toBeCloseTo(hand(2, 0.5, 0.5, 0, 0.3).loss, 12);
    expect(res.metrics.nll_loss).toBeCloseTo(7 / 6, 12);
  });

  it('defaults are TRL’s: β 0.1, α 0, γ 0.5, cpo_alpha 0, ε 0 (which is SimPO)', () => {
    const a = alphapoObjective().compute(FIXED);
    const s = simpoObjective({ beta: 0.1, simpoGamma: 0.5, cpoAlpha: 0 }).compute(FIXED);
    expect(a.loss).toBe(s.loss);
    expect(Array.from(a.dChosenLogp)).toEqual(Array.from(s.dChosenLogp));
    expect(Array.from(a.dRejectedLogp)).toEqual(Array.from(s.dRejectedLogp));
    expect(a.metrics).toEqual(s.metrics);
  });

  it('α → 0 is continuous (u → A) and u is accurate for tiny α', () => {
    for (const a of [-3, -0.5, -1e-4]) {
      expect(alphapoReward(a, 0)).toBe(a);
      // against the expansion u = A − αA²/2 + α²A³/6 − …, which naive (1 − p^−α)/α loses to cancellation
      for (const al of [1e-12, -1e-9, 1e-6]) {
        const series = a - (al * a * a) / 2 + (al * al * a * a * a) / 6;
        expect(Math.abs(alphapoReward(a, al) - series)).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(a));
      }
    }
    const tiny = alphapoObjective({ beta: 2, alpha: 1e-10 }).compute(FIXED).loss;
    expect(tiny).toBeCloseTo(simpoObjective({ beta: 2 }).compute(FIXED).loss, 9);
  });

  it('describes itself as the alphapo method, reference-free, no NLL sums', () => {
    const o = alphapoObjective({ alpha: 0.25 });
    expect(o.method).toBe('alphapo');
    expect(o.kind).toBe('pair');
    expect(o.needsReference).toBe(false);
    expect(o.nll).toBe('none');
    expect(o.metricNames).toEqual(CPO_METRICS);
    expect(o.label).toBe('AlphaPO (α = 0.25)');
  });

  it('rejects bad options', () => {
    expect(() => alphapoObjective({ alpha: Number.NaN })).toThrow(/alpha/);
    expect(() => alphapoObjective({ alpha: Infinity })).toThrow(/alpha/);
    expect(() => alphapoObjective({ beta: 0 })).toThrow(/beta/);
    expect(() => alphapoObjective({ simpoGamma: -1 })).toThrow(/simpoGamma/);
    expect(() => alphapoObjective({ cpoAlpha: -0.1 })).toThrow(/cpoAlpha/);
    expect(() => alphapoObjective({ labelSmoothing: 0.5 })).toThrow(/labelSmoothing/);
  });
});

describe('AlphaPO derivatives match central finite differences', () => {
  it('α > 0, α < 0, α = 0, with γ, ε and the NLL term', () => {
    const seed = freshSeed();
    checkGradients(alphapoObjective({ beta: 2, alpha: 0.5 }), seed, 4);
    checkGradients(alphapoObjective({ beta: 2.5, alpha: -0.8, simpoGamma: 1.2 }), seed + 1, 6);
    checkGradients(alphapoObjective({ beta: 0.3, alpha: 1.5, labelSmoothing: 0.2 }), seed + 2, 3);
    checkGradients(alphapoObjective({ beta: 5, alpha: 0.1, cpoAlpha: 0.4, labelSmoothing: 0.05 }), seed + 3, 5);
    checkGradients(alphapoObjective({ beta: 2 }), seed + 4, 4);
  });
});
