// GPT-2 configuration and the one parameter size table (docs/design.md). Names are Hugging Face
// GPT2LMHeadModel's without the `transformer.` prefix; the LM head is tied to wte.
// Dimensions: V vocab, P positions, C channels, L layers, NH heads, HS = C/NH head size.
import type { TensorSpec } from '../engine/arena';
import { SCORE_WEIGHT, scoreHeadFromHF, scoreHeadToHF } from './score-config';

export interface GPTConfig {
  vocabSize: number; // V
  nPositions: number; // P, the longest sequence
  nEmbd: number; // C
  nLayer: number; // L
  nHead: number; // NH
  layerNormEpsilon: number;
  bosTokenId: number;
  eosTokenId: number;
  /**
   * A reward model (GPT2ForSequenceClassification, num_labels 1): the LM head is replaced by
   * `score.weight` [1, C], read at the last token that is not `padTokenId` (./score-config.ts).
   * Absent: GPT2LMHeadModel.
   */
  scoreHead?: boolean;
  /** config.json's pad_token_id (reward models only; null: the last token of each sequence is read). */
  padTokenId?: number | null;
}

/** The built-in byte-level tokenizer: 256 byte tokens plus <|endoftext|> = 256. */
export const BYTE_VOCAB = 257;
export const BYTE_EOT = 256;

export const MODEL_PRESETS = {
  /** ≤ 100k parameters, for tests on software WebGPU. */
  tiny: { vocabSize: BYTE_VOCAB, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5, bosTokenId: BYTE_EOT, eosTokenId: BYTE_EOT },
  /**
   * The built-in model's size: byte-level, ~125k parameters, 128 positions. Sized so that its
   * pretraining (`npm run pretrain`) fits ~35 minutes on software WebGPU (SwiftShader, 2 CPU
   * cores); a training step at batch 16 × 128 takes milliseconds on an integrated GPU.
   */
  builtin: { vocabSize: BYTE_VOCAB, nPositions: 128, nEmbd: 64, nLayer: 2, nHead: 4, layerNormEpsilon: 1e-5, bosTokenId: BYTE_EOT, eosTokenId: BYTE_EOT },
  /** GPT-2 small (124M) layout. */
  gpt2: { vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12, layerNormEpsilon: 1e-5, bosTokenId: 50256, eosTokenId: 50256 },
} satisfies Record<string, GPTConfig>;


/** Hugging Face's decay rule for GPT-2: every weight but biases and LayerNorm gains. */
export function gptDecays(name: string): boolean {
  return !name.endsWith('.bias') && !/(^|\.)ln_(1|2|f)\.weight$/.test(name);
}

export function presetConfig(name: string): GPTConfig {
  const p = (MODEL_PRESETS as Record<string, GPTConfig>)[name];
  if (!p) throw new Error(`unknown preset "${name}" (presets: ${Object.keys(MODEL_PRESETS).join(', ')})`);
  return { ...p };
}

/**
 * Bounds on a config's sizes, checked before anything is built from it (README.md, "Model
 * folders"). Each is far above every GPT-2 (V 50257, P 1024, C ≤ 1600, L ≤ 48, NH ≤ 25) and
 * keeps every size the engine computes an exact integer well inside what WebGPU addresses:
 * - vocabSize 2²⁰: 4× the largest vocabularies in use (~256k); token ids travel as u32.
 * - nPositions 2¹⁶: 64× GPT-2's 1024; activations grow linearly with it (attention keeps no T×T).
 * - nEmbd 2¹⁴: one c_fc weight (C, 4C) is then 4 GiB of f32, past any storage binding.
 * - nLayer 1024: 20× GPT-2 XL; every layer is 12 tensors and ~30 dispatches per pass.
 * - headSize (n_embd / n_head) 128: the attention kernels hold a head's row in 32 vec4s
 *   (shaders/attention.wgsl, MAX_H4); every GPT-2 size has 64.
 */
export const CONFIG_LIMITS = {
  vocabSize: 1 << 20,
  nPositions: 1 << 16,
  nEmbd: 1 << 14,
  nLayer: 1024,
  headSize: 128,
} as const;

