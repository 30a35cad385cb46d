// The page's shared settings: what the engine would refuse is said in words before a run starts.
import { describe, it, expect } from 'vitest';
import { DEFAULT_SETTINGS, settingsProblems } from '../../../src/store/settings';
import { validateTrainConfig } from '../../../src/train/config';

describe('settings problems', () => {
  it('defaults and bf16 AdamW moments are fine', () => {
    expect(settingsProblems(DEFAULT_SETTINGS)).toEqual([]);
    expect(settingsProblems({ ...DEFAULT_SETTINGS, momentsDtype: 'bf16' })).toEqual([]);
  });

  it('bf16 moments with SGD: named on the page, as the engine would refuse it', () => {
    const s = { ...DEFAULT_SETTINGS, optimizer: 'sgd' as const, momentsDtype: 'bf16' as const };
    expect(settingsProblems(s)).toEqual(['bf16 moments need AdamW (SGD keeps no moments)']);
    expect(() => validateTrainConfig({ ...s, objective: { method: 'dpo' } })).toThrow(/bf16 applies to adamw only/);
  });

  it('names whole-number fields', () => {
    expect(settingsProblems({ ...DEFAULT_SETTINGS, gradAccum: 0, steps: 1.5 })).toEqual(['Steps must be a whole number ≥ 1', 'Gradient accumulation must be a whole number ≥ 1']);
  });
});
