// Llama-family configuration (Hugging Face LlamaForCausalLM, Qwen2ForCausalLM and
// MistralForCausalLM where Mistral computes the same thing) and its one parameter size table,
// with Hugging Face names (`model.` prefix; docs/design.md, "Adding a model family").
// Dimensions: V vocab, C hidden_size, I intermediate_size, L layers, NH query heads, NKV
// key/value heads, HS head_dim, P max_position_embeddings. nn.Linear weights are [out, in].
// The float64 oracle is src/reference/llama.ts; llamaRefConfig turns a config into its input.
import type { TensorSpec } from '../engine/arena';
import type { LlamaConfig as LlamaRefConfig } from '../reference/llama';
import { BYTE_EOT, BYTE_VOCAB, checkBindings, CONFIG_LIMITS, MAX_PARAM_BYTES, PARAM_CAP_NOTE, type ParamLimits } from './config';
import { Rng } from '../util/rng';
import { SCORE_WEIGHT, scoreHeadFromHF, scoreHeadToHF } from './score-config';

/** The `model_type` of config.json. Qwen2 has q/k/v biases always; Mistral none. */
export type LlamaFamily = 'llama' | 'qwen2' | 'mistral';

export const LLAMA_FAMILIES: readonly LlamaFamily[] = ['llama', 'qwen2', 'mistral'];

/** The `architectures` entry transformers' AutoModelForCausalLM builds for each family. */
export const LLAMA_ARCHITECTURES: Record<LlamaFamily, string> = {
  llama: 'LlamaForCausalLM',
  qwen2: 'Qwen2ForCausalLM',
  mistral: 'MistralForCausalLM',
};

export interface LlamaFamilyConfig {
  family: LlamaFamily;
  vocabSize: number; // V
  hiddenSize: number; // C
  intermediateSize: number; // I
  numHiddenLayers: number; // L
  numAttentionHeads: number; // NH
  numKeyValueHeads: number; // NKV, divides NH
  /** HS, resolved: config.json's head_dim, else hidden_size / num_attention_heads. */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  maxPositionEmbeddings: number; // P
  tieWordEmbeddings: boolean;
  /**
   * llama only: biases on q_proj, k_proj, v_proj and o_proj. Always false for qwen2 (whose
   * q/k/v biases are part of the family, o_proj has none) and mistral (no biases).
   */
  attentionBias: boolean;
  bosTokenId: number | null;
  /** One id, or several (e.g. Llama 3 instruct models list three). */
  eosTokenId: number | number[] | null;
  /** nn.Embedding's padding_idx: that row starts at zero and gets no gradient from the lookup. */
  padTokenId: number | null;
  /** The dtype config.json says the weights were saved in; PrefPlay computes and exports f32. */
  torchDtype: string | null;
  /**
   * A reward model (LlamaForSequenceClassification, Qwen2…, Mistral…, num_labels 1): no LM head;
   * `score.weight` [1, C] read at the last token that is not pad_token_id (./score-config.ts).
   * Absent: the causal LM.
   */
  scoreHead?: boolean;
}

/** config.json names of the LlamaFamilyConfig fields, for error messages. */
export const LLAMA_HF_FIELD: Record<keyof LlamaFamilyConfig, string> = {
  family: 'model_type',
  vocabSize: 'vocab_size',
  hiddenSize: 'hidden_size',
  intermediateSize: 'intermediate_size',
  numHiddenLayers: 'num_hidden_layers',
  numAttentionHeads: 'num_attention_heads',
  numKeyValueHeads: 'num_key_value_heads',
  headDim: 'head_dim',
  rmsNormEps: 'rms_norm_eps',
  ropeTheta: 'rope_theta',
  maxPositionEmbeddings: 'max_position_embeddings',
  tieWordEmbeddings: 'tie_word_embeddings',
  attentionBias: 'attention_bias',
  bosTokenId: 'bos_token_id',
  eosTokenId: 'eos_token_id',
  padTokenId: 'pad_token_id',
  torchDtype: 'torch_dtype',
  scoreHead: 'architectures',
};

