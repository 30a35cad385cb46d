// The native f16 matmul (`enable f16;`, operands read as vec4<f16>, f32 accumulation:
// src/kernels/matmul-f16.ts) against float64, on an adapter with `shader-f16`: the checks and
// shapes of tests/gpu/matmul-f16.test.ts (emulated variant, run in CI). `npm run test:gpu-f16`;
// not in `npm test` or CI, whose adapter (SwiftShader) has no `shader-f16`. Without the feature
// every test here fails, naming it.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { freshSeed } from '../helpers/close';
import { checkMatmulF16, MATMUL_F16_LAYERS, modelProducts, requireShaderF16 } from '../helpers/f16-kernels';
import type { GpuContext } from '../../src/engine/gpu';
import { arithmeticPlan } from '../../src/kernels/plan';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
  requireShaderF16(gpu);
});

describe('f16-operand matmul, native variant (shader-f16), vs float64', () => {
  it('the plan grants f16 arithmetic', () => {
    expect(arithmeticPlan(gpu, 'f16')).toBe('f16');
  });

  it.each(MATMUL_F16_LAYERS.flatMap(([R, IC, OC]) => modelProducts(R, IC, OC)))('$label', async (p) => {
    await checkMatmulF16(gpu, 'native', p, freshSeed());
  });
});
