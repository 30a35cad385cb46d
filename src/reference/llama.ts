// float64 Llama family (Hugging Face LlamaForCausalLM / Qwen2ForCausalLM, eval mode, no
// rope_scaling): the oracle for a Llama-family engine. Deliberately self-contained, like gpt2.ts —
// it imports none of the per-kernel references (rmsnorm.ts, rope.ts, attention-gqa.ts,
// swiglu.ts), so a shared mistake cannot hide in both (docs/design.md). Sequences are processed
// one at a time (ragged, no padding); position ids are 0..T−1.
// Dimensions: T time (one sequence), C channels (hidden_size), NH query heads, NKV key/value
// heads, G = NH/NKV, HS head size (head_dim, may differ from C/NH), I intermediate size,
// V vocab, L layers, P max positions.
// Layouts: activations (T,·) row-major; q (T,NH,HS), k and v (T,NKV,HS); nn.Linear weights
// (out,in): y = x·Wᵀ + b; embed_tokens and lm_head (V,C).
// Per layer: x += o_proj(attn(rope(q_proj(rms1(x))), rope(k_proj(rms1(x))), v_proj(rms1(x))))
//            x += down_proj(silu(gate_proj(rms2(x))) · up_proj(rms2(x)))
// then logits = rms_f(x)·headᵀ, head = lm_head.weight, or embed_tokens when tied.
import { loraAddBack, loraAddInto } from './model-lora';
import type { TensorSpec } from '../engine/arena';

export type ParamMap = Map<string, Float32Array | Float64Array>;
type Arr = ArrayLike<number>;

/**
 * LoRA adapters (PEFT semantics, src/model/lora.ts): a projection `${module}.weight` [out, in]
 * with `${module}.lora_A.weight` [r, in] and `.lora_B.weight` [out, r] in `weights` computes
 * y = x·Wᵀ + b + scale·(x Aᵀ) Bᵀ.
 */
export interface RefLora {
  scale: number;
  weights: ParamMap;
}

/** The config.json fields the model reads, with Hugging Face's names. */
export interface LlamaConfig {
  /** 'llama' (default) or 'qwen2'. Qwen2 always has q/k/v biases and no o_proj bias. */
  model_type?: 'llama' | 'qwen2';
  vocab_size: number; // V
  hidden_size: number; // C
  intermediate_size: number; // I
  num_hidden_layers: number; // L
  num_attention_heads: number; // NH
  num_key_value_heads: number; // NKV
  /** HS; hidden_size / num_attention_heads when absent. */
  head_dim?: number;
  rms_norm_eps: number;
  rope_theta: number;
  max_position_embeddings: number; // P
  tie_word_embeddings: boolean;
  /** llama only: biases on q_proj, k_proj, v_proj and o_proj (LlamaAttention's bias=attention_bias). */
  attention_bias?: boolean;
  /** Must be 'silu' when present. */
  hidden_act?: string;
  /** Must be absent or null: scaled RoPE variants are not modelled. */
  rope_scaling?: unknown;
  /** Must be absent or false: MLP biases are not modelled. */
  mlp_bias?: boolean;
}

/** The dimensions and switches the model uses, resolved and checked from a LlamaConfig. */
export interface LlamaDims {
  V: number;
  C: number;
  I: number;
  L: number;
  NH: number;
  NKV: number;
  HS: number;
  P: number;
  eps: number;
  theta: number;
  tied: boolean;
  /** q_proj, k_proj and v_proj carry biases (qwen2, or llama with attention_bias). */
  qkvBias: boolean;
  /** o_proj carries a bias (llama with attention_bias). */
  oBias: boolean;
}

