// float64 GPT-2 (Hugging Face GPT2LMHeadModel, eval mode): the oracle for the whole engine.
// Deliberately self-contained — it imports none of the per-kernel references, so a shared
// mistake cannot hide in both. Sequences are processed one at a time (ragged, no padding).
// Dimensions: T time (one sequence), C channels, NH heads, HS = C/NH, V vocab, L layers.
// Layouts: activations (T,C) row-major; Conv1D weights (in,out): y = x·W + b; wte (V,C).
import { loraAddBack, loraAddInto } from './model-lora';
import type { GPTConfig } from '../model/config';
import { paramSpec } from '../model/config';

export type ParamMap = Map<string, Float32Array | Float64Array>;
type Arr = ArrayLike<number>;

/**
 * LoRA adapters (PEFT semantics, src/model/lora.ts): a projection named `${module}.weight` with
 * `${module}.lora_A.weight` [r, in] and `.lora_B.weight` [out, r] in `weights` computes
 * y = x·W + b + scale·(x Aᵀ) Bᵀ (Conv1D W [in, out] as every GPT-2 projection).
 */
export interface RefLora {
  scale: number;
  weights: ParamMap;
}

interface LayerCache {
  x: Float64Array; // block input (T,C)
  ln1: LnCache;
  qkv: Float64Array; // (T,3C)
  att: Float64Array; // softmax probabilities (NH,T,T), zero above the diagonal
  y: Float64Array; // heads concatenated (T,C)
  x2: Float64Array; // after the attention residual (T,C)
  ln2: LnCache;
  fc: Float64Array; // pre-activation (T,4C)
  gelu: Float64Array; // (T,4C)
  /** LoRA: scale·x Aᵀ (T,r) of each adapted projection, by module name. */
  lora: Map<string, Float64Array>;
}

interface LnCache {
  out: Float64Array; // (T,C)
  xhat: Float64Array; // (T,C)
  rstd: Float64Array; // (T)
}

export interface SeqCache {
  tokens: number[];
  layers: LayerCache[];
  lnf: LnCache;
  /** Log-softmax of the logits (T,V). */
  logprobs: Float64Array;
}

export interface GPT2RefCache {
  config: GPTConfig;
  params: Map<string, Float64Array>;
  seqs: SeqCache[];
  /** LoRA adapters as float64 (null: none). */
  lora: { scale: number; weights: Map<string, Float64Array> } | null;
  /** f16 arithmetic (gpt2ForwardRef's `roundOperands`): the rounding and the projections' rounded weights by module; null: none. */
  operands?: RefOperands | null;
}

/** The rounding of the matmul operands (f16 arithmetic) and the projections' weights rounded by it, by module name. */
interface RefOperands {
  round: (x: number) => number;
  weights: Map<string, Float64Array>;
}

/** A projection's weight as its product reads it: rounded when `ops` rounds the operands (made once per module). */
function operandWeight(ops: RefOperands | null | undefined, module: string, w: Float64Array): Float64Array {
  if (!ops) return w;
  let r = ops.weights.get(module);
  if (!r) ops.weights.set(module, (r = w.map(ops.round)));
  return r;
}

export interface GPT2RefResult {
  /** logp[s][t] = log p(seq[t+1] | seq[0..t]), t = 0..len−2. */
  logp: number[][];
  /** meanLogit[s][t] = mean over V of the logits at position t, t = 0..len−2 (aligned with logp). */
  meanLogit: number[][];
  cache: GPT2RefCache;
}

const GELU_K = Math.sqrt(2 / Math.PI);

// inp (T,IC), w (IC,OC), b (OC) -> (T,OC)
function linear(inp: Arr, w: Arr, b: Arr, T: number, IC: number, OC: number): Float64Array {
  const out = new Float64Array(T * OC);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < OC; o++) {
      let s = b[o];
      for (let i = 0; i < IC; i++) s += inp[t * IC + i] * w[i * OC + o];
      out[t * OC + o] = s;
    }
  }
  return out;
}

// dout (T,OC) -> dinp (T,IC) returned; dw (IC,OC), db (OC) accumulated.
function linearBack(dout: Arr, inp: Arr, w: Arr, dw: Float64Array, db: Float64Array, T: number, IC: number, OC: number): Float64Array {
  const dinp = new Float64Array(T * IC);
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < OC; o++) {
      const g = dout[t * OC + o];
      db[o] += g;
      for (let i = 0; i < IC; i++) {
        dinp[t * IC + i] += g * w[i * OC + o];
        dw[i * OC + o] += g * inp[t * IC + i];
      }
    }
  }
  return dinp;
}

