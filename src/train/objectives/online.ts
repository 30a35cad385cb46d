// The online methods GRPO and RLOO (TRL v1.9.0 GRPOTrainer, RLOOTrainer; docs/rlhf.md): the
// trainer (src/train/online-trainer.ts) generates G completions per prompt with the policy, scores
// them with reward functions, and trains on per-token coefficients. This file is their registry
// entry: options, validation, and the two method-specific steps as an OnlineObjective —
//   advantages  GRPO: (r − mean_group) / (std_group + 1e−4) (grpoAdvantages);
//               RLOO: r − β·Σ(old − ref), minus the leave-one-out mean (rlooAdvantages)
//   microLoss   GRPO: token-level clipped loss + β·k3 to the reference, `loss_type` aggregation
//               (grpoLoss); RLOO: sequence-level clipped loss, mean over completions (rlooLoss)
// Both run on-policy (TRL's num_iterations = 1): the old policy is the policy, so ρ = 1 and its
// gradient is that of ρ. β is 0.04 for both here (issue 16); TRL's defaults are GRPO 0, RLOO 0.05.
import { grpoAdvantages, rlooAdvantages, type ScaleRewards } from '../rl/advantages';
import { grpoLoss, GRPO_LOSS_TYPES, type GrpoLossType } from '../rl/grpo';
import { rlooLoss, sequenceCoefficients } from '../rl/rloo';
import { COMPLETION_METRICS } from '../rl/rollout';
import { ObjectiveOptionError, requireNonNegative, requirePositive } from './check';
import type { MethodDescriptor, MethodOption, OptionValues } from './descriptor';
import type { OnlineGeneration, OnlineMicroBatch, OnlineObjective } from './types';

/**
 * The reward option's name for a reward model (the CLI's --reward-model DIR, the run's
 * `rewardModel`): its score of prompt + completion at the last token, computed on the GPU.
 */
export const REWARD_MODEL_REWARD = 'reward-model';

/**
 * Reward functions the CLI offers: the built-in rule-based judges (src/train/rl/rewards.ts builds
 * them) and a reward model (src/train/reward-source.ts), weighted by --reward-weights in this order.
 */
export const REWARD_FUNCTIONS = ['judge:arithmetic', 'judge:politeness', REWARD_MODEL_REWARD] as const;

/** Short names of the reward functions (URL run tokens, where ':' separates values: `grpo:arithmetic`). */
export const REWARD_ALIASES: Readonly<Record<string, string>> = { arithmetic: 'judge:arithmetic', politeness: 'judge:politeness' };

/** β here for both methods (issue 16: "0.04 for both so the reference matters"). */
export const ONLINE_BETA = 0.04;

/** The metrics an online step logs, in display order (TRL's names; rewards/<name>/mean and /std follow `reward_std`). */
export const ONLINE_METRICS = ['loss', 'reward', 'reward_std', 'frac_reward_zero_std', 'kl', 'entropy', 'clip_ratio/low_mean', 'clip_ratio/low_min', 'clip_ratio/high_mean', 'clip_ratio/high_max', 'clip_ratio/region_mean', ...COMPLETION_METRICS, 'num_tokens'] as const;

export interface OnlineOptions {
  beta?: number;
  numGenerations?: number;
  maxNewTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  epsilon?: number;
  /** Reward function names (REWARD_FUNCTIONS); one name or a list. */
  reward?: string | readonly string[];
  /** One weight per reward function (TRL reward_weights; default 1 each). */
  rewardWeights?: readonly number[] | null;
  /** GRPO: TRL loss_type. */
  lossType?: GrpoLossType;
  /** GRPO: TRL scale_rewards. */
  scaleRewards?: ScaleRewards;
  /** RLOO: TRL normalize_advantages. */
  normalizeAdvantages?: boolean;
}

function requireInt(method: string, option: string, x: number, min: number): number {
  if (!Number.isInteger(x) || x < min) throw new ObjectiveOptionError(method, option, `is ${x}, expected a whole number ≥ ${min}`);
  return x;
}

