// A training run's configuration: a typed plain object with TRL's defaults, and its one validator.
import { createObjective, type ObjectiveSpec } from './objectives';
import { decimalNumber } from '../util/number';

export { decimalNumber };
import type { ScheduleKind } from './schedule';
import type { ActivationsDtype } from '../model/gpt';
import type { ArithmeticDtype } from '../kernels/plan';
import { BASE_DTYPES, MAX_LORA_RANK, type BaseDtype, type LoraConfig } from '../model/lora';

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
  /**
   * Arithmetic of the linear layers' products and the attention forward (src/kernels/plan.ts):
   * 'f16' reads their operands as f16 and accumulates in f32 (GPT-2 full fine-tuning, adapters
   * with `shader-f16`: elsewhere the run fails at start); absent means 'f32'.
   */
  arithmeticDtype?: ArithmeticDtype;
  /**
   * LoRA adapters (PEFT semantics, src/model/lora.ts): only they train, the base is frozen and is
   * also the reference model of DPO/KTO. Absent or null: full fine-tuning.
   */
  lora?: LoraConfig | null;
  /** Storage of a LoRA run's frozen base weights (src/model/packed-base.ts); absent means 'f32'. */
  baseDtype?: BaseDtype;
  /**
   * Activation checkpointing: keep each layer's input only and recompute the layer in the
   * backward (same gradients, bitwise). Absent: on for models of 100M parameters and more
   * (defaultCheckpointActivations).
   */
  checkpointActivations?: boolean;
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
  /** Greedy samples from a few fixed held-out prompts every N updates (and at step 0 and the last); 0: none. */
  sampleEvery?: number;
  /** The model's n_positions, when known: maxLength may not exceed it. */
  nPositions?: number;
  /** Examples (pairs) in the data, when known: the eval split must leave one to train on. */
  examples?: number;
}

/**
 * Upper bounds of values that can only be a mistake (a typo, an extra digit, a pasted link). They
 * live here, in the one validator, so the CLI, the page's form and its URL refuse the same values.
 */
export const CONFIG_LIMITS = {
  /** Updates (also warmup, eval and checkpoint intervals): at the fastest rates here (tens of
   * updates a second on a tiny model) a million updates take a day, and every update keeps a
   * metrics row in memory and on the charts. */
  steps: 1_000_000,
  /** Pairs per micro-batch: 4096 pairs are 8192 sequences, whose activations exceed any GPU's
   * memory at lengths worth training; larger batches are gradient accumulation's job. */
  batchSize: 4096,
  /** Micro-batches per update: 4096 × even one pair is a larger batch than any run here needs. */
  gradAccum: 4096,
  /** Peak learning rate: Adam moves every weight by about lr per update, so above 1 a run only
   * diverges (fine-tuning uses 1e-6 to 1e-3). */
  lr: 1,
  /** Adam's ε: above 1 it outweighs √v for every gradient of a trained model. */
  eps: 1,
  /** The seed is read as an unsigned 32-bit integer (src/util/rng.ts): a larger one would alias a
   * smaller seed. */
  seed: 2 ** 32 - 1,
  /** Tokens, when the model is not known yet (a URL read before the model loads): GPT-2's
   * checkpoints have 1024 positions, and one pair of 65,536 tokens would need over 100 GB of
   * activations at GPT-2 small. With the model known, its n_positions is the bound. */
  maxLength: 65_536,
} as const;

/**
 * Every problem of a configuration, each naming its field — the one validator behind the CLI's
 * flags, the page's settings form and URL, and the engine. `objective` is checked when present
 * (the page's shared settings have none).
 */
