// A model folder (docs/export.md): config.json + model.safetensors + tokenizer files, read and written
// through a name -> bytes function so the same code serves File objects in the browser and
// the file system in Node (./checkpoint-node.ts).
import type { GPTConfig } from './config';
import { BYTE_EOT, BYTE_VOCAB, checkParamBytes, configFromHF, configToHF, HF_FIELD, paramCount, paramSpec, validateConfig, type ParamLimits } from './config';
import { parseSafetensors, readTensorF32, serializeSafetensors, type SafeTensorsFile } from './safetensors';
import { SCORE_WEIGHT } from './score-config';
import type { Tokenizer } from '../tokenizer/types';
import { ByteTokenizer, byteLevelTokenizerJson, bytesToUnicode, EOT_TEXT } from '../tokenizer/byte';
import { loadTokenizerFromFiles, type TokenizerFiles as TokenizerLoadFiles } from '../tokenizer/load';

/** Bytes of the named file in the folder, or null when it is absent. */
export type ReadFile = (name: string) => Promise<Uint8Array | null>;

/** The tokenizer loader's files plus special_tokens_map.json, carried over on export. */
export interface TokenizerFiles extends TokenizerLoadFiles {
  specialTokensMapJson?: string;
}

export interface LoadedCheckpoint {
  config: GPTConfig;
  /** Every paramSpec tensor by its name without the `transformer.` prefix. */
  params: Map<string, Float32Array>;
  tokenizer: Tokenizer;
  /** The tokenizer files as read, so an export can carry them over unchanged. */
  tokenizerFiles: TokenizerFiles;
}

const TOKENIZER_FILE_NAMES: Record<keyof TokenizerFiles, string> = {
  tokenizerJson: 'tokenizer.json',
  vocabJson: 'vocab.json',
  mergesTxt: 'merges.txt',
  tokenizerConfigJson: 'tokenizer_config.json',
  specialTokensMapJson: 'special_tokens_map.json',
  chatTemplate: 'chat_template.jinja',
};

const PREFIX = 'transformer.';
/** Causal-mask buffers older transformers versions saved; not parameters. */
const IGNORED = /^h\.\d+\.attn\.(bias|masked_bias)$/;

const shapeStr = (s: readonly number[]) => `[${s.join(', ')}]`;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

export interface LoadOptions {
  /** The GPU's limits when a device is known: every tensor the kernels bind whole must fit one binding (parameters beyond MAX_PARAM_BYTES are refused either way). */
  limits?: ParamLimits | null;
}

/**
 * Every size is checked before anything is built from it: config.json's fields against their
 * bounds (validateConfig), then the parameters it implies against the tensors model.safetensors
 * holds and against the device's limits, in closed form, so a bad file fails in one line, fast,
 * with no allocation that grows with its numbers.
 */
