// The Llama family (Hugging Face LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM; eval
// mode, plain RoPE) as an ONNX graph with the weights as initializers, with GPT-2's contract
// (./gpt2.ts): input `input_ids` int64 (batch, sequence) -> output `logits` float32
// (batch, sequence, V). Standard ai.onnx opset 17 ops only; batch and sequence are dynamic.
// Sequences are right-padded: causal attention means padding never changes a real position, and
// position ids are 0..T−1 for every row.
// Dimensions: B batch, T time, N = B·T rows, C hidden, I intermediate, NH query heads, NKV
// key/value heads, G = NH/NKV, HS head_dim (may differ from C/NH), V vocab.
// Layout: the residual stream is kept as rows (N,C), so every nn.Linear is one Gemm with
// transB = 1 on the Hugging Face (out, in) weight as stored: each initializer is the parameter
// itself, name and layout, and the tied head reuses embed_tokens. The file is ≈ 4 bytes ×
// parameters plus HS/2 inverse frequencies and a few kilobytes of graph.
// Per layer (as src/reference/llama.ts):
//   x += o_proj(attn(rope(q_proj(rms1(x))), rope(k_proj(rms1(x))), v_proj(rms1(x))))
//   x += down_proj(silu(gate_proj(rms2(x))) · up_proj(rms2(x)))
// then logits = rms_f(x)·headᵀ.
import { llamaBiases, llamaParamCount, llamaParamSpec, validateLlamaConfig, type LlamaFamilyConfig } from '../model/llama-config';
import { GraphBuilder, int, ints } from './graph';
import { ONNX_INPUT, ONNX_OUTPUT, type OnnxExportOptions } from './gpt2';
import { DataType, encodeModel, IR_VERSION, OPSET, valueInfo, type ModelProto } from './proto';

/** The most negative float32: masked attention scores, as transformers' torch.finfo(dtype).min. */
const MASK_VALUE = -3.4028234663852886e38;

/**
 * RoPE inverse frequencies, duplicated to a head: out[j] = theta^(−2·(j mod HS/2)/HS), j < HS,
 * so that angles (T,HS) = positions (T,1) · out (1,HS) is Hugging Face's emb = [freqs, freqs].
 */
export function ropeInvFreq(HS: number, theta: number): Float32Array {
  const half = HS / 2;
  return Float32Array.from({ length: HS }, (_, j) => Math.pow(theta, (-2 * (j % half)) / HS));
}

