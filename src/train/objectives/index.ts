// Preference objectives by name: the registry the trainer, the CLI (--method, --loss-type,
// --beta) and the UI share. createObjective({ method: 'dpo', lossType: 'ipo', beta: 0.5 }).
import { ObjectiveOptionError } from './check';
import { cpoObjective, simpoObjective, type CpoOptions, type SimpoOptions } from './cpo';
import { dpoObjective, type DpoOptions } from './dpo';
import { ktoObjective, type KtoOptions } from './kto';
import { orpoObjective, type OrpoOptions } from './orpo';
import { sftObjective } from './sft';
import type { Method, Objective } from './types';

export type ObjectiveSpec =
  | ({ method: 'dpo' } & DpoOptions)
  | ({ method: 'orpo' } & OrpoOptions)
  | ({ method: 'simpo' } & SimpoOptions)
  | ({ method: 'cpo' } & CpoOptions)
  | { method: 'sft' }
  | ({ method: 'kto' } & KtoOptions);

export interface MethodInfo {
  readonly method: Method;
  readonly label: string;
  /** The TRL trainer and loss_type this reproduces. */
  readonly trl: string;
  readonly paired: boolean;
  readonly needsReference: boolean;
  /** Option names createObjective accepts for this method. */
  readonly options: readonly string[];
  readonly summary: string;
}

export const METHODS: readonly Method[] = ['dpo', 'orpo', 'simpo', 'cpo', 'sft', 'kto'];

export const METHOD_INFO: { readonly [M in Method]: MethodInfo } = {
  dpo: {
    method: 'dpo',
    label: 'DPO',
    trl: 'DPOTrainer (loss_type, loss_weights)',
    paired: true,
    needsReference: true,
    options: ['beta', 'lossType', 'lossWeights', 'labelSmoothing', 'discopopTau'],
    summary: 'Direct Preference Optimization and its loss types, against a frozen reference.',
  },
  orpo: {
    method: 'orpo',
    label: 'ORPO',
    trl: 'ORPOTrainer',
    paired: true,
    needsReference: false,
    options: ['beta', 'nllIncludesPrompt'],
    summary: 'SFT plus an odds-ratio penalty; no reference model.',
  },
  simpo: {
    method: 'simpo',
    label: 'SimPO',
    trl: "CPOTrainer (loss_type='simpo', cpo_alpha=0)",
    paired: true,
    needsReference: false,
    options: ['beta', 'simpoGamma', 'cpoAlpha', 'labelSmoothing'],
    summary: 'Length-normalised reward margin with a target gap γ; no reference model.',
  },
  cpo: {
    method: 'cpo',
    label: 'CPO',
    trl: "CPOTrainer (loss_type='sigmoid')",
    paired: true,
    needsReference: false,
    options: ['beta', 'cpoAlpha', 'labelSmoothing'],
    summary: 'Reference-free sigmoid preference loss on sequence log-probs plus NLL.',
  },
  sft: {
    method: 'sft',
    label: 'SFT',
    trl: "SFTTrainer on chosen completions (DPOTrainer loss_type='sft')",
    paired: true,
    needsReference: false,
    options: [],
    summary: 'Plain supervised fine-tuning on the chosen answers: the baseline.',
  },
  kto: {
    method: 'kto',
    label: 'KTO',
    trl: 'KTOTrainer',
    paired: false,
    needsReference: true,
    options: ['beta', 'desirableWeight', 'undesirableWeight', 'lossType'],
    summary: 'Unpaired desirable/undesirable examples against a KL baseline.',
  },
};

export function isMethod(name: string): name is Method {
  return (METHODS as readonly string[]).includes(name);
}

/** Builds the objective a spec names; unknown methods, unknown options and bad values throw ObjectiveOptionError. */
export function createObjective(spec: ObjectiveSpec): Objective {
  const method = (spec as { method?: unknown })?.method;
  if (typeof method !== 'string' || !isMethod(method)) {
    throw new ObjectiveOptionError('objective', 'method', `"${String(method)}" is unknown; expected one of ${METHODS.join(', ')}`);
  }
  const known = METHOD_INFO[method].options;
  for (const key of Object.keys(spec)) {
    if (key !== 'method' && !known.includes(key)) {
      throw new ObjectiveOptionError(method, key, `is not an option of ${method}${known.length ? `; expected one of ${known.join(', ')}` : ' (it takes none)'}`);
    }
  }
  switch (spec.method) {
    case 'dpo':
      return dpoObjective(spec);
    case 'orpo':
      return orpoObjective(spec);
    case 'simpo':
      return simpoObjective(spec);
    case 'cpo':
      return cpoObjective(spec);
    case 'sft':
      return sftObjective();
    case 'kto':
      return ktoObjective(spec);
  }
}

export { cpoObjective, simpoObjective, CPO_METRICS } from './cpo';
export type { CpoOptions, SimpoOptions } from './cpo';
export { dpoObjective, DPO_LOSS_TYPES, EXO_DEFAULT_EPSILON } from './dpo';
export type { DpoLossType, DpoOptions } from './dpo';
export { ktoObjective, KTO_LOSS_TYPES, KTO_METRICS } from './kto';
export type { KtoLossType, KtoOptions } from './kto';
export { orpoObjective, ORPO_METRICS } from './orpo';
export type { OrpoOptions } from './orpo';
export { sftObjective, SFT_METRICS } from './sft';
export { exploreFormulas } from './explorer';
export type { ExplorerInput, ExplorerResult } from './explorer';
export { ObjectiveInputError, ObjectiveNumericError, ObjectiveOptionError, LOGP_SLACK_PER_TOKEN } from './check';
export { MAX_AVG_LOGP, log1mexp, logOdds, logSigmoid, sigmoid } from './math';
export { PAIR_METRICS } from './types';
export type { Method, NllScope, Objective, PairBatch, PairObjective, PairResult, UnpairedBatch, UnpairedObjective, UnpairedResult, Vec } from './types';
