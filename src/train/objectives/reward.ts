// Reward model (TRL RewardTrainer, the first stage of RLHF in seeds 002 and 003): a score head on
// the policy's trunk, trained on the same pairs as DPO with the Bradley–Terry loss
//   loss = mean_i −log σ(r_c,i − r_r,i)  +  c · mean_i (r_c,i + r_r,i)²   (c: center_rewards_coefficient)
// r the score at the last non-padding token of prompt + completion. Pairwise like DPO, but without
// a reference model and without the LM head: the objective sees one score per sequence (a
// ScoreObjective), and the engine's score head (src/model/score-head.ts) takes its derivatives.
// The math, its derivatives and TRL's metric names live in src/train/rl/reward-model.ts (checked
// against TRL's own code there); this file is the method's registry entry (docs/rlhf.md).
import { rewardModelLoss, REWARD_MODEL_METRICS, type RewardPairBatch } from '../rl/reward-model';
import { requireNonNegative } from './check';
import type { MethodDescriptor } from './descriptor';
import type { ScoreObjective } from './types';

export interface RewardOptions {
  /** c ≥ 0, TRL RewardConfig `center_rewards_coefficient` (default None: no term; 0 here is the same loss). */
  centerRewardsCoefficient?: number;
}

/** TRL's RewardTrainer metrics (plus num_tokens, the trainer's running token count). */
export const REWARD_METRICS = [...REWARD_MODEL_METRICS, 'num_tokens'] as const;

export function rewardObjective(opts: RewardOptions = {}): ScoreObjective {
  const c = requireNonNegative('reward', 'centerRewardsCoefficient', opts.centerRewardsCoefficient ?? 0);
  return {
    kind: 'score',
    method: 'reward',
    label: c > 0 ? `Reward model (centered ${c})` : 'Reward model',
    needsReference: false,
    metricNames: REWARD_METRICS,
    compute: (b: RewardPairBatch, gradAccum = 1) => rewardModelLoss(b, { centerRewardsCoefficient: c > 0 ? c : null, gradAccum }),
  };
}

export const REWARD_METHOD: MethodDescriptor = {
  name: 'reward',
  label: 'Reward model',
  description: 'Bradley–Terry reward model (RLHF stage 2): a score head on the trunk learns r(chosen) > r(rejected); no reference, no LM head; writes a `*ForSequenceClassification` folder.',
  data: 'pairs',
  head: 'score',
  needsReference: false,
  trlName: 'RewardTrainer (center_rewards_coefficient)',
  options: [
    {
      key: 'centerRewardsCoefficient',
      kind: 'number',
      label: 'center coef',
      default: 0,
      min: 0,
      step: 0.01,
      help: 'Weight of the mean squared reward sum (r_c + r_r)², which pulls rewards toward zero mean (TRL recommends 0.01; 0: none)',
      cli: 'center-rewards-coefficient',
      url: 0,
      trl: 'center_rewards_coefficient',
      // TRL's default is None (no term), which is PrefPlay's 0
      trlWhen: (v) => v.centerRewardsCoefficient !== 0,
    },
  ],
  formula: (v) => `−log σ(r(x, y_w) − r(x, y_l))${Number(v.centerRewardsCoefficient ?? 0) > 0 ? ` + ${String(v.centerRewardsCoefficient)}·(r_w + r_l)²` : ''}, r = score head at the last token`,
  create: (v) => rewardObjective(v as RewardOptions),
  trl: {
    trainer: 'Reward',
    modules: ['trl', 'trl.trainer.reward_trainer'],
    usesRefModel: false,
    model: 'sequence-classification',
    notes: () => [
      'RewardTrainer loads MODEL with AutoModelForSequenceClassification(num_labels=1): from a causal-LM folder its score head is drawn by torch from `seed`, PrefPlay draws it N(0, 0.02) from its own seeded stream, so step-1 rewards differ unless MODEL is the reward folder PrefPlay wrote (train --method reward writes DIR/model/, init --reward-head a fresh one).',
      'RewardConfig.max_length drops a pair whose chosen or rejected sequence is longer than it, where PrefPlay truncated the completion; pairs PrefPlay did not truncate are all kept.',
    ],
  },
};
