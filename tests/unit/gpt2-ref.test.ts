// Tier 1 for the whole-model oracle: the float64 GPT-2's backward against central finite
// differences of Σ coef·logp (random coefficients, ragged sequences), no cross-talk between
// sequences of a batch, causality, and a hand-computed forward where the blocks vanish.
import { describe, it, expect } from 'vitest';
import { gpt2ForwardRef, gpt2BackwardRef, type ParamMap } from '../../src/reference/gpt2';
import { paramSpec, type GPTConfig } from '../../src/model/config';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';

const CFG: GPTConfig = { vocabSize: 11, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5, bosTokenId: 10, eosTokenId: 10 };

function randomParams(cfg: GPTConfig, rng: Rng): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const s of paramSpec(cfg)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const isLnWeight = /ln_\w+\.weight$/.test(s.name);
    // scale 0.5 keeps attention and GELU away from their flat regions so every path matters
    m.set(s.name, Float64Array.from({ length: n }, () => (isLnWeight ? 1 : 0) + 0.5 * rng.normal()));
  }
  return m;
}

function randomSeqs(cfg: GPTConfig, rng: Rng, lengths: number[]): number[][] {
  return lengths.map((len) => Array.from({ length: len }, () => rng.int(cfg.vocabSize)));
}

function objective(params: ParamMap, cfg: GPTConfig, seqs: number[][], coef: number[][]): number {
  const { logp } = gpt2ForwardRef(params, cfg, seqs);
  let s = 0;
  logp.forEach((row, i) => row.forEach((v, t) => (s += coef[i][t] * v)));
  return s;
}

