// docs/perf.md's memory target from the engine's own size tables (tests/gpu/memory-plan.test.ts ties
// these estimates to the buffers actually allocated).
import { describe, it, expect } from 'vitest';
import { memoryEstimate } from '../../src/store/memory';
import { presetConfig, paramCount } from '../../src/model/config';

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
