// Bradley–Terry reward model, TRL v1.9.0 RewardTrainer.compute_loss (trl/trainer/reward_trainer.py
// 739–777). A batch is N pairs; the score head gives r_c (chosen) and r_r (rejected) per pair,
// read at the last non-padding token of prompt + completion.
//   loss = mean_i −log σ(r_c,i − r_r,i − m_i)  +  c · mean_i (r_c,i + r_r,i)²
// m_i: the optional per-pair `margin` column (TRL adds it when the dataset has one), c: the
// optional `center_rewards_coefficient` (TRL default None = no term; 0.01 recommended).
//   ∂loss/∂r_c,i = (−σ(−z_i) + 2c(r_c,i + r_r,i)) / N,   ∂loss/∂r_r,i = (σ(−z_i) + 2c(r_c,i + r_r,i)) / N,
// z_i = r_c,i − r_r,i − m_i. Both are then divided by gradAccum: the HF Trainer scales the loss
// by 1/gradient_accumulation_steps (RewardTrainer sets model_accepts_loss_kwargs = False, 607).
// Metrics, as TRL logs them per compute_loss call (averaged over calls by RewardTrainer.log):
//   min_reward / mean_reward / max_reward over all 2N rewards (chosen and rejected together),
//   accuracy = mean 1[r_c > r_r] (strict, margin not subtracted), margin = mean (r_c − r_r).
// `loss` is the mean above (before the 1/gradAccum); `num_tokens` is the trainer's.
import { ObjectiveNumericError } from '../objectives/check';
import { logSigmoid, sigmoid } from '../objectives/math';
import { checkSeq, requireFinite, requireInt, type Vec } from './stats';

export interface RewardPairBatch {
  /** (N,) r_c: the score head's output on prompt + chosen completion. */
  chosen: Vec;
  /** (N,) r_r: the same on prompt + rejected completion. */
  rejected: Vec;
  /** (N,) optional per-pair margin m_i (TRL: a `margin` dataset column). */
  margin?: Vec;
}

export interface RewardModelOptions {
  /** TRL RewardConfig `center_rewards_coefficient` (default None: no centering term). */
  centerRewardsCoefficient?: number | null;
  /** Gradient accumulation steps: the derivatives are divided by this (the HF Trainer's scaling). Default 1. */
  gradAccum?: number;
}

export const REWARD_MODEL_METRICS = ['loss', 'min_reward', 'mean_reward', 'max_reward', 'accuracy', 'margin'] as const;

export interface RewardModelResult {
  /** The batch loss (mean over pairs, plus the centering term); what TRL logs as `loss` (mean over micro-batches). */
  loss: number;
  metrics: Record<(typeof REWARD_MODEL_METRICS)[number], number>;
  /** (N,) ∂(loss/gradAccum)/∂r_c,i: the score head's upstream gradient on the chosen sequence's last token. */
  dChosen: Float64Array;
  /** (N,) ∂(loss/gradAccum)/∂r_r,i. */
  dRejected: Float64Array;
}

export function rewardModelLoss(b: RewardPairBatch, opts: RewardModelOptions = {}): RewardModelResult {
  const fn = 'reward';
  const n = b.chosen?.length ?? 0;
  if (n === 0) throw new Error('reward: empty batch');
  checkSeq(fn, 'chosen', b.chosen, n, false, 'pair');
  checkSeq(fn, 'rejected', b.rejected, n, false, 'pair');
  if (b.margin !== undefined) checkSeq(fn, 'margin', b.margin, n, false, 'pair');
  const c = opts.centerRewardsCoefficient ?? null;
  if (c !== null) requireFinite(fn, 'centerRewardsCoefficient', c);
  const ga = requireInt(fn, 'gradAccum', opts.gradAccum ?? 1, 1);
  const dChosen = new Float64Array(n);
  const dRejected = new Float64Array(n);
  let bt = 0;
  let center = 0;
  let acc = 0;
  let margin = 0;
  let lo = Infinity;
  let hi = -Infinity;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const rc = b.chosen[i];
    const rr = b.rejected[i];
    const z = rc - rr - (b.margin ? b.margin[i] : 0);
    bt -= logSigmoid(z);
    const s = sigmoid(-z);
    const cs = c === null ? 0 : 2 * c * (rc + rr);
    if (c !== null) center += (rc + rr) ** 2;
    dChosen[i] = (-s + cs) / n / ga;
    dRejected[i] = (s + cs) / n / ga;
    if (rc > rr) acc++;
    margin += rc - rr;
    lo = Math.min(lo, rc, rr);
    hi = Math.max(hi, rc, rr);
    sum += rc + rr;
  }
  const loss = bt / n + (c === null ? 0 : (c * center) / n);
  if (!Number.isFinite(loss)) throw new ObjectiveNumericError(fn, [], 'loss');
  return {
    loss,
    metrics: { loss, min_reward: lo, mean_reward: sum / (2 * n), max_reward: hi, accuracy: acc / n, margin: margin / n },
    dChosen,
    dRejected,
  };
}