// x (T,C) -> (x − mean) / sqrt(var + eps) · w + b, biased variance as torch.nn.LayerNorm.
function layernorm(x: Arr, w: Arr, b: Arr, T: number, C: number, eps: number): LnCache {
  const out = new Float64Array(T * C);
  const xhat = new Float64Array(T * C);
  const rstd = new Float64Array(T);
  for (let t = 0; t < T; t++) {
    let mean = 0;
    for (let c = 0; c < C; c++) mean += x[t * C + c];
    mean /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (x[t * C + c] - mean) ** 2;
    const r = 1 / Math.sqrt(v / C + eps);
    rstd[t] = r;
    for (let c = 0; c < C; c++) {
      const n = (x[t * C + c] - mean) * r;
      xhat[t * C + c] = n;
      out[t * C + c] = n * w[c] + b[c];
    }
  }
  return { out, xhat, rstd };
}

// dout (T,C) -> dx (T,C) returned; dw, db (C) accumulated.
function layernormBack(dout: Arr, cache: LnCache, w: Arr, dw: Float64Array, db: Float64Array, T: number, C: number): Float64Array {
  const dx = new Float64Array(T * C);
  for (let t = 0; t < T; t++) {
    let meanG = 0;
    let meanGX = 0;
    for (let c = 0; c < C; c++) {
      const g = dout[t * C + c] * w[c];
      meanG += g;
      meanGX += g * cache.xhat[t * C + c];
      dw[c] += dout[t * C + c] * cache.xhat[t * C + c];
      db[c] += dout[t * C + c];
    }
    meanG /= C;
    meanGX /= C;
    for (let c = 0; c < C; c++) {
      const g = dout[t * C + c] * w[c];
      dx[t * C + c] = cache.rstd[t] * (g - meanG - cache.xhat[t * C + c] * meanGX);
    }
  }
  return dx;
}

function toF64(params: ParamMap, config: GPTConfig): Map<string, Float64Array> {
  const out = new Map<string, Float64Array>();
  for (const s of paramSpec(config)) {
    const p = params.get(s.name);
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (!p) throw new Error(`gpt2 reference: missing parameter ${s.name}`);
    if (p.length !== n) throw new Error(`gpt2 reference: parameter ${s.name} has ${p.length} elements, expected ${n} (shape [${s.shape.join(',')}])`);
    out.set(s.name, Float64Array.from(p));
  }
  return out;
}

