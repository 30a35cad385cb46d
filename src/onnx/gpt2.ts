// GPT-2 (Hugging Face GPT2LMHeadModel, eval mode) as an ONNX graph with the weights as
// initializers: input `input_ids` int64 (batch, sequence) -> output `logits` float32
// (batch, sequence, V). Standard ai.onnx opset 17 ops only; batch and sequence are dynamic.
// Sequences are right-padded: causal attention means padding never changes a real position.
// Dimensions: B batch, T time, C channels, NH heads, HS = C/NH, V vocab, P positions.
// Size: one copy of each parameter (the LM head reuses wte through Gemm transB) plus a few
// kilobytes of graph, so the file is ≈ 4 bytes × parameters.
import { paramCount, paramSpec, validateConfig, type GPTConfig } from '../model/config';
import { GraphBuilder, float, int, ints } from './graph';
import { DataType, encodeModel, IR_VERSION, OPSET, valueInfo, type ModelProto } from './proto';

export const ONNX_INPUT = 'input_ids';
export const ONNX_OUTPUT = 'logits';

/** The most negative float32: masked attention scores, as transformers' torch.finfo(dtype).min. */
const MASK_VALUE = -3.4028234663852886e38;
const GELU_K = Math.sqrt(2 / Math.PI);

export interface OnnxExportOptions {
  /** Free-form text stored in ModelProto.doc_string. */
  docString?: string;
  /** Extra ModelProto.metadata_props entries. */
  metadata?: Record<string, string>;
}

