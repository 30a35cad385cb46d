// bf16 AdamW moments outside the GPU: the config option's validation and default, and the
// memory estimate the page shows (moments at 2 bytes per value instead of 4).
import { describe, it, expect } from 'vitest';
import { TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig } from '../../src/train/config';
import { memoryEstimate } from '../../src/store/memory';
import { paramCount, presetConfig } from '../../src/model/config';

describe('momentsDtype', () => {
  const base: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'dpo' } };

  it('defaults to f32 and accepts bf16 with AdamW', () => {
    expect(TRAIN_DEFAULTS.momentsDtype).toBe('f32');
    expect(() => validateTrainConfig({ ...base, momentsDtype: 'bf16' })).not.toThrow();
    expect(() => validateTrainConfig({ ...base, momentsDtype: undefined })).not.toThrow(); // configs saved before the option
  });

  it('rejects other dtypes and bf16 with SGD, saying why', () => {
    expect(() => validateTrainConfig({ ...base, momentsDtype: 'fp16' as never })).toThrow(/momentsDtype must be f32 or bf16 .*got fp16/);
    expect(() => validateTrainConfig({ ...base, optimizer: 'sgd', momentsDtype: 'bf16' })).toThrow(/momentsDtype applies to adamw only/);
  });

  it('halves the moments in the memory estimate: GPT-2 small 996 MB → 498 MB', () => {
    const c = presetConfig('gpt2');
    const P = paramCount(c);
    const f32 = memoryEstimate(c, 1, 128, 'adamw');
    const bf16 = memoryEstimate(c, 1, 128, 'adamw', 'bf16');
    expect(f32.state).toBe(16 * P);
    expect(bf16.state).toBe(12 * P);
    expect(Math.round((f32.state - 8 * P) / 1e6)).toBe(996);
    expect(Math.round((bf16.state - 8 * P) / 1e6)).toBe(498);
    expect(bf16.activations).toBe(f32.activations);
    expect(memoryEstimate(c, 1, 128, 'sgd', 'bf16').state).toBe(8 * P);
  });
});