/** The ModelProto (plain object) for `config` with `params` (llamaParamSpec names and shapes, f32). */
export function buildLlamaOnnx(config: LlamaFamilyConfig, params: ReadonlyMap<string, Float32Array>, opts: OnnxExportOptions = {}): ModelProto {
  validateLlamaConfig(config);
  const { vocabSize: V, hiddenSize: C, intermediateSize: I, numHiddenLayers: L, numAttentionHeads: NH, numKeyValueHeads: NKV, headDim: HS, rmsNormEps: eps } = config;
  const G = NH / NKV;
  const half = HS / 2;
  const bias = llamaBiases(config);
  const g = new GraphBuilder();
  for (const { name, shape } of llamaParamSpec(config)) {
    const data = params.get(name);
    if (!data) throw new Error(`ONNX export: missing parameter "${name}" [${shape.join(', ')}]`);
    g.weight(name, [...shape], data);
  }

  // constants
  const zero = g.int64('zero', [], [0]);
  const one = g.int64('one', [], [1]);
  const axis0 = g.int64('axes_0', [1], [0]);
  const axis1 = g.int64('axes_1', [1], [1]);
  const axis2 = g.int64('axes_2', [1], [2]);
  const splitHalf = g.int64('split_half', [2], [half, half]);
  const rowsShape = g.int64('shape_rows', [2], [-1, C]);
  const attScale = g.scalar('att_scale', 1 / Math.sqrt(HS));
  const maskValue = g.scalar('mask_value', MASK_VALUE);
  const epsilon = g.scalar('rms_eps', eps);
  const invFreq = g.weight('rope_inv_freq', [1, HS], ropeInvFreq(HS, config.ropeTheta));

  // dynamic shapes from input_ids (B,T): heads (B,T,H,HS), grouped queries (B,T,NKV,G,HS), logits (B,T,V)
  const inShape = g.op1('Shape', [ONNX_INPUT], {}, 'input_shape');
  const withTail = (tail: number[], name: string) => g.op1('Concat', [inShape, g.int64(`${name}_tail`, [tail.length], tail)], { axis: int(0) }, name);
  const qHeadsShape = withTail([NH, HS], 'shape_q_heads'); // (B,T,NH,HS)
  const kvShape = withTail([NKV, HS], 'shape_kv'); // (B,T,NKV,HS)
  const qShape = withTail([NKV, G, HS], 'shape_q'); // (B,T,NKV,G,HS)
  const outShape = withTail([V], 'logits_shape');
  const mergeShape = g.int64('shape_merge', [2], [-1, NH * HS]);

  // positions 0..T−1, the causal mask allowed[i][j] = j ≤ i, and the RoPE tables, shared by every layer
  const T = g.op1('Gather', [inShape, one], { axis: int(0) }, 'seq_len');
  const pos = g.op1('Range', [zero, T, one], {}, 'positions');
  const rows = g.op1('Unsqueeze', [pos, axis1], {}, 'pos_rows'); // (T,1)
  const cols = g.op1('Unsqueeze', [pos, axis0], {}, 'pos_cols'); // (1,T)
  const allowed = g.op1('GreaterOrEqual', [rows, cols], {}, 'causal'); // (T,T) bool
  // angles (T,HS) in f32, as transformers' LlamaRotaryEmbedding; cos, sin (T,1,HS) broadcast over heads
  const angles = g.op1('Mul', [g.op1('Cast', [rows], { to: int(DataType.FLOAT) }, 'pos_f'), invFreq], {}, 'rope_angles');
  const cos = g.op1('Unsqueeze', [g.op1('Cos', [angles], {}, 'rope_cos_t'), axis1], {}, 'rope_cos');
  const sin = g.op1('Unsqueeze', [g.op1('Sin', [angles], {}, 'rope_sin_t'), axis1], {}, 'rope_sin');

  // x (N,C) = embed_tokens[input_ids]
  const tok = g.op1('Gather', ['model.embed_tokens.weight', ONNX_INPUT], { axis: int(0) }, 'tok_emb'); // (B,T,C)
  let x = g.op1('Reshape', [tok, rowsShape], {}, 'embed');

  // inp (N,C) -> inp / sqrt(mean(inp²) + eps) · weight
  const rmsNorm = (inp: string, weight: string, label: string) => {
    const ms = g.op1('ReduceMean', [g.op1('Mul', [inp, inp], {}, `${label}_sq`)], { axes: ints([-1]), keepdims: int(1) }, `${label}_ms`);
    const rstd = g.op1('Reciprocal', [g.op1('Sqrt', [g.op1('Add', [ms, epsilon], {}, `${label}_eps`)], {}, `${label}_rms`)], {}, `${label}_rstd`);
    return g.op1('Mul', [g.op1('Mul', [inp, rstd], {}, `${label}_xhat`), weight], {}, label);
  };
  // inp (N,IC) · W (OC,IC)ᵀ + b (OC) -> (N,OC): nn.Linear on its stored weight
  const linear = (inp: string, prefix: string, withBias: boolean, label: string) =>
    g.op1('Gemm', withBias ? [inp, `${prefix}.weight`, `${prefix}.bias`] : [inp, `${prefix}.weight`], { transB: int(1) }, label);
  // t (B,T,H,HS) -> t·cos + rotate_half(t)·sin, rotate_half([t1, t2]) = [−t2, t1]
  const rope = (t: string, label: string) => {
    const [t1, t2] = g.op('Split', [t, splitHalf], { axis: int(-1) }, `${label}_halves`, 2);
    const rot = g.op1('Concat', [g.op1('Neg', [t2], {}, `${label}_neg`), t1], { axis: int(-1) }, `${label}_rot`);
    return g.op1('Add', [g.op1('Mul', [t, cos], {}, `${label}_c`), g.op1('Mul', [rot, sin], {}, `${label}_s`)], {}, label);
  };

  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    const a = `${p}.self_attn`;
    const rms1 = rmsNorm(x, `${p}.input_layernorm.weight`, `l${l}_rms1`);
    // query head n = kv·G + j reads key/value head kv (transformers' repeat_kv)
    const qRot = rope(g.op1('Reshape', [linear(rms1, `${a}.q_proj`, bias.qkv, `l${l}_q_rows`), qHeadsShape], {}, `l${l}_q_heads`), `l${l}_q_rope`); // (B,T,NH,HS)
    const q = g.op1('Reshape', [qRot, qShape], {}, `l${l}_q_groups`); // (B,T,NKV,G,HS)
    const k = rope(g.op1('Reshape', [linear(rms1, `${a}.k_proj`, bias.qkv, `l${l}_k_rows`), kvShape], {}, `l${l}_k_heads`), `l${l}_k_rope`); // (B,T,NKV,HS)
    const v = g.op1('Reshape', [linear(rms1, `${a}.v_proj`, bias.qkv, `l${l}_v_rows`), kvShape], {}, `l${l}_v_heads`); // (B,T,NKV,HS)
    const qh = g.op1('Transpose', [q], { perm: ints([0, 2, 3, 1, 4]) }, `l${l}_q`); // (B,NKV,G,T,HS)
    const kt = g.op1('Unsqueeze', [g.op1('Transpose', [k], { perm: ints([0, 2, 3, 1]) }, `l${l}_kt4`), axis2], {}, `l${l}_kt`); // (B,NKV,1,HS,T)
    const vh = g.op1('Unsqueeze', [g.op1('Transpose', [v], { perm: ints([0, 2, 1, 3]) }, `l${l}_v4`), axis2], {}, `l${l}_v`); // (B,NKV,1,T,HS)
    const scores = g.op1('Mul', [g.op1('MatMul', [qh, kt], {}, `l${l}_qk`), attScale], {}, `l${l}_scores`); // (B,NKV,G,T,T)
    const masked = g.op1('Where', [allowed, scores, maskValue], {}, `l${l}_masked`);
    const att = g.op1('Softmax', [masked], { axis: int(-1) }, `l${l}_att`);
    const y = g.op1('MatMul', [att, vh], {}, `l${l}_y`); // (B,NKV,G,T,HS)
    const merged = g.op1('Reshape', [g.op1('Transpose', [y], { perm: ints([0, 3, 1, 2, 4]) }, `l${l}_yt`), mergeShape], {}, `l${l}_merge`); // (N,NH·HS)
    const x2 = g.op1('Add', [x, linear(merged, `${a}.o_proj`, bias.o, `l${l}_o`)], {}, `l${l}_res1`);
    const rms2 = rmsNorm(x2, `${p}.post_attention_layernorm.weight`, `l${l}_rms2`);
    const gate = linear(rms2, `${p}.mlp.gate_proj`, false, `l${l}_gate`); // (N,I)
    const up = linear(rms2, `${p}.mlp.up_proj`, false, `l${l}_up`); // (N,I)
    const silu = g.op1('Mul', [gate, g.op1('Sigmoid', [gate], {}, `l${l}_sig`)], {}, `l${l}_silu`);
    const h = g.op1('Mul', [silu, up], {}, `l${l}_swiglu`);
    x = g.op1('Add', [x2, linear(h, `${p}.mlp.down_proj`, false, `l${l}_down`)], {}, `l${l}_res2`);
  }
  const norm = rmsNorm(x, 'model.norm.weight', 'norm_f');
  const head = config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const logitsRows = g.op1('Gemm', [norm, head], { transB: int(1) }, 'lm_head'); // (N,V)
  g.op1('Reshape', [logitsRows, outShape], {}, 'logits', ONNX_OUTPUT);

  const eos = config.eosTokenId;
  const metadata: Record<string, string> = {
    model_type: config.family,
    vocab_size: String(V),
    hidden_size: String(C),
    intermediate_size: String(I),
    num_hidden_layers: String(L),
    num_attention_heads: String(NH),
    num_key_value_heads: String(NKV),
    head_dim: String(HS),
    rms_norm_eps: String(eps),
    rope_theta: String(config.ropeTheta),
    max_position_embeddings: String(config.maxPositionEmbeddings),
    tie_word_embeddings: String(config.tieWordEmbeddings),
    ...(config.bosTokenId !== null ? { bos_token_id: String(config.bosTokenId) } : {}),
    ...(eos !== null ? { eos_token_id: Array.isArray(eos) ? eos.join(',') : String(eos) } : {}),
    parameters: String(llamaParamCount(config)),
    ...opts.metadata,
  };
  return {
    ir_version: IR_VERSION,
    producer_name: 'prefplay',
    producer_version: '0.1.0',
    doc_string: opts.docString ?? `${config.family} (Llama family) exported by PrefPlay: input_ids int64 [batch, sequence] -> logits float32 [batch, sequence, vocab]`,
    opset_import: [{ domain: '', version: OPSET }],
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: config.family,
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(ONNX_INPUT, DataType.INT64, ['batch', 'sequence'])],
      output: [valueInfo(ONNX_OUTPUT, DataType.FLOAT, ['batch', 'sequence', V])],
    },
  };
}

/** The .onnx file bytes for `config` with `params`. */
export function exportLlamaOnnx(config: LlamaFamilyConfig, params: ReadonlyMap<string, Float32Array>, opts: OnnxExportOptions = {}): Uint8Array {
  return encodeModel(buildLlamaOnnx(config, params, opts));
}