/**
 * The most bytes one storage binding holds when no GPU device is known: 2³² − 4, the largest a
 * 32-bit range expresses (Vulkan's maxStorageBufferRange is a uint32, so Dawn on Vulkan, the
 * CLI's backend, reports at most this). With a device, min(maxBufferSize,
 * maxStorageBufferBindingSize) applies. Every parameter tensor a kernel binds whole must fit one
 * binding; the embedding / LM head is split by rows and the arenas span several buffers
 * (src/engine/arena.ts), so the model as a whole need not.
 */
export const MAX_BINDING_BYTES = 2 ** 32 - 4;

/**
 * The most f32 parameter bytes a model may have: 64 GiB (~17 billion parameters). WebGPU does not
 * report a GPU's memory, so this is no device's measure; it is where no single GPU can train
 * (training holds four such arenas: parameters, gradients, two Adam moments). What a device
 * cannot allocate is reported when the buffers are made (Arena.allocated).
 */
export const MAX_PARAM_BYTES = 2 ** 36;

/** The device limits that bound one parameter buffer and binding (a GPUSupportedLimits has both). */
export interface ParamLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
}

/** Hugging Face config.json names of the GPTConfig fields, for error messages. */
export const HF_FIELD: Record<keyof GPTConfig, string> = {
  vocabSize: 'vocab_size',
  nPositions: 'n_positions',
  nEmbd: 'n_embd',
  nLayer: 'n_layer',
  nHead: 'n_head',
  layerNormEpsilon: 'layer_norm_epsilon',
  bosTokenId: 'bos_token_id',
  eosTokenId: 'eos_token_id',
  scoreHead: 'architectures',
  padTokenId: 'pad_token_id',
};

/** Smallest positive normal f32: a smaller LayerNorm epsilon is 0 or subnormal on the GPU. */
const F32_MIN_NORMAL = 2 ** -126;

/**
 * Every field in range, each error one line naming the field (Hugging Face name) and why;
 * `where` prefixes it ("config.json" for a loaded file). O(1): nothing is built per layer.
 */
export function validateConfig(c: GPTConfig, where = 'config'): void {
  const bad = (k: keyof GPTConfig, why: string): never => {
    throw new Error(`${where}: ${HF_FIELD[k]} = ${String(c[k])} ${why}`);
  };
  const ints = ['vocabSize', 'nPositions', 'nEmbd', 'nLayer', 'nHead'] as const;
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) bad(k, 'must be a positive integer');
    if (k !== 'nHead' && v > CONFIG_LIMITS[k]) bad(k, `is more than ${CONFIG_LIMITS[k].toLocaleString('en-US')}, the largest PrefPlay supports`);
  }
  if (c.nHead > c.nEmbd || c.nEmbd % c.nHead !== 0) bad('nHead', `must divide n_embd (${c.nEmbd})`);
  const hs = c.nEmbd / c.nHead;
  if (hs > CONFIG_LIMITS.headSize) {
    bad('nHead', `gives head size n_embd/n_head = ${hs}, more than ${CONFIG_LIMITS.headSize} (the attention kernels' limit; every GPT-2 size has 64)`);
  }
  const eps = c.layerNormEpsilon;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || !(eps > 0)) bad('layerNormEpsilon', 'must be a finite number > 0');
  if (!Number.isFinite(Math.fround(eps))) bad('layerNormEpsilon', 'is not representable in f32 (it rounds to Infinity there)');
  if (Math.fround(eps) < F32_MIN_NORMAL) bad('layerNormEpsilon', `is below ${F32_MIN_NORMAL.toExponential(3)}, the smallest normal f32 (it would be 0 or subnormal on the GPU)`);
  if (eps > 1) bad('layerNormEpsilon', 'is more than 1 (it is added to a variance; GPT-2 uses 1e-5)');
  for (const k of ['bosTokenId', 'eosTokenId'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 0 || c[k] >= c.vocabSize) bad(k, `is outside the vocabulary [0, ${c.vocabSize})`);
  }
  const pad = c.padTokenId;
  if (pad !== undefined && pad !== null && (!Number.isInteger(pad) || pad < 0 || pad >= c.vocabSize)) bad('padTokenId', `is outside the vocabulary [0, ${c.vocabSize})`);
  checkParamBytes(c, null, where);
}

/** Bytes of the parameter tensors of one layer, in paramSpec order (f32). */
function layerTensorBytes(C: number): number[] {
  return [C, C, 3 * C * C, 3 * C, C * C, C, C, C, 4 * C * C, 4 * C, 4 * C * C, C].map((n) => 4 * n);
}

