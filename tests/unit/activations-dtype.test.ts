// activationsDtype in the training config and the memory estimate: absent means f32, anything
// but f32/f16 is refused by name, both families take f16, and f16 lowers the estimate by exactly
// the packed bytes.
import { describe, it, expect } from 'vitest';
import { TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig } from '../../src/train/config';
import { memoryEstimate } from '../../src/store/memory';
import { presetConfig } from '../../src/model/config';
import { llamaPresetConfig } from '../../src/model/llama-config';
import { activationsDtypeProblem, activationsDtypes } from '../../src/model/family';

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

  it('both families take f32 and f16; only an unknown storage gets a problem line', () => {
    for (const c of [presetConfig('tiny'), llamaPresetConfig('llama-tiny'), llamaPresetConfig('qwen-tiny')]) {
      expect(activationsDtypes(c)).toEqual(['f32', 'f16']);
      for (const d of ['f32', 'f16', undefined] as const) expect(activationsDtypeProblem(c, d)).toBeNull();
    }
    expect(activationsDtypeProblem(llamaPresetConfig('qwen-tiny'), 'bf16' as never)).toMatch(/^bf16 activations are not available for qwen2: use f32 or f16$/);
  });

  it('memory estimate, Llama family (SmolLM2-135M shape), one pair × 512: f16 saves BT·((W + 2I)·L·2 − 4·max(W, 2I)) bytes', () => {
    // q|k|v (W) and gate|up (2I) per token and layer at 2 bytes instead of 4, plus one f32 scratch of max(W, 2I) per token
    const c = { ...llamaPresetConfig('llama-tiny'), hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30, numAttentionHeads: 9, numKeyValueHeads: 3, headDim: 64, maxPositionEmbeddings: 8192, vocabSize: 49152 };
    const f32 = memoryEstimate(c, 1, 512, 'adamw', 'bf16');
    const f16 = memoryEstimate(c, 1, 512, 'adamw', 'bf16', 'f16');
    const BT = 2 * 512, W = (9 + 2 * 3) * 64, I2 = 2 * 1536;
    expect(f32.activations - f16.activations).toBe(BT * ((W + I2) * 30 * 2 - 4 * I2)); // 235,143,168
    expect(f16.state).toBe(f32.state);
  });
});
