// The RLHF math against TRL v1.9.0's own code run in PyTorch float64 (tests/unit/rl/trl_reference.py
// wrote trl-reference.json: helper functions executed from the TRL sources, trainer bodies
// transcribed, gradients by autograd). Values agree to float64 rounding; the few metrics TRL
// computes in float32 (`.float()` flags) to 1e−7.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { grpoAdvantages, grpoLoss, ppoMicroBatch, ppoMicroLoss, ppoRollout, rewardModelLoss, rlooAdvantages, rlooLoss, warpLogits, type GrpoLossType } from '../../../src/train/rl';
import { expectClose } from '../../helpers/close';

/* eslint-disable @typescript-eslint/no-explicit-any */
const REF: any = JSON.parse(readFileSync(new URL('./trl-reference.json', import.meta.url), 'utf8'));
const nanOf = (rows: (number | null)[][]) => rows.map((r) => r.map((v) => (v === null ? NaN : v)));
const F64 = { rtol: 1e-9, atol: 1e-12 };
/** it.each rows: [a name, the case]. */
const cases = (xs: any[], name: (c: any, i: number) => string = (_c, i) => `case ${i}`): [string, any][] => xs.map((c, i) => [name(c, i), c]);
const F32 = { rtol: 1e-6, atol: 1e-7 };

function expectMetrics(got: Record<string, number>, want: Record<string, number | null>, tol = F64, what = 'metric'): void {
  for (const [k, w] of Object.entries(want)) {
    expect(k in got, `${what}: ${k} missing from ${Object.keys(got).join(', ')}`).toBe(true);
    if (w === null) expect(got[k], `${what}: ${k}`).toBeNaN();
    else expectClose([got[k]], [w], { ...tol, what: `${what} ${k}` });
  }
}

describe('reward model = TRL RewardTrainer.compute_loss', () => {
  it.each(cases(REF.reward))('%s', (_n, c) => {
    const res = rewardModelLoss({ chosen: c.chosen, rejected: c.rejected, margin: c.margin ?? undefined }, { centerRewardsCoefficient: c.center });
    expectClose([res.loss], [c.loss], { ...F64, what: 'loss' });
    expectClose(res.dChosen, c.dChosen, { ...F64, what: 'dChosen' });
    expectClose(res.dRejected, c.dRejected, { ...F64, what: 'dRejected' });
    expectMetrics(res.metrics, c.metrics);
  });
});

describe('GRPO advantages = TRL _generate_and_score_completions', () => {
  it.each(cases(REF.grpoAdvantages, (c) => `${c.aggregation}/${c.scaleRewards}/G=${c.G}`))('%s', (_n, c) => {
    const names = c.weights.map((_: number, i: number) => `f${i}`);
    const res = grpoAdvantages({ names, values: nanOf(c.values), weights: c.weights }, { numGenerations: c.G, scaleRewards: c.scaleRewards, aggregation: c.aggregation });
    expectClose(res.advantages, c.advantages, { ...F64, what: 'advantages' });
    expectMetrics(res.metrics, c.metrics, F32);
  });
});

describe('RLOO advantages = TRL _generate_and_score_completions', () => {
  it.each(cases(REF.rlooAdvantages))('%s', (_n, c) => {
    const names = c.weights.map((_: number, i: number) => `f${i}`);
    const res = rlooAdvantages(
      { names, values: nanOf(c.values), weights: c.weights },
      { numGenerations: c.G, beta: c.beta, klSums: c.beta !== 0 ? c.klSums : undefined, klCounts: c.klCounts, rewardClipRange: c.clip, normalizeAdvantages: c.normalize },
    );
    expectClose(res.advantages, c.advantages, { ...F64, what: 'advantages' });
    expectMetrics(res.metrics, c.metrics, F32);
    expect('kl' in res.metrics).toBe(c.beta !== 0);
  });
});