const alignUp = (n: number, a: number) => Math.ceil(n / a) * a;

/**
 * Bytes of the parameter arena (src/engine/arena.ts layoutArena: each tensor aligned to `align`
 * bytes, at most 256 on every WebGPU device), in closed form: O(1) however many layers.
 */
export function paramArenaBytes(c: GPTConfig, align = 256): number {
  const C = c.nEmbd;
  const layer = layerTensorBytes(C).reduce((a, b) => a + alignUp(b, align), 0);
  return alignUp(4 * c.vocabSize * C, align) + alignUp(4 * c.nPositions * C, align) + c.nLayer * layer + (c.scoreHead ? 3 : 2) * alignUp(4 * C, align);
}

/**
 * What no split can make fit, in one line naming the sizes that set it: more than MAX_PARAM_BYTES
 * of parameters, or a tensor the kernels bind whole (every one but wte, which is split by rows
 * when larger: src/engine/arena.ts) larger than one storage binding — the device's limits when
 * known, else MAX_BINDING_BYTES.
 */
export function checkParamBytes(c: GPTConfig, limits: ParamLimits | null, where = 'config'): void {
  const n = (x: number) => x.toLocaleString('en-US');
  const bytes = paramArenaBytes(c);
  if (bytes > MAX_PARAM_BYTES) {
    throw new Error(`${where}: vocab_size ${n(c.vocabSize)}, n_positions ${n(c.nPositions)}, n_embd ${n(c.nEmbd)} and n_layer ${n(c.nLayer)} imply ${n(paramCount(c))} parameters, ${n(bytes)} bytes as f32, more than ${n(MAX_PARAM_BYTES)} bytes, ${PARAM_CAP_NOTE}`);
  }
  const C = c.nEmbd;
  const whole: Array<[string, number[], string]> = [['wpe.weight', [c.nPositions, C], `n_positions ${n(c.nPositions)} and n_embd ${n(C)}`]];
  if (c.nLayer > 0) whole.push(['h.0.mlp.c_fc.weight', [C, 4 * C], `n_embd ${n(C)}`]);
  whole.push(['wte.weight (one row)', [1, C], `n_embd ${n(C)}`]);
  checkBindings(where, whole, limits);
}

/** Why MAX_PARAM_BYTES, for messages. */
export const PARAM_CAP_NOTE = 'PrefPlay\'s cap (64 GiB of f32 parameters: training holds four times that, more than any single GPU)';

/**
 * Throws for the first tensor (name, shape, the config fields that set it) larger than one storage
 * binding: the device's min(maxBufferSize, maxStorageBufferBindingSize), else MAX_BINDING_BYTES.
 */
export function checkBindings(where: string, whole: ReadonlyArray<readonly [string, readonly number[], string]>, limits: ParamLimits | null): void {
  const n = (x: number) => x.toLocaleString('en-US');
  const cap = limits ? Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize) : MAX_BINDING_BYTES;
  for (const [name, shape, fields] of whole) {
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    if (bytes <= cap) continue;
    const from = limits
      ? `this GPU's limit (maxBufferSize ${limits.maxBufferSize}, maxStorageBufferBindingSize ${limits.maxStorageBufferBindingSize}; a kernel binds this tensor whole)`
      : 'the largest storage binding with no GPU known (4 GiB − 4; a kernel binds this tensor whole)';
    throw new Error(`${where}: ${fields} ${fields.includes(' and ') ? 'make' : 'makes'} ${name} [${shape.map(n).join(', ')}] ${n(bytes)} bytes as f32, more than ${n(cap)} bytes, ${from}`);
  }
}

