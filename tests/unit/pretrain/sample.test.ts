// The host decoder (KV cache, float32) against the float64 GPT-2 reference, and sampling.
import { describe, it, expect } from 'vitest';
import { generateIds, HostGpt, sampleToken } from '../../../src/pretrain/sample';
import { gpt2ForwardRef } from '../../../src/reference/gpt2';
import { paramSpec, presetConfig, type GPTConfig } from '../../../src/model/config';
import { Rng } from '../../../src/util/rng';
import { expectClose, freshSeed } from '../../helpers/close';

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 24 };

function weights(rng: Rng): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const s of paramSpec(config)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const ln = /ln_\w+\.weight$/.test(s.name);
    m.set(s.name, Float32Array.from({ length: n }, () => (ln ? 1 + 0.1 * rng.normal() : 0.3 * rng.normal())));
  }
  return m;
}

function logSoftmax(x: Float32Array): number[] {
  let max = -Infinity;
  for (const v of x) max = Math.max(max, v);
  let s = 0;
  for (const v of x) s += Math.exp(v - max);
  const lse = max + Math.log(s);
  return Array.from(x, (v) => v - lse);
}

describe('HostGpt', () => {
  it('gives the float64 model\'s next-token log-probs at every position', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const w = weights(rng);
    const seq = Array.from({ length: 19 }, () => rng.int(config.vocabSize));
    const ref = gpt2ForwardRef(w, config, [seq]);
    const V = config.vocabSize;
    const host = new HostGpt(config, w);
    const state = host.newState();
    const got: number[] = [];
    const want: number[] = [];
    for (let t = 0; t < seq.length; t++) {
      got.push(...logSoftmax(host.step(state, seq[t])));
      want.push(...ref.cache.seqs[0].logprobs.subarray(t * V, (t + 1) * V));
    }
    expectClose(got, want, { rtol: 1e-4, atol: 1e-4, what: `log-probs (seed ${seed})` });
  });

  it('rejects bad tokens, positions and missing weights', () => {
    const w = weights(new Rng(1));
    const host = new HostGpt(config, w);
    expect(() => host.step(host.newState(), config.vocabSize)).toThrow(/outside the vocabulary/);
    const st = host.newState();
    st.length = config.nPositions;
    expect(() => host.step(st, 1)).toThrow(/beyond n_positions/);
    w.delete('ln_f.bias');
    expect(() => new HostGpt(config, w)).toThrow(/ln_f.bias/);
  });
});

describe('generateIds', () => {
  const host = new HostGpt(config, weights(new Rng(3)));

  it('is greedy at temperature 0 and reproducible with a seed otherwise', () => {
    const a = generateIds(host, [1, 2, 3], { maxNewTokens: 8, temperature: 0, rng: new Rng(1) });
    const b = generateIds(host, [1, 2, 3], { maxNewTokens: 8, temperature: 0, rng: new Rng(2) });
    expect(a).toEqual(b);
    const st = host.newState();
    let logits: Float32Array = new Float32Array(0);
    for (const id of [1, 2, 3]) logits = host.step(st, id);
    expect(a[0]).toBe(logits.indexOf(Math.max(...logits)));
    const s1 = generateIds(host, [1, 2, 3], { maxNewTokens: 8, temperature: 1, rng: new Rng(9), stopToken: -1 });
    const s2 = generateIds(host, [1, 2, 3], { maxNewTokens: 8, temperature: 1, rng: new Rng(9), stopToken: -1 });
    expect(s1).toEqual(s2);
    expect(s1).toHaveLength(8);
  });

  it('stops at n_positions and at the stop token', () => {
    const long = generateIds(host, [5], { maxNewTokens: 100, temperature: 1, rng: new Rng(4), stopToken: -1 });
    expect(long.length).toBe(config.nPositions - 1);
    const first = generateIds(host, [5], { maxNewTokens: 1, temperature: 0, rng: new Rng(0), stopToken: -1 })[0];
    expect(generateIds(host, [5], { maxNewTokens: 10, temperature: 0, rng: new Rng(0), stopToken: first })).toEqual([]);
    expect(() => generateIds(host, [], { maxNewTokens: 1, temperature: 0, rng: new Rng(0) })).toThrow(/no tokens/);
  });
});

describe('sampleToken', () => {
  it('draws from softmax(logits / T)', () => {
    const logits = Float32Array.from([0, Math.log(3), -Infinity]);
    const rng = new Rng(7);
    const counts = [0, 0, 0];
    for (let i = 0; i < 4000; i++) counts[sampleToken(logits, 1, rng)]++;
    expect(counts[2]).toBe(0);
    expect(counts[1] / 4000).toBeGreaterThan(0.72);
    expect(counts[1] / 4000).toBeLessThan(0.78);
    expect(sampleToken(logits, 0, rng)).toBe(1);
    expect(() => sampleToken(logits, -1, rng)).toThrow(/temperature/);
  });
});
