// The ONNX export of a model of either family (docs/export.md): GPT-2 (./gpt2.ts) or the Llama
// family (./llama.ts: llama, qwen2, mistral), picked from the config as everywhere else
// (src/model/family.ts). Both graphs have the same contract: input `input_ids` int64
// (batch, sequence) -> output `logits` float32 (batch, sequence, V), weights as initializers.
// Also what running the graph needs of the config (vocabulary, context, padding, stop ids), so the
// CLI's generate and judge, the page's samples and the tests share one path for both families.
import { paramCount } from '../model/config';
import { isLlamaConfig, sequenceConfig, type ModelConfig } from '../model/family';
import { llamaParamCount } from '../model/llama-config';
import { buildGpt2Onnx, type OnnxExportOptions } from './gpt2';
import { buildLlamaOnnx } from './llama';
import { encodeModel, type ModelProto } from './proto';

export type { OnnxExportOptions };

/** The ModelProto (plain object) of `config`'s family with `params` (its size table's names, f32). */
export function buildModelOnnx(config: ModelConfig, params: ReadonlyMap<string, Float32Array>, opts: OnnxExportOptions = {}): ModelProto {
  if (config.scoreHead) throw new Error('ONNX export: this is a reward model (a score head, no LM head): it scores sequences (`score`), it does not generate');
  return isLlamaConfig(config) ? buildLlamaOnnx(config, params, opts) : buildGpt2Onnx(config, params, opts);
}

/** The .onnx file bytes of `config`'s family with `params`. */
export function exportModelOnnx(config: ModelConfig, params: ReadonlyMap<string, Float32Array>, opts: OnnxExportOptions = {}): Uint8Array {
  return encodeModel(buildModelOnnx(config, params, opts));
}

/** Parameters the export holds (the tied head counted once). */
export function onnxParamCount(config: ModelConfig): number {
  return isLlamaConfig(config) ? llamaParamCount(config) : paramCount(config);
}

/**
 * What an OnnxLm and generation read of a config: the vocabulary (the logits' last axis), the
 * longest context (n_positions / max_position_embeddings), the id right padding uses (eos, as
 * batches use it; causal attention makes its value irrelevant), and every id that ends a
 * generation: config.json's eos_token_id, all of them when it lists several (Llama 3, Qwen2.5
 * instruct). generate() also stops at the tokenizer's own eos.
 */
export interface GenerationConfig {
  vocabSize: number;
  nPositions: number;
  padId: number;
  stopIds: number[];
}

export function generationConfig(config: ModelConfig): GenerationConfig {
  const seq = sequenceConfig(config);
  const eos: number | readonly number[] | null = config.eosTokenId;
  const stopIds = eos === null ? [] : Array.isArray(eos) ? [...eos] : [eos];
  return { vocabSize: seq.vocabSize, nPositions: seq.nPositions, padId: seq.eosTokenId, stopIds };
}
