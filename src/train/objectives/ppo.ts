// PPO (TRL v1.9.0 PPOTrainer, trl/experimental/ppo/; the last stage of seed 002's RLHF): the
// policy generates one response per prompt; the reward model scores prompt + response at its last
// token; the per-token KL to the reference (k1: logp − ref_logp) times kl_coef is the non-score
// reward; a value model, initialised from the reward model (TRL's default), gives per-token values
// for GAE (γ 1, λ 0.95); advantages are whitened; the policy takes the clipped surrogate loss and
// the value model the clipped value loss (vf_coef 0.1), for num_ppo_epochs passes over each batch.
// The math lives in src/train/rl/ppo.ts (checked against TRL's code there); this file is the
// method's registry entry, and the trainer is src/train/ppo-trainer.ts (docs/rlhf.md).
import { PPO_DEFAULTS, PPO_METRICS, ppoMetrics, ppoMicroLoss, ppoRollout } from '../rl/ppo';
import { COMPLETION_METRICS } from '../rl/rollout';
import { ObjectiveOptionError, requireNonNegative, requirePositive } from './check';
import type { MethodDescriptor, OptionValues } from './descriptor';
import type { PpoObjective } from './types';

export const PPO_KL_ESTIMATORS = ['k1', 'k3'] as const;

/**
 * What a PPO step logs: TRL's metrics (`objective/*`, `policy/*`, `loss/*`, `val/*`, then TRL's
 * `lr`, `episode`, `eps`), plus PrefPlay's completion lengths (the GRPO names) and `num_tokens`.
 */
export const PPO_STEP_METRICS = [...PPO_METRICS, 'lr', 'episode', 'eps', ...COMPLETION_METRICS, 'num_tokens'] as const;

export interface PpoOptions {
  maxNewTokens?: number;
  temperature?: number;
  klCoef?: number;
  klEstimator?: 'k1' | 'k3';
  cliprange?: number;
  cliprangeValue?: number;
  vfCoef?: number;
  gamma?: number;
  lam?: number;
  whitenRewards?: boolean;
  numPpoEpochs?: number;
  numMiniBatches?: number;
  /** Subtracted from the score of a response without end-of-text; 0 = TRL's None. */
  missingEosPenalty?: number;
}

function requireInt(option: string, x: number, min: number): number {
  if (!Number.isInteger(x) || x < min) throw new ObjectiveOptionError('ppo', option, `is ${x}, expected a whole number ≥ ${min}`);
  return x;
}

export function ppoObjective(o: PpoOptions = {}): PpoObjective {
  const klCoef = requireNonNegative('ppo', 'klCoef', o.klCoef ?? PPO_DEFAULTS.klCoef);
  const klEstimator = o.klEstimator ?? PPO_DEFAULTS.klEstimator;
  if (!(PPO_KL_ESTIMATORS as readonly string[]).includes(klEstimator)) throw new ObjectiveOptionError('ppo', 'klEstimator', `"${klEstimator}" is unknown; expected k1 or k3`);
  const cliprange = requireNonNegative('ppo', 'cliprange', o.cliprange ?? PPO_DEFAULTS.cliprange);
  const cliprangeValue = requireNonNegative('ppo', 'cliprangeValue', o.cliprangeValue ?? PPO_DEFAULTS.cliprangeValue);
  const vfCoef = requireNonNegative('ppo', 'vfCoef', o.vfCoef ?? PPO_DEFAULTS.vfCoef);
  const gamma = requireNonNegative('ppo', 'gamma', o.gamma ?? PPO_DEFAULTS.gamma);
  const lam = requireNonNegative('ppo', 'lam', o.lam ?? PPO_DEFAULTS.lam);
  const penalty = requireNonNegative('ppo', 'missingEosPenalty', o.missingEosPenalty ?? 0);
  const whitenRewards = o.whitenRewards ?? PPO_DEFAULTS.whitenRewards;
  const generation = {
    numGenerations: 1,
    maxNewTokens: requireInt('maxNewTokens', o.maxNewTokens ?? PPO_DEFAULTS.responseLength, 1),
    temperature: requirePositive('ppo', 'temperature', o.temperature ?? PPO_DEFAULTS.temperature),
    topK: 0,
    topP: 1,
  };
  return {
    kind: 'ppo',
    method: 'ppo',
    label: 'PPO',
    needsReference: true,
    metricNames: PPO_STEP_METRICS,
    generation,
    numPpoEpochs: requireInt('numPpoEpochs', o.numPpoEpochs ?? PPO_DEFAULTS.numPpoEpochs, 1),
    numMiniBatches: requireInt('numMiniBatches', o.numMiniBatches ?? PPO_DEFAULTS.numMiniBatches, 1),
    // stop_token='eos' (issue 16: responses are cut after the first end-of-text)
    rollout: (input, ids) => ppoRollout(input, { eosId: ids.eosId, padId: ids.padId, stopTokenId: ids.eosId, klCoef, klEstimator, missingEosPenalty: penalty > 0 ? penalty : null, whitenRewards, gamma, lam }),
    microLoss: (mb, gradAccum) => ppoMicroLoss(mb, { cliprange, cliprangeValue, vfCoef, gradAccum }),
    metrics: (rollout, stats) => ppoMetrics(rollout, stats),
  };
}

