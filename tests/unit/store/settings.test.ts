// The page's shared settings: what the engine would refuse is said in words before a run starts.
import { describe, it, expect } from 'vitest';
import { DEFAULT_SETTINGS, settingsProblems } from '../../../src/store/settings';
import { problemText, trainConfigProblems, validateTrainConfig } from '../../../src/train/config';

describe('settings problems', () => {
  it('defaults and bf16 AdamW moments are fine', () => {
    expect(settingsProblems(DEFAULT_SETTINGS)).toEqual([]);
    expect(settingsProblems({ ...DEFAULT_SETTINGS, momentsDtype: 'bf16' })).toEqual([]);
  });

  it('bf16 moments with SGD: named on the page, as the engine would refuse it', () => {
    const s = { ...DEFAULT_SETTINGS, optimizer: 'sgd' as const, momentsDtype: 'bf16' as const };
    expect(settingsProblems(s)).toEqual(['AdamW moments applies to adamw only: SGD here keeps no moments (got bf16)']);
    expect(() => validateTrainConfig({ ...s, objective: { method: 'dpo' } })).toThrow(/momentsDtype applies to adamw only/);
  });

  it('names whole-number fields', () => {
    expect(settingsProblems({ ...DEFAULT_SETTINGS, gradAccum: 0, steps: 1.5 })).toEqual(['Steps must be a whole number ≥ 1, got 1.5', 'Gradient accumulation must be a whole number ≥ 1, got 0']);
  });

  it('is the engine\'s validator: one problem per field, each naming it', () => {
    const c = { ...DEFAULT_SETTINGS, lr: -1, evalFraction: 1, optimizer: 'sgd' as const, weightDecay: 0.1, maxLength: 100, nPositions: 64, objective: { method: 'dpo' as const } };
    expect(trainConfigProblems(c)).toEqual([
      { field: 'lr', message: 'lr must be > 0, got -1' },
      { field: 'evalFraction', message: 'evalFraction must be between 0 and 0.5, got 1' },
      { field: 'weightDecay', message: 'weightDecay applies to adamw only: SGD here has no weight decay (got 0.1)' },
      { field: 'maxLength', message: "maxLength must be ≤ the model's n_positions (64), got 100" },
    ]);
    expect(problemText(trainConfigProblems(c)[0], '--lr')).toBe('--lr must be > 0, got -1');
    expect(trainConfigProblems({ ...c, lr: 1, evalFraction: 0, optimizer: 'adamw', maxLength: null, objective: { method: 'magic' as never } })[0].field).toBe('objective');
  });
});
