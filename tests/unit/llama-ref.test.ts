// Tier 1 for the Llama-family whole-model oracle (src/reference/llama.ts): every parameter
// gradient, by name, against central finite differences of Σ coef·logp (tied and untied head,
// with and without q/k/v(/o) biases, GQA ratios 1, 2, 3 and NKV = 1, head_dim ≠ C/NH); its
// forward against the per-kernel references composed independently; a hand-computed forward
// where the blocks vanish; GQA as multi-head attention on repeated k/v weights; causality,
// batch independence, the parameter table and config checks.
import { describe, it, expect } from 'vitest';
import { llamaForwardRef, llamaBackwardRef, llamaParamSpec, llamaDims, type LlamaConfig, type ParamMap } from '../../src/reference/llama';
import { rmsnormForwardRef } from '../../src/reference/rmsnorm';
import { ropeForwardRef } from '../../src/reference/rope';
import { attentionGqaForwardRef } from '../../src/reference/attention-gqa';
import { swigluMlpForwardRef } from '../../src/reference/swiglu';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';

const BASE: LlamaConfig = {
  model_type: 'llama',
  vocab_size: 11,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 6, // NH·HS = 24 ≠ C
  rms_norm_eps: 1e-5,
  rope_theta: 100, // small, so every frequency turns noticeably over 8 positions
  max_position_embeddings: 8,
  tie_word_embeddings: true,
  attention_bias: false,
};

const CONFIGS: Array<[string, LlamaConfig]> = [
  ['llama, tied, G=2, head_dim 6', BASE],
  ['qwen2, untied, q/k/v biases, NKV=1, head_dim 8', { ...BASE, model_type: 'qwen2', hidden_size: 6, intermediate_size: 10, num_attention_heads: 3, num_key_value_heads: 1, head_dim: 8, tie_word_embeddings: false, vocab_size: 13, rope_theta: 10000 }],
  ['llama, untied, attention_bias (q/k/v/o), G=1, head_dim from C/NH', { ...BASE, num_attention_heads: 2, num_key_value_heads: 2, head_dim: undefined, intermediate_size: 9, tie_word_embeddings: false, attention_bias: true }],
  ['qwen2, tied, G=3, one layer', { ...BASE, model_type: 'qwen2', num_hidden_layers: 1, num_attention_heads: 6, num_key_value_heads: 2, head_dim: 4, rms_norm_eps: 1e-6 }],
];

function randomParams(cfg: LlamaConfig, rng: Rng): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const s of llamaParamSpec(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const isNorm = /norm\.weight$/.test(s.name);
    // scale 0.5 keeps attention and SiLU away from their flat regions so every path matters
    m.set(s.name, Float64Array.from({ length: n }, () => (isNorm ? 1 : 0) + 0.5 * rng.normal()));
  }
  return m;
}

function randomSeqs(cfg: LlamaConfig, rng: Rng, lengths: number[]): number[][] {
  return lengths.map((len) => Array.from({ length: len }, () => rng.int(cfg.vocab_size)));
}

function objective(params: ParamMap, cfg: LlamaConfig, seqs: number[][], coef: number[][]): number {
  const { logp } = llamaForwardRef(params, cfg, seqs);
  let s = 0;
  logp.forEach((row, i) => row.forEach((v, t) => (s += coef[i][t] * v)));
  return s;
}

// inp (N,IC), w (OC,IC), b (OC) -> (N,OC) = inp·wᵀ + b
function linear(inp: ArrayLike<number>, w: ArrayLike<number>, b: ArrayLike<number> | undefined, N: number, IC: number, OC: number): Float64Array {
  const out = new Float64Array(N * OC);
  for (let r = 0; r < N; r++) for (let o = 0; o < OC; o++) {
    let s = b ? b[o] : 0;
    for (let i = 0; i < IC; i++) s += inp[r * IC + i] * w[o * IC + i];
    out[r * OC + o] = s;
  }
  return out;
}

