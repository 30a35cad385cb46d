// A Llama-family model folder: config.json, model.safetensors or model.safetensors.index.json
// with its shards, and tokenizer files, read and written through a name -> bytes function (as
// ./checkpoint.ts does for GPT-2) so the page's File objects and Node's file system
// (./llama-checkpoint-node.ts) share the code. Tensors keep their Hugging Face names, with the
// `model.` prefix (accepted without it on import, as transformers accepts a base model's weights).
import type { Tokenizer } from '../tokenizer/types';
import { loadTokenizerFromFiles } from '../tokenizer/load';
import { byteTokenizerFiles, type ReadFile, type TokenizerFiles } from './checkpoint';
import type { GPTConfig, ParamLimits } from './config';
import { checkLlamaParamBytes, llamaConfigFromHF, llamaConfigToHF, llamaParamCount, llamaParamSpec, LLAMA_HF_FIELD, validateLlamaConfig, type LlamaFamilyConfig } from './llama-config';
import { parseSafetensors, readTensorF32, serializeSafetensors, type SafeTensorInfo, type SafeTensorsFile, type TensorToWrite } from './safetensors';
import { SCORE_WEIGHT } from './score-config';

export type { ReadFile, TokenizerFiles };

export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';

const TOKENIZER_FILE_NAMES: Record<keyof TokenizerFiles, string> = {
  tokenizerJson: 'tokenizer.json',
  vocabJson: 'vocab.json',
  mergesTxt: 'merges.txt',
  tokenizerConfigJson: 'tokenizer_config.json',
  specialTokensMapJson: 'special_tokens_map.json',
  chatTemplate: 'chat_template.jinja',
};

const PREFIX = 'model.';
const LM_HEAD = 'lm_head.weight';
const EMBED = 'model.embed_tokens.weight';
/** RoPE frequency buffers some older checkpoints saved; not parameters. */
const IGNORED = /^model\.(layers\.\d+\.self_attn\.)?rotary_emb\.inv_freq$/;
const FLOAT_DTYPES = new Set(['F32', 'F16', 'BF16', 'F64']);

const shapeStr = (s: readonly number[]) => `[${s.join(', ')}]`;
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const n = (x: number) => x.toLocaleString('en-US');

/** A tensor of a folder's weights and the file (model.safetensors or a shard) that holds it. */
export interface StoredTensor {
  fileName: string;
  file: SafeTensorsFile;
  info: SafeTensorInfo;
}

/** A folder's weights, one file or sharded: every tensor by its name in the files. */
export interface WeightFiles {
  /** What messages call the weights: model.safetensors or model.safetensors.index.json. */
  where: string;
  tensors: Map<string, StoredTensor>;
}

export interface LoadedLlamaWeights {
  config: LlamaFamilyConfig;
  /** Every llamaParamSpec tensor by its Hugging Face name (`model.` prefix; lm_head.weight when untied). */
  params: Map<string, Float32Array>;
}

export interface LoadedLlamaCheckpoint extends LoadedLlamaWeights {
  tokenizer: Tokenizer;
  /** The tokenizer files as read, so an export can carry them over unchanged. */
  tokenizerFiles: TokenizerFiles;
}

export interface LlamaLoadOptions {
  /** The GPU's limits when a device is known: every tensor the kernels bind whole must fit one binding (parameters beyond MAX_PARAM_BYTES are refused either way). */
  limits?: ParamLimits | null;
}

function parseJsonObject(bytes: Uint8Array, file: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(text(bytes));
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`${file} must be a JSON object`);
  return json as Record<string, unknown>;
}

/** config.json -> LlamaFamilyConfig (model_type llama, qwen2 or mistral). */
export async function readLlamaConfig(read: ReadFile): Promise<LlamaFamilyConfig> {
  const bytes = await read('config.json');
  if (!bytes) throw new Error('config.json not found in the model folder');
  return llamaConfigFromHF(parseJsonObject(bytes, 'config.json'));
}

/**
 * The folder's weights: model.safetensors when present (as transformers prefers it), else
 * model.safetensors.index.json and every shard its weight_map names. Only headers are parsed.
 */
