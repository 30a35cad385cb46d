// Tier 2: shaders/gelu.wgsl on real WebGPU (Dawn) against the float64 reference: sizes that
// are not multiples of the workgroup, one beyond the capped grid, and large |x| where a
// naive tanh overflows to NaN. n % 4 = 0 takes the vec4 forms, in both adapter classes' shapes
// (16 vec4s per invocation on CPU adapters, 1 on GPUs), one size past their capped grid.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { geluForward, geluBackward } from '../../src/kernels/gelu';
import { STRIDED_MAX_GROUPS, ELEMENTWISE_WG, VEC4_WG } from '../../src/kernels/grid';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';
import { geluForwardRef, geluBackwardRef } from '../../src/reference/gelu';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

async function run(inp: Float32Array, rng: Rng): Promise<{ out: Float32Array; dinp: Float32Array; dout: Float32Array }> {
  const n = inp.length;
  const d = gpu.device;
  const dout = rng.floats(n);
  const vInp = createView(d, 'inp', [n], inp);
  const vOut = createView(d, 'out', [n], rng.floats(n));
  const vDinp = createView(d, 'dinp', [n], rng.floats(n)); // garbage: dinp is written, not accumulated
  const enc = new StepEncoder(gpu);
  geluForward(enc, vOut, vInp, n);
  geluBackward(enc, vDinp, vInp, createView(d, 'dout', [n], dout), n);
  enc.submit();
  return { out: await readF32(d, vOut), dinp: await readF32(d, vDinp), dout };
}

afterAll(() => forceAdapterClass(null));

describe.each<AdapterClass>(['cpu', 'gpu'])('gelu kernels on WebGPU (%s forms)', (form) => {
  beforeAll(() => forceAdapterClass(form));

  it.each([1, 255, 257, 3001, STRIDED_MAX_GROUPS * ELEMENTWISE_WG + 77, 1000, 4 * STRIDED_MAX_GROUPS * VEC4_WG * 16 + 4])('n=%i on [-5, 5] matches float64 (forward and written dinp)', async (n) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const inp = rng.floats(n, -5, 5);
    const { out, dinp, dout } = await run(inp, rng);
    expectClose(out, geluForwardRef(inp, n), { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
    expectClose(dinp, geluBackwardRef(inp, dout, n), { rtol: 1e-3, atol: 1e-5, what: `dinp seed=${seed}` });
  });

  // 13 + 200 values: the scalar forms; 13 + 203 = 216: the vec4 forms
  it.each([200, 203])('large |x| gives finite values: x for x ≫ 0, 0 for x ≪ 0 (13 + %i values)', async (extra) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const edges = [0, 10, -10, 15, -15, 19.5, -19.5, 20, -20, 1e4, -1e4, 1e30, -1e30];
    const inp = Float32Array.from([...edges, ...rng.floats(extra, -20, 20)]);
    const n = inp.length;
    const { out, dinp, dout } = await run(inp, rng);
    expect(out.every(Number.isFinite) && dinp.every(Number.isFinite), `non-finite value, seed=${seed}`).toBe(true);
    expectClose(out, geluForwardRef(inp, n), { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
    expectClose(dinp, geluBackwardRef(inp, dout, n), { rtol: 1e-3, atol: 1e-5, what: `dinp seed=${seed}` });
  });
});