function forwardSeq(P: Map<string, Float64Array>, cfg: GPTConfig, tokens: number[], round?: (x: number) => number, lora: GPT2RefCache['lora'] = null, ops: RefOperands | null = null): SeqCache {
  const { nEmbd: C, nHead: NH, vocabSize: V, nLayer: L, layerNormEpsilon: eps } = cfg;
  const T = tokens.length;
  const HS = C / NH;
  const scale = 1 / Math.sqrt(HS);
  const g = (name: string) => P.get(name)!;
  // a projection x·W + b, plus LoRA's scale·(x Aᵀ) Bᵀ when the module has an adapter (u kept)
  let adapted = new Map<string, Float64Array>();
  const project = (module: string, x: Arr, IC: number, OC: number): Float64Array => {
    // f16 arithmetic: the product of the rounded input and weight, the bias added unrounded
    const y = ops ? linear(Array.from(x, ops.round), operandWeight(ops, module, g(`${module}.weight`)), g(`${module}.bias`), T, IC, OC) : linear(x, g(`${module}.weight`), g(`${module}.bias`), T, IC, OC);
    const A = lora?.weights.get(`${module}.lora_A.weight`);
    const B = lora?.weights.get(`${module}.lora_B.weight`);
    if (!lora || !A || !B) return y;
    adapted.set(module, loraAddInto(y, x, A, B, lora.scale, T, IC, OC));
    return y;
  };
  const wte = g('wte.weight');
  const wpe = g('wpe.weight');
  let x = new Float64Array(T * C);
  for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) x[t * C + c] = wte[tokens[t] * C + c] + wpe[t * C + c];
  const layers: LayerCache[] = [];
  for (let l = 0; l < L; l++) {
    const h = `h.${l}`;
    adapted = new Map();
    const ln1 = layernorm(x, g(`${h}.ln_1.weight`), g(`${h}.ln_1.bias`), T, C, eps);
    const qkv = project(`${h}.attn.c_attn`, ln1.out, C, 3 * C);
    if (round) qkv.forEach((v, i) => (qkv[i] = round(v)));
    // f16 arithmetic: the attention reads qkv rounded (and its backward the same rounded values)
    if (ops) qkv.forEach((v, i) => (qkv[i] = ops.round(v)));
    // q at [0,C), k at [C,2C), v at [2C,3C); head n uses channels [n·HS, (n+1)·HS) of each.
    const att = new Float64Array(NH * T * T);
    const y = new Float64Array(T * C);
    for (let n = 0; n < NH; n++) {
      for (let t = 0; t < T; t++) {
        const row = (n * T + t) * T;
        let max = -Infinity;
        for (let u = 0; u <= t; u++) {
          let s = 0;
          for (let i = 0; i < HS; i++) s += qkv[t * 3 * C + n * HS + i] * qkv[u * 3 * C + C + n * HS + i];
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
          for (let u = 0; u <= t; u++) s += att[row + u] * qkv[u * 3 * C + 2 * C + n * HS + i];
          y[t * C + n * HS + i] = s;
        }
      }
    }
    const proj = project(`${h}.attn.c_proj`, y, C, C);
    const x2 = new Float64Array(T * C);
    for (let i = 0; i < T * C; i++) x2[i] = x[i] + proj[i];
    const ln2 = layernorm(x2, g(`${h}.ln_2.weight`), g(`${h}.ln_2.bias`), T, C, eps);
    const fc = project(`${h}.mlp.c_fc`, ln2.out, C, 4 * C);
    if (round) fc.forEach((v, i) => (fc[i] = round(v)));
    const gelu = new Float64Array(T * 4 * C);
    for (let i = 0; i < gelu.length; i++) {
      const u = fc[i];
      gelu[i] = 0.5 * u * (1 + Math.tanh(GELU_K * (u + 0.044715 * u * u * u)));
    }
    const mproj = project(`${h}.mlp.c_proj`, gelu, 4 * C, C);
    const x3 = new Float64Array(T * C);
    for (let i = 0; i < T * C; i++) x3[i] = x2[i] + mproj[i];
    layers.push({ x, ln1, qkv, att, y, x2, ln2, fc, gelu, lora: adapted });
    x = x3;
  }
  const lnf = layernorm(x, g('ln_f.weight'), g('ln_f.bias'), T, C, eps);
  // logits (T,V) = lnf (T,C) · wteᵀ, stored as log-softmax
  const logprobs = new Float64Array(T * V);
  for (let t = 0; t < T; t++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += lnf.out[t * C + c] * wte[v * C + c];
      logprobs[t * V + v] = s;
      max = Math.max(max, s);
    }
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logprobs[t * V + v] - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < V; v++) logprobs[t * V + v] -= lse;
  }
  return { tokens: [...tokens], layers, lnf, logprobs };
}

/**
 * Forward pass over ragged sequences (each 1 ≤ len ≤ nPositions, ids in [0, V)). `roundActivations`
 * (e.g. toF16) is applied to every layer's qkv and fc as they are computed — the model GptRunner
 * computes with f16 activation storage; the backward then takes the rounding's derivative as 1.
 * `lora`: LoRA adapters on the projections that have them (RefLora). `roundOperands` (e.g.
 * toF16): the model GptRunner computes with f16 arithmetic — every projection's input and weight
 * rounded before their product (the bias added unrounded) and qkv rounded before the attention;
 * the backward rounds the output gradient and the input of each projection's dx and dW products
 * as well (db sums the unrounded gradient), the roundings' derivatives taken as 1. The LM head
 * stays unrounded (GptRunner runs it in f32).
 */
