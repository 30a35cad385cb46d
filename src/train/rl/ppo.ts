// PPO as TRL v1.9.0's PPOTrainer.train (trl/experimental/ppo/ppo_trainer.py 604–948), float64.
// Dimensions: B rollouts of a batch, T = the padded response length (decode steps the batch ran).
// Per-token arrays are flat (B,T); token t of a response is predicted at position
// context_length − 1 + t, where its log-probs (logits / (temperature + 1e−7)), entropy and value
// are read.
//
// Rollout (once per batch, no gradient), ppoRollout():
//   masks          from ppoResponseMasks (rollout.ts): responseMask (t ≤ L), valueMask (t ≤ L+1)
//   logprobs, ref  set to INVALID_LOGPROB = 1 off responseMask; values set to 0 off valueMask
//   kl_t           k1: logp − ref   (k3: e^(ref−logp) − 1 − (ref−logp))
//   nonscore_t     −kl_coef · kl_t
//   rewards_t      nonscore_t, plus the score at t = L+1 (t = L when L+1 = T): TRL's actual_end
//   score          minus missing_eos_penalty when the postprocessed response has no EOS
//   (whiten_rewards: masked_whiten over valueMask without the mean shift, then 0 off it)
//   GAE            δ_t = r_t + γ·V_{t+1} − V_t (V_T = 0), Â_t = δ_t + γλ·Â_{t+1}, over all T
//   returns        Â + V;   advantages = masked_whiten(Â, responseMask), 0 off the mask
// Update (each micro-batch of each epoch/mini-batch), ppoMicroLoss():
//   ρ_t = exp(logp_t − old_t);  pg = masked_mean(max(−A·ρ, −A·clamp(ρ, 1±c)), responseMask)
//   V̂ = clamp(v, V_old ± c_v);   vf = ½·masked_mean(max((v − R)², (V̂ − R)²), valueMask)
//   loss = pg + vf_coef·vf, divided by gradient_accumulation_steps (accelerate) for the backward.
import { ObjectiveNumericError, ObjectiveOptionError } from '../objectives/check';
import { ppoResponseMasks, type PpoResponseMasks } from './rollout';
import { checkMask, checkSeq, checkTokens, clampGrad, maskedWhiten, mean, pickWeights, requireInt, requireNonNeg, requirePos, variance, type Vec } from './stats';

/** TRL's placeholder log-prob for padding (ppo_trainer.py 69): makes logr = 0 there. */
export const INVALID_LOGPROB = 1.0;

/** TRL PPOConfig defaults (v1.9.0). */
export const PPO_DEFAULTS = {
  klCoef: 0.05,
  klEstimator: 'k1' as const,
  cliprange: 0.2,
  cliprangeValue: 0.2,
  vfCoef: 0.1,
  gamma: 1,
  lam: 0.95,
  whitenRewards: false,
  numPpoEpochs: 4,
  numMiniBatches: 1,
  temperature: 0.7,
  responseLength: 53,
  missingEosPenalty: null as number | null,
  stopToken: null as 'eos' | null,
  learningRate: 3e-6,
};

export interface PpoRolloutInput {
  B: number;
  T: number;
  /** (B,T) generated ids as the generator returned them (PAD after a finished sequence), before truncation. */
  responses: ArrayLike<number>;
  /** (B,T) log-probs of the sampled tokens under the policy at generation (logits / temperature). */
  logprobs: Vec;
  /** (B,T) the same under the reference policy. */
  refLogprobs: Vec;
  /** (B,T) the value model's output at the positions that predict each response token (on the raw responses). */
  values: Vec;
  /** (B) the reward model's score of prompt + postprocessed response, at its last non-PAD token. */
  scores: Vec;
}