/**
 * Bounds on a config's sizes, checked before anything is built from it; the GPT-2 bounds
 * (CONFIG_LIMITS in ./config.ts) where the quantity is the same, for the same reasons:
 * - vocabSize 2²⁰ (4× the largest vocabularies in use, ~256k; token ids travel as u32);
 * - hiddenSize 2¹⁴ (a [V, C] embedding or [I, C] MLP weight stays addressable);
 * - numHiddenLayers 1024 (every layer is 9 to 13 tensors and a few dozen dispatches per pass);
 * - headDim 128: the attention kernels hold a head's row in 32 vec4s (shaders/attention.wgsl,
 *   MAX_H4); SmolLM2 and Qwen2.5 use 64 and 128. It must also be even (RoPE rotates halves).
 * And for what GPT-2 does not have:
 * - attentionWidth NH·HS 2¹⁴, like hidden_size: q_proj is [NH·HS, C] (Llama 3 405B: 128·128);
 * - intermediateSize 2¹⁶, 1.2× the largest in use (53,248): with hidden_size 2¹⁴ one gate_proj
 *   is then 2³⁰ f32 = 4 GiB, past any storage binding;
 * - maxPositionEmbeddings 2¹⁸, 2× the longest context of these families' released models
 *   (131,072): it sizes no tensor, only the RoPE angles of the sequences actually used.
 */
export const LLAMA_CONFIG_LIMITS = {
  vocabSize: CONFIG_LIMITS.vocabSize,
  hiddenSize: CONFIG_LIMITS.nEmbd,
  intermediateSize: 1 << 16,
  numHiddenLayers: CONFIG_LIMITS.nLayer,
  headDim: CONFIG_LIMITS.headSize,
  attentionWidth: CONFIG_LIMITS.nEmbd,
  maxPositionEmbeddings: 1 << 18,
} as const;

/** transformers' defaults for the fields a family's config class fills in when config.json omits them. */
const FAMILY_DEFAULTS: Record<LlamaFamily, { maxPositionEmbeddings: number; bos: number | null; eos: number | null; nkv: number | 'heads' }> = {
  // LlamaConfig: num_key_value_heads None -> num_attention_heads
  llama: { maxPositionEmbeddings: 2048, bos: 1, eos: 2, nkv: 'heads' },
  // Qwen2Config's signature default is 32 (None -> num_attention_heads)
  qwen2: { maxPositionEmbeddings: 32768, bos: null, eos: null, nkv: 32 },
  // MistralConfig's is 8 (None -> num_attention_heads)
  mistral: { maxPositionEmbeddings: 4096 * 32, bos: 1, eos: 2, nkv: 8 },
};
const DEFAULT_RMS_NORM_EPS = 1e-6;
const DEFAULT_ROPE_THETA = 10000;
/** MistralConfig's and Qwen2Config's sliding_window when config.json omits it. */
const DEFAULT_SLIDING_WINDOW = 4096;
/** Qwen2Config's max_window_layers when config.json omits it. */
const DEFAULT_MAX_WINDOW_LAYERS = 28;

/** transformers' initializer_range default for all three families. */
export const LLAMA_INITIALIZER_RANGE = 0.02;

/** Smallest positive normal f32: a smaller RMSNorm epsilon is 0 or subnormal on the GPU. */
const F32_MIN_NORMAL = 2 ** -126;

/** q/k/v biases: qwen2 always, llama with attention_bias. o_proj bias: llama with attention_bias. */
export function llamaBiases(c: LlamaFamilyConfig): { qkv: boolean; o: boolean } {
  const llamaBias = c.family === 'llama' && c.attentionBias;
  return { qkv: c.family === 'qwen2' || llamaBias, o: llamaBias };
}

/**
 * AdamW's weight decay as Hugging Face's Trainer (and TRL) apply it by default: the weights of
 * the Linear and Embedding modules, not biases and not the RMSNorm gains (input_layernorm,
 * post_attention_layernorm, model.norm).
 */
export function llamaDecays(name: string): boolean {
  return !name.endsWith('.bias') && !/(^|\.)(input_layernorm|post_attention_layernorm|norm)\.weight$/.test(name);
}

/** The embedding row that nn.Embedding(padding_idx = pad_token_id) keeps at zero, or null. */
export function llamaPaddingRow(c: LlamaFamilyConfig): number | null {
  if (c.padTokenId === null) return null;
  return c.padTokenId < 0 ? c.padTokenId + c.vocabSize : c.padTokenId;
}

const n = (x: number) => x.toLocaleString('en-US');
// a value as JSON, cut short: a message stays one readable line whatever the file holds
const show = (v: unknown) => String(JSON.stringify(v)).slice(0, 80);