export function llamaDims(cfg: LlamaConfig): LlamaDims {
  const fail = (msg: string): never => {
    throw new Error(`llama config: ${msg}`);
  };
  const type = cfg.model_type ?? 'llama';
  if (type !== 'llama' && type !== 'qwen2') fail(`model_type "${String(type)}" is not llama or qwen2`);
  const ints = ['vocab_size', 'hidden_size', 'intermediate_size', 'num_hidden_layers', 'num_attention_heads', 'num_key_value_heads', 'max_position_embeddings'] as const;
  for (const k of ints) if (!Number.isInteger(cfg[k]) || cfg[k] <= 0) fail(`${k} must be a positive integer, got ${cfg[k]}`);
  const NH = cfg.num_attention_heads;
  const NKV = cfg.num_key_value_heads;
  if (NH % NKV !== 0) fail(`num_attention_heads (${NH}) must be a multiple of num_key_value_heads (${NKV})`);
  const HS = cfg.head_dim ?? cfg.hidden_size / NH;
  if (!Number.isInteger(HS) || HS <= 0) fail(cfg.head_dim === undefined ? `hidden_size (${cfg.hidden_size}) must be divisible by num_attention_heads (${NH}) when head_dim is absent` : `head_dim must be a positive integer, got ${cfg.head_dim}`);
  if (HS % 2 !== 0) fail(`head_dim (${HS}) must be even for rotary embeddings`);
  if (!(cfg.rms_norm_eps > 0)) fail(`rms_norm_eps must be > 0, got ${cfg.rms_norm_eps}`);
  if (!(cfg.rope_theta > 0)) fail(`rope_theta must be > 0, got ${cfg.rope_theta}`);
  if (typeof cfg.tie_word_embeddings !== 'boolean') fail(`tie_word_embeddings must be a boolean, got ${String(cfg.tie_word_embeddings)}`);
  if (cfg.hidden_act !== undefined && cfg.hidden_act !== 'silu') fail(`hidden_act "${cfg.hidden_act}" is not supported (only silu)`);
  if (cfg.rope_scaling !== undefined && cfg.rope_scaling !== null) fail('rope_scaling is not supported');
  if (cfg.mlp_bias) fail('mlp_bias is not supported');
  if (type === 'qwen2' && cfg.attention_bias) fail('attention_bias is a llama option; qwen2 has q/k/v biases always');
  const bias = !!cfg.attention_bias;
  return {
    V: cfg.vocab_size,
    C: cfg.hidden_size,
    I: cfg.intermediate_size,
    L: cfg.num_hidden_layers,
    NH,
    NKV,
    HS,
    P: cfg.max_position_embeddings,
    eps: cfg.rms_norm_eps,
    theta: cfg.rope_theta,
    tied: cfg.tie_word_embeddings,
    qkvBias: type === 'qwen2' || bias,
    oBias: type === 'llama' && bias,
  };
}

/**
 * Every parameter tensor with its Hugging Face name and shape, in Hugging Face (state_dict) order.
 * nn.Linear weights are (out, in). lm_head.weight only when the head is not tied.
 */
export function llamaParamSpec(cfg: LlamaConfig): TensorSpec[] {
  const { V, C, I, L, NH, NKV, HS, tied, qkvBias, oBias } = llamaDims(cfg);
  const specs: TensorSpec[] = [{ name: 'model.embed_tokens.weight', shape: [V, C] }];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    for (const [proj, out] of [['q_proj', NH * HS], ['k_proj', NKV * HS], ['v_proj', NKV * HS]] as const) {
      specs.push({ name: `${p}.self_attn.${proj}.weight`, shape: [out, C] });
      if (qkvBias) specs.push({ name: `${p}.self_attn.${proj}.bias`, shape: [out] });
    }
    specs.push({ name: `${p}.self_attn.o_proj.weight`, shape: [C, NH * HS] });
    if (oBias) specs.push({ name: `${p}.self_attn.o_proj.bias`, shape: [C] });
    specs.push(
      { name: `${p}.mlp.gate_proj.weight`, shape: [I, C] },
      { name: `${p}.mlp.up_proj.weight`, shape: [I, C] },
      { name: `${p}.mlp.down_proj.weight`, shape: [C, I] },
      { name: `${p}.input_layernorm.weight`, shape: [C] },
      { name: `${p}.post_attention_layernorm.weight`, shape: [C] },
    );
  }
  specs.push({ name: 'model.norm.weight', shape: [C] });
  if (!tied) specs.push({ name: 'lm_head.weight', shape: [V, C] });
  return specs;
}

