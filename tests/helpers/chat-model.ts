// A Llama-family folder the project never wrote itself the way `init` does: a byte-level BPE
// tokenizer with SmolLM2-style special tokens (<|endoftext|>, <|im_start|>, <|im_end|>, and a
// Llama-3-style <s> BOS the chat template prints), a ChatML chat template in
// tokenizer_config.json, a Qwen2 or Llama config sized to that vocabulary, seeded random weights,
// optionally sharded. The tests of chat rendering (BOS counted once, end-of-turn included) and
// the page's Llama e2e test load it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { byteLevelTokenizerJson } from '../../src/tokenizer/byte';
import { saveLlamaCheckpoint } from '../../src/model/llama-checkpoint';
import { initLlamaParams, llamaPresetConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';
import type { TokenizerFiles } from '../../src/model/checkpoint';

export const SPECIALS = { eot: 256, imStart: 257, imEnd: 258, bos: 259 } as const;
const NAMES: Record<number, string> = { 256: '<|endoftext|>', 257: '<|im_start|>', 258: '<|im_end|>', 259: '<s>' };
export const CHAT_VOCAB = 260;

/** ChatML with a leading BOS, as Llama-3-style templates print it. */
export const CHATML_TEMPLATE =
  "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

export function chatTokenizerFiles(maxLength: number): TokenizerFiles {
  const json = byteLevelTokenizerJson() as { added_tokens: unknown[] };
  json.added_tokens = Object.entries(NAMES).map(([id, content]) => ({ id: Number(id), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const cfg = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: '<s>',
    eos_token: '<|im_end|>',
    pad_token: '<|endoftext|>',
    unk_token: '<|endoftext|>',
    add_bos_token: false,
    clean_up_tokenization_spaces: false,
    model_max_length: maxLength,
    chat_template: CHATML_TEMPLATE,
    added_tokens_decoder: Object.fromEntries(Object.entries(NAMES).map(([id, content]) => [id, { content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true }])),
  };
  return { tokenizerJson: JSON.stringify(json), tokenizerConfigJson: JSON.stringify(cfg, null, 2) + '\n' };
}

/** qwen-tiny's (or llama-tiny's) shape over the chat vocabulary: eos <|im_end|>, bos <s>. */
export function chatModelConfig(preset: 'qwen-tiny' | 'llama-tiny'): LlamaFamilyConfig {
  return { ...llamaPresetConfig(preset), vocabSize: CHAT_VOCAB, bosTokenId: SPECIALS.bos, eosTokenId: SPECIALS.imEnd, padTokenId: null };
}

/** Writes the folder; `shardBytes` splits the weights into shards of about that size (index file). */
export function writeChatModel(dir: string, preset: 'qwen-tiny' | 'llama-tiny', seed: number, shardBytes?: number): { dir: string; files: string[]; config: LlamaFamilyConfig } {
  const config = chatModelConfig(preset);
  const files = saveLlamaCheckpoint(config, initLlamaParams(config, seed), chatTokenizerFiles(config.maxPositionEmbeddings), shardBytes ? { maxShardBytes: shardBytes } : {});
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  return { dir, files: [...files.keys()].map((n) => join(dir, n)), config };
}