/**
 * Every field in range, each error one line naming the field (config.json name) and why; `where`
 * prefixes it ("config.json" for a loaded file). O(1): nothing is built per layer.
 */
export function validateLlamaConfig(c: LlamaFamilyConfig, where = 'config'): void {
  const bad = (k: keyof LlamaFamilyConfig, why: string): never => {
    throw new Error(`${where}: ${LLAMA_HF_FIELD[k]} = ${show(c[k])} ${why}`);
  };
  if (!LLAMA_FAMILIES.includes(c.family)) bad('family', `is not supported (only ${LLAMA_FAMILIES.map((f) => `"${f}"`).join(', ')})`);
  const ints = ['vocabSize', 'hiddenSize', 'intermediateSize', 'numHiddenLayers', 'numAttentionHeads', 'numKeyValueHeads', 'headDim', 'maxPositionEmbeddings'] as const;
  for (const k of ints) {
    const v = c[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) bad(k, 'must be a positive integer');
  }
  const limited = ['vocabSize', 'hiddenSize', 'intermediateSize', 'numHiddenLayers', 'maxPositionEmbeddings'] as const;
  for (const k of limited) if (c[k] > LLAMA_CONFIG_LIMITS[k]) bad(k, `is more than ${n(LLAMA_CONFIG_LIMITS[k])}, the largest PrefPlay supports`);
  if (c.headDim > LLAMA_CONFIG_LIMITS.headDim) bad('headDim', `is more than ${LLAMA_CONFIG_LIMITS.headDim} (the attention kernels' limit; SmolLM2 and Qwen2.5 use 64 and 128)`);
  if (c.headDim % 2 !== 0) bad('headDim', 'must be even (rotary embeddings rotate the two halves of a head)');
  const width = c.numAttentionHeads * c.headDim;
  if (width > LLAMA_CONFIG_LIMITS.attentionWidth) bad('numAttentionHeads', `times head_dim (${c.headDim}) is ${n(width)}, more than ${n(LLAMA_CONFIG_LIMITS.attentionWidth)}, the largest attention width PrefPlay supports`);
  if (c.numKeyValueHeads > c.numAttentionHeads || c.numAttentionHeads % c.numKeyValueHeads !== 0) {
    bad('numKeyValueHeads', `must divide num_attention_heads (${c.numAttentionHeads}): query head h reads key/value head h // (num_attention_heads / num_key_value_heads)`);
  }
  const eps = c.rmsNormEps;
  if (typeof eps !== 'number' || !Number.isFinite(eps) || !(eps > 0)) bad('rmsNormEps', 'must be a finite number > 0');
  if (Math.fround(eps) < F32_MIN_NORMAL) bad('rmsNormEps', `is below ${F32_MIN_NORMAL.toExponential(3)}, the smallest normal f32 (it would be 0 or subnormal on the GPU)`);
  if (eps > 1) bad('rmsNormEps', 'is more than 1 (it is added to a mean square; these families use 1e-5 or 1e-6)');
  const theta = c.ropeTheta;
  if (typeof theta !== 'number' || !Number.isFinite(theta) || !(theta > 0)) bad('ropeTheta', 'must be a finite number > 0');
  if (!Number.isFinite(Math.fround(theta))) bad('ropeTheta', 'is not representable in f32 (it rounds to Infinity there; transformers computes inv_freq in f32)');
  if (typeof c.tieWordEmbeddings !== 'boolean') bad('tieWordEmbeddings', 'must be true or false');
  if (typeof c.attentionBias !== 'boolean') bad('attentionBias', 'must be true or false');
  if (c.attentionBias && c.family !== 'llama') bad('attentionBias', `is a llama option (${c.family === 'qwen2' ? 'qwen2 has q/k/v biases always and no o_proj bias' : 'mistral has no attention biases'})`);
  const inVocab = (id: unknown) => typeof id === 'number' && Number.isInteger(id) && id >= 0 && id < c.vocabSize;
  for (const k of ['bosTokenId', 'eosTokenId'] as const) {
    const v = c[k];
    if (v === null) continue;
    const ids = Array.isArray(v) ? v : [v];
    if ((Array.isArray(v) && v.length === 0) || !ids.every(inVocab)) bad(k, `is outside the vocabulary [0, ${n(c.vocabSize)})`);
  }
  const pad = c.padTokenId;
  // nn.Embedding takes a padding_idx in [−V, V), a negative one counting from the end
  if (pad !== null && (typeof pad !== 'number' || !Number.isInteger(pad) || pad < -c.vocabSize || pad >= c.vocabSize)) bad('padTokenId', `is outside the vocabulary [−${n(c.vocabSize)}, ${n(c.vocabSize)}) (nn.Embedding's padding_idx)`);
  if (c.torchDtype !== null && typeof c.torchDtype !== 'string') bad('torchDtype', 'must be a string or null');
  checkLlamaParamBytes(c, null, where);
}