interface RmsCache {
  out: Float64Array; // (T,C)
  xhat: Float64Array; // (T,C) x·rstd, before the weight
  rstd: Float64Array; // (T)
}

interface LayerCache {
  x: Float64Array; // block input (T,C)
  rms1: RmsCache;
  q: Float64Array; // after RoPE (T,NH,HS)
  k: Float64Array; // after RoPE (T,NKV,HS)
  v: Float64Array; // (T,NKV,HS)
  att: Float64Array; // softmax probabilities (NH,T,T), zero above the diagonal
  y: Float64Array; // heads concatenated (T,NH·HS)
  x2: Float64Array; // after the attention residual (T,C)
  rms2: RmsCache;
  gate: Float64Array; // (T,I)
  up: Float64Array; // (T,I)
  h: Float64Array; // silu(gate)·up (T,I)
  /** LoRA: scale·x Aᵀ (T,r) of each adapted projection, by module name. */
  lora: Map<string, Float64Array>;
}

export interface LlamaSeqCache {
  tokens: number[];
  layers: LayerCache[];
  rmsf: RmsCache;
  /** Log-softmax of the logits (T,V). */
  logprobs: Float64Array;
}

export interface LlamaRefCache {
  config: LlamaConfig;
  dims: LlamaDims;
  params: Map<string, Float64Array>;
  /** cos and sin tables (Tmax,HS) over emb = [f, f], f = position·inv_freq; Tmax the longest sequence. */
  cos: Float64Array;
  sin: Float64Array;
  seqs: LlamaSeqCache[];
  /** LoRA adapters as float64 (null: none). */
  lora: { scale: number; weights: Map<string, Float64Array> } | null;
}

export interface LlamaRefResult {
  /** logp[s][t] = log p(seq[t+1] | seq[0..t]), t = 0..len−2. */
  logp: number[][];
  /** meanLogit[s][t] = mean over V of the logits at position t, t = 0..len−2 (aligned with logp). */
  meanLogit: number[][];
  cache: LlamaRefCache;
}

/**
 * Where llamaForwardRef rounds an activation: sequence `seq`, layer `layer`, element `index` of the
 * (T, width) output of q_proj, k_proj, v_proj, gate_proj or up_proj (row-major, t·width + channel).
 */
export interface RoundingPoint {
  seq: number;
  layer: number;
  tensor: 'q' | 'k' | 'v' | 'gate' | 'up';
  index: number;
}

/** A rounding of activations: toF16, or one that also reads where it is (RoundingPoint). */
export type RoundActivation = (x: number, at: RoundingPoint) => number;

// inp (T,IC), w (OC,IC), b (OC) or null -> (T,OC) = inp·wᵀ + b
function linear(inp: Arr, w: Arr, b: Arr | null, T: number, IC: number, OC: number): Float64Array {
  const out = new Float64Array(T * OC);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < OC; o++) {
      let s = b ? b[o] : 0;
      for (let i = 0; i < IC; i++) s += inp[t * IC + i] * w[o * IC + i];
      out[t * OC + o] = s;
    }
  }
  return out;
}

// dout (T,OC) -> dinp (T,IC) returned; dw (OC,IC), db (OC) accumulated (db may be null).
function linearBack(dout: Arr, inp: Arr, w: Arr, dw: Float64Array, db: Float64Array | null, T: number, IC: number, OC: number): Float64Array {
  const dinp = new Float64Array(T * IC);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < OC; o++) {
      const g = dout[t * OC + o];
      if (db) db[o] += g;
      for (let i = 0; i < IC; i++) {
        dinp[t * IC + i] += g * w[o * IC + i];
        dw[o * IC + i] += g * inp[t * IC + i];
      }
    }
  }
  return dinp;
}