function common(method: 'grpo' | 'rloo', o: OnlineOptions) {
  const names = o.reward === undefined ? ['judge:arithmetic'] : typeof o.reward === 'string' ? [o.reward] : [...o.reward];
  if (!names.length) throw new ObjectiveOptionError(method, 'reward', 'is empty: name at least one reward function');
  for (const n of names) if (!(REWARD_FUNCTIONS as readonly string[]).includes(n)) throw new ObjectiveOptionError(method, 'reward', `"${n}" is unknown; expected ${REWARD_FUNCTIONS.join(', ')}`);
  if (new Set(names).size !== names.length) throw new ObjectiveOptionError(method, 'reward', `names a function twice (${names.join(', ')})`);
  const weights = o.rewardWeights ? [...o.rewardWeights] : names.map(() => 1);
  if (weights.length !== names.length) throw new ObjectiveOptionError(method, 'rewardWeights', `has ${weights.length} weight${weights.length === 1 ? '' : 's'} for ${names.length} reward function${names.length === 1 ? '' : 's'} (${names.join(', ')})`);
  weights.forEach((w) => {
    if (!Number.isFinite(w)) throw new ObjectiveOptionError(method, 'rewardWeights', `holds ${w}, expected finite numbers`);
  });
  const generation: OnlineGeneration = {
    numGenerations: requireInt(method, 'numGenerations', o.numGenerations ?? 8, 2),
    maxNewTokens: requireInt(method, 'maxNewTokens', o.maxNewTokens ?? 32, 1),
    temperature: requirePositive(method, 'temperature', o.temperature ?? 1),
    topK: requireInt(method, 'topK', o.topK ?? 0, 0),
    topP: o.topP ?? 1,
  };
  if (!(generation.topP > 0 && generation.topP <= 1)) throw new ObjectiveOptionError(method, 'topP', `is ${generation.topP}, expected 0 < value ≤ 1`);
  const beta = requireNonNegative(method, 'beta', o.beta ?? ONLINE_BETA);
  const epsilon = requireNonNegative(method, 'epsilon', o.epsilon ?? 0.2);
  return { names, weights, generation, beta, epsilon };
}

/** Σ m·H / max(1, Σ m) over one micro-batch. */
function entropyMetric(b: OnlineMicroBatch): number {
  let h = 0;
  let n = 0;
  for (let i = 0; i < b.B; i++) {
    h += b.entropySums[i];
    n += b.tokenCounts[i];
  }
  return h / Math.max(1, n);
}

export function grpoObjective(o: OnlineOptions = {}): OnlineObjective {
  const { names, weights, generation, beta, epsilon } = common('grpo', o);
  const lossType = o.lossType ?? 'dapo';
  if (!(GRPO_LOSS_TYPES as readonly string[]).includes(lossType)) throw new ObjectiveOptionError('grpo', 'lossType', `"${lossType}" is unknown; expected one of ${GRPO_LOSS_TYPES.join(', ')}`);
  const scaleRewards = o.scaleRewards ?? 'group';
  return {
    kind: 'online',
    method: 'grpo',
    label: lossType === 'dapo' ? 'GRPO' : `GRPO (${lossType})`,
    needsReference: true,
    metricNames: ONLINE_METRICS,
    generation,
    rewards: { names, weights },
    beta,
    klInReward: false,
    advantages: (t) => grpoAdvantages(t, { numGenerations: generation.numGenerations, scaleRewards }),
    microLoss(b) {
      const r = grpoLoss({ B: b.B, T: b.T, logps: b.logps, refLogps: b.refLogps, mask: b.mask, advantages: b.advantages }, { beta, epsilonLow: epsilon, lossType, activeTokens: b.activeTokens, gradAccum: b.gradAccum, maxCompletionLength: generation.maxNewTokens });
      return { loss: r.loss, coef: r.coef, metrics: { ...r.metrics, entropy: entropyMetric(b) } };
    },
  };
}

export function rlooObjective(o: OnlineOptions = {}): OnlineObjective {
  const { names, weights, generation, beta, epsilon } = common('rloo', o);
  const normalizeAdvantages = o.normalizeAdvantages ?? false;
  const sums = (b: OnlineMicroBatch) => Float64Array.from({ length: b.B }, (_, i) => {
    let s = 0;
    for (let t = 0; t < b.T; t++) s += b.mask[i * b.T + t] * b.logps[i * b.T + t];
    return s;
  });
  return {
    kind: 'online',
    method: 'rloo',
    label: 'RLOO',
    needsReference: true,
    metricNames: ONLINE_METRICS,
    generation,
    rewards: { names, weights },
    beta,
    klInReward: true,
    advantages: (t, kl) => rlooAdvantages(t, { numGenerations: generation.numGenerations, beta, klSums: kl?.sums, klCounts: kl?.counts, normalizeAdvantages }),
    microLoss(b) {
      // on-policy: S_old = S (TRL computes old_logps with the same weights, no gradient)
      const S = sums(b);
      const r = rlooLoss({ logpSums: S, oldLogpSums: S, advantages: b.advantages, entropySums: b.entropySums, tokenCounts: b.tokenCounts }, { epsilonLow: epsilon, gradAccum: b.gradAccum });
      return { loss: r.loss, coef: sequenceCoefficients(r.dLogpSums, b.mask, b.B, b.T), metrics: r.metrics };
    },
  };
}