/** Elements of every tensor of one layer, in llamaParamSpec order. */
function layerTensorSizes(c: LlamaFamilyConfig): number[] {
  const { hiddenSize: C, intermediateSize: I, numAttentionHeads: NH, numKeyValueHeads: NKV, headDim: HS } = c;
  const { qkv, o } = llamaBiases(c);
  const QC = NH * HS;
  const KC = NKV * HS;
  const sizes: number[] = [];
  for (const out of [QC, KC, KC]) {
    sizes.push(out * C);
    if (qkv) sizes.push(out);
  }
  sizes.push(C * QC);
  if (o) sizes.push(C);
  sizes.push(I * C, I * C, C * I, C, C);
  return sizes;
}

/** Parameters of llamaParamSpec(c), in closed form (exact: every bounded config stays below 2⁵³). */
export function llamaParamCount(c: LlamaFamilyConfig): number {
  const layer = layerTensorSizes(c).reduce((a, b) => a + b, 0);
  const embed = c.vocabSize * c.hiddenSize;
  // a reward model has no LM head, and a score head [1, C]
  return embed + c.numHiddenLayers * layer + c.hiddenSize + (c.tieWordEmbeddings || c.scoreHead ? 0 : embed) + (c.scoreHead ? c.hiddenSize : 0);
}

const alignUp = (x: number, a: number) => Math.ceil(x / a) * a;

/**
 * Bytes of the parameter arena (src/engine/arena.ts layoutArena: each tensor aligned to `align`
 * bytes, at most 256 on every WebGPU device), in closed form: O(1) however many layers.
 */
export function llamaParamArenaBytes(c: LlamaFamilyConfig, align = 256): number {
  const layer = layerTensorSizes(c).reduce((a, s) => a + alignUp(4 * s, align), 0);
  const embed = alignUp(4 * c.vocabSize * c.hiddenSize, align);
  return embed + c.numHiddenLayers * layer + alignUp(4 * c.hiddenSize, align) + (c.tieWordEmbeddings || c.scoreHead ? 0 : embed) + (c.scoreHead ? alignUp(4 * c.hiddenSize, align) : 0);
}

/**
 * What no split can make fit, in one line naming the sizes that set it: more than MAX_PARAM_BYTES
 * of parameters, or a tensor the kernels bind whole larger than one storage binding (the device's
 * limits when known, else MAX_BINDING_BYTES). Bound whole: each layer's stacked q|k|v and
 * gate|up projections (one matmul each: src/model/llama.ts) and down_proj; the embedding and an
 * untied LM head are split by rows when larger (src/engine/arena.ts), so only one row must fit.
 */
export function checkLlamaParamBytes(c: LlamaFamilyConfig, limits: ParamLimits | null, where = 'config'): void {
  const bytes = llamaParamArenaBytes(c);
  if (bytes > MAX_PARAM_BYTES) {
    throw new Error(`${where}: vocab_size ${n(c.vocabSize)}, hidden_size ${n(c.hiddenSize)}, intermediate_size ${n(c.intermediateSize)} and num_hidden_layers ${n(c.numHiddenLayers)} imply ${n(llamaParamCount(c))} parameters, ${n(bytes)} bytes as f32, more than ${n(MAX_PARAM_BYTES)} bytes, ${PARAM_CAP_NOTE}`);
  }
  const { hiddenSize: C, intermediateSize: I, numAttentionHeads: NH, numKeyValueHeads: NKV, headDim: HS } = c;
  const whole: Array<[string, number[], string]> = [];
  if (c.numHiddenLayers > 0) {
    const heads = `num_attention_heads ${n(NH)}, num_key_value_heads ${n(NKV)}, head_dim ${n(HS)} and hidden_size ${n(C)}`;
    whole.push(
      ['model.layers.0.self_attn.q_proj|k_proj|v_proj.weight (stacked)', [(NH + 2 * NKV) * HS, C], heads],
      ['model.layers.0.self_attn.o_proj.weight', [C, NH * HS], heads],
      ['model.layers.0.mlp.gate_proj|up_proj.weight (stacked)', [2 * I, C], `intermediate_size ${n(I)} and hidden_size ${n(C)}`],
    );
  }
  whole.push(['model.embed_tokens.weight (one row)', [1, C], `hidden_size ${n(C)}`]);
  checkBindings(where, whole, limits);
}