export function trainConfigProblems(c: Omit<TrainConfig, 'objective'> & { objective?: ObjectiveSpec } & RunSettings, level: 'input' | 'run' = 'input'): ConfigProblem[] {
  // 'input' (flags, form, URL, saved settings) adds the bounds past which a value can only be a
  // typo; 'run' (the engine, a run that already happened: an old run.json, a resumed comparison)
  // checks only what the engine needs, so nothing that trained once is refused later
  const typo = level === 'input';
  const out: ConfigProblem[] = [];
  const add = (field: string, rest: string) => out.push({ field, message: `${field} ${rest}` });
  const int = (k: keyof typeof c, min: number, max: number, why = '') => {
    const v = c[k] as number;
    if (!Number.isInteger(v) || v < min) add(k, `must be a whole number ≥ ${min}, got ${v}`);
    else if (v > (typo || k === 'seed' ? max : Number.MAX_SAFE_INTEGER)) add(k, `must be ≤ ${max}${why}, got ${v}`);
  };
  const pos = (k: keyof typeof c, allowZero: boolean, max = Infinity, why = '') => {
    const v = c[k] as number;
    if (!Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) add(k, `must be ${allowZero ? '≥ 0' : '> 0'}, got ${v}`);
    else if (typo && v > max) add(k, `must be ≤ ${max}${why}, got ${v}`);
  };
  const L = CONFIG_LIMITS;
  int('steps', 1, L.steps, ' (a day of updates at the fastest rates here)');
  int('batchSize', 1, L.batchSize, ' (pairs per micro-batch; use gradient accumulation for more)');
  int('gradAccum', 1, L.gradAccum);
  int('warmupSteps', 0, L.steps);
  int('seed', 0, L.seed);
  int('evalEvery', 0, L.steps);
  if (c.checkpointEvery !== undefined) int('checkpointEvery', 1, L.steps);
  if (c.sampleEvery !== undefined) int('sampleEvery', 0, L.steps);
  pos('lr', false, L.lr, ' (Adam moves every weight by about lr per update)');
  pos('eps', false, L.eps);
  pos('weightDecay', true);
  pos('maxGradNorm', true);
  // decoupled decay scales every weight by (1 − lr·wd) per update: at lr·wd ≥ 1 it erases them
  if (c.optimizer === 'adamw' && c.weightDecay > 0 && c.lr > 0 && c.lr <= L.lr && c.lr * c.weightDecay >= 1) add('weightDecay', `must be < 1 / lr (${1 / c.lr}): AdamW scales the weights by 1 − lr·weightDecay each update, got ${c.weightDecay}`);
  if (!(c.beta1 >= 0 && c.beta1 < 1)) add('beta1', `must be in [0, 1), got ${c.beta1}`);
  if (!(c.beta2 >= 0 && c.beta2 < 1)) add('beta2', `must be in [0, 1), got ${c.beta2}`);
  // holding out more than half of the data is a typo (0.99 for 0.09), not an experiment
  if (typo && !(c.evalFraction >= 0 && c.evalFraction <= 0.5)) add('evalFraction', `must be between 0 and 0.5, got ${c.evalFraction}`);
  else if (!typo && !(c.evalFraction >= 0 && c.evalFraction < 1)) add('evalFraction', `must be in [0, 1), got ${c.evalFraction}`);
  else if (c.examples !== undefined && c.examples >= 1 && c.evalFraction > 0 && c.examples - evalCount(c.examples, c.evalFraction) < 1) add('evalFraction', `must leave at least one of the ${c.examples} examples for training, got ${c.evalFraction}`);
  if (!['adamw', 'sgd'].includes(c.optimizer)) add('optimizer', `must be adamw or sgd, got ${c.optimizer}`);
  if (c.momentsDtype !== undefined && !['f32', 'bf16'].includes(c.momentsDtype)) add('momentsDtype', `must be f32 or bf16 (storage of the AdamW moments), got ${c.momentsDtype}`);
  // SGD here has no momentum and no weight decay: options of AdamW alone are mistakes, not no-ops
  else if (c.momentsDtype === 'bf16' && c.optimizer === 'sgd') add('momentsDtype', 'applies to adamw only: SGD here keeps no moments (got bf16)');
  if (c.optimizer === 'sgd' && c.weightDecay > 0) add('weightDecay', `applies to adamw only: SGD here has no weight decay (got ${c.weightDecay})`);
  if (c.activationsDtype !== undefined && !['f32', 'f16'].includes(c.activationsDtype)) add('activationsDtype', `must be f32 or f16 (storage of the per-layer qkv and fch activations), got ${String(c.activationsDtype)}`);
  if (c.arithmeticDtype !== undefined && !['f32', 'f16'].includes(c.arithmeticDtype)) add('arithmeticDtype', `must be f32 or f16 (arithmetic of the matmul and attention operands), got ${String(c.arithmeticDtype)}`);
  else if (c.arithmeticDtype === 'f16' && c.lora != null) add('arithmeticDtype', 'f16 arithmetic is not supported with LoRA yet (the frozen base is read by the packed-weight matmuls): use f32 or full fine-tuning');
  if (!['linear', 'cosine', 'constant'].includes(c.schedule)) add('schedule', `must be linear, cosine or constant, got ${c.schedule}`);
  if (c.lora != null) {
    const { r, alpha, targets } = c.lora;
    if (!Number.isInteger(r) || r < 1 || r > MAX_LORA_RANK) add('loraR', `must be a whole number from 1 to ${MAX_LORA_RANK} (the adapters' rank), got ${r}`);
    if (!Number.isFinite(alpha) || alpha <= 0) add('loraAlpha', `must be > 0 (the update is scaled by alpha / r), got ${alpha}`);
    if (targets !== undefined && (!Array.isArray(targets) || !targets.length || targets.some((t) => typeof t !== 'string' || !/^[A-Za-z0-9_.]+$/.test(t)))) add('loraTargets', `must be module names such as q_proj,v_proj or c_attn (letters, digits, _ and .), got ${JSON.stringify(targets)}`);
  }
  if (c.baseDtype !== undefined && !BASE_DTYPES.includes(c.baseDtype)) add('baseDtype', `must be ${BASE_DTYPES.join(', ')} (storage of a LoRA run's frozen base weights), got ${String(c.baseDtype)}`);
  else if (c.baseDtype !== undefined && c.baseDtype !== 'f32' && c.lora == null) add('baseDtype', `applies to LoRA runs only: full fine-tuning keeps f32 master weights (got ${c.baseDtype})`);
  if (c.checkpointActivations !== undefined && typeof c.checkpointActivations !== 'boolean') add('checkpointActivations', `must be true or false, got ${String(c.checkpointActivations)}`);
  if (c.maxLength != null) {
    if (c.nPositions !== undefined && Number.isInteger(c.maxLength) && c.maxLength > c.nPositions) add('maxLength', `must be ≤ the model's n_positions (${c.nPositions}), got ${c.maxLength}`);
    else int('maxLength', 2, c.nPositions ?? L.maxLength, ' (longer than any model takes)');
  }
  if (c.maxPromptLength != null) {
    // the prompt is cut to leave room for the completion: a limit of the whole length leaves none
    const whole = c.maxLength ?? c.nPositions;
    if (whole != null && Number.isInteger(c.maxPromptLength) && c.maxPromptLength >= whole) add('maxPromptLength', `must be < ${c.maxLength != null ? 'the max length' : "the model's n_positions"} (${whole}), so completions keep a token, got ${c.maxPromptLength}`);
    else int('maxPromptLength', 1, L.maxLength - 1, ' (longer than any model takes)');
  }
  if (c.objective) {
    try {
      createObjective(c.objective);
    } catch (e) {
      add('objective', `${c.objective.method}: ${(e as Error).message}`);
    }
    // PPO whitens its advantages (and rewards) over the batch's response tokens (TRL masked_whiten):
    // one response of one token leaves a single value, whose variance is undefined
    if (c.objective.method === 'ppo' && Number.isInteger(c.batchSize) && c.batchSize < 2) add('batchSize', `must be ≥ 2 for PPO: it whitens the advantages over the batch's responses (TRL's masked_whiten needs at least 2 tokens), got ${c.batchSize}`);
  }
  return out;
}

/** How many of n examples the eval split holds out (src/data/split.ts splitTrainEval's rule). */
function evalCount(n: number, fraction: number): number {
  const k = Math.round(n * fraction);
  return fraction > 0 && n >= 2 ? Math.min(Math.max(k, 1), n - 1) : k;
}

/** Throws the configuration's problems as one error (engine entry points: Trainer, TrainingRun). */
export function validateTrainConfig(c: TrainConfig & RunSettings): void {
  const problems = trainConfigProblems(c, 'run');
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

