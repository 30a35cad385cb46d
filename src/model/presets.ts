// The seeded random models the page's "New random model" offers, of either family, and the
// one-line shape summary the page shows for any loaded model. Each family's own initialisation
// (./init.ts for GPT-2, initLlamaParams for Llama/Qwen2) and the built-in byte-level tokenizer.
import { byteTokenizerFiles, type TokenizerFiles } from './checkpoint';
import { presetConfig } from './config';
import { initParams } from './init';
import { llamaByteTokenizerFiles } from './llama-checkpoint';
import { initLlamaParams, llamaPresetConfig } from './llama-config';
import { isLlamaConfig, modelParamCount, modelType, sequenceConfig, type ModelConfig } from './family';

/** The page's random-model sizes: GPT-2 presets, then small Llama-family ones (GQA, q/k/v biases, untied head). */
export const FRESH_PRESETS = ['builtin', 'tiny', 'llama-tiny', 'qwen-tiny'] as const;
export type FreshPreset = (typeof FRESH_PRESETS)[number];

export function isFreshPreset(x: unknown): x is FreshPreset {
  return typeof x === 'string' && (FRESH_PRESETS as readonly string[]).includes(x);
}

/** A preset's config: the GPT-2 table's or the Llama family's. */
export function freshConfig(preset: FreshPreset): ModelConfig {
  return preset === 'llama-tiny' || preset === 'qwen-tiny' ? llamaPresetConfig(preset) : presetConfig(preset);
}

/** A seeded model of `preset` with the byte-level tokenizer's files, as `init --preset P --seed S` writes it. */
export function freshModel(preset: FreshPreset, seed: number): { config: ModelConfig; params: Map<string, Float32Array>; tokenizerFiles: TokenizerFiles } {
  const config = freshConfig(preset);
  if (isLlamaConfig(config)) return { config, params: initLlamaParams(config, seed), tokenizerFiles: llamaByteTokenizerFiles(config) };
  return { config, params: initParams(config, seed), tokenizerFiles: byteTokenizerFiles(config) };
}

/** What the page shows of a model's shape and reads of its length. */
export interface ModelSummary {
  family: string;
  nPositions: number;
  shape: { layers: number; heads: number; kvHeads: number; width: number };
  params: number;
}

export function modelSummary(c: ModelConfig): ModelSummary {
  const shape = isLlamaConfig(c)
    ? { layers: c.numHiddenLayers, heads: c.numAttentionHeads, kvHeads: c.numKeyValueHeads, width: c.hiddenSize }
    : { layers: c.nLayer, heads: c.nHead, kvHeads: c.nHead, width: c.nEmbd };
  return { family: modelType(c), nPositions: sequenceConfig(c).nPositions, shape, params: modelParamCount(c) };
}
