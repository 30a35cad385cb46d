// CPO, SimPO and SFT: derivatives vs central finite differences and values at a fixed input
// computed here with plain Math.
import { describe, expect, it } from 'vitest';
import { cpoObjective, sftObjective, simpoObjective, type PairBatch, type PairObjective } from '../../../src/train/objectives';
import { Rng } from '../../../src/util/rng';
import { expectClose, freshSeed } from '../../helpers/close';
import { fdPairs, randomPairs, FIXED_PAIRS } from './fixtures';

function checkGradients(obj: PairObjective, seed: number, n: number): void {
  const f = randomPairs(new Rng(seed), n);
  const res = obj.compute(f);
  const loss = (b: PairBatch) => obj.compute(b).loss;
  expectClose(res.dChosenLogp, fdPairs(f, 'chosenLogp', loss), { rtol: 1e-5, atol: 1e-8, what: `dChosenLogp ${obj.label} seed=${seed}` });
  expectClose(res.dRejectedLogp, fdPairs(f, 'rejectedLogp', loss), { rtol: 1e-5, atol: 1e-8, what: `dRejectedLogp ${obj.label} seed=${seed}` });
}

describe('derivatives match central finite differences', () => {
  it('CPO (α = 1, 0; label smoothing)', () => {
    const seed = freshSeed();
    checkGradients(cpoObjective(), seed, 4);
    checkGradients(cpoObjective({ beta: 0.5, cpoAlpha: 0 }), seed + 1, 5);
    checkGradients(cpoObjective({ beta: 0.2, cpoAlpha: 0.7, labelSmoothing: 0.1 }), seed + 2, 3);
  });

  it('SimPO (pure, +NLL, label smoothing)', () => {
    const seed = freshSeed();
    checkGradients(simpoObjective(), seed, 4);
    checkGradients(simpoObjective({ beta: 2.5, simpoGamma: 1.4 }), seed + 1, 6);
    checkGradients(simpoObjective({ beta: 2, simpoGamma: 0.5, cpoAlpha: 0.05, labelSmoothing: 0.2 }), seed + 2, 3);
  });

  it('SFT', () => {
    const seed = freshSeed();
    checkGradients(sftObjective(), seed, 5);
  });
});

const FIXED: PairBatch = FIXED_PAIRS;
const sig = (x: number) => 1 / (1 + Math.exp(-x));
const SW = [-4, -3];
const SL = [-6, -2];
const AW = [-1, -1.5];
const AL = [-2, -0.4];

describe('values at a fixed input', () => {
  it('CPO: −log σ(β(S_w − S_l)) + α·NLL', () => {
    const beta = 0.5;
    const pref = (-Math.log(sig(beta * (SW[0] - SL[0]))) - Math.log(sig(beta * (SW[1] - SL[1])))) / 2;
    const nll = 7 / 6;
    const res = cpoObjective({ beta, cpoAlpha: 1 }).compute(FIXED);
    expect(res.loss).toBeCloseTo(pref + nll, 12);
    expect(res.metrics.nll_loss).toBeCloseTo(nll, 12);
    expect(res.metrics['logps/chosen']).toBe(-3.5);
    expect(res.metrics['rewards/chosen']).toBeCloseTo(beta * -3.5, 12);
    expect(res.metrics['rewards/accuracies']).toBe(0.5);
  });

  it('SimPO: −log σ(β(A_w − A_l) − γ), nll_loss 0 without α', () => {
    const beta = 2;
    const gamma = 0.5;
    const want = (-Math.log(sig(beta * (AW[0] - AL[0]) - gamma)) - Math.log(sig(beta * (AW[1] - AL[1]) - gamma))) / 2;
    const res = simpoObjective({ beta, simpoGamma: gamma }).compute(FIXED);
    expect(res.loss).toBeCloseTo(want, 12);
    expect(res.metrics.nll_loss).toBe(0);
    expect(res.metrics['logps/chosen']).toBeCloseTo(-1.25, 12);
    expect(res.metrics['rewards/rejected']).toBeCloseTo((beta * (-2 - 0.4)) / 2, 12);
  });

  it('SimPO with label smoothing ε: −(1−ε) log σ(z) − ε log σ(−z)', () => {
    const z = [2 * (AW[0] - AL[0]) - 0.5, 2 * (AW[1] - AL[1]) - 0.5];
    const want = z.map((x) => -(0.9 * Math.log(sig(x))) - 0.1 * Math.log(sig(-x))).reduce((a, x) => a + x) / 2;
    expect(simpoObjective({ beta: 2, labelSmoothing: 0.1 }).compute(FIXED).loss).toBeCloseTo(want, 12);
  });

  it('SFT: −Σ S_w / Σ |y_w|; rejected gets no gradient', () => {
    const res = sftObjective().compute(FIXED);
    expect(res.loss).toBeCloseTo(7 / 6, 12);
    expect(Array.from(res.dChosenLogp)).toEqual([-1 / 6, -1 / 6]);
    expect(Array.from(res.dRejectedLogp)).toEqual([0, 0]);
  });
});