/**
 * Every parameter tensor with its Hugging Face name and shape, in Hugging Face (state_dict)
 * order; lm_head.weight only when the head is not tied. The same table as
 * src/reference/llama.ts's llamaParamSpec(llamaRefConfig(c)), except that a reward model
 * (scoreHead) ends with score.weight [1, C] instead of any lm_head.weight.
 */
export function llamaParamSpec(c: LlamaFamilyConfig): TensorSpec[] {
  const { vocabSize: V, hiddenSize: C, intermediateSize: I, numHiddenLayers: L, numAttentionHeads: NH, numKeyValueHeads: NKV, headDim: HS } = c;
  // the table grows with L: a config that skipped validateLlamaConfig must not make it unbounded
  if (!Number.isInteger(L) || L < 0 || L > LLAMA_CONFIG_LIMITS.numHiddenLayers) throw new Error(`config: num_hidden_layers = ${L} must be an integer from 0 to ${LLAMA_CONFIG_LIMITS.numHiddenLayers}`);
  const { qkv, o } = llamaBiases(c);
  const specs: TensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [V, C] }];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    for (const [proj, out] of [['q_proj', NH * HS], ['k_proj', NKV * HS], ['v_proj', NKV * HS]] as const) {
      specs.push({ name: `${p}.self_attn.${proj}.weight`, shape: [out, C] });
      if (qkv) specs.push({ name: `${p}.self_attn.${proj}.bias`, shape: [out] });
    }
    specs.push({ name: `${p}.self_attn.o_proj.weight`, shape: [C, NH * HS] });
    if (o) specs.push({ name: `${p}.self_attn.o_proj.bias`, shape: [C] });
    specs.push(
      { name: `${p}.mlp.gate_proj.weight`, shape: [I, C] },
      { name: `${p}.mlp.up_proj.weight`, shape: [I, C] },
      { name: `${p}.mlp.down_proj.weight`, shape: [C, I] },
      { name: `${p}.input_layernorm.weight`, shape: [C] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [C] },
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [C] });
  if (c.scoreHead) specs.push({ name: SCORE_WEIGHT, shape: [1, C] }); // *ForSequenceClassification.score, no LM head
  else if (!c.tieWordEmbeddings) specs.push({ name: 'lm_head.weight', shape: [V, C] });
  return specs;
}

/** The float64 reference's config (src/reference/llama.ts): Mistral computes as a bias-free Llama. */
export function llamaRefConfig(c: LlamaFamilyConfig): LlamaRefConfig {
  return {
    model_type: c.family === 'qwen2' ? 'qwen2' : 'llama',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    num_key_value_heads: c.numKeyValueHeads,
    head_dim: c.headDim,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: c.family === 'llama' && c.attentionBias,
    hidden_act: 'silu',
    rope_scaling: null,
  };
}

/**
 * config.json (Hugging Face names; model_type llama, qwen2 or mistral) -> LlamaFamilyConfig,
 * with transformers' defaults for omitted fields, refusing (one line naming the field) whatever
 * would make transformers compute something else: another activation, scaled RoPE, a sliding
 * window shorter than the context, MLP biases, quantized weights.
 */
