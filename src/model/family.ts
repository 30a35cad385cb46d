// What the trainer sees of a model family (docs/design.md, "Adding a model family"): GPT-2
// (./gpt.ts) and the Llama family (./llama.ts) both satisfy TrainableModel, so the runner pool,
// the log-prob passes, the trainers, the optimizer state and TrainingRun work on either. The
// family is picked from the config: a LlamaFamilyConfig carries `family`, a GPTConfig does not.
import type { GpuContext } from '../engine/gpu';
import type { Arena, TensorSpec } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import type { HostBatch } from './batch';
import type { GPTConfig } from './config';
import type { LlamaFamilyConfig } from './llama-config';
import { GptModel, type ActivationsDtype, type SequenceStats } from './gpt';
import { LlamaModel } from './llama';
import { activationBytes } from './gpt';
import { llamaActivationBytes, llamaStackScratchBytes } from './llama';
import { scoreHeadBytes } from './score-head';
import { MODEL_PRESETS, paramCount, presetConfig } from './config';
import { LLAMA_PRESETS, llamaParamCount, llamaPresetConfig } from './llama-config';
import type { BaseDtype, LoraConfig } from './lora';
import type { LoraAdapters } from './lora-adapters';
import type { PackedBase } from './packed-base';
import type { ArithmeticDtype } from '../kernels/plan';

/** A model's config: GPT-2's, or a Llama-family one (llama, qwen2, mistral). */
export type ModelConfig = GPTConfig | LlamaFamilyConfig;

export function isLlamaConfig(c: ModelConfig): c is LlamaFamilyConfig {
  return typeof (c as Partial<LlamaFamilyConfig>).family === 'string';
}

/** The family's name as config.json's model_type says it ('gpt2' for GPT-2). */
export function modelType(c: ModelConfig): string {
  return isLlamaConfig(c) ? c.family : 'gpt2';
}

/**
 * What building and checking batches reads of a config: the vocabulary, the longest sequence,
 * the id an empty prompt becomes (bos) and the padding id (eos).
 */
export interface SequenceConfig {
  vocabSize: number;
  nPositions: number;
  bosTokenId: number;
  eosTokenId: number;
}

/**
 * GPT-2's config as is; a Llama-family config's max_position_embeddings, and its first
 * eos_token_id when it lists several. A family without bos (Qwen2) starts an empty prompt with
 * eos, as a GPT-2 tokenizer does; without either, id 0 (only padding and empty prompts use them).
 */
export function sequenceConfig(c: ModelConfig): SequenceConfig {
  if (!isLlamaConfig(c)) return { vocabSize: c.vocabSize, nPositions: c.nPositions, bosTokenId: c.bosTokenId, eosTokenId: c.eosTokenId };
  const eos = Array.isArray(c.eosTokenId) ? (c.eosTokenId[0] ?? null) : c.eosTokenId;
  return { vocabSize: c.vocabSize, nPositions: c.maxPositionEmbeddings, bosTokenId: c.bosTokenId ?? eos ?? 0, eosTokenId: eos ?? c.bosTokenId ?? 0 };
}

/** Activations and batch buffers for one (B, T) shape (GptRunner, LlamaRunner). */
export interface ModelRunner {
  readonly B: number;
  readonly T: number;
  /** The activation arena. */
  readonly acts: Arena;
  /** GPU bytes held: the activation arena and, after a backward, the batch's token buckets. */
  readonly bytes: number;
  setBatch(batch: HostBatch): void;
  forward(enc: StepEncoder): void;
  readStats(): Promise<SequenceStats>;
  readTokenLogps(): Promise<Float32Array>;
  setCoefficients(coef: Float32Array): void;
  backward(enc: StepEncoder): void;
  /**
   * Reward models (config `scoreHead`, src/model/score-head.ts): the forward computes one score per
   * sequence instead of the LM head's log-probs; readRewards reads them (B), and backward starts
   * from setRewardGradients' ∂loss/∂reward (B) instead of setCoefficients'. Both throw for a causal LM.
   */
  readRewards?(): Promise<Float64Array>;
  setRewardGradients?(dReward: ArrayLike<number>): void;
  /** A reward model as a value model (PPO): the score at every position (B,T), and backward from ∂loss/∂value (B,T). */
  readValues?(): Promise<Float32Array>;
  setValueGradients?(dValue: Float32Array): void;
  /** The LM head's per-position entropies (B,T) of the last forward. */
  readTokenEntropies?(): Promise<Float32Array>;
  destroy(): void;
}

/** A model on the GPU as the trainer uses it (GptModel, LlamaModel). */
export interface TrainableModel {
  readonly gpu: GpuContext;
  /** The model's shape: "same model" checks compare it (JSON) and snapshots keep it. */
  readonly config: ModelConfig;
  /** The parameter table: the layout of the parameter, gradient and moment arenas, by Hugging Face name. */
  readonly spec: TensorSpec[];
  readonly params: Arena;
  readonly grads: Arena;
  /** What batches read of the config. */
  readonly seq: SequenceConfig;
  /**
   * LoRA adapters (src/model/lora-adapters.ts): when present the base parameters are frozen —
   * `grads` must not be used — and the adapters are what the optimizer trains (trainableOf).
   */
  readonly lora?: LoraAdapters | null;
  /** A LoRA run's 16-bit frozen base weights beside `params` (src/model/packed-base.ts); null: all f32 in `params`. */
  readonly packed?: PackedBase | null;
  /** Whether AdamW's weight decay applies to parameter `name`. */
  decays(name: string): boolean;
  upload(weights: Map<string, Float32Array>): void;
  download(arena?: Arena): Promise<Map<string, Float32Array>>;
  /**
   * checkpoint: keep only each layer's input and recompute the layer in the backward (activation
   * checkpointing). arithmeticDtype 'f16': the linear layers' products and the attention forward
   * on f16 operands (GPT-2 only; arithmeticDtypeProblem).
   */
  createRunner(B: number, T: number, activationsDtype: ActivationsDtype, checkpoint?: boolean, arithmeticDtype?: ArithmeticDtype): ModelRunner;
  destroy(): void;
}

