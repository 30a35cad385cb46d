// Sampling as transformers' generate(do_sample=True): each warper by hand, their order (top-k
// before top-p changes the result), the seeded draw's reproducibility and distribution, and the
// reference decode loop's EOS/PAD rules and draw alignment.
import { describe, expect, it } from 'vitest';
import { drawFromScores, entropyOf, greedyToken, logSoftmaxAt, sampleRollouts, sampleToken, softmax, warpLogits } from '../../../src/train/rl';
import { Rng } from '../../../src/util/rng';
import { expectClose } from '../../helpers/close';

const kept = (s: Float64Array) => Array.from(s, (x, i) => (x === -Infinity ? -1 : i)).filter((i) => i >= 0);

describe('warpers', () => {
  it('temperature divides the logits', () => {
    expectClose(warpLogits([1, -2, 0.5], { temperature: 0.5 }), [2, -4, 1], { rtol: 0, atol: 0 });
  });

  it('top-k keeps scores ≥ the k-th largest, ties included', () => {
    expect(kept(warpLogits([1, 3, 2, 3, 0], { topK: 2 }))).toEqual([1, 3]);
    expect(kept(warpLogits([1, 3, 2, 3, 0], { topK: 3 }))).toEqual([1, 2, 3]);
    expect(kept(warpLogits([1, 2, 2, 0], { topK: 2 }))).toEqual([1, 2]);
    expect(kept(warpLogits([1, 2, 2, 0], { topK: 1 }))).toEqual([1, 2]); // the k-th value ties
    expect(kept(warpLogits([1, 3], { topK: 10 }))).toEqual([0, 1]);
  });

  it('top-p drops the ascending prefix whose cumulative probability ≤ 1 − p', () => {
    const logits = [0.5, 0.3, 0.15, 0.05].map(Math.log);
    expect(kept(warpLogits(logits, { topP: 0.75 }))).toEqual([0, 1]); // cum 0.05, 0.2 ≤ 0.25 dropped
    expect(kept(warpLogits(logits, { topP: 0.9 }))).toEqual([0, 1, 2]);
    expect(kept(warpLogits(logits, { topP: 0 }))).toEqual([0]); // the largest always stays
  });

  it('order: top-k, then top-p over the renormalised top-k (transformers), not the reverse', () => {
    const logits = [0.4, 0.3, 0.2, 0.1].map(Math.log);
    // top-k 2 → (4/7, 3/7); ascending cum 3/7 ≤ 0.5 → only token 0. Top-p first would keep {0, 1}.
    expect(kept(warpLogits(logits, { topK: 2, topP: 0.5 }))).toEqual([0]);
    expect(kept(warpLogits(warpLogits(logits, { topP: 0.5 }), { topK: 2 }))).toEqual([0, 1]);
  });

  it('temperature before top-p: a flatter distribution keeps more tokens', () => {
    const logits = [2, 1, 0, -1];
    expect(kept(warpLogits(logits, { topP: 0.8 })).length).toBeLessThan(kept(warpLogits(logits, { topP: 0.8, temperature: 3 })).length);
  });

  it('rejects what transformers rejects', () => {
    expect(() => warpLogits([1, 2], { temperature: 0 })).toThrow(/temperature 0/);
    expect(() => warpLogits([1, 2], { topP: 1.5 })).toThrow(/topP/);
    expect(() => warpLogits([1, 2], { topK: -1 })).toThrow(/topK/);
    expect(() => warpLogits([1, NaN], {})).toThrow(/logit 1 is NaN/);
  });
});

