// docs/perf.md's memory target from the engine's own size tables (tests/gpu/memory-plan.test.ts ties
// these estimates to the buffers actually allocated).
import { describe, it, expect } from 'vitest';
import { memoryEstimate } from '../../src/store/memory';
import { presetConfig, paramCount } from '../../src/model/config';
import { activationBytes } from '../../src/model/gpt';
import { llamaActivationBytes, llamaStackScratchBytes } from '../../src/model/llama';
import { llamaParamCount, llamaPresetConfig } from '../../src/model/llama-config';
import { modelActivationBytes, modelParamCount, modelPresetConfig, modelPresetNames, modelScratchBytes } from '../../src/model/family';

describe('memory estimate', () => {
  const gpt2 = presetConfig('gpt2');

  it('GPT-2 small DPO at 8 × 512 fits 2 GB as 8 micro-batches of one pair with bf16 moments', () => {
    const est = memoryEstimate(gpt2, 1, 512, 'adamw', 'bf16');
    expect(est.state).toBe(12 * paramCount(gpt2)); // f32 params + grads, bf16 m + v
    expect(est.perRun).toBeLessThan(2e9);
  });

  it('and does not in one batch, nor with f32 moments', () => {
    expect(memoryEstimate(gpt2, 8, 512, 'adamw', 'bf16').perRun).toBeGreaterThan(2e9);
    expect(memoryEstimate(gpt2, 1, 512, 'adamw', 'f32').perRun).toBeGreaterThan(2e9);
  });

  it('activations grow linearly with the sequence length (no T × T attention storage)', () => {
    const a = (T: number) => memoryEstimate(gpt2, 1, T, 'adamw', 'f32').activations;
    expect(a(1024) - a(512)).toBe(2 * (a(512) - a(256)));
  });
});

describe('memory estimate, either family', () => {
  it('modelParamCount and modelActivationBytes follow the config\'s family', () => {
    const gpt = presetConfig('tiny');
    const llama = llamaPresetConfig('llama-tiny');
    expect(modelParamCount(gpt)).toBe(paramCount(gpt));
    expect(modelParamCount(llama)).toBe(llamaParamCount(llama));
    for (const dtype of ['f32', 'f16'] as const) {
      expect(modelActivationBytes(gpt, 4, 32, dtype)).toBe(activationBytes(gpt, 4, 32, dtype));
      expect(modelActivationBytes(llama, 4, 32, dtype)).toBe(llamaActivationBytes(llama, 4, 32, dtype));
    }
    expect(modelScratchBytes(gpt)).toBe(0);
  });

  it('presets of both families by name; an unknown one lists them all', () => {
    expect(modelPresetNames()).toEqual(['tiny', 'builtin', 'gpt2', 'llama-tiny', 'qwen-tiny', 'smollm2-135m', 'qwen2.5-0.5b']);
    expect(modelPresetConfig('gpt2')).toEqual(presetConfig('gpt2'));
    expect(modelPresetConfig('qwen-tiny')).toEqual(llamaPresetConfig('qwen-tiny'));
    expect(() => modelPresetConfig('toString')).toThrow(/unknown preset "toString" \(presets: tiny, .*, qwen2\.5-0\.5b\)/);
  });

  it('Llama-family state: four parameter-sized arenas plus the stacking scratch (Qwen2\'s q/k/v biases break the weights\' run)', () => {
    const llama = llamaPresetConfig('llama-tiny');
    const qwen = llamaPresetConfig('qwen-tiny');
    expect(llamaStackScratchBytes(llama)).toBe(0); // q|k|v and gate|up lie back to back
    expect(llamaStackScratchBytes(qwen)).toBe(4 * 48 * 32 + 4 * 48); // the stacked q|k|v weights (W = 48 rows of C = 32) and biases
    for (const c of [llama, qwen]) {
      const est = memoryEstimate(c, 2, 32, 'adamw', 'f32');
      expect(est.state).toBe(16 * llamaParamCount(c) + llamaStackScratchBytes(c));
      expect(est.activations).toBe(llamaActivationBytes(c, 4, 32)); // chosen and rejected
      expect(memoryEstimate(c, 2, 32, 'sgd').state).toBe(8 * llamaParamCount(c) + llamaStackScratchBytes(c));
      expect(memoryEstimate(c, 1, 10_000, 'sgd').activations).toBe(llamaActivationBytes(c, 2, c.maxPositionEmbeddings)); // capped at the context
    }
  });

  it('SmolLM2-135M DPO at 8 × 512 as micro-batches of one pair: 2.92 GB with f32 moments, 2.39 GB with bf16', () => {
    const smol = llamaPresetConfig('smollm2-135m');
    const P = 134_515_008;
    expect(llamaStackScratchBytes(smol)).toBe(0); // C = 576: every projection keeps the 256-byte alignment
    const f32 = memoryEstimate(smol, 1, 512, 'adamw', 'f32');
    const bf16 = memoryEstimate(smol, 1, 512, 'adamw', 'bf16');
    expect(f32.state).toBe(16 * P);
    expect(bf16.state).toBe(12 * P);
    expect(bf16.activations).toBe(f32.activations);
    expect(f32.activations).toBe(llamaActivationBytes(smol, 2, 512));
    expect(f32.perRun / 1e9).toBeCloseTo(2.924, 3);
    expect(bf16.perRun / 1e9).toBeCloseTo(2.386, 3);
    // f16 activations keep q|k|v and gate|up at half size
    expect(memoryEstimate(smol, 1, 512, 'adamw', 'bf16', 'f16').activations).toBeLessThan(0.75 * f32.activations);
  });

  it('Llama activations grow linearly with the sequence length too', () => {
    const smol = llamaPresetConfig('smollm2-135m');
    const a = (T: number) => memoryEstimate(smol, 1, T, 'adamw', 'f32').activations;
    expect(a(1024) - a(512)).toBe(2 * (a(512) - a(256)));
  });
});