// The model rebuilt from the per-kernel references, one sequence: logp of each next token.
function composedLogp(P: Map<string, Float64Array>, cfg: LlamaConfig, seq: number[]): number[] {
  const { V, C, I, L, NH, NKV, HS, eps, theta, tied } = llamaDims(cfg);
  const T = seq.length;
  let x = new Float64Array(T * C);
  const emb = P.get('model.embed_tokens.weight')!;
  seq.forEach((id, t) => x.set(emb.subarray(id * C, (id + 1) * C), t * C));
  for (let l = 0; l < L; l++) {
    const p = (n: string) => P.get(`model.layers.${l}.${n}`);
    const h = rmsnormForwardRef(x, p('input_layernorm.weight')!, T, C, eps).out;
    const q = ropeForwardRef(linear(h, p('self_attn.q_proj.weight')!, p('self_attn.q_proj.bias'), T, C, NH * HS), 1, T, NH, HS, theta);
    const k = ropeForwardRef(linear(h, p('self_attn.k_proj.weight')!, p('self_attn.k_proj.bias'), T, C, NKV * HS), 1, T, NKV, HS, theta);
    const v = linear(h, p('self_attn.v_proj.weight')!, p('self_attn.v_proj.bias'), T, C, NKV * HS);
    const y = attentionGqaForwardRef(q, k, v, [T], 1, T, NH, NKV, HS).out;
    const o = linear(y, p('self_attn.o_proj.weight')!, p('self_attn.o_proj.bias'), T, NH * HS, C);
    const x2 = x.map((xi, i) => xi + o[i]);
    const h2 = rmsnormForwardRef(x2, p('post_attention_layernorm.weight')!, T, C, eps).out;
    const m = swigluMlpForwardRef(h2, p('mlp.gate_proj.weight')!, p('mlp.up_proj.weight')!, p('mlp.down_proj.weight')!, T, C, I).out;
    x = x2.map((xi, i) => xi + m[i]);
  }
  const hf = rmsnormForwardRef(x, P.get('model.norm.weight')!, T, C, eps).out;
  const logits = linear(hf, tied ? emb : P.get('lm_head.weight')!, undefined, T, C, V);
  const out: number[] = [];
  for (let t = 0; t + 1 < T; t++) {
    const row = Array.from(logits.subarray(t * V, (t + 1) * V));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((a, z) => a + Math.exp(z - max), 0));
    out.push(row[seq[t + 1]] - lse);
  }
  return out;
}