export interface PpoRolloutOptions {
  eosId: number;
  padId: number;
  /** TRL stop_token_id: null = TRL's default (no truncation); eosId for `stop_token='eos'`. */
  stopTokenId: number | null;
  klCoef?: number;
  klEstimator?: 'k1' | 'k3';
  /** Subtracted from the score of a response with no EOS (TRL `missing_eos_penalty`, default None). */
  missingEosPenalty?: number | null;
  whitenRewards?: boolean;
  gamma?: number;
  lam?: number;
}

export const PPO_ROLLOUT_METRICS = ['objective/kl', 'objective/entropy', 'objective/non_score_reward', 'objective/rlhf_reward', 'objective/scores', 'val/num_eos_tokens'] as const;

export interface PpoRollout extends PpoResponseMasks {
  B: number;
  T: number;
  /** (B,T) behaviour log-probs, INVALID_LOGPROB off responseMask: the `old` of every update. */
  logprobs: Float64Array;
  refLogprobs: Float64Array;
  /** (B,T) values, 0 off valueMask: the V_old of the value clip. */
  values: Float64Array;
  /** (B) scores after the missing-EOS penalty. */
  scores: Float64Array;
  /** (B,T) the per-token KL estimate, the non-score reward and the full reward. */
  kl: Float64Array;
  nonScoreReward: Float64Array;
  rewards: Float64Array;
  /** (B,T) whitened advantages (0 off responseMask) and returns (raw GAE + values). */
  advantages: Float64Array;
  returns: Float64Array;
  /** PPO_ROLLOUT_METRICS of this batch. */
  metrics: Record<(typeof PPO_ROLLOUT_METRICS)[number], number>;
}