export function llamaConfigFromHF(json: Record<string, unknown>, where = 'config.json'): LlamaFamilyConfig {
  const fail = (msg: string): never => {
    throw new Error(`${where}: ${msg}`);
  };
  const type = json.model_type;
  if (type === undefined) fail(`field "model_type" is missing (expected ${LLAMA_FAMILIES.map((f) => `"${f}"`).join(', ')})`);
  if (typeof type !== 'string' || !(LLAMA_FAMILIES as readonly string[]).includes(type)) fail(`model_type ${show(type)} is not a Llama-family model (only ${LLAMA_FAMILIES.map((f) => `"${f}"`).join(', ')})`);
  const family = type as LlamaFamily;
  const defaults = FAMILY_DEFAULTS[family];
  const has = (k: string) => json[k] !== undefined && json[k] !== null;

  if (has('quantization_config')) fail('quantization_config is present: quantized checkpoints are not supported (only F32, F16 and BF16 weights)');
  const act = json.hidden_act;
  if (act !== undefined && act !== 'silu') fail(`hidden_act ${show(act)} is not supported (only "silu")`);
  if (has('rope_scaling')) fail(`rope_scaling ${show(json.rope_scaling)} is not supported (scaled RoPE changes the rotary frequencies; only plain RoPE, rope_scaling null)`);
  if (family === 'llama' && json.mlp_bias !== undefined && json.mlp_bias !== false) fail(`mlp_bias ${show(json.mlp_bias)} is not supported (only false: the MLP projections have no biases)`);

  const num = (k: string, fallback?: number): number => {
    const v = json[k] ?? fallback;
    if (v === undefined) fail(`field "${k}" is missing`);
    if (typeof v !== 'number') fail(`field "${k}" must be a number, got ${show(v)}`);
    return v as number;
  };
  const bool = (k: string, fallback: boolean): boolean => {
    const v = json[k] ?? fallback;
    if (typeof v !== 'boolean') fail(`field "${k}" must be true or false, got ${show(v)}`);
    return v as boolean;
  };
  const idOrNull = (k: string, fallback: number | null): number | null => {
    const v = json[k] === undefined ? fallback : json[k];
    if (v !== null && typeof v !== 'number') fail(`field "${k}" must be a token id or null, got ${show(v)}`);
    return v as number | null;
  };

  const hiddenSize = num('hidden_size');
  const numAttentionHeads = num('num_attention_heads');
  const numHiddenLayers = num('num_hidden_layers');
  const nkvDefault = defaults.nkv === 'heads' ? numAttentionHeads : defaults.nkv;
  const numKeyValueHeads = json.num_key_value_heads === null ? numAttentionHeads : num('num_key_value_heads', nkvDefault);
  let headDim: number;
  if (has('head_dim')) headDim = num('head_dim');
  else {
    headDim = hiddenSize / numAttentionHeads;
    if (Number.isInteger(hiddenSize) && Number.isInteger(numAttentionHeads) && numAttentionHeads > 0 && !Number.isInteger(headDim)) {
      fail(`num_attention_heads = ${numAttentionHeads} must divide hidden_size (${hiddenSize}) when head_dim is absent`);
    }
  }

  // RoPE: rope_theta (transformers 4) or rope_parameters {rope_type: "default", rope_theta} (5)
  let ropeTheta = has('rope_theta') ? num('rope_theta') : undefined;
  const rp = json.rope_parameters;
  if (rp !== undefined && rp !== null) {
    if (typeof rp !== 'object' || Array.isArray(rp)) fail(`rope_parameters ${show(rp)} must be an object`);
    const r = rp as Record<string, unknown>;
    const kind = r.rope_type ?? r.type ?? 'default';
    const extra = Object.keys(r).filter((k) => !['rope_type', 'type', 'rope_theta'].includes(k) && !(k === 'partial_rotary_factor' && r[k] === 1));
    if (kind !== 'default' || extra.length) fail(`rope_parameters ${show(rp)} is not supported (scaled or partial RoPE changes the rotary frequencies; only rope_type "default" with rope_theta)`);
    if (r.rope_theta !== undefined) {
      if (typeof r.rope_theta !== 'number') fail(`rope_parameters.rope_theta must be a number, got ${show(r.rope_theta)}`);
      if (ropeTheta !== undefined && ropeTheta !== r.rope_theta) fail(`rope_theta = ${ropeTheta} and rope_parameters.rope_theta = ${show(r.rope_theta)} disagree`);
      ropeTheta = r.rope_theta as number;
    }
  }
  ropeTheta ??= DEFAULT_ROPE_THETA;

  const maxPositionEmbeddings = num('max_position_embeddings', defaults.maxPositionEmbeddings);
  checkSlidingWindow(json, family, numHiddenLayers, maxPositionEmbeddings, fail);

  let eosTokenId: number | number[] | null;
  const eos = json.eos_token_id === undefined ? defaults.eos : json.eos_token_id;
  if (Array.isArray(eos)) {
    if (!eos.every((e) => typeof e === 'number')) fail(`field "eos_token_id" must be a token id, a list of them, or null, got ${show(eos)}`);
    eosTokenId = [...(eos as number[])];
  } else eosTokenId = idOrNull('eos_token_id', defaults.eos);

  const dtype = json.torch_dtype ?? json.dtype ?? null;
  if (dtype !== null && typeof dtype !== 'string') fail(`field "torch_dtype" must be a string or null, got ${show(dtype)}`);

  const cfg: LlamaFamilyConfig = {
    family,
    vocabSize: num('vocab_size'),
    hiddenSize,
    intermediateSize: num('intermediate_size'),
    numHiddenLayers,
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    rmsNormEps: num('rms_norm_eps', DEFAULT_RMS_NORM_EPS),
    ropeTheta,
    maxPositionEmbeddings,
    tieWordEmbeddings: bool('tie_word_embeddings', false),
    // transformers' Qwen2 and Mistral attention ignore attention_bias (their biases are fixed)
    attentionBias: family === 'llama' ? bool('attention_bias', false) : false,
    bosTokenId: idOrNull('bos_token_id', defaults.bos),
    eosTokenId,
    padTokenId: idOrNull('pad_token_id', null),
    torchDtype: dtype as string | null,
  };
  if (scoreHeadFromHF(json, where)) cfg.scoreHead = true;
  validateLlamaConfig(cfg, where);
  return cfg;
}

