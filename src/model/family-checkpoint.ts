// Model folders of either family (docs/export.md): config.json's model_type says which, and each
// family writes its own layout (GPT-2: ./checkpoint.ts; Llama, Qwen2, Mistral: ./llama-checkpoint.ts).
import { saveCheckpoint, type LoadedCheckpoint, type TokenizerFiles } from './checkpoint';
import type { LoadedLlamaCheckpoint } from './llama-checkpoint';
import { saveLlamaCheckpoint } from './llama-checkpoint';
import { LLAMA_FAMILIES } from './llama-config';
import { isLlamaConfig, type ModelConfig } from './family';

/** A model folder as read, whichever family: config, parameters by Hugging Face name, tokenizer. */
export type LoadedModel = LoadedCheckpoint | LoadedLlamaCheckpoint;

/** Whether config.json's text names a Llama-family model_type (llama, qwen2, mistral); false for anything unreadable. */
export function isLlamaConfigJson(bytes: Uint8Array): boolean {
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    const type = typeof json === 'object' && json !== null ? (json as Record<string, unknown>).model_type : undefined;
    return typeof type === 'string' && (LLAMA_FAMILIES as readonly string[]).includes(type);
  } catch {
    return false;
  }
}

/**
 * The folder's files in the config's family layout; `tokenizer` 'byte' writes the built-in byte
 * tokenizer, files are carried over, null writes none.
 */
export function saveModelCheckpoint(config: ModelConfig, params: ReadonlyMap<string, Float32Array>, tokenizer: 'byte' | TokenizerFiles | null): Map<string, Uint8Array> {
  return isLlamaConfig(config) ? saveLlamaCheckpoint(config, params, tokenizer) : saveCheckpoint(config, params, tokenizer);
}