export function ppoRollout(r: PpoRolloutInput, opts: PpoRolloutOptions): PpoRollout {
  const fn = 'ppo';
  const { B, T } = r;
  requireInt(fn, 'B', B, 1);
  requireInt(fn, 'T', T, 1);
  const klCoef = requireNonNeg(fn, 'klCoef', opts.klCoef ?? PPO_DEFAULTS.klCoef);
  const est = opts.klEstimator ?? PPO_DEFAULTS.klEstimator;
  if (est !== 'k1' && est !== 'k3') throw new ObjectiveOptionError(fn, 'klEstimator', `"${est}" is unknown; expected k1 or k3`);
  const gamma = requireNonNeg(fn, 'gamma', opts.gamma ?? PPO_DEFAULTS.gamma);
  const lam = requireNonNeg(fn, 'lam', opts.lam ?? PPO_DEFAULTS.lam);
  const penalty = opts.missingEosPenalty ?? null;
  if (penalty !== null) requireNonNeg(fn, 'missingEosPenalty', penalty);
  checkTokens(fn, 'logprobs', r.logprobs, B, T);
  checkTokens(fn, 'refLogprobs', r.refLogprobs, B, T);
  checkTokens(fn, 'values', r.values, B, T);
  checkSeq(fn, 'scores', r.scores, B);
  const m = ppoResponseMasks(r.responses, B, T, opts);
  const n = B * T;
  // the advantages are whitened over every response token of the batch (masked_whiten): a batch
  // whose responses ended at once (end-of-text or padding first) leaves fewer than 2 to whiten
  let tokens = 0;
  for (let k = 0; k < n; k++) tokens += m.responseMask[k];
  if (tokens < 2) throw new Error(`PPO: the ${B} response${B === 1 ? '' : 's'} of this update hold ${tokens} token${tokens === 1 ? '' : 's'} in all (every response ended at once: an end-of-text or padding token first), and the advantages are whitened over the batch's response tokens, which needs at least 2: raise the batch size or the temperature, or train the policy (SFT) to answer before it stops`);
  const logprobs = new Float64Array(n);
  const refLogprobs = new Float64Array(n);
  const values = new Float64Array(n);
  const kl = new Float64Array(n);
  const nonScoreReward = new Float64Array(n);
  let rewards: Float64Array = new Float64Array(n);
  const scores = Float64Array.from(r.scores as ArrayLike<number>);
  let eosTokens = 0;
  for (let b = 0; b < B; b++) {
    if (penalty !== null && !m.containEos[b]) scores[b] -= penalty;
    for (let t = 0; t < T; t++) {
      const k = b * T + t;
      if (r.responses[k] === opts.eosId) eosTokens++;
      logprobs[k] = m.responseMask[k] ? r.logprobs[k] : INVALID_LOGPROB;
      refLogprobs[k] = m.responseMask[k] ? r.refLogprobs[k] : INVALID_LOGPROB;
      values[k] = m.valueMask[k] ? r.values[k] : 0;
      const logr = refLogprobs[k] - logprobs[k];
      kl[k] = est === 'k1' ? -logr : Math.expm1(logr) - logr;
      nonScoreReward[k] = -klCoef * kl[k];
      rewards[k] = nonScoreReward[k];
    }
    const L1 = m.sequenceLengths[b] + 1;
    rewards[b * T + (L1 < T ? L1 : m.sequenceLengths[b])] += scores[b];
  }
  if (opts.whitenRewards ?? PPO_DEFAULTS.whitenRewards) {
    rewards = maskedWhiten(rewards, m.valueMask, false, 'rewards');
    for (let k = 0; k < n; k++) if (!m.valueMask[k]) rewards[k] = 0;
  }
  const gae = new Float64Array(n);
  const returns = new Float64Array(n);
  for (let b = 0; b < B; b++) {
    let last = 0;
    for (let t = T - 1; t >= 0; t--) {
      const k = b * T + t;
      const next = t < T - 1 ? values[k + 1] : 0;
      const delta = rewards[k] + gamma * next - values[k];
      last = delta + gamma * lam * last;
      gae[k] = last;
      returns[k] = last + values[k];
    }
  }
  const advantages = maskedWhiten(gae, m.responseMask, true, 'advantages');
  for (let k = 0; k < n; k++) if (!m.responseMask[k]) advantages[k] = 0;

  let klSeq = 0;
  let entSeq = 0;
  let nsSeq = 0;
  for (let k = 0; k < n; k++) {
    klSeq += kl[k];
    entSeq += -logprobs[k]; // TRL: padding contributes −INVALID_LOGPROB = −1 per position
    nsSeq += nonScoreReward[k];
  }
  const meanScore = mean(scores);
  const metrics = {
    'objective/kl': klSeq / B,
    'objective/entropy': entSeq / B,
    'objective/non_score_reward': nsSeq / B,
    'objective/rlhf_reward': nsSeq / B + meanScore,
    'objective/scores': meanScore,
    'val/num_eos_tokens': eosTokens,
  };
  return { ...m, B, T, logprobs, refLogprobs, values, scores, kl, nonScoreReward, rewards, advantages, returns, metrics };
}

export interface PpoMicroBatch {
  B: number;
  T: number;
  /** (B,T) log-probs of the response tokens under the policy being trained (logits / temperature). */
  newLogprobs: Vec;
  /** (B,T) the value head's outputs at the same positions. */
  vpred: Vec;
  /** (B,T) entropies (nats, logits / temperature) at every position, padding included (TRL's policy/entropy_avg). */
  entropies: Vec;
  /** (B,T) rollout.logprobs rows of these sequences. */
  oldLogprobs: Vec;
  /** (B,T) rollout.values rows. */
  oldValues: Vec;
  /** (B,T) rollout.returns rows. */
  returns: Vec;
  /** (B,T) rollout.advantages rows. */
  advantages: Vec;
  /** (B,T) rollout.responseMask / valueMask rows. */
  responseMask: Vec;
  valueMask: Vec;
}

export interface PpoLossOptions {
  cliprange?: number;
  cliprangeValue?: number;
  vfCoef?: number;
  /** Gradient accumulation steps: the backward's loss is divided by it (accelerate). Default 1. */
  gradAccum?: number;
}