// x (T,C) -> x / sqrt(mean(x²) + eps) · w
function rmsnorm(x: Arr, w: Arr, T: number, C: number, eps: number): RmsCache {
  const out = new Float64Array(T * C);
  const xhat = new Float64Array(T * C);
  const rstd = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let ss = 0;
    for (let c = 0; c < C; c++) ss += x[t * C + c] ** 2;
    const r = 1 / Math.sqrt(ss / C + eps);
    rstd[t] = r;
    for (let c = 0; c < C; c++) {
      xhat[t * C + c] = x[t * C + c] * r;
      out[t * C + c] = xhat[t * C + c] * w[c];
    }
  }
  return { out, xhat, rstd };
}

// dout (T,C) -> dx (T,C) returned; dw (C) accumulated.
function rmsnormBack(dout: Arr, cache: RmsCache, w: Arr, dw: Float64Array, T: number, C: number): Float64Array {
  const dx = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    // d/dx_c of x_j·r: r·δ_jc − x_j·r³·x_c/C, so dx = r·(g − xhat·mean(g·xhat)), g = dout·w
    let meanGX = 0;
    for (let c = 0; c < C; c++) {
      meanGX += dout[t * C + c] * w[c] * cache.xhat[t * C + c];
      dw[c] += dout[t * C + c] * cache.xhat[t * C + c];
    }
    meanGX /= C;
    for (let c = 0; c < C; c++) dx[t * C + c] = cache.rstd[t] * (dout[t * C + c] * w[c] - cache.xhat[t * C + c] * meanGX);
  }
  return dx;
}

// Hugging Face's tables (Tmax,HS): inv_freq[i] = theta^(−2i/HS), freqs = pos·inv_freq, emb = [freqs, freqs].
function ropeTables(Tmax: number, HS: number, theta: number): { cos: Float64Array; sin: Float64Array } {
  const cos = new Float64Array(Tmax * HS);
  const sin = new Float64Array(Tmax * HS);
  for (let p = 0; p < Tmax; p++) {
    for (let j = 0; j < HS; j++) {
      const i = j % (HS / 2);
      const f = p * Math.pow(theta, (-2 * i) / HS);
      cos[p * HS + j] = Math.cos(f);
      sin[p * HS + j] = Math.sin(f);
    }
  }
  return { cos, sin };
}

// x (T,H,HS) -> x·cos + rotate_half(x)·sin per head, rotate_half([x1, x2]) = [−x2, x1]. With
// transpose, the adjoint: dx = dy·cos + rotate_halfᵀ(dy·sin), rotate_halfᵀ([y1, y2]) = [y2, −y1].
function rope(x: Arr, cos: Arr, sin: Arr, T: number, H: number, HS: number, transpose: boolean): Float64Array {
  const half = HS / 2;
  const out = new Float64Array(T * H * HS);
  for (let t = 0; t < T; t++) {
    for (let h = 0; h < H; h++) {
      const o = (t * H + h) * HS;
      for (let j = 0; j < HS; j++) {
        const c = cos[t * HS + j];
        const s = sin[t * HS + j];
        if (!transpose) {
          const rot = j < half ? -x[o + j + half] : x[o + j - half];
          out[o + j] = x[o + j] * c + rot * s;
        } else {
          // out_j = x_j·c_j + (j < half ? x_{j+half}·s_{j+half} : −x_{j−half}·s_{j−half})
          const rotT = j < half ? x[o + j + half] * sin[t * HS + j + half] : -x[o + j - half] * sin[t * HS + j - half];
          out[o + j] = x[o + j] * c + rotT;
        }
      }
    }
  }
  return out;
}

function toF64(params: ParamMap, cfg: LlamaConfig): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const s of llamaParamSpec(cfg)) {
    const p = params.get(s.name);
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (!p) throw new Error(`llama reference: missing parameter ${s.name}`);
    if (p.length !== n) throw new Error(`llama reference: parameter ${s.name} has ${p.length} elements, expected ${n} (shape [${s.shape.join(',')}])`);
    out.set(s.name, Float64Array.from(p));
  }
  return out;
}

