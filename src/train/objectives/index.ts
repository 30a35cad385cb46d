// Preference objectives by name. Each method's objective and descriptor live in one file; the
// registry (./registry.ts) lists them and derives what the CLI, the page and the TRL export need.
//   createObjective({ method: 'dpo', lossType: 'ipo', beta: 0.5 })
import type { MethodSpec } from './registry';

/** A method and its options, as configs, the CLI, the page and saved runs hold it. */
export type ObjectiveSpec = MethodSpec;

export { createObjective, defaultValues, isMethod, METHOD_DESCRIPTORS, methodDescriptor, METHODS, normalizeOptions, optionProblem, parseOptionText, parseRunToken, runToken, specProblems } from './registry';
export type { MethodSpec } from './registry';
export type { MethodDescriptor, MethodOption, OptionValue, OptionValues, PyValue, TrlTarget } from './descriptor';
export { cpoObjective, simpoObjective, CPO_METRICS } from './cpo';
export type { CpoOptions, SimpoOptions } from './cpo';
export { canonicalDpoLossType, dpoObjective, DPO_LOSS_TYPE_ALIASES, DPO_LOSS_TYPES, EXO_DEFAULT_EPSILON } from './dpo';
export { alphapoObjective, alphapoReward } from './alphapo';
export type { AlphapoOptions } from './alphapo';
export type { DpoLossType, DpoOptions } from './dpo';
export { ktoObjective, KTO_LOSS_TYPES, KTO_METRICS } from './kto';
export type { KtoLossType, KtoOptions } from './kto';
export { orpoObjective, ORPO_METRICS } from './orpo';
export type { OrpoOptions } from './orpo';
export { sftObjective, SFT_METRICS } from './sft';
export { rewardObjective, REWARD_METRICS } from './reward';
export { grpoObjective, rlooObjective, ONLINE_BETA, ONLINE_METRICS, REWARD_FUNCTIONS } from './online';
export type { OnlineOptions } from './online';
export { ppoObjective, PPO_KL_ESTIMATORS, PPO_STEP_METRICS } from './ppo';
export type { PpoOptions } from './ppo';
export type { RewardOptions } from './reward';
export { exploreFormulas } from './explorer';
export { explainNan, nanQuantity, NEAR_ZERO_LOGP } from './nan-explain';
export type { NanExample, NanExampleInput, NanQuantity, NanReport, NanSide } from './nan-explain';
export type { ExplorerInput, ExplorerResult } from './explorer';
export { ObjectiveInputError, ObjectiveNumericError, ObjectiveOptionError, LOGP_SLACK_PER_TOKEN } from './check';
export { MAX_AVG_LOGP, log1mexp, logOdds, logSigmoid, sigmoid } from './math';
export { PAIR_METRICS, SHARED_LOGP_METRICS } from './types';
export type { Method, NllScope, Objective, OnlineGeneration, OnlineMicroBatch, OnlineObjective, PpoObjective, PairBatch, PairObjective, PairResult, ScoreObjective, UnpairedBatch, UnpairedObjective, UnpairedResult, Vec } from './types';
