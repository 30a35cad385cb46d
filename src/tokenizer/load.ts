// A model folder's tokenizer files -> Tokenizer, through @huggingface/tokenizers (pure JS: runs
// in a worker, the page and Node). Accepts `tokenizer.json`, or GPT-2's `vocab.json` +
// `merges.txt`; `tokenizer_config.json` (when present) gives eos/bos tokens, the chat template
// and add_prefix_space. Files are passed as text so callers can read them however they like
// (File.text() in the page, fs in Node: see ./node-files.ts).
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import type { Tokenizer } from './types';
import { EOT_TEXT } from './byte';

export interface TokenizerFiles {
  tokenizerJson?: string;
  vocabJson?: string;
  mergesTxt?: string;
  tokenizerConfigJson?: string;
  /** `chat_template.jinja` (newer models keep the template there, not in tokenizer_config.json). */
  chatTemplate?: string;
}

type Json = Record<string, unknown>;

function parseJson(text: string, file: string): Json {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: invalid JSON (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${file}: expected a JSON object`);
  return v as Json;
}

/** eos_token / bos_token are a string or an AddedToken dict {content, …}. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as Json).content === 'string') return (v as Json).content as string;
  return undefined;
}

/** chat_template: a string, or a list of {name, template} (the "default" one is used). */
function chatTemplateOf(cfg: Json): string | undefined {
  const t = cfg.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t as Array<{ name?: string; template?: string }>;
    return (named.find((x) => x.name === 'default') ?? named[0])?.template;
  }
  return undefined;
}

/** GPT-2's vocab.json + merges.txt as an equivalent tokenizer.json. */
export function gpt2TokenizerJson(vocabJson: string, mergesTxt: string, cfg: Json): Json {
  const vocab = parseJson(vocabJson, 'vocab.json') as Record<string, number>;
  const merges = mergesTxt
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '' && !l.startsWith('#version'));
  merges.forEach((m, i) => {
    if (m.split(' ').length !== 2) throw new Error(`merges.txt line ${i + 1}: expected two tokens separated by one space, got "${m.slice(0, 40)}"`);
  });
  const added: Json[] = [];
  const decoder = cfg.added_tokens_decoder as Record<string, Json> | undefined;
  if (decoder && typeof decoder === 'object') {
    for (const [id, t] of Object.entries(decoder)) added.push({ id: Number(id), content: t.content, single_word: false, lstrip: false, rstrip: false, normalized: t.normalized ?? true, special: t.special ?? true });
  } else if (vocab[EOT_TEXT] !== undefined) {
    added.push({ id: vocab[EOT_TEXT], content: EOT_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true });
  }
  const addPrefixSpace = cfg.add_prefix_space === true;
  const byteLevel = { type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: true, use_regex: true };
  return {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges },
  };
}

class HFTokenizerAdapter implements Tokenizer {
  readonly kind = 'hf' as const;
  constructor(
    private readonly tok: HFTokenizer,
    readonly vocabSize: number,
    readonly eosTokenId: number,
    readonly bosTokenId: number,
    readonly chatTemplate: string | undefined,
    private readonly cleanUpSpaces: boolean,
    /** The model's unknown token (`unk_token` / `unk_id`), when it has one. */
    readonly unkTokenId: number | undefined,
    /** Special added tokens, id -> text: they carry no text of the data (the data pipeline's encodability check). */
    readonly specialTokens: ReadonlyMap<number, string>,
  ) {}

  encode(text: string): number[] {
    const ids = this.tok.encode(text, { add_special_tokens: false }).ids;
    // WordLevel models give `undefined` for out-of-vocabulary words: that is the unknown token
    if (ids.every(Number.isInteger)) return ids;
    const unk = this.unkTokenId;
    return unk === undefined ? ids.filter(Number.isInteger) : ids.map((id) => (Number.isInteger(id) ? id : unk));
  }

  decode(ids: readonly number[]): string {
    if (ids.length === 0) return '';
    return this.tok.decode([...ids], { clean_up_tokenization_spaces: this.cleanUpSpaces });
  }
}

/**
 * Builds the tokenizer of a model folder. eos: tokenizer_config's eos_token, else <|endoftext|>;
 * bos: bos_token, else eos. Throws a one-line error naming the file at fault.
 */
export async function loadTokenizerFromFiles(files: TokenizerFiles): Promise<Tokenizer> {
  const cfg = files.tokenizerConfigJson ? parseJson(files.tokenizerConfigJson, 'tokenizer_config.json') : {};
  let json: Json;
  if (files.tokenizerJson) json = parseJson(files.tokenizerJson, 'tokenizer.json');
  else if (files.vocabJson && files.mergesTxt) json = gpt2TokenizerJson(files.vocabJson, files.mergesTxt, cfg);
  else throw new Error('no tokenizer: need tokenizer.json, or vocab.json and merges.txt');
  for (const k of ['normalizer', 'pre_tokenizer', 'post_processor', 'decoder']) if (!(k in json)) json[k] = null;
  if (!Array.isArray(json.added_tokens)) json.added_tokens = [];
  if (!json.model || typeof json.model !== 'object') throw new Error('tokenizer.json: missing "model"');

  let tok: HFTokenizer;
  try {
    tok = new HFTokenizer(json, cfg);
  } catch (e) {
    throw new Error(`tokenizer.json: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const idOf = (name: string, field: string): number => {
    const id = tok.token_to_id(name);
    if (id === undefined) throw new Error(`tokenizer_config.json: ${field} "${name}" is not in the vocabulary`);
    return id;
  };
  const eosName = tokenContent(cfg.eos_token);
  let eos: number;
  if (eosName !== undefined) eos = idOf(eosName, 'eos_token');
  else {
    const id = tok.token_to_id(EOT_TEXT);
    if (id === undefined) throw new Error(`no end-of-text token: the vocabulary has no ${EOT_TEXT} and no tokenizer_config.json names an eos_token`);
    eos = id;
  }
  const bosName = tokenContent(cfg.bos_token);
  const bos = bosName !== undefined ? idOf(bosName, 'bos_token') : eos;
  let vocabSize = 0;
  for (const id of tok.get_vocab(true).values()) vocabSize = Math.max(vocabSize, id + 1);
  const template = files.chatTemplate ?? chatTemplateOf(cfg);
  return new HFTokenizerAdapter(tok, vocabSize, eos, bos, template, cfg.clean_up_tokenization_spaces === true, unknownId(json.model as Json, tok), specialTokens(json));
}

/** `unk_token` (BPE, WordPiece, WordLevel) or `unk_id` (Unigram) of tokenizer.json's model. */
function unknownId(model: Json, tok: HFTokenizer): number | undefined {
  if (typeof model.unk_id === 'number') return model.unk_id;
  return typeof model.unk_token === 'string' ? tok.token_to_id(model.unk_token) : undefined;
}

function specialTokens(json: Json): Map<number, string> {
  const out = new Map<number, string>();
  for (const t of json.added_tokens as Json[]) if (t && t.special === true && typeof t.id === 'number' && typeof t.content === 'string') out.set(t.id, t.content);
  return out;
}
