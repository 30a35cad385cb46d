// Tier 2 for src/kernels/attention-f16.ts, emulated variant: the f16-operand causal grouped-query
// attention forward (q, k, v read as f16, f32 scores, softmax and accumulation) against the
// float64 GQA reference on f16-rounded and on unrounded inputs (tests/helpers/f16-kernels.ts),
// in the CPU adapter's 4-row and the GPU's 64-row workgroups. The native variant: tests/gpu-f16/.
import { describe, it, beforeAll, afterAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { freshSeed } from '../helpers/close';
import { ATTENTION_F16_CASES, checkAttentionF16 } from '../helpers/f16-kernels';
import type { GpuContext } from '../../src/engine/gpu';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});
afterAll(() => forceAdapterClass(null));

describe.each(['cpu', 'gpu'] as AdapterClass[])('f16-operand attention forward, emulated variant (%s form), vs float64', (form) => {
  beforeAll(() => forceAdapterClass(form));
  it.each(ATTENTION_F16_CASES)('B=$B T=$T NH=$NH NKV=$NKV HS=$HS lengths=$lengths', async (x) => {
    await checkAttentionF16(gpu, 'emulated', x, freshSeed());
  });
});
