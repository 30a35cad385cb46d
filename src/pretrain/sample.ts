// Text generation on the host for small models: a float32 GPT-2 decoder with a key/value
// cache (one token per call), then greedy or temperature sampling. The built-in model has
// under a million parameters, so a token costs a few milliseconds in plain JS; the GPU
// engine computes log-probs at given targets only and is not needed here.
// Dimensions: C channels, NH heads, HS = C/NH, V vocab, P positions, L layers.
// Conv1D weights are (in, out): y = x·W + b.
import type { GPTConfig } from '../model/config';
import { paramSpec } from '../model/config';
import type { Rng } from '../util/rng';

const GELU_K = Math.sqrt(2 / Math.PI);

// x (IC), w (IC,OC), b (OC) -> out (OC)
function matvec(out: Float32Array, x: Float32Array, w: Float32Array, b: Float32Array, IC: number, OC: number): void {
  out.set(b);
  for (let i = 0; i < IC; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = i * OC;
    for (let o = 0; o < OC; o++) out[o] += xi * w[row + o];
  }
}

// x (C) -> out (C), normalised then scaled and shifted
function layernorm(out: Float32Array, x: Float32Array, g: Float32Array, b: Float32Array, eps: number): void {
  const C = x.length;
  let mean = 0;
  for (let i = 0; i < C; i++) mean += x[i];
  mean /= C;
  let v = 0;
  for (let i = 0; i < C; i++) v += (x[i] - mean) ** 2;
  const rstd = 1 / Math.sqrt(v / C + eps);
  for (let i = 0; i < C; i++) out[i] = (x[i] - mean) * rstd * g[i] + b[i];
}

/** Decoding state of one sequence: cached keys and values (L × (P,C)) and its length. */
export interface DecodeState {
  keys: Float32Array[];
  values: Float32Array[];
  length: number;
}

export class HostGpt {
  private w: Map<string, Float32Array>;

  constructor(readonly config: GPTConfig, params: ReadonlyMap<string, Float32Array>) {
    this.w = new Map();
    for (const { name, shape } of paramSpec(config)) {
      const t = params.get(name);
      const n = shape.reduce((a, b) => a * b, 1);
      if (!t || t.length !== n) throw new Error(`HostGpt: parameter "${name}" is missing or has ${t?.length ?? 0} values, expected ${n}`);
      this.w.set(name, t);
    }
  }

  private p(name: string): Float32Array {
    return this.w.get(name)!;
  }

  newState(): DecodeState {
    const { nLayer: L, nPositions: P, nEmbd: C } = this.config;
    return { keys: Array.from({ length: L }, () => new Float32Array(P * C)), values: Array.from({ length: L }, () => new Float32Array(P * C)), length: 0 };
  }