describe('llama float64 reference', () => {
  it.each(CONFIGS)('backward matches central finite differences on every entry of every parameter (%s)', (_name, cfg) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const params = randomParams(cfg, rng);
    const seqs = randomSeqs(cfg, rng, [7, 1, 4]);
    const coef = seqs.map((s) => Array.from({ length: s.length - 1 }, () => rng.uniform(-1, 1)));
    const grads = llamaBackwardRef(llamaForwardRef(params, cfg, seqs).cache, coef);
    const specs = llamaParamSpec(cfg);
    expect([...grads.keys()].sort()).toEqual(specs.map((s) => s.name).sort());
    // h = 1e-6: at 1e-5 the truncation error h²·f'''/6 passed atol once (SEED=207, an RMSNorm row of
    // small norm makes f''' large); float64 rounding at 1e-6 is ~1e-10, far below atol
    const h = 1e-6;
    for (const spec of specs) {
      const p = params.get(spec.name)!;
      const g = grads.get(spec.name)!;
      expect(g.length, spec.name).toBe(p.length);
      const fd = new Float64Array(p.length);
      for (let i = 0; i < p.length; i++) {
        const old = p[i];
        p[i] = old + h;
        const up = objective(params, cfg, seqs, coef);
        p[i] = old - h;
        const down = objective(params, cfg, seqs, coef);
        p[i] = old;
        fd[i] = (up - down) / (2 * h);
      }
      expectClose(g, fd, { rtol: 1e-5, atol: 1e-7, what: `d${spec.name} seed=${seed}` });
    }
  });

  it.each(CONFIGS)('gradients of every tensor are not trivially zero (%s)', (_name, cfg) => {
    const rng = new Rng(7);
    const params = randomParams(cfg, rng);
    const seqs = randomSeqs(cfg, rng, [6, 4]);
    const grads = llamaBackwardRef(llamaForwardRef(params, cfg, seqs).cache, seqs.map((s) => s.slice(1).map(() => 1)));
    for (const spec of llamaParamSpec(cfg)) {
      const g = grads.get(spec.name)!;
      expect(Math.sqrt(g.reduce((a, b) => a + b * b, 0)), spec.name).toBeGreaterThan(1e-6);
    }
  });

  it.each(CONFIGS)('forward equals the per-kernel references composed (%s)', (_name, cfg) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const params = randomParams(cfg, rng);
    const seqs = randomSeqs(cfg, rng, [8, 2, 5]);
    const { logp } = llamaForwardRef(params, cfg, seqs);
    seqs.forEach((seq, i) => expectClose(logp[i], composedLogp(params, cfg, seq), { rtol: 1e-12, atol: 1e-13, what: `seq ${i} seed=${seed}` }));
  });

  it('with zeroed block outputs the model is log_softmax(rms(embed)·headᵀ) (hand-computed, untied)', () => {
    const cfg = CONFIGS[1][1];
    const rng = new Rng(11);
    const params = randomParams(cfg, rng);
    for (const [name, p] of params) if (/(o_proj|down_proj)\.weight$/.test(name)) p.fill(0);
    const seq = [3, 0, 7, 12, 3];
    const { logp, meanLogit } = llamaForwardRef(params, cfg, [seq]);
    const C = cfg.hidden_size, V = cfg.vocab_size;
    const emb = params.get('model.embed_tokens.weight')!, head = params.get('lm_head.weight')!, w = params.get('model.norm.weight')!;
    for (let t = 0; t < seq.length - 1; t++) {
      const x = Array.from(emb.subarray(seq[t] * C, (seq[t] + 1) * C));
      const r = 1 / Math.sqrt(x.reduce((a, b) => a + b * b, 0) / C + cfg.rms_norm_eps);
      const n = x.map((v, c) => v * r * w[c]);
      const logits = Array.from({ length: V }, (_, v) => n.reduce((a, nc, c) => a + nc * head[v * C + c], 0));
      const lse = Math.log(logits.reduce((a, z) => a + Math.exp(z), 0));
      expect(logp[0][t]).toBeCloseTo(logits[seq[t + 1]] - lse, 12);
      expect(meanLogit[0][t]).toBeCloseTo(logits.reduce((a, b) => a + b) / V, 12);
    }
  });

  it('GQA equals multi-head attention with k/v projections repeated per group (forward and gradients)', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const gqa: LlamaConfig = { ...BASE, model_type: 'qwen2', num_attention_heads: 6, num_key_value_heads: 2, head_dim: 4 };
    const mha: LlamaConfig = { ...gqa, num_key_value_heads: 6 };
    const G = 3, HS = 4, C = gqa.hidden_size, NKV = 2;
    const pg = randomParams(gqa, rng);
    // kv head j of the MHA model is kv head floor(j/G) of the GQA model (rows of weight and bias)
    const pm = new Map(pg);
    for (let l = 0; l < gqa.num_hidden_layers; l++) {
      for (const proj of ['k_proj', 'v_proj']) {
        for (const [suffix, width] of [['weight', C], ['bias', 1]] as const) {
          const name = `model.layers.${l}.self_attn.${proj}.${suffix}`;
          const src = pg.get(name)!;
          const dst = new Float64Array(6 * HS * width);
          for (let j = 0; j < 6; j++) dst.set(src.subarray(Math.floor(j / G) * HS * width, (Math.floor(j / G) + 1) * HS * width), j * HS * width);
          pm.set(name, dst);
        }
      }
    }
    const seqs = randomSeqs(gqa, rng, [8, 4]);
    const coef = seqs.map((s) => Array.from({ length: s.length - 1 }, () => rng.uniform(-1, 1)));
    const a = llamaForwardRef(pg, gqa, seqs);
    const b = llamaForwardRef(pm, mha, seqs);
    a.logp.forEach((row, i) => expectClose(row, b.logp[i], { rtol: 1e-12, atol: 1e-13, what: `logp ${i} seed=${seed}` }));
    const ga = llamaBackwardRef(a.cache, coef);
    const gb = llamaBackwardRef(b.cache, coef);
    for (const [name, g] of ga) {
      const m = /(k_proj|v_proj)\.(weight|bias)$/.exec(name);
      if (!m) {
        expectClose(g, gb.get(name)!, { rtol: 1e-10, atol: 1e-12, what: `${name} seed=${seed}` });
        continue;
      }
      // the GQA gradient of a kv head is the sum of the MHA gradients of its group's copies
      const width = m[2] === 'weight' ? C : 1;
      const src = gb.get(name)!;
      const want = new Float64Array(NKV * HS * width);
      for (let j = 0; j < 6; j++) for (let e = 0; e < HS * width; e++) want[Math.floor(j / G) * HS * width + e] += src[j * HS * width + e];
      expectClose(g, want, { rtol: 1e-10, atol: 1e-12, what: `${name} seed=${seed}` });
    }
  });

  it('a sequence gives the same logp alone and inside a batch, and batch gradients are sums', () => {
    const cfg = CONFIGS[2][1];
    const seed = freshSeed();
    const rng = new Rng(seed);
    const params = randomParams(cfg, rng);
    const seqs = randomSeqs(cfg, rng, [5, 8, 2]);
    const batch = llamaForwardRef(params, cfg, seqs);
    const coef = seqs.map((s) => Array.from({ length: s.length - 1 }, () => rng.uniform(-1, 1)));
    const gb = llamaBackwardRef(batch.cache, coef);
    const sum = new Map<string, Float64Array>();
    seqs.forEach((seq, i) => {
      const alone = llamaForwardRef(params, cfg, [seq]);
      expect(alone.logp[0], `seq ${i} seed=${seed}`).toEqual(batch.logp[i]);
      for (const [k, v] of llamaBackwardRef(alone.cache, [coef[i]])) {
        const acc = sum.get(k) ?? new Float64Array(v.length);
        v.forEach((x, j) => (acc[j] += x));
        sum.set(k, acc);
      }
    });
    for (const [k, v] of gb) expectClose(v, sum.get(k)!, { rtol: 1e-12, atol: 1e-14, what: `${k} seed=${seed}` });
  });

  it('is causal: changing a later token leaves earlier predictions unchanged', () => {
    const params = randomParams(BASE, new Rng(3));
    const ra = llamaForwardRef(params, BASE, [[1, 2, 3, 4, 5, 6]]);
    const rb = llamaForwardRef(params, BASE, [[1, 2, 3, 4, 9, 6]]);
    expect(rb.logp[0].slice(0, 3)).toEqual(ra.logp[0].slice(0, 3));
    expect(rb.meanLogit[0].slice(0, 4)).toEqual(ra.meanLogit[0].slice(0, 4));
    expect(rb.logp[0][4]).not.toEqual(ra.logp[0][4]);
  });

  it('positions matter: with one layer, swapping two prefix tokens changes the last prediction', () => {
    // one layer without position information would be invariant to the prefix's order at the last
    // row (softmax over the same set of keys and values); only RoPE tells the orders apart
    const cfg: LlamaConfig = { ...BASE, num_hidden_layers: 1 };
    const params = randomParams(cfg, new Rng(4));
    const { logp } = llamaForwardRef(params, cfg, [[2, 9, 5, 7], [9, 2, 5, 7]]);
    expect(Math.abs(logp[0][2] - logp[1][2])).toBeGreaterThan(1e-6);
  });

  it('lists Hugging Face names and shapes in state_dict order', () => {
    const q = llamaParamSpec({ ...BASE, model_type: 'qwen2', num_hidden_layers: 1, tie_word_embeddings: false });
    expect(q.map((s) => `${s.name} [${s.shape.join(',')}]`)).toEqual([
      'model.embed_tokens.weight [11,8]',
      'model.layers.0.self_attn.q_proj.weight [24,8]',
      'model.layers.0.self_attn.q_proj.bias [24]',
      'model.layers.0.self_attn.k_proj.weight [12,8]',
      'model.layers.0.self_attn.k_proj.bias [12]',
      'model.layers.0.self_attn.v_proj.weight [12,8]',
      'model.layers.0.self_attn.v_proj.bias [12]',
      'model.layers.0.self_attn.o_proj.weight [8,24]',
      'model.layers.0.mlp.gate_proj.weight [12,8]',
      'model.layers.0.mlp.up_proj.weight [12,8]',
      'model.layers.0.mlp.down_proj.weight [8,12]',
      'model.layers.0.input_layernorm.weight [8]',
      'model.layers.0.post_attention_layernorm.weight [8]',
      'model.norm.weight [8]',
      'lm_head.weight [11,8]',
    ]);
    const names = (c: LlamaConfig) => llamaParamSpec(c).map((s) => s.name);
    expect(names(BASE).some((n) => /bias|lm_head/.test(n))).toBe(false);
    expect(names({ ...BASE, attention_bias: true }).filter((n) => n.endsWith('.bias')).length).toBe(2 * 4); // q, k, v, o per layer
    expect(llamaDims({ ...BASE, head_dim: undefined }).HS).toBe(2);
  });

  it('rejects bad configs and input with a message naming them', () => {
    expect(() => llamaDims({ ...BASE, num_key_value_heads: 3 })).toThrow(/num_attention_heads \(4\) must be a multiple of num_key_value_heads \(3\)/);
    expect(() => llamaDims({ ...BASE, head_dim: 5 })).toThrow(/head_dim \(5\) must be even/);
    expect(() => llamaDims({ ...BASE, head_dim: undefined, hidden_size: 10 })).toThrow(/hidden_size \(10\) must be divisible/);
    expect(() => llamaDims({ ...BASE, rope_scaling: { rope_type: 'llama3' } })).toThrow(/rope_scaling/);
    expect(() => llamaDims({ ...BASE, hidden_act: 'gelu' })).toThrow(/hidden_act "gelu"/);
    expect(() => llamaDims({ ...BASE, mlp_bias: true })).toThrow(/mlp_bias/);
    expect(() => llamaDims({ ...BASE, rms_norm_eps: 0 })).toThrow(/rms_norm_eps/);
    const params = randomParams(BASE, new Rng(1));
    expect(() => llamaForwardRef(params, BASE, [[1, 11]])).toThrow(/sequence 0 position 1: token 11/);
    expect(() => llamaForwardRef(params, BASE, [[]])).toThrow(/sequence 0 has length 0/);
    expect(() => llamaForwardRef(params, BASE, [Array(9).fill(1)])).toThrow(/length 9, expected 1..8/);
    const missing = new Map(params);
    missing.delete('model.layers.1.mlp.up_proj.weight');
    expect(() => llamaForwardRef(missing, BASE, [[1, 2]])).toThrow(/missing parameter model.layers.1.mlp.up_proj.weight/);
    const { cache } = llamaForwardRef(params, BASE, [[1, 2, 3]]);
    expect(() => llamaBackwardRef(cache, [[1]])).toThrow(/coef\[0\] has 1 entries, expected 2/);
  });
});
