// PPO (TRL PPOTrainer): a rollout worked by hand (masks, k1 KL reward, score at TRL's actual_end,
// GAE γ = 1 λ = 0.95, whitening, metrics), the PAD = EOS case, the micro-batch loss's
// coefficients and value gradient vs central finite differences, and the step metrics.
import { describe, expect, it } from 'vitest';
import { INVALID_LOGPROB, ppoMetrics, ppoMicroBatch, ppoMicroLoss, ppoRollout, type PpoMicroBatch } from '../../../src/train/rl';
import { Rng } from '../../../src/util/rng';
import { centralDiff } from '../../helpers/fd';
import { expectClose, freshSeed } from '../../helpers/close';

const EOS = 2;
const PAD = 0;

describe('PPO rollout, worked by hand', () => {
  // response [5, EOS, PAD]: L = 1, policy tokens t ≤ 1, value tokens t ≤ 2.
  const r = ppoRollout(
    { B: 1, T: 3, responses: [5, EOS, PAD], logprobs: [-1, -2, -7], refLogprobs: [-1.5, -1, -9], values: [0.5, 0.2, 0.1], scores: [2] },
    { eosId: EOS, padId: PAD, stopTokenId: EOS, klCoef: 0.1 },
  );

  it('masks, INVALID_LOGPROB padding, k1 KL, score at t = L + 1', () => {
    expect(Array.from(r.sequenceLengths)).toEqual([1]);
    expect(Array.from(r.responseMask)).toEqual([1, 1, 0]);
    expect(Array.from(r.valueMask)).toEqual([1, 1, 1]);
    expect(Array.from(r.logprobs)).toEqual([-1, -2, INVALID_LOGPROB]);
    expectClose(r.kl, [0.5, -1, 0], { rtol: 1e-15, atol: 0 });
    expectClose(r.rewards, [-0.05, 0.1, 2], { rtol: 1e-15, atol: 1e-17 });
  });

  it('GAE (γ = 1, λ = 0.95), returns = Â + V, advantages whitened over the policy tokens', () => {
    // Â2 = 2 − 0.1 = 1.9; Â1 = (0.1 + 0.1 − 0.2) + 0.95·1.9 = 1.805; Â0 = (−0.05 + 0.2 − 0.5) + 0.95·1.805 = 1.36475
    expectClose(r.returns, [1.36475 + 0.5, 1.805 + 0.2, 1.9 + 0.1], { rtol: 1e-14, atol: 0 });
    // two active entries ±d around their mean, unbiased variance 2d²: ±d/√(2d² + 1e−8) ≈ ±1/√2
    const d = (1.805 - 1.36475) / 2;
    const w = d / Math.sqrt(2 * d * d + 1e-8);
    expectClose(r.advantages, [-w, w, 0], { rtol: 1e-12, atol: 0 });
  });

  it('metrics: objective/* per-sequence sums averaged over the batch (padding adds −1 to entropy, as TRL)', () => {
    expect(r.metrics['objective/kl']).toBeCloseTo(-0.5, 15);
    expect(r.metrics['objective/entropy']).toBeCloseTo(1 + 2 - 1, 15);
    expect(r.metrics['objective/non_score_reward']).toBeCloseTo(0.05, 15);
    expect(r.metrics['objective/rlhf_reward']).toBeCloseTo(2.05, 15);
    expect(r.metrics['objective/scores']).toBe(2);
    expect(r.metrics['val/num_eos_tokens']).toBe(1);
  });

  it('PAD = EOS (GPT-2): the EOS is padding, so L = 0 and the score lands on the EOS position', () => {
    const g = ppoRollout(
      { B: 2, T: 3, responses: [5, EOS, EOS, 5, 6, EOS], logprobs: [-1, -2, -7, -1, -1, -1], refLogprobs: [-1.5, -1, -9, -1, -1, -1], values: [0.5, 0.2, 0.1, 0, 0, 0], scores: [2, 1] },
      { eosId: EOS, padId: EOS, stopTokenId: EOS, klCoef: 0.1 },
    );
    expect(Array.from(g.sequenceLengths)).toEqual([0, 1]);
    expect(Array.from(g.responseMask.slice(0, 3))).toEqual([1, 0, 0]);
    expect(Array.from(g.valueMask.slice(0, 3))).toEqual([1, 1, 0]);
    expectClose(g.rewards.slice(0, 3), [-0.05, 2, 0], { rtol: 1e-15, atol: 1e-17 });
    expect(g.metrics['val/num_eos_tokens']).toBe(3); // raw responses, padding included
  });

  it('missing-EOS penalty, and a full-length response gets its score on its last token', () => {
    const g = ppoRollout(
      { B: 2, T: 2, responses: [5, 6, 5, EOS], logprobs: [-1, -1, -1, -1], refLogprobs: [-1, -1, -1, -1], values: [0, 0, 0, 0], scores: [1, 1] },
      { eosId: EOS, padId: PAD, stopTokenId: EOS, missingEosPenalty: 0.5 },
    );
    expect(Array.from(g.scores)).toEqual([0.5, 1]);
    expect(Array.from(g.rewards)).toEqual([0, 0.5, 0, 1]);
    expect(g.metrics['objective/kl']).toBe(0); // policy = reference: KL 0 at step 1
  });

  it('whitening needs two response tokens: a clear message, not masked_whiten\'s', () => {
    expect(() => ppoRollout({ B: 1, T: 2, responses: [EOS, PAD], logprobs: [-1, -1], refLogprobs: [-1, -1], values: [0, 0], scores: [1] }, { eosId: EOS, padId: PAD, stopTokenId: EOS })).toThrow(/^PPO: the 1 response of this update hold 1 token in all \(every response ended at once.*which needs at least 2: raise the batch size/);
    // PAD = EOS: responses that are an end-of-text alone are empty (L = −1), whatever the batch size
    const empty = { B: 3, T: 2, responses: [EOS, EOS, EOS, EOS, EOS, EOS], logprobs: new Array(6).fill(-1), refLogprobs: new Array(6).fill(-1), values: new Array(6).fill(0), scores: [1, 2, 3] };
    expect(() => ppoRollout(empty, { eosId: EOS, padId: EOS, stopTokenId: EOS })).toThrow(/^PPO: the 3 responses of this update hold 0 tokens in all/);
    expect(() => ppoRollout(empty, { eosId: EOS, padId: EOS, stopTokenId: EOS, whitenRewards: true })).toThrow(/^PPO: the 3 responses of this update hold 0 tokens in all/);
    // two responses of one token each: enough
    expect(() => ppoRollout({ ...empty, B: 2, T: 2, responses: [5, EOS, 6, EOS], logprobs: [-1, -1, -1, -1], refLogprobs: [-1, -1, -1, -1], values: [0, 0, 0, 0], scores: [1, 2] }, { eosId: EOS, padId: EOS, stopTokenId: EOS })).not.toThrow();
  });
});

function randomMicro(rng: Rng, B: number, T: number): PpoMicroBatch {
  const n = B * T;
  const responseMask = new Float64Array(n);
  const valueMask = new Float64Array(n);
  for (let b = 0; b < B; b++) {
    const L = rng.int(T + 1) - 1;
    for (let t = 0; t < T; t++) {
      responseMask[b * T + t] = t <= L ? 1 : 0;
      valueMask[b * T + t] = t <= L + 1 ? 1 : 0;
    }
  }
  const oldLogprobs = Float64Array.from(responseMask, (m) => (m ? -rng.uniform(0.1, 3) : INVALID_LOGPROB));
  const newLogprobs = Float64Array.from(oldLogprobs, (o) => {
    let r: number;
    do r = rng.uniform(-0.4, 0.4);
    while (Math.abs(Math.exp(r) - 0.8) < 1e-3 || Math.abs(Math.exp(r) - 1.2) < 1e-3);
    return o + r;
  });
  const oldValues = Float64Array.from(valueMask, (m) => (m ? rng.uniform(-1, 1) : 0));
  const vpred = Float64Array.from(oldValues, (v) => {
    let d: number;
    do d = rng.uniform(-0.5, 0.5);
    while (Math.abs(Math.abs(d) - 0.2) < 1e-3);
    return v + d;
  });
  return {
    B,
    T,
    newLogprobs,
    vpred,
    oldLogprobs,
    oldValues,
    entropies: Float64Array.from({ length: n }, () => rng.uniform(0, 3)),
    returns: Float64Array.from({ length: n }, () => rng.uniform(-2, 2)),
    advantages: Float64Array.from(responseMask, (m) => (m ? rng.uniform(-2, 2) : 0)),
    responseMask,
    valueMask,
  };
}

describe('PPO micro-batch loss', () => {
  it('coefficients (∂/∂logp) and value gradients (∂/∂v) match central finite differences', () => {
    const seed = freshSeed();
    for (let k = 0; k < 4; k++) {
      const mb = randomMicro(new Rng(seed + k), 4, 6);
      const opts = { gradAccum: 2, vfCoef: 0.1 };
      const res = ppoMicroLoss(mb, opts);
      const f = () => ppoMicroLoss(mb, opts).loss;
      expectClose(res.coefLogp, centralDiff(mb.newLogprobs as Float64Array, f), { rtol: 1e-6, atol: 1e-9, what: `coefLogp seed=${seed + k}` });
      expectClose(res.dValue, centralDiff(mb.vpred as Float64Array, f), { rtol: 1e-6, atol: 1e-9, what: `dValue seed=${seed + k}` });
    }
  });

  it('hand values: one token, A = 1, ρ = 1.5 is clipped (gradient 0); the value clip', () => {
    const mb: PpoMicroBatch = {
      B: 1,
      T: 1,
      newLogprobs: [Math.log(1.5) - 1],
      oldLogprobs: [-1],
      advantages: [1],
      vpred: [1],
      oldValues: [0.5],
      returns: [0],
      entropies: [0.7],
      responseMask: [1],
      valueMask: [1],
    };
    const res = ppoMicroLoss(mb);
    // pg = max(−1.5, −1.2) = −1.2 (clipped); vf = ½·max(1², 0.7²) = 0.5 (unclipped): loss = −1.2 + 0.05
    expect(res.loss).toBeCloseTo(-1.15, 14);
    expect(Math.abs(res.coefLogp[0])).toBe(0);
    expect(res.dValue[0]).toBeCloseTo(0.1 * 1, 14);
    expect(res.stats).toMatchObject({ pgClipfrac: 1, vfClipfrac: 0, entropy: 0.7 });
    expect(res.stats.approxkl).toBeCloseTo(0.5 * Math.log(1.5) ** 2, 14);
  });

  it('step metrics: means over micro-batches, val/ratio_var unbiased', () => {
    const rollout = { metrics: { 'objective/kl': 0.1, 'objective/entropy': 5, 'objective/non_score_reward': -0.005, 'objective/rlhf_reward': 0.995, 'objective/scores': 1, 'val/num_eos_tokens': 3 } };
    const s = (x: number) => ({ approxkl: x, pgClipfrac: x, pgLoss: x, vfLoss: x, vfClipfrac: x, entropy: x, ratio: 1 + x });
    const m = ppoMetrics(rollout, [s(0.1), s(0.3)]);
    expect(m['policy/approxkl_avg']).toBeCloseTo(0.2, 15);
    expect(m['val/ratio']).toBeCloseTo(1.2, 15);
    expect(m['val/ratio_var']).toBeCloseTo(0.02, 15);
    expect(m['objective/scores']).toBe(1);
    expect(Object.keys(m)).toContain('val/num_eos_tokens');
  });

  it('ppoMicroBatch slices a rollout; at the first epoch ρ = 1 everywhere', () => {
    const rng = new Rng(3);
    const B = 4;
    const T = 5;
    const responses = [5, 6, EOS, PAD, PAD, 5, 5, 5, 5, 5, 7, EOS, PAD, PAD, PAD, 5, 6, 7, EOS, PAD];
    const lp = Float64Array.from({ length: B * T }, () => -rng.uniform(0.1, 2));
    const r = ppoRollout({ B, T, responses, logprobs: lp, refLogprobs: lp, values: Float64Array.from({ length: B * T }, () => rng.uniform(-1, 1)), scores: [1, -1, 0.5, 2] }, { eosId: EOS, padId: PAD, stopTokenId: EOS });
    const mb = ppoMicroBatch(r, [1, 3], { newLogprobs: [...lp.slice(5, 10), ...lp.slice(15, 20)], vpred: [...r.values.slice(5, 10), ...r.values.slice(15, 20)], entropies: new Float64Array(10) });
    const res = ppoMicroLoss(mb);
    expect(res.stats.ratio).toBe(1);
    expect(res.stats.approxkl).toBe(0);
    expect(res.stats.pgClipfrac).toBe(0);
    expect(res.stats.vfClipfrac).toBe(0);
  });
});
