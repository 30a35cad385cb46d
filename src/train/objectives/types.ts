// Contract between the engine and the preference objectives (docs/design.md, docs/objectives.md). N pairs per batch
// (or N unpaired examples for KTO); every per-sequence array has shape (N,) and index i is the
// same pair in all of them. Objectives are pure float64 functions: they return the loss, the
// per-step metrics under TRL's names and the exact derivative of the loss with respect to each
// per-sequence sum. The GPU backward turns those into per-token coefficients:
//   coef[token of pair i's chosen completion]  += dChosenLogp[i]
//   coef[token of pair i's rejected completion] += dRejectedLogp[i]
//   coef[token covered by pair i's NLL term]   += dChosenNllSum[i]

import type { RewardModelResult, RewardPairBatch } from '../rl/reward-model';
import type { AdvantageResult, RewardTable } from '../rl/advantages';
import type { PpoMicroBatch, PpoMicroResult, PpoMicroStats, PpoRollout, PpoRolloutInput } from '../rl/ppo';

export type Vec = ArrayLike<number>;

/** Which tokens `chosenNllSum` must cover: none, the chosen completion, or prompt + completion. */
export type NllScope = 'none' | 'completion' | 'prompt_and_completion';

/** One batch of N preference pairs (x, y_w, y_l), as per-sequence statistics. */
export interface PairBatch {
  /** (N,) S_θ(y_w) = Σ log π_θ(y_t | x, y_<t) over the chosen completion tokens (end-of-text included); ≤ 0. */
  chosenLogp: Vec;
  /** (N,) S_θ(y_l), the same sum for the rejected completion. */
  rejectedLogp: Vec;
  /** (N,) S_ref(y_w) under the reference (starting) weights; required when `needsReference`. */
  chosenRefLogp?: Vec;
  /** (N,) S_ref(y_l); required when `needsReference`. */
  rejectedRefLogp?: Vec;
  /** (N,) |y_w|: completion tokens summed in chosenLogp; integer ≥ 1. */
  chosenLen: Vec;
  /** (N,) |y_l|; integer ≥ 1. */
  rejectedLen: Vec;
  /** (N,) Σ over chosen completion tokens of that position's mean logit over the vocabulary (for `logits/chosen`). */
  chosenLogitSum: Vec;
  /** (N,) tokens in chosenLogitSum (normally = chosenLen); integer ≥ 0. */
  chosenLogitCount: Vec;
  /** (N,) as chosenLogitSum, for the rejected completion. */
  rejectedLogitSum: Vec;
  /** (N,) tokens in rejectedLogitSum; integer ≥ 0. */
  rejectedLogitCount: Vec;
  /** (N,) Σ log-probs over the tokens of the chosen sequence that the NLL term covers (see `nll`); required when nll ≠ 'none'. */
  chosenNllSum?: Vec;
  /** (N,) number of tokens in chosenNllSum; integer ≥ 1. */
  chosenNllCount?: Vec;
}

export interface PairResult {
  /** Scalar loss of the batch (averaged over pairs, docs/objectives.md). */
  loss: number;
  /** `metricNames` → value, TRL's names and semantics (docs/objectives.md). */
  metrics: Record<string, number>;
  /** (N,) ∂loss/∂chosenLogp[i]. */
  dChosenLogp: Float64Array;
  /** (N,) ∂loss/∂rejectedLogp[i]. */
  dRejectedLogp: Float64Array;
  /** (N,) ∂loss/∂chosenNllSum[i]; all zeros when nll = 'none'. */
  dChosenNllSum: Float64Array;
}

/** One batch of N unpaired examples (x, y, desirable?) for KTO, plus KL-estimate sequences. */
export interface UnpairedBatch {
  /** (N,) S_θ(y) over completion tokens; ≤ 0. */
  logp: Vec;
  /** (N,) S_ref(y). */
  refLogp: Vec;
  /** (N,) |y|, integer ≥ 1. */
  len: Vec;
  /** (N,) true: desirable (TRL label True), false: undesirable. */
  desirable: ArrayLike<boolean>;
  /** (N,) Σ over completion tokens of the mean-over-vocab logit. */
  logitSum: Vec;
  /** (N,) tokens in logitSum, integer ≥ 0. */
  logitCount: Vec;
  /**
   * (M,) S_θ of mismatched (x_j, y_{j−1}) pairs (TRL's KL dataset: completions shifted by one),
   * computed without gradient: no derivative flows to them. Required when `needsKl`.
   */
  klLogp?: Vec;
  /** (M,) S_ref of the same mismatched pairs. */
  klRefLogp?: Vec;
}

export interface UnpairedResult {
  loss: number;
  metrics: Record<string, number>;
  /** (N,) ∂loss/∂logp[i]. */
  dLogp: Float64Array;
}

export type Method = 'dpo' | 'orpo' | 'simpo' | 'cpo' | 'sft' | 'kto' | 'alphapo' | 'reward' | 'grpo' | 'rloo' | 'ppo';

interface ObjectiveBase {
  readonly method: Method;
  /** Short human label, e.g. "DPO (sigmoid)". */
  readonly label: string;
  /** Whether the batch must carry reference log-prob sums. */
  readonly needsReference: boolean;
  /** Every metric name compute() can return, in display order. */
  readonly metricNames: readonly string[];
}

export interface PairObjective extends ObjectiveBase {
  readonly kind: 'pair';
  /** Tokens chosenNllSum/chosenNllCount must cover. */
  readonly nll: NllScope;
  compute(batch: PairBatch): PairResult;
}

