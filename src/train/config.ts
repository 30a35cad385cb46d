// A training run's configuration: a typed plain object with TRL's defaults (STYLE 14).
import type { ObjectiveSpec } from './objectives';
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

export function validateTrainConfig(c: TrainConfig): void {
  const int = (k: keyof TrainConfig, min: number) => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < min) throw new Error(`${k} must be an integer ≥ ${min}, got ${v}`);
  };
  int('steps', 1);
  int('batchSize', 1);
  int('gradAccum', 1);
  int('warmupSteps', 0);
  int('seed', 0);
  int('evalEvery', 0);
  const pos = (k: keyof TrainConfig, allowZero: boolean) => {
    const v = c[k] as number;
    if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) throw new Error(`${k} must be ${allowZero ? '≥ 0' : '> 0'}, got ${v}`);
  };
  pos('lr', false);
  pos('eps', false);
  pos('weightDecay', true);
  pos('maxGradNorm', true);
  if (!(c.beta1 >= 0 && c.beta1 < 1)) throw new Error(`beta1 must be in [0, 1), got ${c.beta1}`);
  if (!(c.beta2 >= 0 && c.beta2 < 1)) throw new Error(`beta2 must be in [0, 1), got ${c.beta2}`);
  if (!(c.evalFraction >= 0 && c.evalFraction < 1)) throw new Error(`evalFraction must be in [0, 1), got ${c.evalFraction}`);
  if (!['adamw', 'sgd'].includes(c.optimizer)) throw new Error(`optimizer must be adamw or sgd, got ${c.optimizer}`);
  if (c.momentsDtype !== undefined && !['f32', 'bf16'].includes(c.momentsDtype)) throw new Error(`momentsDtype must be f32 or bf16 (storage of the AdamW moments), got ${c.momentsDtype}`);
  if (c.momentsDtype === 'bf16' && c.optimizer !== 'adamw') throw new Error('momentsDtype bf16 applies to adamw only: SGD here keeps no moments');
  if (c.activationsDtype !== undefined && !['f32', 'f16'].includes(c.activationsDtype)) throw new Error(`activationsDtype must be f32 or f16 (storage of the per-layer qkv and fch activations), got ${String(c.activationsDtype)}`);
  if (!['linear', 'cosine', 'constant'].includes(c.schedule)) throw new Error(`schedule must be linear, cosine or constant, got ${c.schedule}`);
}