export async function loadCheckpoint(read: ReadFile, opts: LoadOptions = {}): Promise<LoadedCheckpoint> {
  const configBytes = await read('config.json');
  if (!configBytes) throw new Error('config.json not found in the model folder');
  let json: unknown;
  try {
    json = JSON.parse(text(configBytes));
  } catch (e) {
    throw new Error(`config.json is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('config.json must be a JSON object');
  const config = configFromHF(json as Record<string, unknown>);

  const weights = await read('model.safetensors');
  if (!weights) {
    if (await read('model.safetensors.index.json')) throw new Error('model.safetensors not found: sharded checkpoints (model.safetensors.index.json) are not supported');
    throw new Error('model.safetensors not found in the model folder (pytorch_model.bin is not supported; save with safe_serialization=True)');
  }
  const params = paramsFromSafetensors(weights, config, opts.limits ?? null);

  const tokenizerFiles: TokenizerFiles = {};
  for (const [key, name] of Object.entries(TOKENIZER_FILE_NAMES) as Array<[keyof TokenizerFiles, string]>) {
    const b = await read(name);
    if (b) tokenizerFiles[key] = text(b);
  }
  if (!tokenizerFiles.tokenizerJson && !(tokenizerFiles.vocabJson && tokenizerFiles.mergesTxt)) {
    throw new Error('the model folder has no tokenizer: expected tokenizer.json, or vocab.json and merges.txt');
  }
  const tokenizer = isByteLevel(tokenizerFiles) ? new ByteTokenizer() : await loadTokenizerFromFiles(tokenizerFiles);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(`the tokenizer has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${config.vocabSize}`);
  }
  return { config, params, tokenizer, tokenizerFiles };
}

/**
 * Whether the files are the built-in byte-level tokenizer (one token per byte, <|endoftext|> =
 * 256, no merges), so the hand-written ByteTokenizer can stand in for the general loader.
 */
function isByteLevel(files: TokenizerFiles): boolean {
  if (!files.tokenizerJson) return false;
  let json: { model?: { type?: unknown; vocab?: Record<string, unknown>; merges?: unknown[] }; added_tokens?: Array<{ id?: unknown; content?: unknown }>; normalizer?: unknown };
  try {
    json = JSON.parse(files.tokenizerJson) as typeof json;
  } catch {
    return false; // the general loader reports the error
  }
  const m = json.model;
  if (!m || m.type !== 'BPE' || !Array.isArray(m.merges) || m.merges.length !== 0 || !m.vocab || json.normalizer) return false;
  const chars = bytesToUnicode();
  if (Object.keys(m.vocab).length !== 256 || chars.some((ch, b) => m.vocab![ch] !== b)) return false;
  const added = json.added_tokens ?? [];
  if (added.length !== 1 || added[0].id !== BYTE_EOT || added[0].content !== EOT_TEXT) return false;
  if (files.tokenizerConfigJson) {
    try {
      const cfg = JSON.parse(files.tokenizerConfigJson) as Record<string, unknown>;
      for (const k of ['eos_token', 'bos_token']) {
        const v = cfg[k] as unknown;
        const name = typeof v === 'object' && v !== null ? (v as { content?: unknown }).content : v;
        if (name !== undefined && name !== null && name !== EOT_TEXT) return false;
      }
    } catch {
      return false;
    }
  }
  return true;
}

/** model.safetensors -> paramSpec tensors, naming any missing, misshapen or unexpected tensor. */
export function paramsFromSafetensors(bytes: Uint8Array, config: GPTConfig, limits: ParamLimits | null = null): Map<string, Float32Array> {
  const file = parseSafetensors(bytes);
  const where = 'model.safetensors';
  checkImpliedSize(config, file);
  checkParamBytes(config, limits, 'config.json');
  const specs = paramSpec(config);
  const expected = new Map(specs.map((s) => [s.name, s.shape]));
  const stored = new Map<string, string>(); // bare name -> name in the file
  const unexpected: string[] = [];
  let lmHead: string | null = null;
  for (const name of file.tensors.keys()) {
    const bare = name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name;
    if (IGNORED.test(bare)) continue;
    if (bare === 'lm_head.weight') {
      lmHead = name;
      continue;
    }
    if (!expected.has(bare)) {
      unexpected.push(name);
      continue;
    }
    const prev = stored.get(bare);
    if (prev !== undefined) throw new Error(`${where}: tensor "${bare}" is stored twice (as "${prev}" and "${name}")`);
    stored.set(bare, name);
  }
  if (unexpected.length) {
    const list = unexpected.slice(0, 5).map((n) => `"${n}"`).join(', ') + (unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : '');
    throw new Error(`${where}: unexpected tensor ${list} (not part of a GPT-2 with n_layer=${config.nLayer}; does config.json match the weights?)`);
  }
  // every name and shape before any data is read
  for (const { name, shape } of specs) {
    const fileName = stored.get(name);
    if (fileName === undefined) throw new Error(`${where}: missing tensor "${name}" (expected shape ${shapeStr(shape)})`);
    const info = file.tensors.get(fileName)!;
    if (shapeStr(info.shape) !== shapeStr(shape)) throw new Error(`${where}: tensor "${fileName}" has shape ${shapeStr(info.shape)}, expected ${shapeStr(shape)}`);
  }
  const params = new Map<string, Float32Array>();
  for (const { name } of specs) {
    const fileName = stored.get(name)!;
    const data = readTensorF32(file, fileName);
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${where}: tensor "${fileName}" has a non-finite value (${data[bad]}) at element ${bad}`);
    params.set(name, data);
  }
  if (lmHead !== null) {
    // tied: the head must be wte itself, else these weights are a different model
    const info = file.tensors.get(lmHead)!;
    const wte = params.get('wte.weight')!;
    const head = shapeStr(info.shape) === shapeStr(expected.get('wte.weight')!) ? readTensorF32(file, lmHead) : null;
    if (!head || head.some((v, i) => v !== wte[i])) {
      throw new Error(`${where}: "${lmHead}" differs from wte.weight; only a LM head tied to the token embedding is supported`);
    }
  }
  return params;
}

/**
 * The parameters config.json implies (closed form) against the elements the file's tensors hold
 * (its header): more than the file has is refused when a field disagrees with the file's layer
 * count or embedding shapes, naming that field.
 */