export interface UnpairedObjective extends ObjectiveBase {
  readonly kind: 'unpaired';
  /** Whether the batch must carry klLogp / klRefLogp. */
  readonly needsKl: boolean;
  compute(batch: UnpairedBatch): UnpairedResult;
}

/**
 * A reward model's objective (TRL RewardTrainer): a function of one score per sequence (the score
 * head's output at the last non-padding token), not of log-prob sums. Its derivatives are the
 * score head's upstream gradients, already divided by gradAccum (src/train/rl/reward-model.ts).
 */
export interface ScoreObjective extends ObjectiveBase {
  readonly kind: 'score';
  compute(batch: RewardPairBatch, gradAccum?: number): RewardModelResult;
}

/**
 * An online method (GRPO, RLOO; src/train/objectives/online.ts): the trainer generates completions
 * of prompts with the policy, scores them with reward functions and trains on per-token
 * coefficients; the method-specific math is behind `advantages` and `microLoss`.
 */
export interface OnlineObjective extends ObjectiveBase {
  readonly kind: 'online';
  readonly generation: OnlineGeneration;
  /** Reward functions by name (`judge:arithmetic`, …) and their weights (TRL reward_weights). */
  readonly rewards: { readonly names: readonly string[]; readonly weights: readonly number[] };
  /** β of the KL term (GRPO: k3 in the loss; RLOO: k1 penalty in the reward). */
  readonly beta: number;
  /** Whether the advantages need every completion's Σ(old − ref) first (RLOO's KL penalty in the reward). */
  readonly klInReward: boolean;
  /** Advantages and the per-generation-batch metrics (reward, reward_std, rewards/<name>/mean, frac_reward_zero_std; RLOO: kl). */
  advantages(table: RewardTable, kl?: { sums: Vec; counts: Vec }): AdvantageResult;
  /** One micro-batch's loss (as TRL backpropagates it), per-token coefficients ∂loss/∂logp (B,T completion layout) and metrics. */
  microLoss(b: OnlineMicroBatch): { loss: number; coef: Float64Array; metrics: Record<string, number> };
}

export interface OnlineGeneration {
  /** G, completions per prompt. */
  readonly numGenerations: number;
  readonly maxNewTokens: number;
  readonly temperature: number;
  /** 0 = off. */
  readonly topK: number;
  /** 1 = off. */
  readonly topP: number;
}

/** One micro-batch of completions as the online objectives take it: (B,T) arrays in completion layout (token t of completion b at b·T + t). */
export interface OnlineMicroBatch {
  B: number;
  T: number;
  /** (B,T) log π_θ of the completion tokens (logits / temperature). */
  logps: Vec;
  /** (B,T) the reference's. */
  refLogps: Vec;
  /** (B,T) 1 on completion tokens. */
  mask: Vec;
  /** (B) advantages. */
  advantages: Vec;
  /** (B) Σ_t entropy over each completion (for the `entropy` metric). */
  entropySums: Vec;
  /** (B) completion lengths. */
  tokenCounts: Vec;
  /** Loss tokens of the whole generation batch (GRPO dapo's normaliser). */
  activeTokens: number;
  gradAccum: number;
}

/**
 * PPO (TRL PPOTrainer, src/train/objectives/ppo.ts): one response per prompt from the policy, the
 * reward model's score, a value model (initialised from the reward model) and the KL to the
 * reference as a per-token reward; the trainer (src/train/ppo-trainer.ts) runs `rollout` once per
 * batch and `microLoss` per micro-batch of each of `numPpoEpochs` passes.
 */
export interface PpoObjective extends ObjectiveBase {
  readonly kind: 'ppo';
  /** numGenerations is 1 (TRL PPO: one response per query); topK 0 and topP 1 (TRL fixes them). */
  readonly generation: OnlineGeneration;
  /** TRL num_ppo_epochs: passes over each rollout batch. */
  readonly numPpoEpochs: number;
  /** TRL num_mini_batches: optimizer steps per pass (each over a shuffled slice of the batch). */
  readonly numMiniBatches: number;
  /** The rollout's rewards, GAE advantages and returns, and its objective/* metrics (ppoRollout with the method's options). */
  rollout(input: PpoRolloutInput, ids: { eosId: number; padId: number }): PpoRollout;
  /** One micro-batch's loss (divided by gradAccum), ∂loss/∂logp and ∂loss/∂value, and its statistics. */
  microLoss(mb: PpoMicroBatch, gradAccum: number): PpoMicroResult;
  /** The update's TRL metrics from the rollout and every micro-batch's statistics. */
  metrics(rollout: PpoRollout, stats: readonly PpoMicroStats[]): Record<string, number>;
}

export type Objective = PairObjective | UnpairedObjective | ScoreObjective | OnlineObjective | PpoObjective;

/**
 * PrefPlay's additions, the same definition for every paired method (docs/objectives.md): mean
 * per-token average A = S/|y| of each side and their difference, and the same with the sums S.
 */
export const SHARED_LOGP_METRICS = ['logps_avg/chosen', 'logps_avg/rejected', 'margins_avg', 'logps_sum/chosen', 'logps_sum/rejected', 'margins_sum'] as const;

/** Metrics every paired method reports (docs/objectives.md), in display order. */
export const PAIR_METRICS = [
  'loss',
  'rewards/chosen',
  'rewards/rejected',
  'rewards/margins',
  'rewards/accuracies',
  'logps/chosen',
  'logps/rejected',
  'logits/chosen',
  'logits/rejected',
  'log_odds/chosen',
  'log_odds/rejected',
  ...SHARED_LOGP_METRICS,
] as const;