/** One micro-batch's logged statistics (TRL's stats tensors, one entry per (epoch, mini-batch, micro-batch)). */
export interface PpoMicroStats {
  approxkl: number;
  pgClipfrac: number;
  pgLoss: number;
  vfLoss: number;
  vfClipfrac: number;
  entropy: number;
  ratio: number;
}

export interface PpoMicroResult {
  /** (pg + vf_coef·vf) / gradAccum: what is backpropagated. */
  loss: number;
  /** (B,T) ∂loss/∂newLogprobs (0 off responseMask: TRL masked_fill). */
  coefLogp: Float64Array;
  /** (B,T) ∂loss/∂vpred: the value head's upstream gradient (0 off valueMask). */
  dValue: Float64Array;
  stats: PpoMicroStats;
}

export function ppoMicroLoss(mb: PpoMicroBatch, opts: PpoLossOptions = {}): PpoMicroResult {
  const fn = 'ppo';
  const { B, T } = mb;
  requireInt(fn, 'B', B, 1);
  requireInt(fn, 'T', T, 1);
  const c = requireNonNeg(fn, 'cliprange', opts.cliprange ?? PPO_DEFAULTS.cliprange);
  const cv = requireNonNeg(fn, 'cliprangeValue', opts.cliprangeValue ?? PPO_DEFAULTS.cliprangeValue);
  const vfCoef = requireNonNeg(fn, 'vfCoef', opts.vfCoef ?? PPO_DEFAULTS.vfCoef);
  const ga = requirePos(fn, 'gradAccum', opts.gradAccum ?? 1);
  for (const f of ['newLogprobs', 'vpred', 'entropies', 'oldLogprobs', 'oldValues', 'returns', 'advantages'] as const) checkTokens(fn, f, mb[f], B, T);
  const pm = checkMask(fn, 'responseMask', mb.responseMask, B, T);
  const vm = checkMask(fn, 'valueMask', mb.valueMask, B, T);
  const n = B * T;
  let np = 0;
  let nv = 0;
  for (let k = 0; k < n; k++) {
    np += pm[k];
    nv += vm[k];
  }
  // TRL's masked_mean is 0/0 = NaN for an empty mask (e.g. every response empty); here such a
  // term contributes 0 (docs/rlhf.md).
  const ip = np > 0 ? 1 / np : 0;
  const iv = nv > 0 ? 1 / nv : 0;
  const coefLogp = new Float64Array(n);
  const dValue = new Float64Array(n);
  let pg = 0;
  let vf = 0;
  let pgClip = 0;
  let vfClip = 0;
  let kl2 = 0;
  let ratioSum = 0;
  let entSum = 0;
  for (let k = 0; k < n; k++) {
    const logp = pm[k] ? mb.newLogprobs[k] : INVALID_LOGPROB;
    const diff = logp - mb.oldLogprobs[k];
    const ratio = Math.exp(diff);
    const A = mb.advantages[k];
    const p1 = -A * ratio;
    const p2 = -A * Math.min(Math.max(ratio, 1 - c), 1 + c);
    if (pm[k]) {
      const [w1, w2] = pickWeights(p1, p2);
      pg += Math.max(p1, p2) * ip;
      coefLogp[k] = (ip * (w1 * p1 + w2 * p1 * clampGrad(ratio, 1 - c, 1 + c))) / ga; // ∂(−Aρ)/∂logp = −Aρ
      if (p2 > p1) pgClip++;
    }
    const v = vm[k] ? mb.vpred[k] : 0;
    const lo = mb.oldValues[k] - cv;
    const hi = mb.oldValues[k] + cv;
    const vc = Math.min(Math.max(v, lo), hi);
    const R = mb.returns[k];
    const v1 = (v - R) ** 2;
    const v2 = (vc - R) ** 2;
    if (vm[k]) {
      const [w1, w2] = pickWeights(v1, v2);
      vf += 0.5 * Math.max(v1, v2) * iv;
      dValue[k] = (vfCoef * 0.5 * iv * (w1 * 2 * (v - R) + w2 * 2 * (vc - R) * clampGrad(v, lo, hi))) / ga;
      if (v2 > v1) vfClip++;
    }
    kl2 += diff * diff;
    ratioSum += ratio;
    entSum += mb.entropies[k];
  }
  const loss = (pg + vfCoef * vf) / ga;
  if (!Number.isFinite(loss)) throw new ObjectiveNumericError(fn, [], 'loss', 'rollout');
  return {
    loss,
    coefLogp,
    dValue,
    stats: { approxkl: (0.5 * kl2) / n, pgClipfrac: pgClip * ip, pgLoss: pg, vfLoss: vf, vfClipfrac: vfClip * iv, entropy: entSum / n, ratio: ratioSum / n },
  };
}

