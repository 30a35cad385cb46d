// Guards explained: the NaN report names what the guard found, the examples' near-0 tokens and the
// term that overflows (ORPO's log(1 − e^A) as A → 0), from per-token log-probs.
import { describe, expect, it } from 'vitest';
import { explainNan, MAX_AVG_LOGP, nanQuantity, type NanExampleInput } from '../../../src/train/objectives';

const pair = (chosen: number[], rejected: number[], line = 7): NanExampleInput => ({
  index: line - 1,
  line,
  prompt: '2+3=',
  sides: [
    { label: 'chosen', tokens: chosen.map((_, i) => `c${i}`), logps: chosen },
    { label: 'rejected', tokens: rejected.map((_, i) => `r${i}`), logps: rejected },
  ],
});

describe('NaN report', () => {
  it('reads the quantity from the guard’s message', () => {
    expect(nanQuantity('non-finite log-probs at step 3 (file line 2): lower the learning rate or check these rows')).toBe('log-probs');
    expect(nanQuantity('non-finite loss at step 3 (pairs 1)')).toBe('loss');
    expect(nanQuantity('non-finite gradient norm at step 9 (file lines 1, 4): lower the learning rate')).toBe('gradient norm');
    expect(nanQuantity('orpo: the loss or its derivative is not finite at step 2 (pairs 0)')).toBe('objective');
  });

  it('ORPO: an answer whose tokens all have log-prob 0 makes log(1 − e^A) = −∞ (the overflow TRL reports as NaN)', () => {
    const r = explainNan({ method: 'orpo', beta: 0.1 }, 'non-finite gradient norm at step 4 (file line 7): lower the learning rate or check these rows', 4, [pair([0, 0, -0], [-2, -3])]);
    expect(r.quantity).toBe('gradient norm');
    const chosen = r.examples[0].sides[0];
    expect(chosen.avg).toBe(0);
    expect(chosen.nearZero).toBe(3);
    expect(chosen.log1mexp).toBe(-Infinity);
    expect(r.examples[0].sides[1].nearZero).toBe(0);
    expect(r.explanation[0]).toMatch(/^ORPO's odds term needs log\(1 − e\^A\).*chosen answer of line 7, A = 0 \(3 of 3 tokens have probability above 0\.999\), so log\(1 − e\^A\) = -Infinity.*clamps A at -1e-7/);
    expect(r.explanation.at(-1)).toMatch(/^The gradient norm overflowed float32/);
  });

  it('ORPO: A close to 0 (but below the clamp) names the gradient factor 1/(1 − e^A)', () => {
    const A = -1e-5;
    const r = explainNan({ method: 'orpo' }, 'orpo: the loss or its derivative is not finite at step 2 (pairs 0)', 2, [pair([A, A], [-1, -1])]);
    expect(A).toBeLessThan(MAX_AVG_LOGP);
    expect(r.explanation[0]).toMatch(/chosen answer of line 7 has A = -1\.00e-5.*1\/\(1 − e\^A\) ≈ 1\.00e\+5/);
    expect(r.explanation[1]).toMatch(/^The orpo loss or its derivative was not finite/);
  });

  it('a non-finite token log-prob blames the forward pass (diverged weights), naming the token', () => {
    const r = explainNan({ method: 'dpo', beta: 0.1 }, 'non-finite log-probs at step 1 (file line 3): lower the learning rate or check these rows', 1, [pair([-1, NaN], [-2], 3)]);
    expect(r.quantity).toBe('log-probs');
    expect(r.examples[0].sides[0].nonFinite).toBe(1);
    expect(r.explanation).toHaveLength(1);
    expect(r.explanation[0]).toMatch(/line 3, chosen token 2 “c1”: NaN\): the logits overflowed float32/);
  });

  it('another method at a saturated answer: names the certainty, then the guard’s subject', () => {
    const r = explainNan({ method: 'dpo' }, 'non-finite gradient norm at step 5 (pairs 2)', 5, [{ index: 2, prompt: 'p', sides: [{ label: 'desirable', tokens: ['a'], logps: [0] }] }]);
    expect(r.explanation[0]).toMatch(/desirable answer of example 2 has per-token log-probs at 0/);
    expect(r.explanation[1]).toMatch(/gradient norm overflowed/);
  });
});