/** Options both methods share (flags shared with other methods keep their CLI name). */
function sharedOptions(method: 'grpo' | 'rloo', trlG: number, trlBeta: number): MethodOption[] {
  return [
    { key: 'reward', kind: 'choice', default: 'judge:arithmetic', choices: REWARD_FUNCTIONS, aliases: REWARD_ALIASES, multiple: true, url: 0, urlAlways: true, label: 'reward', help: 'Reward functions, comma-separated: the built-in rule-based judges scoring the decoded prompt and completion in [0, 1], and reward-model (the --reward-model folder\'s score of the generated ids)', cli: 'reward', trl: 'reward_funcs' },
    { key: 'rewardWeights', kind: 'numbers', default: null, label: 'reward weights', help: 'One weight per reward function (default 1 each); the reward is their weighted sum', cli: 'reward-weights', url: 10, trl: 'reward_weights' },
    { key: 'beta', kind: 'number', default: ONLINE_BETA, min: 0, step: 0.01, label: 'β', help: `KL coefficient β to the reference (TRL default ${trlBeta}; ${method === 'grpo' ? 'k3 term in the loss' : 'k1 penalty in the reward'})`, cli: 'beta', url: 1, trl: 'beta' },
    { key: 'numGenerations', kind: 'number', default: trlG, min: 2, step: 1, label: 'G', help: 'Completions generated per prompt (a group)', cli: 'num-generations', url: 2, trl: 'num_generations' },
    { key: 'maxNewTokens', kind: 'number', default: 32, min: 1, step: 1, label: 'max new tokens', help: 'Tokens generated at most per completion (cut after the first end-of-text)', cli: 'max-new-tokens', url: 3, trl: 'max_completion_length' },
    { key: 'temperature', kind: 'number', default: 1, min: 0, minOpen: true, step: 0.1, label: 'temperature', help: 'Sampling temperature; training log-probs use logits / temperature too, as TRL', cli: 'temperature', url: 4, trl: 'temperature' },
    { key: 'topK', kind: 'number', default: 0, min: 0, step: 1, label: 'top-k', help: 'Sample from the k most likely tokens; 0: off', cli: 'top-k', url: 6, trl: 'top_k' },
    { key: 'topP', kind: 'number', default: 1, min: 0, minOpen: true, max: 1, step: 0.05, label: 'top-p', help: 'Nucleus sampling mass; 1: off', cli: 'top-p', url: 7, trl: 'top_p' },
    { key: 'epsilon', kind: 'number', default: 0.2, min: 0, step: 0.05, label: 'ε', help: `Clip range of the ratio ρ (${method === 'grpo' ? 'per token' : 'per completion'}); on-policy ρ = 1, so it matters only for the clip_ratio metrics`, cli: 'epsilon', url: 8, trl: 'epsilon' },
  ];
}

const notes = (): string[] => [];

export const GRPO_METHOD: MethodDescriptor = {
  name: 'grpo',
  label: 'GRPO',
  description: 'Online: G sampled completions per prompt, scored by reward functions; group-normalised advantages, clipped token-level loss + β·KL (k3) to the reference.',
  data: 'prompts',
  needsReference: true,
  trlName: 'GRPOTrainer (loss_type, scale_rewards, num_generations)',
  options: [
    ...sharedOptions('grpo', 8, 0),
    { key: 'lossType', kind: 'choice', default: 'dapo', choices: GRPO_LOSS_TYPES, label: 'loss type', help: 'GRPO aggregation: dapo (over the active tokens of the generation batch), grpo, bnpo or dr_grpo', cli: 'loss-type', url: 5, trl: 'loss_type' },
    { key: 'scaleRewards', kind: 'choice', default: 'group', choices: ['group', 'batch', 'none'], label: 'scale rewards', help: 'Divide advantages by the group std (group), the batch std (batch) or not (none)', cli: 'scale-rewards', url: 9, trl: 'scale_rewards' },
  ],
  formula: (v: OptionValues) => `A = (r − mean_G r)/(std_G r + 1e−4); −min(ρA, clip(ρ, 1±ε)A) + ${String(v.beta ?? ONLINE_BETA)}·k3(π_ref‖π_θ) per token`,
  create: (v) => grpoObjective(v as OnlineOptions),
  trl: { trainer: 'GRPO', modules: ['trl'], usesRefModel: true, notes },
};

export const RLOO_METHOD: MethodDescriptor = {
  name: 'rloo',
  label: 'RLOO',
  description: 'Online: G sampled completions per prompt; reward minus β·KL (k1), leave-one-out baseline, clipped sequence-level loss (TRL 1.9 RLOO).',
  data: 'prompts',
  needsReference: true,
  trlName: 'RLOOTrainer (num_generations, normalize_advantages)',
  options: [
    ...sharedOptions('rloo', 2, 0.05),
    { key: 'normalizeAdvantages', kind: 'boolean', default: false, label: 'normalize advantages', help: 'Whiten the advantages over the generation batch', cli: 'normalize-advantages', url: 5, trl: 'normalize_advantages' },
  ],
  formula: (v: OptionValues) => `r' = r − ${String(v.beta ?? ONLINE_BETA)}·Σ(log π − log π_ref); A = r' − mean of the other G−1; −min(ρA, clip(ρ, 1±ε)A), ρ per completion`,
  create: (v) => rlooObjective(v as OnlineOptions),
  trl: { trainer: 'RLOO', modules: ['trl'], usesRefModel: true, notes },
};
