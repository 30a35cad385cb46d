// Tier 2 for src/kernels/matmul-f16.ts, emulated variant (src/kernels/f16-variant.ts): the same
// WGSL as the native f16 kernel but for its four type and load definitions, so it runs on any
// adapter (SwiftShader has no `shader-f16`) and checks the kernel's indexing, 64 × 64 × 16
// tiling, edge masking and f32 accumulation against float64, on f16-rounded inputs (f32's error
// bound) and on the unrounded ones (plus what f16 rounding explains): tests/helpers/f16-kernels.ts.
// The model's six layer products (Conv1D and nn.Linear forward, dinp, dW accumulated) at shapes
// with partial tiles, one K stage and several. The native variant: tests/gpu-f16/ (npm run
// test:gpu-f16, on adapters with `shader-f16`).
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { freshSeed } from '../helpers/close';
import { checkMatmulF16, MATMUL_F16_LAYERS, modelProducts } from '../helpers/f16-kernels';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { matmulF16, matmulF16Source } from '../../src/kernels/matmul-f16';
import { attentionF16Source } from '../../src/kernels/attention-f16';
import { f16Prelude } from '../../src/kernels/f16-variant';
import { arithmeticPlan, F16UnavailableError } from '../../src/kernels/plan';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

describe('f16-operand matmul, emulated variant, vs float64', () => {
  it.each(MATMUL_F16_LAYERS.flatMap(([R, IC, OC]) => modelProducts(R, IC, OC)))('$label', async (p) => {
    await checkMatmulF16(gpu, 'emulated', p, freshSeed());
  });
});

describe('f16 arithmetic plan', () => {
  it('the native and emulated kernels are the same WGSL after their preludes', () => {
    for (const src of [matmulF16Source, attentionF16Source]) {
      const native = src('native'), emulated = src('emulated');
      expect(native.startsWith(f16Prelude('native'))).toBe(true);
      expect(emulated.startsWith(f16Prelude('emulated'))).toBe(true);
      expect(native.slice(f16Prelude('native').length)).toBe(emulated.slice(f16Prelude('emulated').length));
      expect(native.startsWith('enable f16;')).toBe(true);
      expect(emulated).not.toMatch(/enable f16|<f16>/);
    }
  });

  it('asks for shader-f16 by name where the device lacks it, and grants f16 where it has it', () => {
    const has = gpu.features.has('shader-f16');
    expect(arithmeticPlan(gpu, 'f32')).toBe('f32');
    if (has) {
      expect(arithmeticPlan(gpu, 'f16')).toBe('f16');
      return;
    }
    expect(() => arithmeticPlan(gpu, 'f16')).toThrow(F16UnavailableError);
    expect(() => arithmeticPlan(gpu, 'f16')).toThrow(/shader-f16/);
    const d = gpu.device;
    const v = createView(d, 'v', [64]);
    const enc = new StepEncoder(gpu);
    // the plan's default (native) and an explicit native both refuse before anything is dispatched
    expect(() => matmulF16(enc, v, v, v, null, 4, 4, 4)).toThrow(/shader-f16/);
    expect(() => matmulF16(enc, v, v, v, null, 4, 4, 4, { variant: 'native' })).toThrow(/shader-f16/);
    expect(enc.dispatches).toBe(0);
    v.buffer.destroy();
  });

  it('refuses operands whose contiguous dimension is not a multiple of 4, naming it', () => {
    const d = gpu.device;
    const v = createView(d, 'v', [256]);
    const enc = new StepEncoder(gpu);
    expect(() => matmulF16(enc, v, v, v, null, 4, 4, 6, { variant: 'emulated' })).toThrow(/A's contiguous dimension K = 6/);
    expect(() => matmulF16(enc, v, v, v, null, 4, 6, 4, { variant: 'emulated' })).toThrow(/B's contiguous dimension N = 6/);
    expect(() => matmulF16(enc, v, v, v, null, 6, 4, 4, { TRANS_A: true, variant: 'emulated' })).toThrow(/A's contiguous dimension M = 6/);
    v.buffer.destroy();
  });
});
