// The training step with f16 arithmetic on the native f16 kernels (`enable f16;`): the checks of
// tests/gpu/model-f16-arith.test.ts (emulated variant, in CI) with the variant the plan picks on
// an adapter with `shader-f16` — log-probs and every gradient vs the float64 model on f16-rounded
// operands, and one SGD step of DPO through the trainer. `npm run test:gpu-f16`; not in `npm test`
// or CI. Without the feature every test here fails, naming it.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { freshSeed } from '../helpers/close';
import { requireShaderF16 } from '../helpers/f16-kernels';
import { checkF16ArithmeticDpoStep, checkF16ArithmeticGradients } from '../helpers/f16-training';
import type { GpuContext } from '../../src/engine/gpu';
import { f16VariantFor } from '../../src/kernels/f16-variant';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
  requireShaderF16(gpu);
});

describe('f16 arithmetic in the training step, native variant (shader-f16), vs float64', () => {
  it('the plan runs the native kernels', () => {
    expect(f16VariantFor(gpu.features)).toBe('native');
  });

  it('log-probs and every parameter gradient', async () => {
    await checkF16ArithmeticGradients(gpu, freshSeed(), 'native');
  });

  it('DPO, one SGD step (lr 1, no clipping): minus the float64 gradient; the next step reads the updated weights', async () => {
    await checkF16ArithmeticDpoStep(gpu, freshSeed(), 'native');
  });
});