export function gpt2ForwardRef(params: ParamMap, config: GPTConfig, seqs: number[][], roundActivations?: (x: number) => number, lora?: RefLora, roundOperands?: (x: number) => number): GPT2RefResult {
  const P = toF64(params, config);
  const ops: RefOperands | null = roundOperands ? { round: roundOperands, weights: new Map() } : null;
  const adapters = lora ? { scale: lora.scale, weights: new Map([...lora.weights].map(([k, v]) => [k, Float64Array.from(v)])) } : null;
  const V = config.vocabSize;
  const C = config.nEmbd;
  const wte = P.get('wte.weight')!;
  const logp: number[][] = [];
  const meanLogit: number[][] = [];
  const caches: SeqCache[] = [];
  seqs.forEach((seq, s) => {
    if (seq.length < 1 || seq.length > config.nPositions) throw new Error(`gpt2 reference: sequence ${s} has length ${seq.length}, expected 1..${config.nPositions}`);
    seq.forEach((id, t) => {
      if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`gpt2 reference: sequence ${s} position ${t}: token ${id} is outside [0, ${V})`);
    });
    const cache = forwardSeq(P, config, seq, roundActivations, adapters, ops);
    caches.push(cache);
    const lp: number[] = [];
    const ml: number[] = [];
    for (let t = 0; t + 1 < seq.length; t++) {
      lp.push(cache.logprobs[t * V + seq[t + 1]]);
      // mean logit recomputed directly from lnf·wteᵀ so it does not depend on log-softmax
      let m = 0;
      for (let v = 0; v < V; v++) for (let c = 0; c < C; c++) m += cache.lnf.out[t * C + c] * wte[v * C + c];
      ml.push(m / V);
    }
    logp.push(lp);
    meanLogit.push(ml);
  });
  return { logp, meanLogit, cache: { config, params: P, seqs: caches, lora: adapters, operands: ops } };
}

/**
 * Gradients of Σ coef[s][t]·logp[s][t] with respect to every parameter (wte: embedding + tied head),
 * and with LoRA adapters (gpt2ForwardRef's `lora`) to every adapter tensor, by its name too.
 * `dLnf[s]` (T,C), when given, is added to the gradient of ln_f's output: the upstream gradient of
 * another head on the final hidden states (the reward model's score head, ./score.ts).
 */
