// The native f16 attention forward (src/kernels/attention-f16.ts with `enable f16;`) against
// float64 on an adapter with `shader-f16`: the checks and shapes of tests/gpu/attention-f16.test.ts
// (emulated, in CI), in both workgroup forms. `npm run test:gpu-f16`; not in `npm test` or CI.
// Without the feature every test here fails, naming it.
import { describe, it, beforeAll, afterAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { freshSeed } from '../helpers/close';
import { ATTENTION_F16_CASES, checkAttentionF16, requireShaderF16 } from '../helpers/f16-kernels';
import type { GpuContext } from '../../src/engine/gpu';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
  requireShaderF16(gpu);
});
afterAll(() => forceAdapterClass(null));

describe.each(['gpu', 'cpu'] as AdapterClass[])('f16-operand attention forward, native variant (%s form), vs float64', (form) => {
  beforeAll(() => forceAdapterClass(form));
  it.each(ATTENTION_F16_CASES)('B=$B T=$T NH=$NH NKV=$NKV HS=$HS lengths=$lengths', async (x) => {
    await checkAttentionF16(gpu, 'native', x, freshSeed());
  });
});