export async function readWeightFiles(read: ReadFile): Promise<WeightFiles> {
  const single = await read(WEIGHTS_FILE);
  if (single) {
    const file = parseSafetensors(single);
    const tensors = new Map<string, StoredTensor>();
    for (const [name, info] of file.tensors) tensors.set(name, { fileName: WEIGHTS_FILE, file, info });
    return { where: WEIGHTS_FILE, tensors };
  }
  const indexBytes = await read(WEIGHTS_INDEX_FILE);
  if (!indexBytes) throw new Error(`${WEIGHTS_FILE} not found in the model folder, nor ${WEIGHTS_INDEX_FILE} (pytorch_model.bin is not supported; save with safe_serialization=True)`);
  const map = parseWeightIndex(indexBytes);
  const byShard = new Map<string, string[]>();
  for (const [name, shard] of map) {
    const names = byShard.get(shard);
    if (names) names.push(name);
    else byShard.set(shard, [name]);
  }
  const tensors = new Map<string, StoredTensor>();
  for (const [shard, names] of byShard) {
    const bytes = await read(shard);
    const holding = `"${names[0]}"${names.length > 1 ? ` and ${n(names.length - 1)} more` : ''}`;
    if (!bytes) throw new Error(`${WEIGHTS_INDEX_FILE}: shard "${shard}" (holding ${holding}) not found in the model folder`);
    let file: SafeTensorsFile;
    try {
      file = parseSafetensors(bytes);
    } catch (e) {
      throw new Error(`${shard}: ${(e as Error).message}`, { cause: e });
    }
    for (const name of names) if (!file.tensors.has(name)) throw new Error(`${WEIGHTS_INDEX_FILE}: weight_map puts "${name}" in "${shard}", which does not hold it`);
    // a shard's tensors count whether or not the map lists them (transformers loads whole shards)
    for (const [name, info] of file.tensors) {
      const prev = tensors.get(name);
      if (prev) throw new Error(`${WEIGHTS_INDEX_FILE}: tensor "${name}" is stored twice (in "${prev.fileName}" and "${shard}")`);
      tensors.set(name, { fileName: shard, file, info });
    }
  }
  return { where: WEIGHTS_INDEX_FILE, tensors };
}

/**
 * model.safetensors.index.json's weight_map (tensor name -> shard file), each shard a plain
 * file name in the same folder.
 */
export function parseWeightIndex(bytes: Uint8Array): Map<string, string> {
  const json = parseJsonObject(bytes, WEIGHTS_INDEX_FILE);
  const wm = json.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) throw new Error(`${WEIGHTS_INDEX_FILE}: "weight_map" must be an object of tensor name -> shard file`);
  const map = new Map<string, string>();
  for (const [name, shard] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof shard !== 'string') throw new Error(`${WEIGHTS_INDEX_FILE}: weight_map["${name}"] must be a file name, got ${String(JSON.stringify(shard)).slice(0, 80)}`);
    if (!/^[^/\\]+$/.test(shard) || shard === '.' || shard === '..' || shard === WEIGHTS_INDEX_FILE || shard === 'config.json') {
      throw new Error(`${WEIGHTS_INDEX_FILE}: weight_map["${name}"] = "${shard.slice(0, 80)}" is not a shard file name in the model folder`);
    }
    map.set(name, shard);
  }
  if (map.size === 0) throw new Error(`${WEIGHTS_INDEX_FILE}: weight_map is empty`);
  return map;
}

/**
 * A name as transformers matches it against LlamaForCausalLM (or *ForSequenceClassification): the
 * base model's names gain `model.`; the heads (lm_head.weight, a reward model's score.weight) do not.
 */
function canonicalName(name: string): string {
  return name.startsWith(PREFIX) || name === LM_HEAD || name === SCORE_WEIGHT ? name : PREFIX + name;
}

/**
 * The folder's weights -> llamaParamSpec tensors as f32 (F32, F16, BF16 exactly; F64 rounded).
 * Every size is checked before any tensor data is read: the parameters config.json implies
 * against those the files hold (naming the field that disagrees), against the device's limits,
 * then every expected name, shape and dtype.
 */
