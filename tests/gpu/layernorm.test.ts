// Tier 2: shaders/layernorm.wgsl on real WebGPU (Dawn) against the float64 reference:
// C below, at and above the 256-wide workgroup, C = 1, and N beyond the capped row
// dispatch (STRIDED_MAX_GROUPS) so workgroups stride over rows. dinp and the parameter gradients
// accumulate onto pre-filled random values. Both kernel forms: CPU adapters take the `_rows`
// forms (an invocation per row, vec4s) where C % 4 = 0, GPUs the workgroup-wide ones.
import { describe, it, beforeAll, afterAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { layernormForward, layernormBackward } from '../../src/kernels/layernorm';
import { STRIDED_MAX_GROUPS } from '../../src/kernels/grid';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';
import { layernormForwardRef, layernormBackwardRef } from '../../src/reference/layernorm';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const EPS = 1e-5;
const SHAPES: Array<[number, number]> = [
  [1, 1],
  [3, 7],
  [5, 256],
  [4, 257],
  [2, 1100],
  [STRIDED_MAX_GROUPS + 5, 3],
  // C % 4 = 0 (the CPU `_rows` forms): rows not a multiple of the 4-row workgroup
  [7, 64],
];
/** Rows past the `_rows` forms' capped dispatch (4 · STRIDED_MAX_GROUPS), so invocations stride (CPU forms only: the GPU forms' striding is the shape above with C = 3). */
const CPU_ONLY: Array<[number, number]> = [[4 * STRIDED_MAX_GROUPS + 9, 8]];

afterAll(() => forceAdapterClass(null));

describe.each<AdapterClass>(['cpu', 'gpu'])('layernorm kernels on WebGPU (%s forms)', (form) => {
  beforeAll(() => forceAdapterClass(form));

  it.each([...SHAPES, ...(form === 'cpu' ? CPU_ONLY : [])])('forward N=%i C=%i matches float64 (out, mean, rstd)', async (N, C) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const inp = rng.floats(N * C, -1, 3), w = rng.floats(C, 0.5, 1.5), b = rng.floats(C);
    const d = gpu.device;
    const vOut = createView(d, 'out', [N, C]);
    const vMean = createView(d, 'mean', [N]);
    const vRstd = createView(d, 'rstd', [N]);
    const enc = new StepEncoder(gpu);
    layernormForward(enc, vOut, vMean, vRstd, createView(d, 'inp', [N, C], inp), createView(d, 'w', [C], w), createView(d, 'b', [C], b), N, C, EPS);
    enc.submit();
    const ref = layernormForwardRef(inp, w, b, N, C, EPS);
    expectClose(await readF32(d, vOut), ref.out, { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
    expectClose(await readF32(d, vMean), ref.mean, { rtol: 1e-4, atol: 1e-5, what: `mean seed=${seed}` });
    expectClose(await readF32(d, vRstd), ref.rstd, { rtol: 1e-4, atol: 1e-5, what: `rstd seed=${seed}` });
  });

  it('forward keeps precision for rows with a large mean and small spread (two-pass variance)', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const N = 3, C = 300;
    const inp = Float32Array.from(rng.floats(N * C, -0.05, 0.05), (v) => v + 300);
    const w = rng.floats(C, 0.5, 1.5), b = rng.floats(C);
    const d = gpu.device;
    const vOut = createView(d, 'out', [N, C]);
    const enc = new StepEncoder(gpu);
    layernormForward(enc, vOut, createView(d, 'mean', [N]), createView(d, 'rstd', [N]), createView(d, 'inp', [N, C], inp), createView(d, 'w', [C], w), createView(d, 'b', [C], b), N, C, EPS);
    enc.submit();
    // |x − mean| ≈ 0.03 is only known to f32's 3e-5 at 300, so the normalized value carries ~1e-3 relative error
    expectClose(await readF32(d, vOut), layernormForwardRef(inp, w, b, N, C, EPS).out, { rtol: 2e-3, atol: 2e-3, what: `out seed=${seed}` });
  });

  it.each([...SHAPES, ...(form === 'cpu' ? CPU_ONLY : [])])('backward N=%i C=%i matches float64; dinp, dweight, dbias accumulate', async (N, C) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const inp = rng.floats(N * C, -1, 3), w = rng.floats(C, 0.5, 1.5), dout = rng.floats(N * C);
    const fwd = layernormForwardRef(inp, w, new Float64Array(C), N, C, EPS);
    const mean = Float32Array.from(fwd.mean), rstd = Float32Array.from(fwd.rstd);
    const dinp0 = rng.floats(N * C), dw0 = rng.floats(C), db0 = rng.floats(C);
    const d = gpu.device;
    const vDinp = createView(d, 'dinp', [N, C], dinp0);
    const vDw = createView(d, 'dw', [C], dw0);
    const vDb = createView(d, 'db', [C], db0);
    const enc = new StepEncoder(gpu);
    layernormBackward(enc, vDinp, vDw, vDb, createView(d, 'dout', [N, C], dout), createView(d, 'inp', [N, C], inp), createView(d, 'w', [C], w), createView(d, 'mean', [N], mean), createView(d, 'rstd', [N], rstd), N, C);
    enc.submit();
    const ref = layernormBackwardRef(dout, inp, w, mean, rstd, N, C);
    expectClose(await readF32(d, vDinp), ref.dinp.map((g, i) => g + dinp0[i]), { rtol: 1e-3, atol: 1e-5, what: `dinp seed=${seed}` });
    expectClose(await readF32(d, vDw), ref.dweight.map((g, i) => g + dw0[i]), { rtol: 1e-3, atol: 1e-5, what: `dweight seed=${seed}` });
    expectClose(await readF32(d, vDb), ref.dbias.map((g, i) => g + db0[i]), { rtol: 1e-3, atol: 1e-5, what: `dbias seed=${seed}` });
  });
});