describe('GRPO loss and per-token coefficients = TRL _compute_loss + autograd', () => {
  it.each(cases(REF.grpoLoss, (c, i) => `${i}: ${c.lossType} β=${c.beta} old=${c.oldLogps !== null}`))('%s', (_n, c) => {
    expect(c.clippedLow + c.clippedHigh > 0 || c.oldLogps === null || c.beta === 0).toBe(true);
    const res = grpoLoss(
      { B: c.B, T: c.T, logps: c.logps, oldLogps: c.oldLogps ?? undefined, refLogps: c.refLogps, mask: c.mask, advantages: c.advantages, entropies: c.entropies },
      { beta: c.beta, epsilonLow: c.epsilonLow, epsilonHigh: c.epsilonHigh, lossType: c.lossType as GrpoLossType, activeTokens: c.activeTokens, gradAccum: c.gradAccum },
    );
    expectClose([res.loss], [c.loss], { ...F64, what: 'loss' });
    expectClose(res.coef, c.coef, { ...F64, what: 'coef' });
    expectMetrics(res.metrics, c.metrics);
  });
  it('the fixture exercises both clip regions with ratio ≠ 1', () => {
    const withOld = REF.grpoLoss.filter((c: any) => c.oldLogps !== null);
    expect(withOld.some((c: any) => c.clippedLow > 0)).toBe(true);
    expect(withOld.some((c: any) => c.clippedHigh > 0)).toBe(true);
    // clipped tokens have exactly zero policy gradient: with β = 0 their coefficient is 0
    const c = REF.grpoLoss[1];
    expect(c.beta).toBe(0);
    expect(c.coef.filter((x: number, k: number) => c.mask[k] === 1 && x === 0).length).toBe(c.clippedLow + c.clippedHigh);
  });
});

describe('RLOO loss = TRL _compute_loss + autograd', () => {
  it.each(cases(REF.rlooLoss))('%s', (_n, c) => {
    const res = rlooLoss({ logpSums: c.logpSums, oldLogpSums: c.oldLogpSums, advantages: c.advantages, entropySums: c.entropySums, tokenCounts: c.tokenCounts }, { epsilonLow: c.epsilonLow, epsilonHigh: c.epsilonHigh });
    expectClose([res.loss], [c.loss], { ...F64, what: 'loss' });
    expectClose(res.dLogpSums, c.dLogpSums, { ...F64, what: 'dLogpSums' });
    expectMetrics(res.metrics, c.metrics, F32);
  });
});

describe('PPO rollout and update = TRL PPOTrainer.train + autograd', () => {
  it.each(cases(REF.ppo, (c, i) => `${i}: pad=${c.pad} stop=${c.stopTokenId} ${c.klEstimator} penalty=${c.missingEosPenalty} whiten=${c.whitenRewards}`))('%s', (_n, c) => {
    const r = ppoRollout(
      { B: c.B, T: c.T, responses: c.responses, logprobs: c.logprobs, refLogprobs: c.refLogprobs, values: c.values, scores: c.scores },
      { eosId: c.eos, padId: c.pad, stopTokenId: c.stopTokenId, klCoef: c.klCoef, klEstimator: c.klEstimator, missingEosPenalty: c.missingEosPenalty, whitenRewards: c.whitenRewards },
    );
    expect(Array.from(r.sequenceLengths)).toEqual(c.sequenceLengths);
    expect(Array.from(r.postprocessed)).toEqual(c.postprocessed);
    expect(Array.from(r.responseMask)).toEqual(c.responseMask);
    expect(Array.from(r.valueMask)).toEqual(c.valueMask);
    expectClose(r.logprobs, c.maskedLogprobs, { ...F64, what: 'logprobs' });
    expectClose(r.values, c.maskedValues, { ...F64, what: 'values' });
    expectClose(r.scores, c.penalisedScores, { ...F64, what: 'scores' });
    expectClose(r.rewards, c.rewards, { ...F64, what: 'rewards' });
    expectClose(r.returns, c.returns, { ...F64, what: 'returns' });
    expectClose(r.advantages, c.advantages, { rtol: 1e-9, atol: 1e-10, what: 'advantages' });
    expectMetrics(r.metrics, c.metrics);

    const mb = ppoMicroBatch(r, c.micro.rows, { newLogprobs: c.micro.newLogprobs, vpred: c.micro.vpred, entropies: c.micro.entropies });
    const res = ppoMicroLoss(mb);
    expectClose([res.loss], [c.micro.loss], { ...F64, what: 'loss' });
    expectClose(res.coefLogp, c.micro.coefLogp, { ...F64, what: 'coefLogp' });
    expectClose(res.dValue, c.micro.dValue, { ...F64, what: 'dValue' });
    expectMetrics(res.stats as unknown as Record<string, number>, c.micro.stats, F32);
  });
});

describe('warpers = transformers Temperature → TopK → TopP', () => {
  it.each(cases(REF.warpers, (c) => `T=${c.temperature} k=${c.topK} p=${c.topP}`))('%s', (_n, c) => {
    const got = warpLogits(c.logits, { temperature: c.temperature, topK: c.topK, topP: c.topP });
    const want = c.scores.map((v: number | null) => (v === null ? -Infinity : v));
    expect(Array.from(got, (v) => v === -Infinity)).toEqual(want.map((v: number) => v === -Infinity));
    expectClose(Array.from(got).filter(Number.isFinite), want.filter(Number.isFinite), { ...F64, what: 'scores' });
  });
});