export function llamaParamsFromWeights(weights: WeightFiles, config: LlamaFamilyConfig, limits: ParamLimits | null = null): Map<string, Float32Array> {
  const where = weights.where;
  checkImpliedSize(config, weights);
  checkLlamaParamBytes(config, limits, 'config.json');
  const specs = llamaParamSpec(config);
  const expected = new Map(specs.map((s) => [s.name, s.shape]));
  const stored = new Map<string, string>(); // canonical name -> name in the files
  const unexpected: string[] = [];
  let tiedHead: string | null = null;
  for (const name of weights.tensors.keys()) {
    const canon = canonicalName(name);
    if (IGNORED.test(canon)) continue;
    if (canon === LM_HEAD && config.tieWordEmbeddings) {
      tiedHead = name;
      continue;
    }
    if (!expected.has(canon)) {
      unexpected.push(name);
      continue;
    }
    const prev = stored.get(canon);
    if (prev !== undefined) throw new Error(`${where}: tensor "${canon}" is stored twice (as "${prev}" and "${name}")`);
    stored.set(canon, name);
  }
  if (unexpected.length) {
    const list = unexpected.slice(0, 5).map((t) => `"${t}"`).join(', ') + (unexpected.length > 5 ? ` and ${unexpected.length - 5} more` : '');
    throw new Error(`${where}: unexpected tensor ${list} (not part of a ${describeConfig(config)}; does config.json match the weights?)`);
  }
  // every name, shape and dtype before any data is read
  for (const { name, shape } of specs) {
    const fileName = stored.get(name);
    if (fileName === undefined) {
      const hint = name === LM_HEAD ? '; tie_word_embeddings is false' : '';
      throw new Error(`${where}: missing tensor "${name}" (expected shape ${shapeStr(shape)}${hint})`);
    }
    const t = weights.tensors.get(fileName)!;
    if (!FLOAT_DTYPES.has(t.info.dtype)) throw new Error(`${t.fileName}: tensor "${fileName}" has dtype ${t.info.dtype}, expected F32, F16, BF16 or F64`);
    if (shapeStr(t.info.shape) !== shapeStr(shape)) throw new Error(`${t.fileName}: tensor "${fileName}" has shape ${shapeStr(t.info.shape)}, expected ${shapeStr(shape)}`);
  }
  const params = new Map<string, Float32Array>();
  for (const { name } of specs) {
    const fileName = stored.get(name)!;
    const t = weights.tensors.get(fileName)!;
    const data = readTensorF32(t.file, fileName);
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${t.fileName}: tensor "${fileName}" has a non-finite value (${data[bad]}) at element ${bad}`);
    params.set(name, data);
  }
  if (tiedHead !== null) {
    // tied: a stored head must be the embedding itself, else these weights are a different model
    const t = weights.tensors.get(tiedHead)!;
    const embed = params.get(EMBED)!;
    const ok = FLOAT_DTYPES.has(t.info.dtype) && shapeStr(t.info.shape) === shapeStr(expected.get(EMBED)!);
    const head = ok ? readTensorF32(t.file, tiedHead) : null;
    if (!head || head.some((v, i) => v !== embed[i])) {
      throw new Error(`${t.fileName}: "${tiedHead}" differs from ${EMBED} but config.json has tie_word_embeddings true; set it to false if the head is separate`);
    }
  }
  return params;
}

function describeConfig(c: LlamaFamilyConfig): string {
  const switches = [`num_hidden_layers=${c.numHiddenLayers}`, `tie_word_embeddings=${c.tieWordEmbeddings}`];
  if (c.family === 'llama') switches.push(`attention_bias=${c.attentionBias}`);
  return `${c.family} model with ${switches.join(', ')}`;
}

/**
 * The parameters config.json implies (closed form) against the elements the files' tensors hold
 * (their headers): more than the files have is refused when a field disagrees with the files'
 * layer count or tensor shapes, naming that field.
 */
function checkImpliedSize(config: LlamaFamilyConfig, weights: WeightFiles): void {
  let held = 0;
  let layers = 0;
  let hasHead = false;
  const shapes = new Map<string, number[]>();
  const watched = new Set([EMBED, 'model.layers.0.self_attn.q_proj.weight', 'model.layers.0.self_attn.k_proj.weight', 'model.layers.0.mlp.gate_proj.weight']);
  for (const [name, t] of weights.tensors) {
    const canon = canonicalName(name);
    if (IGNORED.test(canon)) continue;
    if (canon === LM_HEAD) {
      hasHead = true;
      if (config.tieWordEmbeddings) continue;
    }
    held += t.info.shape.reduce((a, d) => a * d, 1);
    const layer = /^model\.layers\.(\d+)\./.exec(canon);
    if (layer) layers = Math.max(layers, Number(layer[1]) + 1);
    if (watched.has(canon)) shapes.set(canon, t.info.shape);
  }
  const need = llamaParamCount(config);
  if (need <= held) return;
  const [embed, q, k, gate] = [...watched].map((w) => shapes.get(w));
  const rows = (s: number[] | undefined) => s?.[0] ?? 0;
  const cols = (s: number[] | undefined) => s?.[1] ?? 0;
  const { headDim: HS } = config;
  const why: Array<[keyof LlamaFamilyConfig, boolean, string]> = [
    ['numHiddenLayers', config.numHiddenLayers > layers, `${n(layers)} layer${layers === 1 ? '' : 's'}`],
    ['vocabSize', embed !== undefined && config.vocabSize > rows(embed), `${EMBED} with ${n(rows(embed))} rows`],
    ['hiddenSize', embed !== undefined && config.hiddenSize > cols(embed), `${EMBED} with ${n(cols(embed))} columns`],
    ['intermediateSize', gate !== undefined && config.intermediateSize > rows(gate), `mlp.gate_proj.weight with ${n(rows(gate))} rows`],
    ['numAttentionHeads', q !== undefined && config.numAttentionHeads * HS > rows(q), `self_attn.q_proj.weight with ${n(rows(q))} rows, head_dim ${HS}`],
    ['numKeyValueHeads', k !== undefined && config.numKeyValueHeads * HS > rows(k), `self_attn.k_proj.weight with ${n(rows(k))} rows, head_dim ${HS}`],
    ['tieWordEmbeddings', !config.tieWordEmbeddings && !config.scoreHead && !hasHead, `no ${LM_HEAD}`],
  ];
  const hit = why.find(([, bad]) => bad);
  // else a tensor is missing or misshapen: the tensor-by-tensor check names it (the config is
  // within its bounds, so its table is small)
  if (hit) {
    const [k, , detail] = hit;
    throw new Error(`config.json: ${LLAMA_HF_FIELD[k]} = ${String(config[k])} implies ${n(need)} parameters but ${weights.where} holds ${n(held)} (${detail}); does config.json belong to these weights?`);
  }
}

/** config.json and the weights: every size checked before anything is built (llamaParamsFromWeights). */
export async function loadLlamaWeights(read: ReadFile, opts: LlamaLoadOptions = {}): Promise<LoadedLlamaWeights> {
  const config = await readLlamaConfig(read);
  const weights = await readWeightFiles(read);
  return { config, params: llamaParamsFromWeights(weights, config, opts.limits ?? null) };
}

/** loadLlamaWeights plus the folder's tokenizer (tokenizer.json, or vocab.json and merges.txt). */
export async function loadLlamaCheckpoint(read: ReadFile, opts: LlamaLoadOptions = {}): Promise<LoadedLlamaCheckpoint> {
  const { config, params } = await loadLlamaWeights(read, opts);
  const tokenizerFiles: TokenizerFiles = {};
  for (const [key, name] of Object.entries(TOKENIZER_FILE_NAMES) as Array<[keyof TokenizerFiles, string]>) {
    const b = await read(name);
    if (b) tokenizerFiles[key] = text(b);
  }
  if (!tokenizerFiles.tokenizerJson && !(tokenizerFiles.vocabJson && tokenizerFiles.mergesTxt)) {
    throw new Error('the model folder has no tokenizer: expected tokenizer.json, or vocab.json and merges.txt');
  }
  const tokenizer = await loadTokenizerFromFiles(tokenizerFiles);
  if (tokenizer.vocabSize > config.vocabSize) {
    throw new Error(`the tokenizer has ${tokenizer.vocabSize} tokens but config.json vocab_size is ${config.vocabSize}`);
  }
  return { config, params, tokenizer, tokenizerFiles };
}

export interface LlamaSaveOptions {
  /**
   * Split the weights into shards of at most this many bytes of tensor data (a tensor larger
   * than that gets a shard of its own), named as transformers names them
   * (model-00001-of-00003.safetensors) with model.safetensors.index.json; unset: one file.
   */
  maxShardBytes?: number;
}

/** The name transformers gives shard i (1-based) of count. */
export function shardFileName(i: number, count: number): string {
  const pad = (x: number) => String(x).padStart(5, '0');
  return `model-${pad(i)}-of-${pad(count)}.safetensors`;
}

/**
 * The folder's files: config.json (llamaConfigToHF), the weights as F32 with Hugging Face names
 * (model.safetensors, or shards and their index), and the tokenizer ('byte': the built-in
 * byte-level one; files: carried over; null: none written).
 */
export function saveLlamaCheckpoint(config: LlamaFamilyConfig, params: ReadonlyMap<string, Float32Array>, tokenizer: 'byte' | TokenizerFiles | null, opts: LlamaSaveOptions = {}): Map<string, Uint8Array> {
  validateLlamaConfig(config);
  const enc = new TextEncoder();
  const tensors: TensorToWrite[] = llamaParamSpec(config).map(({ name, shape }) => {
    const data = params.get(name);
    const count = shape.reduce((a, b) => a * b, 1);
    if (!data) throw new Error(`saveLlamaCheckpoint: missing parameter "${name}"`);
    if (data.length !== count) throw new Error(`saveLlamaCheckpoint: parameter "${name}" has ${data.length} elements, expected ${count} (shape ${shapeStr(shape)})`);
    return { name, shape, data };
  });
  const files = new Map<string, Uint8Array>();
  files.set('config.json', enc.encode(JSON.stringify(llamaConfigToHF(config), null, 2) + '\n'));
  const max = opts.maxShardBytes;
  if (max !== undefined && !(Number.isSafeInteger(max) && max > 0)) throw new Error(`saveLlamaCheckpoint: maxShardBytes must be a positive integer, got ${max}`);
  const total = tensors.reduce((a, t) => a + 4 * t.data.length, 0);
  if (max === undefined || total <= max) {
    files.set(WEIGHTS_FILE, serializeSafetensors(tensors, { format: 'pt' }));
  } else {
    const shards: TensorToWrite[][] = [];
    let size = Infinity;
    for (const t of tensors) {
      if (size + 4 * t.data.length > max) {
        shards.push([]);
        size = 0;
      }
      shards[shards.length - 1].push(t);
      size += 4 * t.data.length;
    }
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, i) => {
      const name = shardFileName(i + 1, shards.length);
      files.set(name, serializeSafetensors(shard, { format: 'pt' }));
      for (const t of shard) weightMap[t.name] = name;
    });
    files.set(WEIGHTS_INDEX_FILE, enc.encode(JSON.stringify({ metadata: { total_size: total }, weight_map: weightMap }, null, 2) + '\n'));
  }
  const tok = tokenizer === 'byte' ? llamaByteTokenizerFiles(config) : tokenizer;
  for (const [key, name] of Object.entries(TOKENIZER_FILE_NAMES) as Array<[keyof TokenizerFiles, string]>) {
    const content = tok?.[key];
    if (content !== undefined) files.set(name, enc.encode(content));
  }
  return files;
}

/** The built-in byte-level tokenizer's files for a Llama-family config with its vocabulary (257, eos 256). */
export function llamaByteTokenizerFiles(config: LlamaFamilyConfig): TokenizerFiles {
  if (typeof config.eosTokenId !== 'number') throw new Error(`the byte tokenizer needs eos_token_id 256, the config has ${JSON.stringify(config.eosTokenId)}`);
  // the GPT-2 helper reads the vocabulary, end-of-text id and longest sequence
  const shape: GPTConfig = {
    vocabSize: config.vocabSize,
    nPositions: config.maxPositionEmbeddings,
    nEmbd: config.hiddenSize,
    nLayer: config.numHiddenLayers,
    nHead: config.numAttentionHeads,
    layerNormEpsilon: config.rmsNormEps,
    bosTokenId: config.bosTokenId ?? config.eosTokenId,
    eosTokenId: config.eosTokenId,
  };
  return byteTokenizerFiles(shape);
}
