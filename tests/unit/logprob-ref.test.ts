// Tier 1: the float64 LM-head log-prob reference: hand-computed values, and its backward
// against central finite differences of Σ_r coef[r]·logp[r] with a random coef.
import { describe, it, expect } from 'vitest';
import { logprobForwardRef, logprobBackwardRef, sequenceSumsRef, IGNORE } from '../../src/reference/logprob';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';
import { centralDiff } from '../helpers/fd';


describe('logprob reference', () => {
  it('forward matches hand-computed log-softmax, logsumexp and mean logit', () => {
    // hidden (2,2), wte (3,2): row 0 logits [1, 0, 2], row 1 logits [0, 3, 0] (ignored)
    const hidden = [1, 0, 0, 1];
    const wte = [1, 0, 0, 3, 2, 0];
    const { logp, lse, meanLogit } = logprobForwardRef(hidden, wte, [2, IGNORE], 2, 2, 3);
    const l0 = Math.log(Math.E + 1 + Math.exp(2));
    expect(lse[0]).toBeCloseTo(l0, 12);
    expect(logp[0]).toBeCloseTo(2 - l0, 12);
    expect(meanLogit[0]).toBeCloseTo(1, 12);
    expect(logp[1]).toBe(0);
    expect(lse[1]).toBeCloseTo(Math.log(2 + Math.exp(3)), 12);
    expect(meanLogit[1]).toBeCloseTo(1, 12);
  });

  it('entropy is −Σ p log p of the softmax; correct is argmax = target, the first maximum winning a tie', () => {
    // hidden (3,1) = 1, wte (3,1): every row's logits are [2, 2, 1]
    const z = [2, 2, 1];
    const l = Math.log(2 * Math.exp(2) + Math.E);
    const h = -z.reduce((s, x) => s + Math.exp(x - l) * (x - l), 0);
    const { entropy, correct } = logprobForwardRef([1, 1, 1], [2, 2, 1], [0, 1, IGNORE], 3, 1, 3);
    expect(entropy[0]).toBeCloseTo(h, 12);
    expect(entropy[2]).toBeCloseTo(h, 12); // computed at IGNORE rows too; the masks decide what counts
    expect(Array.from(correct)).toEqual([1, 0, 0]); // torch.argmax([2, 2, 1]) = 0
  });

  it('entropy is log V for equal logits and tends to 0 for one dominant logit', () => {
    const { entropy } = logprobForwardRef([0, 1000], [1, 1, 1, 1, 2], [0, 4], 2, 1, 5);
    expect(entropy[0]).toBeCloseTo(Math.log(5), 12);
    expect(entropy[1]).toBeGreaterThanOrEqual(0);
    expect(entropy[1]).toBeLessThan(1e-12);
  });

  it('stays finite for large logits (max subtracted)', () => {
    const { logp, lse } = logprobForwardRef([1000], [1, -1, 0.5], [0], 1, 1, 3);
    expect(lse[0]).toBeCloseTo(1000, 9);
    expect(logp[0]).toBeCloseTo(0, 9);
  });

  it.each([
    [3, 4, 5],
    [1, 3, 7],
    [4, 2, 3],
  ])('backward matches central finite differences (N=%i C=%i V=%i)', (N, C, V) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rand = (n: number) => Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const hidden = rand(N * C), wte = rand(V * C), coef = rand(N);
    const targets = Array.from({ length: N }, () => rng.int(V));
    if (N > 1) targets[N - 1] = IGNORE; // contributes nothing even with coef ≠ 0
    const { dhidden, dwte } = logprobBackwardRef(coef, hidden, wte, targets, N, C, V);
    const f = () => {
      const { logp } = logprobForwardRef(hidden, wte, targets, N, C, V);
      return logp.reduce((s, x, r) => s + coef[r] * x, 0);
    };
    expectClose(dhidden, centralDiff(hidden, f), { rtol: 1e-6, atol: 1e-8, what: `dhidden seed=${seed}` });
    expectClose(dwte, centralDiff(wte, f), { rtol: 1e-6, atol: 1e-8, what: `dwte seed=${seed}` });
    if (N > 1) expect(Array.from(dhidden.slice((N - 1) * C))).toEqual(new Array(C).fill(0));
  });

  it('sums weighted values per sequence', () => {
    expect(Array.from(sequenceSumsRef([1, 2, 3, 4, 5, 6], [1, 0, 1, 0.5, 0.5, 0], 2, 3))).toEqual([4, 4.5]);
  });
});