function forwardSeq(P: Map<string, Float64Array>, d: LlamaDims, cos: Arr, sin: Arr, tokens: number[], seq: number, round?: RoundActivation, lora: LlamaRefCache['lora'] = null): LlamaSeqCache {
  const { C, I, L, NH, NKV, HS, V, eps } = d;
  const T = tokens.length;
  const G = NH / NKV;
  const QC = NH * HS;
  const KC = NKV * HS;
  const scale = 1 / Math.sqrt(HS);
  const g = (name: string) => P.get(name)!;
  const opt = (name: string) => P.get(name) ?? null;
  // a projection x·Wᵀ + b, plus LoRA's scale·(x Aᵀ) Bᵀ when the module has an adapter (u kept)
  let adapted = new Map<string, Float64Array>();
  const project = (module: string, x: Arr, IC: number, OC: number): Float64Array => {
    const y = linear(x, g(`${module}.weight`), opt(`${module}.bias`), T, IC, OC);
    const A = lora?.weights.get(`${module}.lora_A.weight`);
    const B = lora?.weights.get(`${module}.lora_B.weight`);
    if (!lora || !A || !B) return y;
    adapted.set(module, loraAddInto(y, x, A, B, lora.scale, T, IC, OC));
    return y;
  };
  const emb = g('model.embed_tokens.weight');
  const head = d.tied ? emb : g('lm_head.weight');
  let x = new Float64Array(T * C);
  for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) x[t * C + c] = emb[tokens[t] * C + c];
  const layers: LayerCache[] = [];
  for (let l = 0; l < L; l++) {
    const p = `model.layers.${l}`;
    adapted = new Map();
    const rms1 = rmsnorm(x, g(`${p}.input_layernorm.weight`), T, C, eps);
    const qPre = project(`${p}.self_attn.q_proj`, rms1.out, C, QC);
    const kPre = project(`${p}.self_attn.k_proj`, rms1.out, C, KC);
    const v = project(`${p}.self_attn.v_proj`, rms1.out, C, KC);
    // f16 activation storage rounds the projections' outputs, q and k before RoPE
    const rounded = (a: Float64Array, tensor: RoundingPoint['tensor']) => {
      if (round) a.forEach((x, index) => (a[index] = round(x, { seq, layer: l, tensor, index })));
    };
    rounded(qPre, 'q');
    rounded(kPre, 'k');
    rounded(v, 'v');
    const q = rope(qPre, cos, sin, T, NH, HS, false);
    const k = rope(kPre, cos, sin, T, NKV, HS, false);
    // query head n reads kv head floor(n/G)
    const att = new Float64Array(NH * T * T);
    const y = new Float64Array(T * QC);
    for (let n = 0; n < NH; n++) {
      const kv = Math.floor(n / G);
      for (let t = 0; t < T; t++) {
        const row = (n * T + t) * T;
        let max = -Infinity;
        for (let u = 0; u <= t; u++) {
          let s = 0;
          for (let i = 0; i < HS; i++) s += q[t * QC + n * HS + i] * k[u * KC + kv * HS + i];
          att[row + u] = s * scale;
          max = Math.max(max, att[row + u]);
        }
        let sum = 0;
        for (let u = 0; u <= t; u++) {
          att[row + u] = Math.exp(att[row + u] - max);
          sum += att[row + u];
        }
        for (let u = 0; u <= t; u++) att[row + u] /= sum;
        for (let i = 0; i < HS; i++) {
          let s = 0;
          for (let u = 0; u <= t; u++) s += att[row + u] * v[u * KC + kv * HS + i];
          y[t * QC + n * HS + i] = s;
        }
      }
    }
    const o = project(`${p}.self_attn.o_proj`, y, QC, C);
    const x2 = new Float64Array(T * C);
    for (let i = 0; i < T * C; i++) x2[i] = x[i] + o[i];
    const rms2 = rmsnorm(x2, g(`${p}.post_attention_layernorm.weight`), T, C, eps);
    const gate = project(`${p}.mlp.gate_proj`, rms2.out, C, I);
    const up = project(`${p}.mlp.up_proj`, rms2.out, C, I);
    rounded(gate, 'gate');
    rounded(up, 'up');
    const h = new Float64Array(T * I);
    for (let i = 0; i < h.length; i++) h[i] = (gate[i] / (1 + Math.exp(-gate[i]))) * up[i];
    const down = project(`${p}.mlp.down_proj`, h, I, C);
    const x3 = new Float64Array(T * C);
    for (let i = 0; i < T * C; i++) x3[i] = x2[i] + down[i];
    layers.push({ x, rms1, q, k, v, att, y, x2, rms2, gate, up, h, lora: adapted });
    x = x3;
  }
  const rmsf = rmsnorm(x, g('model.norm.weight'), T, C, eps);
  // logits (T,V) = rmsf (T,C) · headᵀ, stored as log-softmax
  const logprobs = new Float64Array(T * V);
  for (let t = 0; t < T; t++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += rmsf.out[t * C + c] * head[v * C + c];
      logprobs[t * V + v] = s;
      max = Math.max(max, s);
    }
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logprobs[t * V + v] - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < V; v++) logprobs[t * V + v] -= lse;
  }
  return { tokens: [...tokens], layers, rmsf, logprobs };
}