export function gpt2BackwardRef(cache: GPT2RefCache, coef: number[][], dLnf?: ArrayLike<number>[]): Map<string, Float64Array> {
  const cfg = cache.config;
  const { nEmbd: C, nHead: NH, vocabSize: V, nLayer: L } = cfg;
  const HS = C / NH;
  const scale = 1 / Math.sqrt(HS);
  const P = cache.params;
  const g = (name: string) => P.get(name)!;
  const grads = new Map<string, Float64Array>();
  for (const [name, p] of P) grads.set(name, new Float64Array(p.length));
  const dg = (name: string) => grads.get(name)!;
  if (coef.length !== cache.seqs.length) throw new Error(`gpt2 reference: ${coef.length} coefficient rows for ${cache.seqs.length} sequences`);
  const wte = g('wte.weight');
  const dwte = dg('wte.weight');
  const lora = cache.lora;
  if (lora) for (const [name, w] of lora.weights) grads.set(name, new Float64Array(w.length));
  // a projection's backward: base (dW, db, dx) plus, with an adapter, dA, dB and its part of dx
  const projectBack = (lc: LayerCache, module: string, dout: Arr, x: Arr, T: number, IC: number, OC: number): Float64Array => {
    const ops = cache.operands;
    let dx: Float64Array;
    if (ops) {
      // f16 arithmetic: dx and dW from the rounded dout, x and W; db from the unrounded dout
      const db = dg(`${module}.bias`);
      for (let i = 0; i < dout.length; i++) db[i % OC] += dout[i];
      dx = linearBack(Array.from(dout, ops.round), Array.from(x, ops.round), operandWeight(ops, module, g(`${module}.weight`)), dg(`${module}.weight`), new Float64Array(OC), T, IC, OC);
    } else dx = linearBack(dout, x, g(`${module}.weight`), dg(`${module}.weight`), dg(`${module}.bias`), T, IC, OC);
    const u = lc.lora.get(module);
    if (!lora || !u) return dx;
    const [nA, nB] = [`${module}.lora_A.weight`, `${module}.lora_B.weight`];
    loraAddBack(dout, x, u, lora.weights.get(nA)!, lora.weights.get(nB)!, lora.scale, dg(nA), dg(nB), dx, T, IC, OC);
    return dx;
  };

  cache.seqs.forEach((sc, s) => {
    const T = sc.tokens.length;
    if (coef[s].length !== T - 1) throw new Error(`gpt2 reference: coef[${s}] has ${coef[s].length} entries, expected ${T - 1}`);
    // dlogits (T,V) = coef · (onehot(next) − softmax); the last position predicts nothing
    const dlogits = new Float64Array(T * V);
    for (let t = 0; t + 1 < T; t++) {
      const k = coef[s][t];
      for (let v = 0; v < V; v++) dlogits[t * V + v] = -k * Math.exp(sc.logprobs[t * V + v]);
      dlogits[t * V + sc.tokens[t + 1]] += k;
    }
    // tied head: logits = lnf · wteᵀ
    const dlnf = new Float64Array(T * C);
    for (let t = 0; t < T; t++) {
      for (let v = 0; v < V; v++) {
        const d = dlogits[t * V + v];
        if (d === 0) continue;
        for (let c = 0; c < C; c++) {
          dlnf[t * C + c] += d * wte[v * C + c];
          dwte[v * C + c] += d * sc.lnf.out[t * C + c];
        }
      }
    }
    if (dLnf) {
      if (dLnf[s]?.length !== T * C) throw new Error(`gpt2 reference: dLnf[${s}] has ${dLnf[s]?.length} entries, expected ${T * C}`);
      for (let i = 0; i < T * C; i++) dlnf[i] += dLnf[s][i];
    }
    let dx = layernormBack(dlnf, sc.lnf, g('ln_f.weight'), dg('ln_f.weight'), dg('ln_f.bias'), T, C);
    for (let l = L - 1; l >= 0; l--) {
      const h = `h.${l}`;
      const lc = sc.layers[l];
      // MLP branch: x3 = x2 + c_proj(gelu(c_fc(ln_2(x2))))
      const dgelu = projectBack(lc, `${h}.mlp.c_proj`, dx, lc.gelu, T, 4 * C, C);
      const dfc = new Float64Array(T * 4 * C);
      for (let i = 0; i < dfc.length; i++) {
        const u = lc.fc[i];
        const th = Math.tanh(GELU_K * (u + 0.044715 * u * u * u));
        const dth = (1 - th * th) * GELU_K * (1 + 3 * 0.044715 * u * u);
        dfc[i] = dgelu[i] * (0.5 * (1 + th) + 0.5 * u * dth);
      }
      const dln2 = projectBack(lc, `${h}.mlp.c_fc`, dfc, lc.ln2.out, T, C, 4 * C);
      const dx2 = layernormBack(dln2, lc.ln2, g(`${h}.ln_2.weight`), dg(`${h}.ln_2.weight`), dg(`${h}.ln_2.bias`), T, C);
      for (let i = 0; i < T * C; i++) dx2[i] += dx[i];
      // attention branch: x2 = x + c_proj(attn(c_attn(ln_1(x))))
      const dy = projectBack(lc, `${h}.attn.c_proj`, dx2, lc.y, T, C, C);
      const dqkv = new Float64Array(T * 3 * C);
      for (let n = 0; n < NH; n++) {
        for (let t = 0; t < T; t++) {
          const row = (n * T + t) * T;
          // datt[u] = dy[t]·v[u]; dv[u] += att[u]·dy[t]
          const datt = new Float64Array(t + 1);
          for (let u = 0; u <= t; u++) {
            let s = 0;
            for (let i = 0; i < HS; i++) {
              const d = dy[t * C + n * HS + i];
              s += d * lc.qkv[u * 3 * C + 2 * C + n * HS + i];
              dqkv[u * 3 * C + 2 * C + n * HS + i] += lc.att[row + u] * d;
            }
            datt[u] = s;
          }
          // softmax backward: dpre[u] = att[u]·(datt[u] − Σ att·datt)
          let dot = 0;
          for (let u = 0; u <= t; u++) dot += lc.att[row + u] * datt[u];
          for (let u = 0; u <= t; u++) {
            const dpre = lc.att[row + u] * (datt[u] - dot) * scale;
            for (let i = 0; i < HS; i++) {
              dqkv[t * 3 * C + n * HS + i] += dpre * lc.qkv[u * 3 * C + C + n * HS + i];
              dqkv[u * 3 * C + C + n * HS + i] += dpre * lc.qkv[t * 3 * C + n * HS + i];
            }
          }
        }
      }
      const dln1 = projectBack(lc, `${h}.attn.c_attn`, dqkv, lc.ln1.out, T, C, 3 * C);
      const dxin = layernormBack(dln1, lc.ln1, g(`${h}.ln_1.weight`), dg(`${h}.ln_1.weight`), dg(`${h}.ln_1.bias`), T, C);
      for (let i = 0; i < T * C; i++) dxin[i] += dx2[i];
      dx = dxin;
    }
    const dwpe = dg('wpe.weight');
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < C; c++) {
        dwte[sc.tokens[t] * C + c] += dx[t * C + c];
        dwpe[t * C + c] += dx[t * C + c];
      }
    }
  });
  return grads;
}
