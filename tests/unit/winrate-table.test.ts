// scripts/winrate.ts's pure half: the pairwise win rate against the start model and the README table.
import { describe, it, expect } from 'vitest';
import { judged, pairwiseWinRate, winRateTable } from '../../scripts/winrate-table';

describe('win-rate table', () => {
  it('win rate vs start: 1 when only the trained model is right, ½ when both agree, 0 when only the start is', () => {
    expect(pairwiseWinRate([1, 0, 1, 0], [0, 0, 1, 1])).toBe((1 + 0.5 + 0.5 + 0) / 4);
    expect(pairwiseWinRate([0.5, 1], [0, 0.5])).toBe(1);
    expect(() => pairwiseWinRate([1], [1, 0])).toThrow(/same prompts/);
    expect(judged([1, 0, 0, 1, 1])).toEqual({ rate: 0.6, n: 5 });
    expect(() => judged([])).toThrow(/no samples/);
  });

  it('formats rates, counts, wall times and failed rows', () => {
    const t = winRateTable({ rate: 10 / 150, n: 150 }, [
      { method: 'DPO', updates: 20, after: { rate: 0.2, n: 150 }, winRate: 0.5666, wallSeconds: 42.25 },
      { method: 'SFT → RM → PPO', updates: 20, after: null, winRate: null, wallSeconds: null, note: 'no ppo method in this build' },
      { method: 'GRPO', updates: 20, after: { rate: 0, n: 150 }, winRate: 0.45, wallSeconds: 185.6 },
    ]);
    expect(t.split('\n')).toEqual([
      '| method | updates | judged correct, before | judged correct, after | win rate vs start | wall time |',
      '|---|---:|---:|---:|---:|---:|',
      '| DPO | 20 | 6.7 % (10/150) | 20.0 % (30/150) | 56.7 % | 42.3 s |',
      '| SFT → RM → PPO (no ppo method in this build) | 20 | 6.7 % (10/150) | — | — | — |',
      '| GRPO | 20 | 6.7 % (10/150) | 0.0 % (0/150) | 45.0 % | 3 min 6 s |',
      '',
    ]);
  });
});