export const PPO_METRICS = [
  'objective/kl',
  'objective/entropy',
  'objective/non_score_reward',
  'objective/rlhf_reward',
  'objective/scores',
  'policy/approxkl_avg',
  'policy/clipfrac_avg',
  'loss/policy_avg',
  'loss/value_avg',
  'val/clipfrac_avg',
  'policy/entropy_avg',
  'val/ratio',
  'val/ratio_var',
  'val/num_eos_tokens',
] as const;

/**
 * One update's metrics (ppo_trainer.py 862–886): the rollout's objective/* and val/num_eos_tokens,
 * and the means over every (epoch, mini-batch, micro-batch) of the micro statistics;
 * val/ratio_var is the unbiased variance of the per-micro-batch mean ratios (NaN with one entry).
 */
export function ppoMetrics(rollout: Pick<PpoRollout, 'metrics'>, micro: readonly PpoMicroStats[]): Record<(typeof PPO_METRICS)[number], number> {
  if (micro.length === 0) throw new Error('ppoMetrics: no micro-batch statistics');
  const avg = (f: keyof PpoMicroStats) => mean(micro.map((s) => s[f]));
  return {
    'objective/kl': rollout.metrics['objective/kl'],
    'objective/entropy': rollout.metrics['objective/entropy'],
    'objective/non_score_reward': rollout.metrics['objective/non_score_reward'],
    'objective/rlhf_reward': rollout.metrics['objective/rlhf_reward'],
    'objective/scores': rollout.metrics['objective/scores'],
    'policy/approxkl_avg': avg('approxkl'),
    'policy/clipfrac_avg': avg('pgClipfrac'),
    'loss/policy_avg': avg('pgLoss'),
    'loss/value_avg': avg('vfLoss'),
    'val/clipfrac_avg': avg('vfClipfrac'),
    'policy/entropy_avg': avg('entropy'),
    'val/ratio': avg('ratio'),
    'val/ratio_var': variance(micro.map((s) => s.ratio)),
    'val/num_eos_tokens': rollout.metrics['val/num_eos_tokens'],
  };
}

/** Rows `rows` of a flat (B,T) array, for slicing a rollout into micro-batches. */
export function takeRows(x: Vec, T: number, rows: readonly number[]): Float64Array {
  const out = new Float64Array(rows.length * T);
  rows.forEach((r, i) => {
    for (let t = 0; t < T; t++) out[i * T + t] = x[r * T + t];
  });
  return out;
}

/** The micro-batch of rollout rows `rows`, given the new forward's log-probs, values and entropies. */
export function ppoMicroBatch(r: PpoRollout, rows: readonly number[], fwd: { newLogprobs: Vec; vpred: Vec; entropies: Vec }): PpoMicroBatch {
  const T = r.T;
  return {
    B: rows.length,
    T,
    ...fwd,
    oldLogprobs: takeRows(r.logprobs, T, rows),
    oldValues: takeRows(r.values, T, rows),
    returns: takeRows(r.returns, T, rows),
    advantages: takeRows(r.advantages, T, rows),
    responseMask: takeRows(r.responseMask, T, rows),
    valueMask: takeRows(r.valueMask, T, rows),
  };
}