function checkImpliedSize(config: GPTConfig, file: SafeTensorsFile): void {
  let held = 0;
  let layers = 0;
  const shapes = new Map<string, number[]>();
  for (const [name, t] of file.tensors) {
    const bare = name.startsWith(PREFIX) ? name.slice(PREFIX.length) : name;
    if (IGNORED.test(bare) || bare === 'lm_head.weight') continue;
    held += t.shape.reduce((a, d) => a * d, 1);
    const layer = /^h\.(\d+)\./.exec(bare);
    if (layer) layers = Math.max(layers, Number(layer[1]) + 1);
    if (bare === 'wte.weight' || bare === 'wpe.weight') shapes.set(bare, t.shape);
  }
  const need = paramCount(config);
  if (need <= held) return;
  const n = (x: number) => x.toLocaleString('en-US');
  const [wte, wpe] = [shapes.get('wte.weight'), shapes.get('wpe.weight')];
  const why: Array<[keyof GPTConfig, boolean, string]> = [
    ['nLayer', config.nLayer > layers, `${n(layers)} layer${layers === 1 ? '' : 's'}`],
    ['vocabSize', wte !== undefined && config.vocabSize > wte[0], `wte.weight with ${n(wte?.[0] ?? 0)} rows`],
    ['nPositions', wpe !== undefined && config.nPositions > wpe[0], `wpe.weight with ${n(wpe?.[0] ?? 0)} rows`],
    ['nEmbd', wte !== undefined && config.nEmbd > (wte[1] ?? 0), `wte.weight with ${n(wte?.[1] ?? 0)} columns`],
  ];
  const hit = why.find(([, bad]) => bad);
  // else a tensor is missing or misshapen: the tensor-by-tensor check names it (the config is
  // within its bounds, so its table is small)
  if (hit) throw new Error(`config.json: ${HF_FIELD[hit[0]]} = ${n(config[hit[0]] as number)} implies ${n(need)} parameters but model.safetensors holds ${n(held)} (${hit[2]}); does config.json belong to these weights?`);
}

/**
 * The folder's files: config.json, model.safetensors (F32, `transformer.` names; a reward model's
 * `score.weight` unprefixed, as GPT2ForSequenceClassification saves it) and the
 * tokenizer ('byte': the built-in byte-level one; files: carried over; null: none written).
 */
export function saveCheckpoint(config: GPTConfig, params: ReadonlyMap<string, Float32Array>, tokenizer: 'byte' | TokenizerFiles | null): Map<string, Uint8Array> {
  validateConfig(config);
  const enc = new TextEncoder();
  const tensors = paramSpec(config).map(({ name, shape }) => {
    const data = params.get(name);
    const n = shape.reduce((a, b) => a * b, 1);
    if (!data) throw new Error(`saveCheckpoint: missing parameter "${name}"`);
    if (data.length !== n) throw new Error(`saveCheckpoint: parameter "${name}" has ${data.length} elements, expected ${n} (shape ${shapeStr(shape)})`);
    // a reward model's score head sits beside the trunk (GPT2ForSequenceClassification.score)
    return { name: name === SCORE_WEIGHT ? name : PREFIX + name, shape, data };
  });
  const files = new Map<string, Uint8Array>();
  files.set('config.json', enc.encode(JSON.stringify(configToHF(config), null, 2) + '\n'));
  files.set('model.safetensors', serializeSafetensors(tensors, { format: 'pt' }));
  const tok = tokenizer === 'byte' ? byteTokenizerFiles(config) : tokenizer;
  for (const [key, name] of Object.entries(TOKENIZER_FILE_NAMES) as Array<[keyof TokenizerFiles, string]>) {
    const content = tok?.[key];
    if (content !== undefined) files.set(name, enc.encode(content));
  }
  return files;
}

/** The byte-level tokenizer as files transformers' AutoTokenizer loads (PreTrainedTokenizerFast). */
export function byteTokenizerFiles(config: GPTConfig): TokenizerFiles {
  if (config.vocabSize !== BYTE_VOCAB || config.eosTokenId !== BYTE_EOT) {
    throw new Error(`the byte tokenizer needs vocab_size ${BYTE_VOCAB} and eos_token_id ${BYTE_EOT}, the config has ${config.vocabSize} and ${config.eosTokenId}`);
  }
  const special = { bos_token: EOT_TEXT, eos_token: EOT_TEXT, unk_token: EOT_TEXT };
  const tokenizerConfig = {
    tokenizer_class: 'PreTrainedTokenizerFast',
    ...special,
    add_bos_token: false,
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    model_max_length: config.nPositions,
    added_tokens_decoder: {
      [String(BYTE_EOT)]: { content: EOT_TEXT, lstrip: false, normalized: true, rstrip: false, single_word: false, special: true },
    },
  };
  return {
    tokenizerJson: JSON.stringify(byteLevelTokenizerJson()),
    tokenizerConfigJson: JSON.stringify(tokenizerConfig, null, 2) + '\n',
    specialTokensMapJson: JSON.stringify(special, null, 2) + '\n',
  };
}

/** A ReadFile over browser File objects (a picked folder or files), matched by base name. */
export function readerFromFiles(files: Iterable<{ name: string; arrayBuffer(): Promise<ArrayBuffer> }>): ReadFile {
  const byName = new Map<string, { name: string; arrayBuffer(): Promise<ArrayBuffer> }>();
  for (const f of files) {
    const base = f.name.split(/[\\/]/).pop()!;
    if (byName.has(base)) throw new Error(`two files are named "${base}"; pick one model folder`);
    byName.set(base, f);
  }
  return async (name) => {
    const f = byName.get(name);
    return f ? new Uint8Array(await f.arrayBuffer()) : null;
  };
}