/**
 * A sliding window changes attention only where it is shorter than the context: Mistral's
 * sliding_window (default 4096) applies to every layer; Qwen2's only with use_sliding_window,
 * to the layers layer_types marks, else to those from max_window_layers on.
 */
function checkSlidingWindow(json: Record<string, unknown>, family: LlamaFamily, L: number, P: number, fail: (msg: string) => never): void {
  if (family === 'llama') return;
  let window: unknown;
  let slidingLayers = L;
  if (family === 'mistral') window = json.sliding_window === undefined ? DEFAULT_SLIDING_WINDOW : json.sliding_window;
  else {
    if (json.use_sliding_window !== true) return;
    window = json.sliding_window === undefined ? DEFAULT_SLIDING_WINDOW : json.sliding_window;
    if (Array.isArray(json.layer_types)) slidingLayers = json.layer_types.filter((t) => t === 'sliding_attention').length;
    else {
      const from = json.max_window_layers ?? DEFAULT_MAX_WINDOW_LAYERS;
      slidingLayers = typeof from === 'number' ? Math.max(0, L - from) : L;
    }
  }
  if (window === null) return;
  if (typeof window !== 'number' || !Number.isInteger(window) || window <= 0) fail(`sliding_window ${show(window)} must be a positive integer or null`);
  if ((window as number) < P && slidingLayers > 0) {
    fail(`sliding_window = ${window as number} is less than max_position_embeddings (${P}): sliding-window attention is not supported (a window of at least max_position_embeddings, or null, is plain causal attention)`);
  }
}

/** LlamaFamilyConfig -> config.json that transformers' AutoModelForCausalLM loads (f32 weights). */
export function llamaConfigToHF(c: LlamaFamilyConfig): Record<string, unknown> {
  const json: Record<string, unknown> = {
    architectures: [LLAMA_ARCHITECTURES[c.family]],
    model_type: c.family,
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numHiddenLayers,
    num_attention_heads: c.numAttentionHeads,
    num_key_value_heads: c.numKeyValueHeads,
    head_dim: c.headDim,
    hidden_act: 'silu',
    max_position_embeddings: c.maxPositionEmbeddings,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    rope_scaling: null,
    tie_word_embeddings: c.tieWordEmbeddings,
    bos_token_id: c.bosTokenId,
    eos_token_id: Array.isArray(c.eosTokenId) ? [...c.eosTokenId] : c.eosTokenId,
    pad_token_id: c.padTokenId,
    attention_dropout: 0.0,
    initializer_range: LLAMA_INITIALIZER_RANGE,
    use_cache: true,
    torch_dtype: 'float32',
  };
  if (c.family === 'llama') Object.assign(json, { attention_bias: c.attentionBias, mlp_bias: false, pretraining_tp: 1 });
  if (c.family === 'qwen2') Object.assign(json, { use_sliding_window: false, sliding_window: null, max_window_layers: c.numHiddenLayers });
  if (c.family === 'mistral') json.sliding_window = null;
  if (c.scoreHead) Object.assign(json, scoreHeadToHF(LLAMA_ARCHITECTURES[c.family], c.padTokenId));
  return json;
}

