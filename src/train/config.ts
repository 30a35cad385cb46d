// A training run's configuration: a typed plain object with TRL's defaults, and its one validator.
import { createObjective, type ObjectiveSpec } from './objectives';
import type { ScheduleKind } from './schedule';
import type { ActivationsDtype } from '../model/gpt';

/** Storage of the AdamW moments m and v: f32, or bf16 (half the memory; the math stays f32). */
export type MomentsDtype = 'f32' | 'bf16';

export interface TrainConfig {
  objective: ObjectiveSpec;
  /** Optimizer updates to run. */
  steps: number;
  /** Pairs per micro-batch. */
  batchSize: number;
  /** Micro-batches per update (their gradients add; the loss is their mean). */
  gradAccum: number;
  optimizer: 'adamw' | 'sgd';
  lr: number;
  schedule: ScheduleKind;
  warmupSteps: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global-norm clipping threshold; 0 disables. */
  maxGradNorm: number;
  /** AdamW moment storage; absent (configs saved before the option existed) means 'f32'. */
  momentsDtype?: MomentsDtype;
  /** Storage of the per-layer qkv and fch activations (src/model/gpt.ts); absent means 'f32'. */
  activationsDtype?: ActivationsDtype;
  seed: number;
  /** Fraction of pairs held out for eval_ metrics (0 = none). */
  evalFraction: number;
  /** Evaluate every N updates (and after the last); 0 = only after the last. */
  evalEvery: number;
}

export const TRAIN_DEFAULTS: Omit<TrainConfig, 'objective'> = {
  steps: 100,
  batchSize: 4,
  gradAccum: 1,
  optimizer: 'adamw',
  lr: 5e-4,
  schedule: 'linear',
  warmupSteps: 0,
  beta1: 0.9,
  beta2: 0.999,
  eps: 1e-8,
  weightDecay: 0,
  maxGradNorm: 1.0,
  momentsDtype: 'f32',
  activationsDtype: 'f32',
  seed: 42,
  evalFraction: 0,
  evalEvery: 0,
};

/** One thing wrong with a configuration; `message` starts with the field's name. */
export interface ConfigProblem {
  field: string;
  message: string;
}

/** What the validator checks besides TrainConfig: the data's truncation and the snapshot interval. */
export interface RunSettings {
  /** Prompt + completion tokens; null or absent: the default (src/data/tokenize.ts resolveLengths). */
  maxLength?: number | null;
  /** Prompt tokens, cut from the left; null or absent: the default. */
  maxPromptLength?: number | null;
  /** Resume snapshots every N updates (and at the end). */
  checkpointEvery?: number;
  /** The model's n_positions, when known: maxLength may not exceed it. */
  nPositions?: number;
}

/**
 * Every problem of a configuration, each naming its field — the one validator behind the CLI's
 * flags, the page's settings form and the engine. `objective` is checked when present (the page's
 * shared settings have none).
 */
export function trainConfigProblems(c: Omit<TrainConfig, 'objective'> & { objective?: ObjectiveSpec } & RunSettings): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const add = (field: string, rest: string) => out.push({ field, message: `${field} ${rest}` });
  const int = (k: keyof typeof c, min: number) => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < min) add(k, `must be a whole number ≥ ${min}, got ${v}`);
  };
  const pos = (k: keyof typeof c, allowZero: boolean) => {
    const v = c[k] as number;
    if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) add(k, `must be ${allowZero ? '≥ 0' : '> 0'}, got ${v}`);
  };
  int('steps', 1);
  int('batchSize', 1);
  int('gradAccum', 1);
  int('warmupSteps', 0);
  int('seed', 0);
  int('evalEvery', 0);
  if (c.checkpointEvery !== undefined) int('checkpointEvery', 1);
  pos('lr', false);
  pos('eps', false);
  pos('weightDecay', true);
  pos('maxGradNorm', true);
  if (!(c.beta1 >= 0 && c.beta1 < 1)) add('beta1', `must be in [0, 1), got ${c.beta1}`);
  if (!(c.beta2 >= 0 && c.beta2 < 1)) add('beta2', `must be in [0, 1), got ${c.beta2}`);
  if (!(c.evalFraction >= 0 && c.evalFraction < 1)) add('evalFraction', `must be in [0, 1), got ${c.evalFraction}`);
  if (!['adamw', 'sgd'].includes(c.optimizer)) add('optimizer', `must be adamw or sgd, got ${c.optimizer}`);
  if (c.momentsDtype !== undefined && !['f32', 'bf16'].includes(c.momentsDtype)) add('momentsDtype', `must be f32 or bf16 (storage of the AdamW moments), got ${c.momentsDtype}`);
  // SGD here has no momentum and no weight decay: options of AdamW alone are mistakes, not no-ops
  else if (c.momentsDtype === 'bf16' && c.optimizer === 'sgd') add('momentsDtype', 'applies to adamw only: SGD here keeps no moments (got bf16)');
  if (c.optimizer === 'sgd' && c.weightDecay > 0) add('weightDecay', `applies to adamw only: SGD here has no weight decay (got ${c.weightDecay})`);
  if (c.activationsDtype !== undefined && !['f32', 'f16'].includes(c.activationsDtype)) add('activationsDtype', `must be f32 or f16 (storage of the per-layer qkv and fch activations), got ${String(c.activationsDtype)}`);
  if (!['linear', 'cosine', 'constant'].includes(c.schedule)) add('schedule', `must be linear, cosine or constant, got ${c.schedule}`);
  if (c.maxLength != null) {
    int('maxLength', 2);
    if (c.nPositions !== undefined && c.maxLength > c.nPositions) add('maxLength', `must be ≤ the model's n_positions (${c.nPositions}), got ${c.maxLength}`);
  }
  if (c.maxPromptLength != null) int('maxPromptLength', 1);
  if (c.objective) {
    try {
      createObjective(c.objective);
    } catch (e) {
      add('objective', `${c.objective.method}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Throws the configuration's problems as one error (engine entry points: Trainer, TrainingRun). */
export function validateTrainConfig(c: TrainConfig & RunSettings): void {
  const problems = trainConfigProblems(c);
  if (problems.length) throw new ConfigError(problems);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map((p) => p.message).join('; '));
  }
}

/** A problem's message with its field called `name` instead (a CLI flag, a form label). */
export function problemText(p: ConfigProblem, name: string): string {
  return name + p.message.slice(p.field.length);
}