/**
 * Forward pass over ragged sequences (each 1 ≤ len ≤ max_position_embeddings, ids in [0, V)).
 * `roundActivations` (e.g. toF16 of ./f16.ts) is applied where f16 activation storage rounds:
 * the outputs of q_proj and k_proj (before RoPE), v_proj, gate_proj and up_proj; the model then
 * computes with the rounded values, the cache holds them, and llamaBackwardRef takes the
 * rounding's derivative as 1 (straight-through). `lora`: LoRA adapters on the projections that
 * have them (RefLora), added before any rounding.
 */
export function llamaForwardRef(params: ParamMap, config: LlamaConfig, seqs: number[][], roundActivations?: RoundActivation, lora?: RefLora): LlamaRefResult {
  const d = llamaDims(config);
  const P = toF64(params, config);
  const adapters = lora ? { scale: lora.scale, weights: new Map([...lora.weights].map(([k, v]) => [k, Float64Array.from(v)])) } : null;
  const { V, C } = d;
  const { cos, sin } = ropeTables(Math.min(d.P, Math.max(1, ...seqs.map((q) => q.length))), d.HS, d.theta);
  const head = d.tied ? P.get('model.embed_tokens.weight')! : P.get('lm_head.weight')!;
  const logp: number[][] = [];
  const meanLogit: number[][] = [];
  const caches: LlamaSeqCache[] = [];
  seqs.forEach((seq, s) => {
    if (seq.length < 1 || seq.length > d.P) throw new Error(`llama reference: sequence ${s} has length ${seq.length}, expected 1..${d.P}`);
    seq.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`llama reference: sequence ${s} position ${t}: token ${id} is outside [0, ${V})`);
    });
    const cache = forwardSeq(P, d, cos, sin, seq, s, roundActivations, adapters);
    caches.push(cache);
    const lp: number[] = [];
    const ml: number[] = [];
    for (let t = 0; t + 1 < seq.length; t++) {
      lp.push(cache.logprobs[t * V + seq[t + 1]]);
      // mean logit recomputed directly from rmsf·headᵀ so it does not depend on log-softmax
      let m = 0;
      for (let v = 0; v < V; v++) for (let c = 0; c < C; c++) m += cache.rmsf.out[t * C + c] * head[v * C + c];
      ml.push(m / V);
    }
    logp.push(lp);
    meanLogit.push(ml);
  });
  return { logp, meanLogit, cache: { config, dims: d, params: P, cos, sin, seqs: caches, lora: adapters } };
}

