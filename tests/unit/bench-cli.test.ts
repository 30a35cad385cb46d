// The bench command's --case parser: valid cases, and a clear error naming the bad part.
import { describe, it, expect } from 'vitest';
import { parseCase } from '../../src/cli/commands/bench';
import { median, gflops } from '../../src/bench/stats';

describe('bench --case', () => {
  it('parses preset, batch, length and flags', () => {
    expect(parseCase('builtin:8x128')).toEqual({ preset: 'builtin', B: 8, T: 128, reduced: false, peer: true });
    expect(parseCase('gpt2:1x8:reduced:nopeer')).toEqual({ preset: 'gpt2', B: 1, T: 8, reduced: true, peer: false, reps: 1 });
  });

  it('rejects malformed cases and unknown presets with the reason', () => {
    expect(() => parseCase('builtin-8x128')).toThrow(/expected PRESET:BxT/);
    expect(() => parseCase('huge:1x8')).toThrow(/unknown preset "huge"/);
    expect(() => parseCase('tiny:0x8')).toThrow(/B must be ≥ 1/);
    expect(() => parseCase('tiny:2x8:fast')).toThrow(/expected PRESET:BxT/);
  });
});

describe('bench statistics', () => {
  it('median of odd and even counts, GFLOP/s', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
    expect(gflops(2e9, 1000)).toBe(2);
  });
});
