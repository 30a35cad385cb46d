// activationsDtype in the training config and the memory estimate: absent means f32, anything
// but f32/f16 is refused by name, and f16 lowers the estimate by exactly the packed bytes.
import { describe, it, expect } from 'vitest';
import { TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig } from '../../src/train/config';
import { memoryEstimate } from '../../src/store/memory';
import { presetConfig } from '../../src/model/config';

describe('activationsDtype', () => {
  const base: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'dpo' } };

  it('defaults to f32; f16 and absent (older configs) are valid; others are refused by name', () => {
    expect(TRAIN_DEFAULTS.activationsDtype).toBe('f32');
    expect(() => validateTrainConfig({ ...base, activationsDtype: 'f16' })).not.toThrow();
    expect(() => validateTrainConfig({ ...base, activationsDtype: undefined })).not.toThrow();
    expect(() => validateTrainConfig({ ...base, activationsDtype: 'bf16' as never })).toThrow(/activationsDtype must be f32 or f16 .*got bf16/);
  });

  it('memory estimate: GPT-2 small, one pair × 512 (2 × 512 tokens): f16 saves BT·(7C·L·2 − 16C) bytes', () => {
    const c = presetConfig('gpt2');
    const f32 = memoryEstimate(c, 1, 512, 'adamw', 'bf16');
    const f16 = memoryEstimate(c, 1, 512, 'adamw', 'bf16', 'f16');
    const BT = 2 * 512, C = c.nEmbd, L = c.nLayer;
    expect(f32.activations - f16.activations).toBe(BT * (7 * C * L * 2 - 16 * C)); // 119,537,664
    expect(f16.state).toBe(f32.state);
    expect(memoryEstimate(c, 1, 512, 'adamw', 'bf16', 'f32')).toEqual(f32);
  });
});