export const PPO_METHOD: MethodDescriptor = {
  name: 'ppo',
  label: 'PPO',
  description: 'Online RLHF (seed 002, stage 3): one sampled response per prompt scored by a reward model (--reward-model), KL to the reference as a per-token penalty, a value model from the reward model, GAE, clipped policy and value losses.',
  data: 'prompts',
  needsReference: true,
  trlName: 'PPOTrainer (kl_coef, cliprange, cliprange_value, vf_coef, num_ppo_epochs)',
  options: [
    { key: 'maxNewTokens', kind: 'number', default: PPO_DEFAULTS.responseLength, min: 1, step: 1, label: 'max new tokens', help: 'Tokens generated at most per response (cut after the first end-of-text)', cli: 'max-new-tokens', url: 4, trl: 'response_length' },
    { key: 'temperature', kind: 'number', default: PPO_DEFAULTS.temperature, min: 0, minOpen: true, step: 0.1, label: 'temperature', help: 'Sampling temperature; training log-probs use logits / (temperature + 1e-7), as TRL', cli: 'temperature', url: 5, trl: 'temperature' },
    { key: 'klCoef', kind: 'number', default: PPO_DEFAULTS.klCoef, min: 0, step: 0.01, label: 'KL coef', help: 'Weight of the per-token KL to the reference, a penalty in the reward', cli: 'kl-coef', url: 0, trl: 'kl_coef' },
    { key: 'klEstimator', kind: 'choice', default: PPO_DEFAULTS.klEstimator, choices: PPO_KL_ESTIMATORS, label: 'KL estimator', help: 'k1: log π − log π_ref; k3: e^(ref−logp) − 1 − (ref − logp)', cli: 'kl-estimator', url: 7, trl: 'kl_estimator' },
    { key: 'cliprange', kind: 'number', default: PPO_DEFAULTS.cliprange, min: 0, step: 0.05, label: 'clip range', help: 'Clip range of the policy ratio ρ', cli: 'cliprange', url: 1, trl: 'cliprange' },
    { key: 'cliprangeValue', kind: 'number', default: PPO_DEFAULTS.cliprangeValue, min: 0, step: 0.05, label: 'value clip range', help: 'Clip range of the value around the rollout value', cli: 'cliprange-value', url: 6, trl: 'cliprange_value' },
    { key: 'vfCoef', kind: 'number', default: PPO_DEFAULTS.vfCoef, min: 0, step: 0.05, label: 'vf coef', help: 'Weight of the value loss', cli: 'vf-coef', url: 2, trl: 'vf_coef' },
    { key: 'gamma', kind: 'number', default: PPO_DEFAULTS.gamma, min: 0, max: 1, step: 0.01, label: 'γ', help: 'Discount of GAE', cli: 'gamma', url: 8, trl: 'gamma' },
    { key: 'lam', kind: 'number', default: PPO_DEFAULTS.lam, min: 0, max: 1, step: 0.01, label: 'λ', help: 'GAE λ', cli: 'lam', url: 9, trl: 'lam' },
    { key: 'whitenRewards', kind: 'boolean', default: PPO_DEFAULTS.whitenRewards, label: 'whiten rewards', help: 'Whiten the per-token rewards before GAE', cli: 'whiten-rewards', url: 10, trl: 'whiten_rewards' },
    { key: 'numPpoEpochs', kind: 'number', default: PPO_DEFAULTS.numPpoEpochs, min: 1, step: 1, label: 'PPO epochs', help: 'Passes over each rollout batch (each pass: --num-mini-batches optimizer steps)', cli: 'ppo-epochs', url: 3, trl: 'num_ppo_epochs' },
    { key: 'numMiniBatches', kind: 'number', default: PPO_DEFAULTS.numMiniBatches, min: 1, step: 1, label: 'mini-batches', help: 'Mini-batches (optimizer steps) per PPO epoch; must divide the batch', cli: 'num-mini-batches', url: 11, trl: 'num_mini_batches' },
    { key: 'missingEosPenalty', kind: 'number', default: 0, min: 0, step: 0.5, label: 'missing-EOS penalty', help: 'Subtracted from the score of a response that never ends (0: none, TRL default None)', cli: 'missing-eos-penalty', url: 12, trl: 'missing_eos_penalty', trlWhen: (v) => v.missingEosPenalty !== 0 },
  ],
  formula: (v: OptionValues) => `r_t = −${String(v.klCoef ?? PPO_DEFAULTS.klCoef)}·(log π − log π_ref) (+ score at the end); GAE → Â; −min(ρÂ, clip(ρ, 1±${String(v.cliprange ?? PPO_DEFAULTS.cliprange)})Â) + ${String(v.vfCoef ?? PPO_DEFAULTS.vfCoef)}·½ max((V − R)², (V_clip − R)²)`,
  create: (v) => ppoObjective(v as PpoOptions),
  trl: {
    trainer: 'PPO',
    modules: ['trl.experimental.ppo', 'trl'],
    usesRefModel: true,
    fixed: [['stop_token', 'eos']],
    notes: () => [
      "PPOTrainer takes reward_model and value_model as AutoModelForSequenceClassification(num_labels=1) from the reward folder (PrefPlay's value model starts from it too).",
      "PrefPlay clips the policy's and the value model's gradient jointly at --max-grad-norm; TRL's PPO loop does not clip (max_grad_norm is unused): --max-grad-norm 0 matches it.",
    ],
  },
};