describe('drawing', () => {
  it('drawFromScores: the first index whose running probability exceeds u', () => {
    const s = [0.2, 0.5, 0.3].map(Math.log);
    expect(drawFromScores(s, 0)).toBe(0);
    expect(drawFromScores(s, 0.19)).toBe(0);
    expect(drawFromScores(s, 0.21)).toBe(1);
    expect(drawFromScores(s, 0.71)).toBe(2);
    expect(drawFromScores([-Infinity, 0, -Infinity], 0.999)).toBe(1); // never a zero-probability token
  });

  it('the same seed gives the same tokens; frequencies follow the warped distribution', () => {
    const logits = [1, 0.2, -0.5, 2, 0, -3];
    const opts = { temperature: 0.8, topK: 4, topP: 0.9 };
    const run = (seed: number, n: number) => {
      const rng = new Rng(seed);
      return Array.from({ length: n }, () => sampleToken(logits, opts, rng).token);
    };
    expect(run(42, 50)).toEqual(run(42, 50));
    expect(run(42, 50)).not.toEqual(run(43, 50));
    const p = softmax(warpLogits(logits, opts));
    const n = 40000;
    const counts = new Array(logits.length).fill(0);
    for (const t of run(7, n)) counts[t]++;
    counts.forEach((c, i) => expect(Math.abs(c / n - p[i])).toBeLessThan(0.01));
    expect(counts[5]).toBe(0); // removed by top-k
  });

  it('sampleToken reports the log-probability under the warped distribution', () => {
    const logits = [1, 0.2, -0.5, 2];
    const { token, logprob } = sampleToken(logits, { temperature: 0.7, topK: 2 }, new Rng(1));
    expect(logprob).toBeCloseTo(Math.log(softmax(warpLogits(logits, { temperature: 0.7, topK: 2 }))[token]), 14);
    expect(logSoftmaxAt(logits, 3, 0.5)).toBeCloseTo(4 - Math.log(Math.exp(2) + Math.exp(0.4) + Math.exp(-1) + Math.exp(4)), 14);
  });

  it('greedy is the first maximum; entropy in nats', () => {
    expect(greedyToken([0, 3, 3, 1])).toBe(1);
    expect(entropyOf([0, 0, 0, 0])).toBeCloseTo(Math.log(4), 15);
    expect(entropyOf([1, 1, -Infinity], 2)).toBeCloseTo(Math.LN2, 15);
  });
});

describe('sampleRollouts (the reference decode loop)', () => {
  const EOS = 9;
  const PAD = 0;
  // A toy "model": sequence b's logits favour EOS once it has generated stop[b] tokens.
  const model = (stop: number[]) => (b: number, ids: readonly number[]) => {
    const gen = ids.length - 1; // prompts are one token long
    return Array.from({ length: 10 }, (_, v) => (v === EOS ? (gen >= stop[b] ? 50 : -50) : v === PAD ? -50 : 0));
  };
  const spec = { maxNewTokens: 6, eosId: EOS, padId: PAD, sampling: { temperature: 1 } };

  it('stops each sequence at its EOS (kept), pads the rest, T = decode steps run', () => {
    const r = sampleRollouts([[1], [1], [1]], model([1, 3, 2]), spec, new Rng(5));
    expect(r.generated.map((g) => g.length)).toEqual([2, 4, 3]);
    r.generated.forEach((g) => expect(g[g.length - 1]).toBe(EOS));
    expect(r.T).toBe(4);
    expect(Array.from(r.responses.slice(0, 4)).slice(2)).toEqual([PAD, PAD]);
  });

  it('without stopAtEos (TRL PPO stop_token=None) every sequence runs maxNewTokens', () => {
    const r = sampleRollouts([[1], [1]], model([1, 1]), { ...spec, stopAtEos: false }, new Rng(5));
    expect(r.T).toBe(6);
    expect(r.generated.every((g) => g.length === 6)).toBe(true);
  });

  it('every row draws at every step: when another sequence stops earlier, this one gets the same tokens', () => {
    const a = sampleRollouts([[1], [1]], model([5, 1]), spec, new Rng(99));
    const b = sampleRollouts([[1], [1]], model([5, 4]), spec, new Rng(99));
    expect(a.generated[0]).toEqual(b.generated[0]);
    expect(a.generated[1]).not.toEqual(b.generated[1]);
  });
});
