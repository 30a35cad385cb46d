// The host-side math of the RLHF half (issue 16, docs/rlhf.md): reward model, GRPO, RLOO and PPO
// as pure float64 functions with TRL v1.9.0's semantics and metric names, plus the sampling and
// rollout rules that GPU generation follows. The engine supplies log-probs, values, scores and
// generated ids; these functions return losses, per-token coefficients and metrics.
export { rewardModelLoss, REWARD_MODEL_METRICS } from './reward-model';
export type { RewardModelOptions, RewardModelResult, RewardPairBatch } from './reward-model';
export { combineRewards, grpoAdvantages, rewardMetrics, rlooAdvantages } from './advantages';
export type { AdvantageResult, GrpoAdvantageOptions, MultiObjectiveAggregation, RewardTable, RlooAdvantageOptions, ScaleRewards } from './advantages';
export { grpoLoss, GRPO_DEFAULTS, GRPO_LOSS_TYPES, GRPO_METRICS } from './grpo';
export type { GrpoLossOptions, GrpoLossResult, GrpoLossType, GrpoTokenBatch } from './grpo';
export { rlooLoss, RLOO_DEFAULTS, RLOO_METRICS, sequenceCoefficients } from './rloo';
export type { RlooLossOptions, RlooLossResult, RlooSequenceBatch } from './rloo';
export { INVALID_LOGPROB, PPO_DEFAULTS, PPO_METRICS, PPO_ROLLOUT_METRICS, ppoMetrics, ppoMicroBatch, ppoMicroLoss, ppoRollout, takeRows } from './ppo';
export type { PpoLossOptions, PpoMicroBatch, PpoMicroResult, PpoMicroStats, PpoRollout, PpoRolloutInput, PpoRolloutOptions } from './ppo';
export { COMPLETION_METRICS, completionBatch, completionMetrics, cutAfterFirstEos, firstIndex, isTruncated, padResponses, ppoResponseMasks } from './rollout';
export type { CompletionBatch, PpoResponseMasks } from './rollout';
export { drawFromScores, entropyOf, greedyToken, logSoftmaxAt, sampleRollouts, sampleToken, softmax, warpLogits } from './sampling';
export type { RolloutSpec, Rollouts, SampledToken, SamplingOptions } from './sampling';
export { isCloseToZero, maskedMean, maskedWhiten, nanmax, nanmean, nanmin, nanstd, nansum, variance } from './stats';
