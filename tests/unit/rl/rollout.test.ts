// Where a completion ends and which tokens count (GRPO/RLOO's EOS cut, PPO's truncate_response
// and its two masks), and TRL's completion-length metrics.
import { describe, expect, it } from 'vitest';
import { completionBatch, completionMetrics, cutAfterFirstEos, isTruncated, padResponses, ppoResponseMasks } from '../../../src/train/rl';

const EOS = 2;
const PAD = 0;

describe('GRPO/RLOO completions', () => {
  it('cut after the first EOS, which is kept; without EOS everything is kept', () => {
    expect(cutAfterFirstEos([5, 6, EOS, 7, EOS], EOS)).toEqual([5, 6, EOS]);
    expect(cutAfterFirstEos([EOS, 7], EOS)).toEqual([EOS]);
    expect(cutAfterFirstEos([5, 6], EOS)).toEqual([5, 6]);
  });

  it('truncated = last kept token is neither EOS nor PAD', () => {
    expect(isTruncated([5, EOS], EOS, PAD)).toBe(false);
    expect(isTruncated([5, PAD], EOS, PAD)).toBe(false);
    expect(isTruncated([5, 6], EOS, PAD)).toBe(true);
  });

  it('completionBatch pads, masks, and with maskTruncated zeroes truncated rows', () => {
    const c = completionBatch([[5, EOS, 7], [5, 6, 7]], EOS, PAD);
    expect(c.T).toBe(3);
    expect(Array.from(c.ids)).toEqual([5, EOS, PAD, 5, 6, 7]);
    expect(Array.from(c.mask)).toEqual([1, 1, 0, 1, 1, 1]);
    expect(c.truncated).toEqual([false, true]);
    expect(Array.from(completionBatch([[5, EOS, 7], [5, 6, 7]], EOS, PAD, true).mask)).toEqual([1, 1, 0, 0, 0, 0]);
  });

  it('completion metrics: lengths after the cut, clipped ratio, terminated lengths (0 when none)', () => {
    const { metrics, tokens } = completionMetrics([2, 3, 5], [false, true, false], [4, 4, 4]);
    expect(metrics).toEqual({
      'completions/mean_length': 10 / 3,
      'completions/min_length': 2,
      'completions/max_length': 5,
      'completions/clipped_ratio': 1 / 3,
      'completions/mean_terminated_length': 3.5,
      'completions/min_terminated_length': 2,
      'completions/max_terminated_length': 5,
    });
    expect(tokens).toBe(22);
    expect(completionMetrics([3, 3], [true, true]).metrics['completions/mean_terminated_length']).toBe(0);
  });
});

describe('PPO responses', () => {
  it('padResponses: generate-style (B,T) with T the longest', () => {
    expect(padResponses([[5, EOS], [5, 6, 7]], PAD)).toEqual({ B: 2, T: 3, responses: Int32Array.from([5, EOS, PAD, 5, 6, 7]) });
  });

  it('truncate_response pads after the first stop token; L = first PAD − 1; masks t ≤ L and t ≤ L + 1', () => {
    const m = ppoResponseMasks([5, EOS, 7, 8, 5, 6, 7, 8, EOS, 5, 5, 5], 3, 4, { eosId: EOS, padId: PAD, stopTokenId: EOS });
    expect(Array.from(m.postprocessed)).toEqual([5, EOS, PAD, PAD, 5, 6, 7, 8, EOS, PAD, PAD, PAD]);
    expect(Array.from(m.sequenceLengths)).toEqual([1, 3, 0]);
    expect(Array.from(m.responseMask)).toEqual([1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(m.valueMask)).toEqual([1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0]);
    expect(m.containEos).toEqual([true, false, true]);
  });

  it('stop token null (TRL default) leaves responses alone; PAD = EOS makes the EOS padding', () => {
    const m = ppoResponseMasks([5, EOS, 7], 1, 3, { eosId: EOS, padId: PAD, stopTokenId: null });
    expect(Array.from(m.postprocessed)).toEqual([5, EOS, 7]);
    expect(Array.from(m.sequenceLengths)).toEqual([2]);
    const g = ppoResponseMasks([5, EOS, EOS], 1, 3, { eosId: EOS, padId: EOS, stopTokenId: EOS });
    expect(Array.from(g.sequenceLengths)).toEqual([0]);
    expect(Array.from(g.responseMask)).toEqual([1, 0, 0]);
  });
});