export const LLAMA_PRESETS = {
  /** Llama with grouped-query attention (4 query heads over 2 key/value heads), head_dim 8, tied head; byte-level vocabulary. */
  'llama-tiny': {
    family: 'llama', vocabSize: BYTE_VOCAB, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 8,
    rmsNormEps: 1e-5, ropeTheta: 10000, maxPositionEmbeddings: 64, tieWordEmbeddings: true, attentionBias: false,
    bosTokenId: BYTE_EOT, eosTokenId: BYTE_EOT, padTokenId: null, torchDtype: 'float32',
  },
  /** Qwen2 with q/k/v biases, one key/value head (multi-query), untied head; byte-level vocabulary. */
  'qwen-tiny': {
    family: 'qwen2', vocabSize: BYTE_VOCAB, hiddenSize: 32, intermediateSize: 48, numHiddenLayers: 2, numAttentionHeads: 4, numKeyValueHeads: 1, headDim: 8,
    rmsNormEps: 1e-6, ropeTheta: 1000000, maxPositionEmbeddings: 64, tieWordEmbeddings: false, attentionBias: false,
    bosTokenId: BYTE_EOT, eosTokenId: BYTE_EOT, padTokenId: null, torchDtype: 'float32',
  },
  /**
   * SmolLM2-135M's shape (HuggingFaceTB/SmolLM2-135M-Instruct config.json: 30 layers, 9 query
   * heads over 3 key/value heads, tied head; bos <|im_start|> 1, eos <|im_end|> 2), random
   * weights: 134,515,008 parameters, for the bench and memory plans. Real weights come from
   * the model's own folder (`--model DIR`).
   */
  'smollm2-135m': {
    family: 'llama', vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30, numAttentionHeads: 9, numKeyValueHeads: 3, headDim: 64,
    rmsNormEps: 1e-5, ropeTheta: 100000, maxPositionEmbeddings: 8192, tieWordEmbeddings: true, attentionBias: false,
    bosTokenId: 1, eosTokenId: 2, padTokenId: null, torchDtype: 'float32',
  },
  /**
   * Qwen2.5-0.5B's shape (Qwen/Qwen2.5-0.5B-Instruct config.json: 24 layers, 14 query heads over
   * 2 key/value heads, q/k/v biases, tied head; bos 151643, eos <|im_end|> 151645), random
   * weights: 494,032,768 parameters, for the bench and memory plans.
   */
  'qwen2.5-0.5b': {
    family: 'qwen2', vocabSize: 151936, hiddenSize: 896, intermediateSize: 4864, numHiddenLayers: 24, numAttentionHeads: 14, numKeyValueHeads: 2, headDim: 64,
    rmsNormEps: 1e-6, ropeTheta: 1000000, maxPositionEmbeddings: 32768, tieWordEmbeddings: true, attentionBias: false,
    bosTokenId: 151643, eosTokenId: 151645, padTokenId: null, torchDtype: 'float32',
  },
} satisfies Record<string, LlamaFamilyConfig>;

export function llamaPresetConfig(name: string): LlamaFamilyConfig {
  const p = (LLAMA_PRESETS as Record<string, LlamaFamilyConfig>)[name];
  if (!p) throw new Error(`unknown preset "${name}" (Llama-family presets: ${Object.keys(LLAMA_PRESETS).join(', ')})`);
  return { ...p, eosTokenId: Array.isArray(p.eosTokenId) ? [...p.eosTokenId] : p.eosTokenId };
}

/**
 * Random initialisation as Hugging Face's LlamaPreTrainedModel._init_weights: nn.Linear weights
 * (the projections and an untied lm_head) and the token embedding N(0, std), biases 0, RMSNorm
 * weights 1, the padding row (pad_token_id) of the embedding 0. Draws come from one Rng in
 * llamaParamSpec order, so a seed reproduces the model exactly.
 */
export function initLlamaParams(config: LlamaFamilyConfig, seed: number, std = LLAMA_INITIALIZER_RANGE): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const { name, shape } of llamaParamSpec(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (/(^|\.)(input_layernorm|post_attention_layernorm|norm)\.weight$/.test(name)) data.fill(1);
    else if (name.endsWith('.weight')) for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
    out.set(name, data);
  }
  const pad = llamaPaddingRow(config);
  if (pad !== null) out.get('model.embed_tokens.weight')!.fill(0, pad * config.hiddenSize, (pad + 1) * config.hiddenSize);
  return out;
}
