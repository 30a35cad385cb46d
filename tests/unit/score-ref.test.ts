// Tier 1 for the float64 reward model (src/reference/score.ts): transformers' read position
// (last non-padding token) by hand, a hand-computed reward where the final norm's output is its
// bias, and the backward of Σ dReward·reward against central finite differences on a sample of
// every parameter tensor, GPT-2 and Llama-family (tied and untied trunk: the reward model has no
// LM head), with padding tokens inside and at the end of sequences.
import { describe, it, expect } from 'vitest';
import { gpt2ScoreRef, llamaScoreRef, scoreIndexRef, type ScoreRefResult } from '../../src/reference/score';
import { paramSpec, type GPTConfig } from '../../src/model/config';
import { llamaParamSpec, type LlamaConfig, type ParamMap } from '../../src/reference/llama';
import { scoreIndex } from '../../src/model/score-head';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';

const PAD = 10;
const GPT: GPTConfig = { vocabSize: 11, nPositions: 8, nEmbd: 8, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5, bosTokenId: 10, eosTokenId: 10, scoreHead: true, padTokenId: PAD };
const LLAMA: LlamaConfig = {
  model_type: 'qwen2', vocab_size: 11, hidden_size: 8, intermediate_size: 12, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 1, head_dim: 4,
  rms_norm_eps: 1e-6, rope_theta: 100, max_position_embeddings: 8, tie_word_embeddings: false,
};

function gptParams(rng: Rng): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const s of paramSpec(GPT)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const ln = /ln_\w+\.weight$/.test(s.name);
    m.set(s.name, Float64Array.from({ length: n }, () => (ln ? 1 : 0) + 0.5 * rng.normal()));
  }
  return m;
}

/** A reward model's Llama-family tensors: the trunk (no lm_head.weight) and score.weight. */
function llamaParams(cfg: LlamaConfig, rng: Rng): Map<string, Float64Array> {
  const m = new Map<string, Float64Array>();
  for (const s of llamaParamSpec(cfg)) {
    if (s.name === 'lm_head.weight') continue;
    const n = s.shape.reduce((a, b) => a * b, 1);
    m.set(s.name, Float64Array.from({ length: n }, () => (/norm\.weight$/.test(s.name) ? 1 : 0) + 0.5 * rng.normal()));
  }
  m.set('score.weight', Float64Array.from({ length: cfg.hidden_size }, () => 0.5 * rng.normal()));
  return m;
}

/** Sequences with padding ids inside and at the end (their trailing run is skipped). */
const SEQS = (rng: Rng) => [
  [1, 2, 3, 4, 5, 6, 7],
  [3, PAD, 4, PAD, PAD],
  [2, 9],
  [5, 1, 8, 3, PAD, 2, PAD, PAD],
].map((q) => q.map((id) => (id === PAD ? PAD : (id + rng.int(3)) % PAD)));

function fdCheck(name: string, params: Map<string, Float64Array>, run: (p: ParamMap) => ScoreRefResult, rng: Rng, seed: number): void {
  const base = run(params);
  const dReward = base.rewards.map(() => rng.uniform(-1, 1));
  const grads = base.backward(dReward);
  const f = () => run(params).rewards.reduce((a, r, s) => a + dReward[s] * r, 0);
  const h = 1e-5;
  expect([...grads.keys()].sort()).toEqual([...params.keys()].sort());
  for (const [tensor, p] of params) {
    const g = grads.get(tensor)!;
    expect(g.length, tensor).toBe(p.length);
    const picks = new Set<number>();
    while (picks.size < Math.min(p.length, 8)) picks.add(rng.int(p.length));
    const got: number[] = [];
    const fd: number[] = [];
    for (const i of picks) {
      const old = p[i];
      p[i] = old + h;
      const up = f();
      p[i] = old - h;
      const down = f();
      p[i] = old;
      got.push(g[i]);
      fd.push((up - down) / (2 * h));
    }
    expectClose(got, fd, { rtol: 1e-5, atol: 1e-7, what: `${name} d${tensor} seed=${seed}` });
  }
}

describe('score reference', () => {
  it('reads the last non-padding token, as transformers (argmax of t·1[id ≠ pad])', () => {
    expect(scoreIndexRef([5, 6, 7], 7)).toBe(1);
    expect(scoreIndexRef([5, 7, 6], 7)).toBe(2); // padding inside the sequence does not stop it
    expect(scoreIndexRef([7, 7, 7], 7)).toBe(0); // all padding: argmax of zeros
    expect(scoreIndexRef([4, 7, 7], 7)).toBe(0);
    expect(scoreIndexRef([1, 2, 3], null)).toBe(2);
    expect(scoreIndexRef([1, 2, 3], 9)).toBe(2);
    // the engine's host-side index agrees (on the real tokens of a right-padded row)
    for (const [ids, pad] of [[[5, 6, 7], 7], [[5, 7, 6], 7], [[7, 7, 7], 7], [[4, 7, 7], 7], [[1, 2, 3], null], [[1, 2, 3], 9]] as Array<[number[], number | null]>) {
      expect(scoreIndex([...ids, 0, 0], ids.length, pad)).toBe(scoreIndexRef(ids, pad));
    }
  });

  it('GPT-2: with ln_f.weight 0 the reward is ln_f.bias · score.weight (hand-computed)', () => {
    const params = gptParams(new Rng(3));
    params.get('ln_f.weight')!.fill(0);
    const b = params.get('ln_f.bias')!;
    b.set([1, -2, 0.5, 0, 3, 1, -1, 2]);
    params.get('score.weight')!.set([0.5, 0.25, 2, 7, 0, -1, 1, 0.125]);
    // 0.5 − 0.5 + 1 + 0 + 0 − 1 − 1 + 0.25 at every position
    const r = gpt2ScoreRef(params, GPT, [[1, 2, 3], [4, PAD]], PAD);
    expect(r.index).toEqual([2, 0]);
    expect(r.rewards[0]).toBeCloseTo(-0.75, 14);
    expect(r.rewards[1]).toBeCloseTo(-0.75, 14);
  });

  it('GPT-2: backward matches central finite differences on a sample of every parameter tensor', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const params = gptParams(rng);
    const seqs = SEQS(rng);
    fdCheck('gpt2', params, (p) => gpt2ScoreRef(p, GPT, seqs, PAD), rng, seed);
  });

  it.each([
    ['qwen2, untied trunk (no LM head)', LLAMA],
    ['llama, tied, attention_bias', { ...LLAMA, model_type: 'llama', num_key_value_heads: 2, tie_word_embeddings: true, attention_bias: true } as LlamaConfig],
  ])('%s: backward matches central finite differences on a sample of every parameter tensor', (_, cfg) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const params = llamaParams(cfg, rng);
    const seqs = SEQS(rng);
    fdCheck(cfg.model_type!, params, (p) => llamaScoreRef(p, cfg, seqs, PAD), rng, seed);
  });

  it('gradients reach every tensor (the finite-difference test has something to check)', () => {
    const rng = new Rng(5);
    const params = gptParams(rng);
    const r = gpt2ScoreRef(params, GPT, [[1, 2, 3, 4], [5, 6]], PAD);
    const grads = r.backward([1, 0.5]);
    for (const [name, g] of grads) {
      const norm = Math.sqrt(g.reduce((a, x) => a + x * x, 0));
      // wpe rows past the longest sequence get nothing; every tensor as a whole does
      expect(norm, name).toBeGreaterThan(1e-6);
    }
  });
});