/** Every parameter tensor with its shape, in Hugging Face order. Conv1D weights are (in, out). */
export function paramSpec(c: GPTConfig): TensorSpec[] {
  const { vocabSize: V, nPositions: P, nEmbd: C, nLayer: L } = c;
  // the table grows with L: a config that skipped validateConfig must not make it unbounded
  if (!Number.isInteger(L) || L < 0 || L > CONFIG_LIMITS.nLayer) throw new Error(`config: n_layer = ${L} must be an integer from 0 to ${CONFIG_LIMITS.nLayer}`);
  const specs: TensorSpec[] = [
    { name: 'wte.weight', shape: [V, C] },
    { name: 'wpe.weight', shape: [P, C] },
  ];
  for (let i = 0; i < L; i++) {
    const h = `h.${i}`;
    specs.push(
      { name: `${h}.ln_1.weight`, shape: [C] },
      { name: `${h}.ln_1.bias`, shape: [C] },
      { name: `${h}.attn.c_attn.weight`, shape: [C, 3 * C] },
      { name: `${h}.attn.c_attn.bias`, shape: [3 * C] },
      { name: `${h}.attn.c_proj.weight`, shape: [C, C] },
      { name: `${h}.attn.c_proj.bias`, shape: [C] },
      { name: `${h}.ln_2.weight`, shape: [C] },
      { name: `${h}.ln_2.bias`, shape: [C] },
      { name: `${h}.mlp.c_fc.weight`, shape: [C, 4 * C] },
      { name: `${h}.mlp.c_fc.bias`, shape: [4 * C] },
      { name: `${h}.mlp.c_proj.weight`, shape: [4 * C, C] },
      { name: `${h}.mlp.c_proj.bias`, shape: [C] },
    );
  }
  specs.push({ name: 'ln_f.weight', shape: [C] }, { name: 'ln_f.bias', shape: [C] });
  // a reward model's score head (GPT2ForSequenceClassification.score, nn.Linear [num_labels, C])
  if (c.scoreHead) specs.push({ name: SCORE_WEIGHT, shape: [1, C] });
  return specs;
}

/** Parameters of paramSpec(c), in closed form (exact: every bounded config stays below 2⁵³). */
export function paramCount(c: GPTConfig): number {
  const { vocabSize: V, nPositions: P, nEmbd: C, nLayer: L } = c;
  return V * C + P * C + L * (12 * C * C + 13 * C) + (c.scoreHead ? 3 : 2) * C;
}

/** config.json (Hugging Face names) -> GPTConfig, naming the field that is wrong. */
export function configFromHF(json: Record<string, unknown>): GPTConfig {
  // a value as JSON, cut short: a message stays one readable line whatever the file holds
  const show = (v: unknown) => String(JSON.stringify(v)).slice(0, 80);
  if (json.model_type !== undefined && json.model_type !== 'gpt2') throw new Error(`config.json: model_type ${show(json.model_type)} is not supported (only "gpt2")`);
  const act = json.activation_function;
  if (act !== undefined && act !== 'gelu_new') throw new Error(`config.json: activation_function ${show(act)} is not supported (only "gelu_new")`);
  if (json.tie_word_embeddings === false) throw new Error('config.json: tie_word_embeddings=false is not supported (the LM head is tied to wte)');
  const num = (k: string, fallback?: unknown): number => {
    const v = json[k] ?? fallback;
    if (v === undefined) throw new Error(`config.json: field "${k}" is missing`);
    if (typeof v !== 'number') throw new Error(`config.json: field "${k}" must be a number, got ${show(v)}`);
    return v;
  };
  const cfg: GPTConfig = {
    vocabSize: num('vocab_size'),
    nPositions: num('n_positions', json.n_ctx),
    nEmbd: num('n_embd'),
    nLayer: num('n_layer'),
    nHead: num('n_head'),
    layerNormEpsilon: num('layer_norm_epsilon', 1e-5),
    bosTokenId: num('bos_token_id', 50256),
    eosTokenId: num('eos_token_id', 50256),
  };
  if (scoreHeadFromHF(json)) {
    const pad = json.pad_token_id ?? null;
    if (pad !== null && typeof pad !== 'number') throw new Error(`config.json: field "pad_token_id" must be a token id or null, got ${show(pad)}`);
    Object.assign(cfg, { scoreHead: true, padTokenId: pad });
  }
  validateConfig(cfg, 'config.json');
  return cfg;
}

export function configToHF(c: GPTConfig): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.nPositions,
    n_ctx: c.nPositions,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null,
    layer_norm_epsilon: c.layerNormEpsilon,
    activation_function: 'gelu_new',
    resid_pdrop: 0.0,
    embd_pdrop: 0.0,
    attn_pdrop: 0.0,
    initializer_range: 0.02,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenId,
    tie_word_embeddings: true,
    scale_attn_weights: true,
    torch_dtype: 'float32',
    ...(c.scoreHead ? scoreHeadToHF('GPT2LMHeadModel', c.padTokenId ?? null) : {}),
  };
}