  /** Feeds one token at position state.length; returns the next-token logits (V). */
  step(state: DecodeState, token: number): Float32Array {
    const { nEmbd: C, nHead: NH, nLayer: L, vocabSize: V, nPositions: P, layerNormEpsilon: eps } = this.config;
    const t = state.length;
    if (t >= P) throw new Error(`HostGpt: position ${t} is beyond n_positions ${P}`);
    if (!Number.isInteger(token) || token < 0 || token >= V) throw new Error(`HostGpt: token ${token} is outside the vocabulary [0, ${V})`);
    const HS = C / NH;
    const scale = 1 / Math.sqrt(HS);
    const wte = this.p('wte.weight');
    const wpe = this.p('wpe.weight');
    const x = new Float32Array(C);
    for (let i = 0; i < C; i++) x[i] = wte[token * C + i] + wpe[t * C + i];
    const ln = new Float32Array(C);
    const qkv = new Float32Array(3 * C);
    const y = new Float32Array(C);
    const proj = new Float32Array(C);
    const fc = new Float32Array(4 * C);
    const att = new Float32Array(t + 1);
    for (let l = 0; l < L; l++) {
      const h = `h.${l}`;
      layernorm(ln, x, this.p(`${h}.ln_1.weight`), this.p(`${h}.ln_1.bias`), eps);
      matvec(qkv, ln, this.p(`${h}.attn.c_attn.weight`), this.p(`${h}.attn.c_attn.bias`), C, 3 * C);
      const K = state.keys[l];
      const Vc = state.values[l];
      K.set(qkv.subarray(C, 2 * C), t * C);
      Vc.set(qkv.subarray(2 * C, 3 * C), t * C);
      for (let hh = 0; hh < NH; hh++) {
        const o = hh * HS;
        let max = -Infinity;
        for (let j = 0; j <= t; j++) {
          let s = 0;
          for (let d = 0; d < HS; d++) s += qkv[o + d] * K[j * C + o + d];
          att[j] = s * scale;
          if (att[j] > max) max = att[j];
        }
        let sum = 0;
        for (let j = 0; j <= t; j++) sum += att[j] = Math.exp(att[j] - max);
        for (let d = 0; d < HS; d++) y[o + d] = 0;
        for (let j = 0; j <= t; j++) {
          const pj = att[j] / sum;
          for (let d = 0; d < HS; d++) y[o + d] += pj * Vc[j * C + o + d];
        }
      }
      matvec(proj, y, this.p(`${h}.attn.c_proj.weight`), this.p(`${h}.attn.c_proj.bias`), C, C);
      for (let i = 0; i < C; i++) x[i] += proj[i];
      layernorm(ln, x, this.p(`${h}.ln_2.weight`), this.p(`${h}.ln_2.bias`), eps);
      matvec(fc, ln, this.p(`${h}.mlp.c_fc.weight`), this.p(`${h}.mlp.c_fc.bias`), C, 4 * C);
      for (let i = 0; i < 4 * C; i++) {
        const u = fc[i];
        fc[i] = 0.5 * u * (1 + Math.tanh(GELU_K * (u + 0.044715 * u * u * u)));
      }
      matvec(proj, fc, this.p(`${h}.mlp.c_proj.weight`), this.p(`${h}.mlp.c_proj.bias`), 4 * C, C);
      for (let i = 0; i < C; i++) x[i] += proj[i];
    }
    layernorm(ln, x, this.p('ln_f.weight'), this.p('ln_f.bias'), eps);
    const logits = new Float32Array(V);
    for (let v = 0; v < V; v++) {
      let s = 0;
      for (let i = 0; i < C; i++) s += ln[i] * wte[v * C + i];
      logits[v] = s;
    }
    state.length = t + 1;
    return logits;
  }
}

export interface SampleOptions {
  maxNewTokens: number;
  /** 0 = greedy (argmax); otherwise softmax(logits / temperature). */
  temperature: number;
  rng: Rng;
  /** Generation stops after this token (not included in the result); default the model's eos. */
  stopToken?: number;
}

/** Index drawn from softmax(logits / temperature), or the argmax when temperature is 0. */
export function sampleToken(logits: Float32Array, temperature: number, rng: Rng): number {
  if (!(temperature >= 0) || !Number.isFinite(temperature)) throw new Error(`temperature must be a finite number ≥ 0, got ${temperature}`);
  let best = 0;
  for (let v = 1; v < logits.length; v++) if (logits[v] > logits[best]) best = v;
  if (temperature === 0) return best;
  const max = logits[best];
  const probs = new Float64Array(logits.length);
  let sum = 0;
  for (let v = 0; v < logits.length; v++) sum += probs[v] = Math.exp((logits[v] - max) / temperature);
  let u = rng.next() * sum;
  for (let v = 0; v < logits.length; v++) if ((u -= probs[v]) < 0) return v;
  return best;
}

/** Completion ids after promptIds (stop token excluded), at most maxNewTokens and within n_positions. */
export function generateIds(model: HostGpt, promptIds: readonly number[], opts: SampleOptions): number[] {
  if (promptIds.length === 0) throw new Error('generate: the prompt has no tokens');
  if (!Number.isInteger(opts.maxNewTokens) || opts.maxNewTokens < 0) throw new Error(`maxNewTokens must be an integer ≥ 0, got ${opts.maxNewTokens}`);
  const P = model.config.nPositions;
  if (promptIds.length >= P) throw new Error(`generate: the prompt has ${promptIds.length} tokens; n_positions is ${P}`);
  const stop = opts.stopToken ?? model.config.eosTokenId;
  const state = model.newState();
  let logits: Float32Array = new Float32Array(0);
  for (const id of promptIds) logits = model.step(state, id);
  const out: number[] = [];
  while (out.length < opts.maxNewTokens && state.length < P) {
    const next = sampleToken(logits, opts.temperature, opts.rng);
    if (next === stop) break;
    out.push(next);
    if (state.length === P) break;
    logits = model.step(state, next);
  }
  return out;
}