/**
 * Gradients of Σ coef[s][t]·logp[s][t] with respect to every parameter, keyed by the names of
 * llamaParamSpec (tied: model.embed_tokens.weight holds embedding + head gradients), and with
 * LoRA adapters (llamaForwardRef's `lora`) to every adapter tensor, by its name. `dNorm[s]`
 * (T,C), when given, is added to the gradient of model.norm's output: the upstream gradient of
 * another head on the final hidden states (the reward model's score head, ./score.ts).
 */
export function llamaBackwardRef(cache: LlamaRefCache, coef: number[][], dNorm?: ArrayLike<number>[]): Map<string, Float64Array> {
  const d = cache.dims;
  const { C, I, L, NH, NKV, HS, V } = d;
  const G = NH / NKV;
  const QC = NH * HS;
  const KC = NKV * HS;
  const scale = 1 / Math.sqrt(HS);
  const P = cache.params;
  const g = (name: string) => P.get(name)!;
  const grads = new Map<string, Float64Array>();
  for (const [name, p] of P) grads.set(name, new Float64Array(p.length));
  const dg = (name: string) => grads.get(name)!;
  const dopt = (name: string) => grads.get(name) ?? null;
  if (coef.length !== cache.seqs.length) throw new Error(`llama reference: ${coef.length} coefficient rows for ${cache.seqs.length} sequences`);
  const headName = d.tied ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const head = g(headName);
  const dhead = dg(headName);
  const demb = dg('model.embed_tokens.weight');
  const lora = cache.lora;
  if (lora) for (const [name, w] of lora.weights) grads.set(name, new Float64Array(w.length));
  // a projection's backward: base (dW, db, dx) plus, with an adapter, dA, dB and its part of dx
  const projectBack = (lc: LayerCache, module: string, dout: Arr, x: Arr, T: number, IC: number, OC: number): Float64Array => {
    const dx = linearBack(dout, x, g(`${module}.weight`), dg(`${module}.weight`), dopt(`${module}.bias`), T, IC, OC);
    const u = lc.lora.get(module);
    if (!lora || !u) return dx;
    const [nA, nB] = [`${module}.lora_A.weight`, `${module}.lora_B.weight`];
    loraAddBack(dout, x, u, lora.weights.get(nA)!, lora.weights.get(nB)!, lora.scale, dg(nA), dg(nB), dx, T, IC, OC);
    return dx;
  };

  cache.seqs.forEach((sc, s) => {
    const T = sc.tokens.length;
    if (coef[s].length !== T - 1) throw new Error(`llama reference: coef[${s}] has ${coef[s].length} entries, expected ${T - 1}`);
    // dlogits (T,V) = coef · (onehot(next) − softmax); the last position predicts nothing
    const dlogits = new Float64Array(T * V);
    for (let t = 0; t + 1 < T; t++) {
      const k = coef[s][t];
      for (let v = 0; v < V; v++) dlogits[t * V + v] = -k * Math.exp(sc.logprobs[t * V + v]);
      dlogits[t * V + sc.tokens[t + 1]] += k;
    }
    // logits = rmsf · headᵀ
    const drmsf = new Float64Array(T * C);
    for (let t = 0; t < T; t++) {
      for (let v = 0; v < V; v++) {
        const dl = dlogits[t * V + v];
        if (dl === 0) continue;
        for (let c = 0; c < C; c++) {
          drmsf[t * C + c] += dl * head[v * C + c];
          dhead[v * C + c] += dl * sc.rmsf.out[t * C + c];
        }
      }
    }
    if (dNorm) {
      if (dNorm[s]?.length !== T * C) throw new Error(`llama reference: dNorm[${s}] has ${dNorm[s]?.length} entries, expected ${T * C}`);
      for (let i = 0; i < T * C; i++) drmsf[i] += dNorm[s][i];
    }
    let dx = rmsnormBack(drmsf, sc.rmsf, g('model.norm.weight'), dg('model.norm.weight'), T, C);
    for (let l = L - 1; l >= 0; l--) {
      const p = `model.layers.${l}`;
      const lc = sc.layers[l];
      // MLP branch: x3 = x2 + down(silu(gate)·up), gate = gate_proj(rms2(x2)), up = up_proj(rms2(x2))
      const dh = projectBack(lc, `${p}.mlp.down_proj`, dx, lc.h, T, I, C);
      const dgate = new Float64Array(T * I);
      const dup = new Float64Array(T * I);
      for (let i = 0; i < T * I; i++) {
        const u = lc.gate[i];
        const sg = 1 / (1 + Math.exp(-u));
        dup[i] = dh[i] * u * sg;
        dgate[i] = dh[i] * lc.up[i] * sg * (1 + u * (1 - sg));
      }
      const drms2 = projectBack(lc, `${p}.mlp.gate_proj`, dgate, lc.rms2.out, T, C, I);
      const drms2u = projectBack(lc, `${p}.mlp.up_proj`, dup, lc.rms2.out, T, C, I);
      for (let i = 0; i < T * C; i++) drms2[i] += drms2u[i];
      const dx2 = rmsnormBack(drms2, lc.rms2, g(`${p}.post_attention_layernorm.weight`), dg(`${p}.post_attention_layernorm.weight`), T, C);
      for (let i = 0; i < T * C; i++) dx2[i] += dx[i];
      // attention branch: x2 = x + o_proj(attn(q, k, v))
      const dy = projectBack(lc, `${p}.self_attn.o_proj`, dx2, lc.y, T, QC, C);
      const dq = new Float64Array(T * QC);
      const dk = new Float64Array(T * KC);
      const dv = new Float64Array(T * KC);
      for (let n = 0; n < NH; n++) {
        const kv = Math.floor(n / G);
        for (let t = 0; t < T; t++) {
          const row = (n * T + t) * T;
          // datt[u] = dy[t]·v[u]; dv[u] += att[u]·dy[t] (summed over the group's query heads)
          const datt = new Float64Array(t + 1);
          for (let u = 0; u <= t; u++) {
            let sum = 0;
            for (let i = 0; i < HS; i++) {
              const dyi = dy[t * QC + n * HS + i];
              sum += dyi * lc.v[u * KC + kv * HS + i];
              dv[u * KC + kv * HS + i] += lc.att[row + u] * dyi;
            }
            datt[u] = sum;
          }
          // softmax backward: dpre[u] = att[u]·(datt[u] − Σ att·datt)
          let dot = 0;
          for (let u = 0; u <= t; u++) dot += lc.att[row + u] * datt[u];
          for (let u = 0; u <= t; u++) {
            const dpre = lc.att[row + u] * (datt[u] - dot) * scale;
            for (let i = 0; i < HS; i++) {
              dq[t * QC + n * HS + i] += dpre * lc.k[u * KC + kv * HS + i];
              dk[u * KC + kv * HS + i] += dpre * lc.q[t * QC + n * HS + i];
            }
          }
        }
      }
      // through RoPE (its adjoint), then the three projections into drms1
      const dqPre = rope(dq, cache.cos, cache.sin, T, NH, HS, true);
      const dkPre = rope(dk, cache.cos, cache.sin, T, NKV, HS, true);
      const drms1 = new Float64Array(T * C);
      for (const [proj, dout, OC] of [['q_proj', dqPre, QC], ['k_proj', dkPre, KC], ['v_proj', dv, KC]] as const) {
        const part = projectBack(lc, `${p}.self_attn.${proj}`, dout, lc.rms1.out, T, C, OC);
        for (let i = 0; i < T * C; i++) drms1[i] += part[i];
      }
      const dxin = rmsnormBack(drms1, lc.rms1, g(`${p}.input_layernorm.weight`), dg(`${p}.input_layernorm.weight`), T, C);
      for (let i = 0; i < T * C; i++) dxin[i] += dx2[i];
      dx = dxin;
    }
    for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) demb[sc.tokens[t] * C + c] += dx[t * C + c];
  });
  return grads;
}
