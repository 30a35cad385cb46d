// The model picker's curated Hub models and its reading of a typed model id. Pure.
//
// Shapes come from each model's config.json on the Hub (SmolLM2-135M and Qwen2.5-0.5B are the
// engine's own presets; SmolLM2-360M and distilgpt2 are spelled out from theirs), so parameters
// and GPU memory are computed with the engine's size tables, never typed in. Download sizes are
// what the Hub lists for model.safetensors, in the dtype it was published in (bf16 or f32;
// PrefPlay computes in f32 whatever it reads).
import { presetConfig } from '../../model/config';
import { modelParamCount, type ModelConfig } from '../../model/family';
import { llamaPresetConfig } from '../../model/llama-config';
import { modelSummary } from '../../model/presets';
import { DEFAULT_ENDPOINT } from '../../hub/snapshot';
import { formatHubId, HUB_PREFIX, parseHubId } from '../../hub/id';

export interface CuratedModel {
  /** `ORG/NAME`. */
  id: string;
  /** What it is, in a few words. */
  about: string;
  config: ModelConfig;
  /** model.safetensors as the Hub lists it, bytes. */
  downloadBytes: number;
  dtype: 'bf16' | 'f32';
}

const smol135 = llamaPresetConfig('smollm2-135m');
/** HuggingFaceTB/SmolLM2-360M-Instruct config.json: SmolLM2-135M's layout, wider and deeper. */
const smol360: ModelConfig = { ...smol135, hiddenSize: 960, intermediateSize: 2560, numHiddenLayers: 32, numAttentionHeads: 15, numKeyValueHeads: 5 };
/** distilbert/distilgpt2 config.json: GPT-2 small with 6 layers. */
const distilgpt2: ModelConfig = { ...presetConfig('gpt2'), nLayer: 6 };

export const CURATED_MODELS: readonly CuratedModel[] = [
  { id: 'HuggingFaceTB/SmolLM2-135M-Instruct', about: 'Llama family, chat-tuned', config: smol135, downloadBytes: 269e6, dtype: 'bf16' },
  { id: 'HuggingFaceTB/SmolLM2-360M-Instruct', about: 'Llama family, chat-tuned', config: smol360, downloadBytes: 724e6, dtype: 'bf16' },
  { id: 'Qwen/Qwen2.5-0.5B-Instruct', about: 'Qwen2, chat-tuned', config: llamaPresetConfig('qwen2.5-0.5b'), downloadBytes: 988e6, dtype: 'bf16' },
  // GPT-2's safetensors also hold each layer's 1024×1024 attention mask buffer (hence > 4 × parameters)
  { id: 'openai-community/gpt2', about: 'GPT-2 small, not chat-tuned', config: presetConfig('gpt2'), downloadBytes: 548e6, dtype: 'f32' },
  { id: 'distilbert/distilgpt2', about: 'distilled GPT-2, not chat-tuned', config: distilgpt2, downloadBytes: 353e6, dtype: 'f32' },
];

export const curatedParams = (m: CuratedModel) => modelParamCount(m.config);
export const curatedPositions = (m: CuratedModel) => modelSummary(m.config).nPositions;

/** 134,515,008 → "135M". */
export function shortCount(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : n >= 1e6 ? `${Math.round(n / 1e6)}M` : `${Math.round(n / 1e3)}k`;
}

/** The host a download contacts, as the page names it: `huggingface.co`, `127.0.0.1:8080`. */
export function hubHost(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch {
    return endpoint;
  }
}

/**
 * A typed model id as the engine takes it, `ORG/NAME[@REVISION]`: from `ORG/NAME`,
 * `hf:ORG/NAME@REV`, or the model's page URL on the Hub or on `endpoint`
 * (https://huggingface.co/ORG/NAME, …/tree/REV); else a problem in words.
 */
export function readHubInput(text: string, endpoint: string = DEFAULT_ENDPOINT): { id: string } | { problem: string } {
  let t = text.trim();
  if (!t) return { problem: 'Type a model id: ORG/NAME, e.g. HuggingFaceTB/SmolLM2-135M-Instruct (optionally @REVISION).' };
  if (/^https?:\/\//i.test(t)) {
    const base = [endpoint, DEFAULT_ENDPOINT].map((e) => e.replace(/\/+$/, '') + '/').find((e) => t.startsWith(e));
    if (!base) return { problem: `"${t.slice(0, 100)}" is not a model page of ${hubHost(endpoint)}: type ORG/NAME instead.` };
    const parts = t.slice(base.length).split(/[?#]/)[0].split('/').filter(Boolean).map(decodeURIComponent);
    const rev = (parts[2] === 'tree' || parts[2] === 'resolve' || parts[2] === 'blob') && parts[3] ? `@${parts[3]}` : '';
    t = `${parts[0] ?? ''}/${parts[1] ?? ''}${rev}`;
  }
  if (t.startsWith(HUB_PREFIX)) t = t.slice(HUB_PREFIX.length);
  try {
    return { id: formatHubId(parseHubId(HUB_PREFIX + t)).slice(HUB_PREFIX.length) };
  } catch (e) {
    return { problem: (e as Error).message.replace(/^"hf:/, '"') };
  }
}
