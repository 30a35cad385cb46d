// The bench's memory plan allocates (and with `run`, executes) what a DPO update holds; its byte
// count must agree with the estimate the page shows (src/store/memory.ts), which the unit tests
// then use for GPT-2 small and SmolLM2-135M at 8 × 512 without allocating 2 GB in CI. Both
// families: GPT-2 (tiny) and the Llama family (llama-tiny; qwen-tiny, whose q/k/v biases make
// the model allocate a stacking scratch the estimate must count too).
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import type { GpuContext } from '../../src/engine/gpu';
import { memoryPlan } from '../../src/bench/memory-plan';
import { memoryEstimate } from '../../src/store/memory';
import { presetConfig } from '../../src/model/config';
import { llamaPresetConfig } from '../../src/model/llama-config';
import { llamaStackScratchBytes } from '../../src/model/llama';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

describe('bench memory plan', () => {
  it.each(['f32', 'bf16'] as const)('tiny, 4 pairs × 32 as micro-batches of 2 (%s moments): runs, and its bytes match the estimate', async (dtype) => {
    const plan = await memoryPlan(gpu, { preset: 'tiny', pairs: 4, T: 32, microPairs: 2, momentsDtype: dtype, run: true });
    expect(plan.grad_accum).toBe(2);
    expect(plan.ran && plan.ran.forward_ms >= 0 && plan.ran.backward_ms >= 0).toBe(true);
    const est = memoryEstimate(presetConfig('tiny'), 2, 32, 'adamw', dtype);
    expect(plan.bytes.params + plan.bytes.grads + plan.bytes.optimizer).toBeGreaterThanOrEqual(est.state);
    expect(plan.bytes.params + plan.bytes.grads + plan.bytes.optimizer).toBeLessThan(est.state + 64 * 1024); // alignment padding only
    expect(plan.bytes.activations).toBeGreaterThanOrEqual(est.activations);
    expect(plan.bytes.activations).toBeLessThan(est.activations + 64 * 1024); // padding and the encoder's token buckets
    expect(plan.bytes.scratch).toBe(0);
    expect(plan.total_bytes).toBe(plan.bytes.params + plan.bytes.grads + plan.bytes.optimizer + plan.bytes.activations);
  });

  it.each([
    ['llama-tiny', 'f32'],
    ['qwen-tiny', 'bf16'],
  ] as const)('%s, 2 pairs × 16 as micro-batches of 1 (%s moments): runs, and its bytes match the estimate', async (preset, dtype) => {
    const plan = await memoryPlan(gpu, { preset, pairs: 2, T: 16, microPairs: 1, momentsDtype: dtype, run: true });
    const config = llamaPresetConfig(preset);
    expect(plan.family).toBe(config.family);
    expect(plan.grad_accum).toBe(2);
    expect(plan.ran && plan.ran.forward_ms >= 0 && plan.ran.backward_ms >= 0).toBe(true);
    const est = memoryEstimate(config, 1, 16, 'adamw', dtype);
    expect(plan.estimate_bytes).toBe(est.perRun);
    // the stacking scratch: exactly what the pure size function says (qwen-tiny's q/k/v biases sit between the weights)
    expect(plan.bytes.scratch).toBe(llamaStackScratchBytes(config, gpu.device.limits.minStorageBufferOffsetAlignment));
    expect(plan.bytes.scratch > 0).toBe(preset === 'qwen-tiny');
    const state = plan.bytes.params + plan.bytes.grads + plan.bytes.optimizer + plan.bytes.scratch;
    expect(state).toBeGreaterThanOrEqual(est.state);
    expect(state).toBeLessThan(est.state + 64 * 1024); // alignment padding only
    expect(plan.bytes.activations).toBeGreaterThanOrEqual(est.activations);
    expect(plan.bytes.activations).toBeLessThan(est.activations + 64 * 1024); // padding and the encoder's token buckets
    expect(plan.total_bytes).toBe(state + plan.bytes.activations);
    expect(plan.limit_bytes).toBeNull();
    expect(plan.within_limit).toBeNull();
  });

  it.each([
    ['tiny', 'f32', false],
    ['llama-tiny', 'bf16', true],
  ] as const)('%s with LoRA r = 4 (%s base, checkpointing %s): runs, and its bytes match the estimate', async (preset, baseDtype, checkpoint) => {
    const lora = { r: 4, alpha: 8 };
    const plan = await memoryPlan(gpu, { preset, pairs: 2, T: 16, microPairs: 1, momentsDtype: 'f32', run: true, lora, baseDtype, checkpoint });
    expect(plan.ran && plan.ran.forward_ms >= 0 && plan.ran.backward_ms >= 0).toBe(true);
    const config = preset === 'tiny' ? presetConfig('tiny') : llamaPresetConfig(preset);
    const est = memoryEstimate(config, 1, 16, 'adamw', 'f32', 'f32', { lora, baseDtype, checkpoint });
    expect(plan.estimate_bytes).toBe(est.perRun);
    const full = memoryEstimate(config, 1, 16, 'adamw', 'f32');
    expect(est.state).toBeLessThan(full.state / 2); // the base held once, the adapters small
    const state = plan.bytes.params + plan.bytes.grads + plan.bytes.optimizer + plan.bytes.scratch;
    expect(state).toBeGreaterThanOrEqual(est.state);
    expect(state).toBeLessThan(est.state + 64 * 1024); // alignment padding only
    expect(plan.bytes.activations).toBeGreaterThanOrEqual(est.activations);
    expect(plan.bytes.activations).toBeLessThan(est.activations + 64 * 1024);
  });

  it('refuses pairs that do not split into micro-batches', async () => {
    await expect(memoryPlan(gpu, { preset: 'tiny', pairs: 3, T: 8, microPairs: 2, momentsDtype: 'f32', run: false })).rejects.toThrow(/3 pairs do not split into micro-batches of 2/);
  });
});