describe('gpt2 float64 reference', () => {
  it('backward matches central finite differences on a sample of every parameter tensor', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const params = randomParams(CFG, rng);
    const seqs = randomSeqs(CFG, rng, [8, 3, 1, 5]);
    const coef = seqs.map((s) => Array.from({ length: s.length - 1 }, () => rng.uniform(-1, 1)));
    const { cache } = gpt2ForwardRef(params, CFG, seqs);
    const grads = gpt2BackwardRef(cache, coef);
    const h = 1e-5;
    for (const spec of paramSpec(CFG)) {
      const p = params.get(spec.name)!;
      const g = grads.get(spec.name)!;
      expect(g.length, spec.name).toBe(p.length);
      // wte rows of tokens that occur get both embedding and head gradients; sample widely
      const picks = new Set<number>();
      const want = Math.min(p.length, spec.name === 'wte.weight' ? 24 : 8);
      while (picks.size < want) picks.add(rng.int(p.length));
      const got: number[] = [];
      const fd: number[] = [];
      for (const i of picks) {
        const old = p[i];
        p[i] = old + h;
        const up = objective(params, CFG, seqs, coef);
        p[i] = old - h;
        const down = objective(params, CFG, seqs, coef);
        p[i] = old;
        got.push(g[i]);
        fd.push((up - down) / (2 * h));
      }
      expectClose(got, fd, { rtol: 1e-5, atol: 1e-7, what: `d${spec.name} seed=${seed}` });
    }
  });

  it('gradients are not trivially zero (the finite-difference test has something to check)', () => {
    const rng = new Rng(7);
    const params = randomParams(CFG, rng);
    const seqs = randomSeqs(CFG, rng, [6, 4]);
    const coef = seqs.map((s) => s.slice(1).map(() => 1));
    const grads = gpt2BackwardRef(gpt2ForwardRef(params, CFG, seqs).cache, coef);
    for (const spec of paramSpec(CFG)) {
      const g = grads.get(spec.name)!;
      const norm = Math.sqrt(g.reduce((a, b) => a + b * b, 0));
      expect(norm, spec.name).toBeGreaterThan(1e-6);
    }
  });

  it('a sequence gives the same logp alone and inside a batch (no cross-talk)', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const params = randomParams(CFG, rng);
    const seqs = randomSeqs(CFG, rng, [5, 8, 2, 7]);
    const batch = gpt2ForwardRef(params, CFG, seqs);
    seqs.forEach((seq, i) => {
      const alone = gpt2ForwardRef(params, CFG, [seq]);
      expect(alone.logp[0], `seq ${i} seed=${seed}`).toEqual(batch.logp[i]);
      expect(alone.meanLogit[0], `seq ${i} seed=${seed}`).toEqual(batch.meanLogit[i]);
    });
    // gradients of a batch are the sum of the per-sequence gradients
    const coef = seqs.map((s) => Array.from({ length: s.length - 1 }, () => rng.uniform(-1, 1)));
    const gb = gpt2BackwardRef(batch.cache, coef);
    const sum = new Map<string, Float64Array>();
    seqs.forEach((seq, i) => {
      const g = gpt2BackwardRef(gpt2ForwardRef(params, CFG, [seq]).cache, [coef[i]]);
      for (const [k, v] of g) {
        const acc = sum.get(k) ?? new Float64Array(v.length);
        v.forEach((x, j) => (acc[j] += x));
        sum.set(k, acc);
      }
    });
    for (const [k, v] of gb) expectClose(v, sum.get(k)!, { rtol: 1e-12, atol: 1e-14, what: `${k} seed=${seed}` });
  });

  it('is causal: changing a later token leaves earlier predictions unchanged', () => {
    const rng = new Rng(3);
    const params = randomParams(CFG, rng);
    const a = [1, 2, 3, 4, 5, 6];
    const b = [1, 2, 3, 4, 9, 6];
    const ra = gpt2ForwardRef(params, CFG, [a]);
    const rb = gpt2ForwardRef(params, CFG, [b]);
    // logp[t] predicts token t+1 from tokens 0..t: positions 0..2 see only the shared prefix
    expect(rb.logp[0].slice(0, 3)).toEqual(ra.logp[0].slice(0, 3));
    expect(rb.meanLogit[0].slice(0, 4)).toEqual(ra.meanLogit[0].slice(0, 4));
    expect(rb.logp[0][4]).not.toEqual(ra.logp[0][4]);
  });

  it('with zeroed block outputs the model is ln_f(wte + wpe)·wteᵀ (hand-computed)', () => {
    const rng = new Rng(11);
    const params = randomParams(CFG, rng);
    for (const [name, p] of params) if (/c_proj\.(weight|bias)$/.test(name)) p.fill(0);
    const seq = [3, 0, 7, 10];
    const { logp, meanLogit } = gpt2ForwardRef(params, CFG, [seq]);
    const { nEmbd: C, vocabSize: V } = CFG;
    const wte = params.get('wte.weight')!, wpe = params.get('wpe.weight')!;
    const lw = params.get('ln_f.weight')!, lb = params.get('ln_f.bias')!;
    for (let t = 0; t < seq.length - 1; t++) {
      const x = Array.from({ length: C }, (_, c) => wte[seq[t] * C + c] + wpe[t * C + c]);
      const mean = x.reduce((a, b) => a + b) / C;
      const variance = x.reduce((a, b) => a + (b - mean) ** 2, 0) / C;
      const n = x.map((v, c) => ((v - mean) / Math.sqrt(variance + CFG.layerNormEpsilon)) * lw[c] + lb[c]);
      const logits = Array.from({ length: V }, (_, v) => n.reduce((a, nc, c) => a + nc * wte[v * C + c], 0));
      const lse = Math.log(logits.reduce((a, z) => a + Math.exp(z), 0));
      expect(logp[0][t]).toBeCloseTo(logits[seq[t + 1]] - lse, 12);
      expect(meanLogit[0][t]).toBeCloseTo(logits.reduce((a, b) => a + b) / V, 12);
    }
  });

  it('rejects bad input with a message naming it', () => {
    const params = randomParams(CFG, new Rng(1));
    expect(() => gpt2ForwardRef(params, CFG, [[1, 11]])).toThrow(/sequence 0 position 1: token 11/);
    expect(() => gpt2ForwardRef(params, CFG, [[]])).toThrow(/sequence 0 has length 0/);
    expect(() => gpt2ForwardRef(params, CFG, [Array(9).fill(1)])).toThrow(/length 9, expected 1..8/);
    const missing = new Map(params);
    missing.delete('h.1.ln_2.bias');
    expect(() => gpt2ForwardRef(missing, CFG, [[1, 2]])).toThrow(/missing parameter h.1.ln_2.bias/);
  });
});
