// TRL's token metrics from per-sequence sums: which sequences each one averages over, token
// weighting (not a mean of per-sequence means), the empty case, and num_tokens as a running total.
import { describe, it, expect } from 'vitest';
import { batchTokens, pairTokenMetrics, unpairedTokenMetrics } from '../../src/train/token-metrics';
import { meanMetrics } from '../../src/train/trainer';

describe('token metrics (TRL DPOTrainer / KTOTrainer)', () => {
  // 2 pairs: sequences [chosen 0, chosen 1, rejected 0, rejected 1]
  const len = [2, 4, 3, 1];
  const sums = { entropySum: [1, 6, 3, 4], correctCount: [1, 3, 0, 1] };

  it('pairs: entropy over chosen and rejected completion tokens, accuracy over chosen ones, token-weighted', () => {
    const m = pairTokenMetrics(sums, len, 2, 123);
    expect(m.entropy).toBeCloseTo((1 + 6 + 3 + 4) / (2 + 4 + 3 + 1), 12);
    expect(m.mean_token_accuracy).toBeCloseTo((1 + 3) / (2 + 4), 12); // not (1/2 + 3/4) / 2
    expect(m.num_tokens).toBe(123);
  });

  it('KTO: entropy over the examples only (the KL sequences after them do not count); no accuracy', () => {
    const m = unpairedTokenMetrics(sums, len, 2, 7);
    expect(m.entropy).toBeCloseTo((1 + 6) / (2 + 4), 12);
    expect(m).not.toHaveProperty('mean_token_accuracy');
    expect(m.num_tokens).toBe(7);
  });

  it('is 0 when the sequences hold no completion tokens, as TRL', () => {
    expect(pairTokenMetrics({ entropySum: [0, 0], correctCount: [0, 0] }, [0, 0], 1, 0)).toEqual({ entropy: 0, mean_token_accuracy: 0, num_tokens: 0 });
  });

  it('batchTokens counts the first n sequences, prompt and completion, no padding', () => {
    expect(batchTokens([5, 7, 9, 11], 2)).toBe(12);
    expect(batchTokens(Uint32Array.from([5, 7, 9, 11]), 4)).toBe(32);
  });

  it('a step averages micro-batches but reports the last running total of num_tokens', () => {
    const m = meanMetrics([
      { entropy: 1, num_tokens: 10 },
      { entropy: 3, num_tokens: 25 },
    ]);
    expect(m).toEqual({ entropy: 2, num_tokens: 25 });
  });
});