/** What the optimizer updates: the model's parameters, or with LoRA the adapters (the base frozen). */
export type TrainableTarget = Pick<TrainableModel, 'gpu' | 'params' | 'grads' | 'decays'>;

export function trainableOf(model: TrainableModel): TrainableTarget {
  return model.lora ?? model;
}

/** How a model is built besides its config: LoRA adapters and the storage of its frozen base weights. */
export interface ModelOptions {
  lora?: LoraConfig | null;
  /** Frozen base weights (LoRA only): f32, or bf16 / f16 read by the matmuls (src/model/packed-base.ts). */
  baseDtype?: BaseDtype;
}

/** What a runner's activation arena depends on besides (B, T) and the activations dtype. */
export interface ActivationOptions {
  /** Adapters add u = s·x Aᵀ (R, r) per adapted projection and layer, and a little scratch. */
  lora?: LoraConfig | null;
  /** Activation checkpointing: one layer's kept tensors (shared) instead of every layer's. */
  checkpoint?: boolean;
  /** f16 arithmetic (GPT-2): f16 scratch for the matmul operands. */
  arithmetic?: ArithmeticDtype;
}

/** The default of activation checkpointing when a run does not say: on from 100M parameters (SmolLM2-135M, GPT-2 small and up). */
export const CHECKPOINT_DEFAULT_PARAMS = 100e6;

export function defaultCheckpointActivations(c: ModelConfig): boolean {
  return modelParamCount(c) >= CHECKPOINT_DEFAULT_PARAMS;
}

/** Activation storages a family's runner supports: f32 and f16 for both (GptRunner, LlamaRunner). */
export function activationsDtypes(_c: ModelConfig): readonly ActivationsDtype[] {
  return ['f32', 'f16'];
}

/** One line when `dtype` is not available for this model's family, else null. */
export function activationsDtypeProblem(c: ModelConfig, dtype: ActivationsDtype | undefined): string | null {
  if (!dtype || activationsDtypes(c).includes(dtype)) return null;
  return `${String(dtype)} activations are not available for ${modelType(c)}: use ${activationsDtypes(c).join(' or ')}`;
}

/**
 * One line when f16 arithmetic (TrainConfig.arithmeticDtype) is not available for this model's
 * family, else null: GptRunner runs it; the Llama family's runner does not yet.
 */
export function arithmeticDtypeProblem(c: ModelConfig, dtype: ArithmeticDtype | undefined): string | null {
  if (!dtype || dtype === 'f32' || !isLlamaConfig(c)) return null;
  return `f16 arithmetic is not available for ${modelType(c)} yet (GPT-2 models only): use f32`;
}

/** The model of `base.config`'s family, parameters allocated (not uploaded); with LoRA, adapters allocated too. */
export function createModel(gpu: GpuContext, base: { config: ModelConfig }, opts: ModelOptions = {}): TrainableModel {
  return isLlamaConfig(base.config) ? new LlamaModel(gpu, base.config, opts) : new GptModel(gpu, base.config, opts);
}

/** Parameters of the family's size table (paramCount, llamaParamCount). */
export function modelParamCount(c: ModelConfig): number {
  return isLlamaConfig(c) ? llamaParamCount(c) : paramCount(c);
}

/**
 * Bytes of the family runner's activation arena for B sequences of T tokens (activationBytes,
 * llamaActivationBytes: each sums the spec its runner allocates, so neither can drift).
 */
export function modelActivationBytes(c: ModelConfig, B: number, T: number, dtype: ActivationsDtype = 'f32', opts: ActivationOptions = {}): number {
  const head = c.scoreHead ? scoreHeadBytes(B, T) : 0; // a reward model's runner also holds its score head's buffers
  return head + (isLlamaConfig(c) ? llamaActivationBytes(c, B, T, dtype, opts) : activationBytes(c, B, T, dtype, opts));
}

/**
 * Model-wide GPU scratch beside the parameter, gradient and moment arenas: the Llama family's
 * stacking scratch for fused projections whose tensors are not back to back (llamaStackScratchBytes);
 * none for GPT-2. maxBytes: the most one arena buffer holds on the device (arenaBufferBytes), when known.
 */
export function modelScratchBytes(c: ModelConfig, align = 256, maxBytes?: number): number {
  return isLlamaConfig(c) ? llamaStackScratchBytes(c, align, maxBytes) : 0;
}

/** Every named preset: GPT-2's (MODEL_PRESETS), then the Llama family's (LLAMA_PRESETS). */
export function modelPresetNames(): string[] {
  return [...Object.keys(MODEL_PRESETS), ...Object.keys(LLAMA_PRESETS)];
}

/** A preset's config, of either family; an unknown name throws, listing every preset. */
export function modelPresetConfig(name: string): ModelConfig {
  if (Object.hasOwn(LLAMA_PRESETS, name)) return llamaPresetConfig(name);
  if (Object.hasOwn(MODEL_PRESETS, name)) return presetConfig(name);
  throw new Error(`unknown preset "${name}" (presets: ${modelPresetNames().join(', ')})`);
}