/** The ModelProto (plain object) for `config` with `params` (paramSpec names, f32). */
export function buildGpt2Onnx(config: GPTConfig, params: ReadonlyMap<string, Float32Array>, opts: OnnxExportOptions = {}): ModelProto {
  validateConfig(config);
  const { nEmbd: C, nHead: NH, nLayer: L, vocabSize: V, layerNormEpsilon: eps } = config;
  const HS = C / NH;
  const g = new GraphBuilder();
  const w = (name: string): string => {
    const spec = paramSpec(config).find((s) => s.name === name)!;
    const data = params.get(name);
    if (!data) throw new Error(`ONNX export: missing parameter "${name}" [${spec.shape.join(', ')}]`);
    return g.weight(name, [...spec.shape], data);
  };
  for (const { name } of paramSpec(config)) w(name);

  // constants
  const zero = g.int64('zero', [], [0]);
  const one = g.int64('one', [], [1]);
  const axis0 = g.int64('axes_0', [1], [0]);
  const axis1 = g.int64('axes_1', [1], [1]);
  const splitQkv = g.int64('split_qkv', [3], [C, C, C]);
  const headsShape = g.int64('shape_heads', [4], [0, 0, NH, HS]);
  const mergeShape = g.int64('shape_merge', [3], [0, 0, C]);
  const rowsShape = g.int64('shape_rows', [2], [-1, C]);
  const vocabDim = g.int64('vocab_dim', [1], [V]);
  const attScale = g.scalar('att_scale', Math.sqrt(HS));
  const maskValue = g.scalar('mask_value', MASK_VALUE);
  const half = g.scalar('half', 0.5);
  const oneF = g.scalar('one_f', 1);
  const geluK = g.scalar('gelu_k', GELU_K);
  const geluC = g.scalar('gelu_c', 0.044715);

  // positions 0..T−1 and the causal mask allowed[i][j] = j ≤ i, shared by every layer
  const inShape = g.op1('Shape', [ONNX_INPUT], {}, 'input_shape');
  const T = g.op1('Gather', [inShape, one], { axis: int(0) }, 'seq_len');
  const pos = g.op1('Range', [zero, T, one], {}, 'positions');
  const rows = g.op1('Unsqueeze', [pos, axis1], {}, 'pos_rows'); // (T,1)
  const cols = g.op1('Unsqueeze', [pos, axis0], {}, 'pos_cols'); // (1,T)
  const allowed = g.op1('GreaterOrEqual', [rows, cols], {}, 'causal'); // (T,T) bool

  // x (B,T,C) = wte[input_ids] + wpe[positions]
  const tok = g.op1('Gather', ['wte.weight', ONNX_INPUT], { axis: int(0) }, 'tok_emb');
  const posEmb = g.op1('Gather', ['wpe.weight', pos], { axis: int(0) }, 'pos_emb');
  let x = g.op1('Add', [tok, posEmb], {}, 'embed');

  const layerNorm = (inp: string, prefix: string, label: string) =>
    g.op1('LayerNormalization', [inp, `${prefix}.weight`, `${prefix}.bias`], { axis: int(-1), epsilon: float(eps) }, label);
  // inp (B,T,IC) · W (IC,OC) + b (OC) -> (B,T,OC), Conv1D layout
  const linear = (inp: string, prefix: string, label: string) =>
    g.op1('Add', [g.op1('MatMul', [inp, `${prefix}.weight`], {}, `${label}_mm`), `${prefix}.bias`], {}, label);

  for (let l = 0; l < L; l++) {
    const h = `h.${l}`;
    const ln1 = layerNorm(x, `${h}.ln_1`, `l${l}_ln1`);
    const qkv = linear(ln1, `${h}.attn.c_attn`, `l${l}_qkv`); // (B,T,3C)
    const [q, k, v] = g.op('Split', [qkv, splitQkv], { axis: int(2) }, `l${l}_split`, 3);
    const heads = (t: string, perm: number[], label: string) =>
      g.op1('Transpose', [g.op1('Reshape', [t, headsShape], {}, `${label}_r`)], { perm: ints(perm) }, label);
    const qh = heads(q, [0, 2, 1, 3], `l${l}_q`); // (B,NH,T,HS)
    const kt = heads(k, [0, 2, 3, 1], `l${l}_kt`); // (B,NH,HS,T)
    const vh = heads(v, [0, 2, 1, 3], `l${l}_v`); // (B,NH,T,HS)
    const scores = g.op1('Div', [g.op1('MatMul', [qh, kt], {}, `l${l}_qk`), attScale], {}, `l${l}_scores`); // (B,NH,T,T)
    const masked = g.op1('Where', [allowed, scores, maskValue], {}, `l${l}_masked`);
    const att = g.op1('Softmax', [masked], { axis: int(-1) }, `l${l}_att`);
    const y = g.op1('MatMul', [att, vh], {}, `l${l}_y`); // (B,NH,T,HS)
    const merged = g.op1('Reshape', [g.op1('Transpose', [y], { perm: ints([0, 2, 1, 3]) }, `l${l}_yt`), mergeShape], {}, `l${l}_merge`);
    const x2 = g.op1('Add', [x, linear(merged, `${h}.attn.c_proj`, `l${l}_attproj`)], {}, `l${l}_res2`);
    const ln2 = layerNorm(x2, `${h}.ln_2`, `l${l}_ln2`);
    const fc = linear(ln2, `${h}.mlp.c_fc`, `l${l}_fc`); // (B,T,4C)
    // gelu_new: 0.5·u·(1 + tanh(√(2/π)·(u + 0.044715·u³)))
    const u3 = g.op1('Mul', [g.op1('Mul', [fc, fc], {}, `l${l}_u2`), fc], {}, `l${l}_u3`);
    const inner = g.op1('Add', [fc, g.op1('Mul', [u3, geluC], {}, `l${l}_cu3`)], {}, `l${l}_inner`);
    const th = g.op1('Tanh', [g.op1('Mul', [inner, geluK], {}, `l${l}_kin`)], {}, `l${l}_tanh`);
    const gelu = g.op1('Mul', [g.op1('Mul', [fc, half], {}, `l${l}_hu`), g.op1('Add', [th, oneF], {}, `l${l}_1pt`)], {}, `l${l}_gelu`);
    x = g.op1('Add', [x2, linear(gelu, `${h}.mlp.c_proj`, `l${l}_mlpproj`)], {}, `l${l}_res3`);
  }
  const lnf = layerNorm(x, 'ln_f', 'ln_f');
  // tied LM head: (B·T,C) · wteᵀ via Gemm transB, then back to (B,T,V)
  const flat = g.op1('Reshape', [lnf, rowsShape], {}, 'lnf_rows');
  const logitsFlat = g.op1('Gemm', [flat, 'wte.weight'], { transB: int(1) }, 'lm_head');
  const outShape = g.op1('Concat', [inShape, vocabDim], { axis: int(0) }, 'logits_shape');
  g.op1('Reshape', [logitsFlat, outShape], {}, 'logits', 'logits');

  const metadata: Record<string, string> = {
    model_type: 'gpt2',
    vocab_size: String(V),
    n_positions: String(config.nPositions),
    n_embd: String(C),
    n_layer: String(L),
    n_head: String(NH),
    eos_token_id: String(config.eosTokenId),
    bos_token_id: String(config.bosTokenId),
    parameters: String(paramCount(config)),
    ...opts.metadata,
  };
  return {
    ir_version: IR_VERSION,
    producer_name: 'prefplay',
    producer_version: '0.1.0',
    doc_string: opts.docString ?? 'GPT-2 (GPT2LMHeadModel) exported by PrefPlay: input_ids int64 [batch, sequence] -> logits float32 [batch, sequence, vocab]',
    opset_import: [{ domain: '', version: OPSET }],
    metadata_props: Object.entries(metadata).map(([key, value]) => ({ key, value })),
    graph: {
      name: 'gpt2',
      node: g.nodes,
      initializer: g.initializers,
      input: [valueInfo(ONNX_INPUT, DataType.INT64, ['batch', 'sequence'])],
      output: [valueInfo(ONNX_OUTPUT, DataType.FLOAT, ['batch', 'sequence', V])],
    },
  };
}

/** The .onnx file bytes for `config` with `params`. */
export function exportGpt2Onnx(config: GPTConfig, params: ReadonlyMap<string, Float32Array>, opts: OnnxExportOptions = {}): Uint8Array {
  return encodeModel(buildGpt2Onnx(config, params, opts));
}
