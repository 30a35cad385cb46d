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
import { MODEL_PRESETS, paramCount, presetConfig } from './config';
import { LLAMA_PRESETS, llamaParamCount, llamaPresetConfig } from './llama-config';

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
  /** Whether AdamW's weight decay applies to parameter `name`. */
  decays(name: string): boolean;
  upload(weights: Map<string, Float32Array>): void;
  download(arena?: Arena): Promise<Map<string, Float32Array>>;
  createRunner(B: number, T: number, activationsDtype: ActivationsDtype): ModelRunner;
  destroy(): void;
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

/** The model of `base.config`'s family, parameters allocated (not uploaded). */
export function createModel(gpu: GpuContext, base: { config: ModelConfig }): TrainableModel {
  return isLlamaConfig(base.config) ? new LlamaModel(gpu, base.config) : new GptModel(gpu, base.config);
}

/** Parameters of the family's size table (paramCount, llamaParamCount). */
export function modelParamCount(c: ModelConfig): number {
  return isLlamaConfig(c) ? llamaParamCount(c) : paramCount(c);
}

/**
 * Bytes of the family runner's activation arena for B sequences of T tokens (activationBytes,
 * llamaActivationBytes: each sums the spec its runner allocates, so neither can drift).
 */
export function modelActivationBytes(c: ModelConfig, B: number, T: number, dtype: ActivationsDtype = 'f32'): number {
  return isLlamaConfig(c) ? llamaActivationBytes(c, B, T, dtype) : activationBytes(c, B, T, dtype);
}

/**
 * Model-wide GPU scratch beside the parameter, gradient and moment arenas: the Llama family's
 * stacking scratch for fused projections whose tensors are not back to back (llamaStackScratchBytes);
 * none for GPT-2.
 */
export function modelScratchBytes(c: ModelConfig, align = 256): number {
  return isLlamaConfig(c) ? llamaStackScratchBytes(c, align) : 0;
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
