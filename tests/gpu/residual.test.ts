// Tier 2: shaders/residual.wgsl on real WebGPU (Dawn) against the float64 reference, with
// sizes that are not multiples of the 256-wide workgroup and one beyond the capped grid
// (STRIDED_MAX_GROUPS·256), so the grid-stride loop runs more than once; n % 4 = 0 takes the
// vec4 forms, in both adapter classes' shapes (16 vec4s per invocation on CPU adapters, 1 on
// GPUs), with one size past their capped grid too.
import { describe, it, beforeAll, afterAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { residualForward, accumulate } from '../../src/kernels/residual';
import { STRIDED_MAX_GROUPS, ELEMENTWISE_WG, VEC4_WG } from '../../src/kernels/grid';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';
import { residualForwardRef, accumulateRef } from '../../src/reference/residual';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

/** Past the CPU vec4 forms' capped grid (16 vec4s per invocation), so they stride too. */
const VEC4_PAST_GRID = 4 * STRIDED_MAX_GROUPS * VEC4_WG * 16 + 44;
const SIZES = [1, 255, 257, 1000, STRIDED_MAX_GROUPS * ELEMENTWISE_WG + 333, VEC4_PAST_GRID];

afterAll(() => forceAdapterClass(null));

describe.each<AdapterClass>(['cpu', 'gpu'])('residual kernels on WebGPU (%s forms)', (form) => {
  beforeAll(() => forceAdapterClass(form));

  it.each(SIZES)('forward n=%i matches float64', async (n) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const a = rng.floats(n), b = rng.floats(n);
    const d = gpu.device;
    const vOut = createView(d, 'out', [n], rng.floats(n));
    const enc = new StepEncoder(gpu);
    residualForward(enc, vOut, createView(d, 'inp1', [n], a), createView(d, 'inp2', [n], b), n);
    enc.submit();
    expectClose(await readF32(d, vOut), residualForwardRef(a, b, n), { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
  });

  it.each(SIZES)('accumulate n=%i adds onto the pre-filled destination', async (n) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const dst0 = rng.floats(n), src = rng.floats(n);
    const d = gpu.device;
    const vDst = createView(d, 'dst', [n], dst0);
    const enc = new StepEncoder(gpu);
    accumulate(enc, vDst, createView(d, 'src', [n], src), n);
    enc.submit();
    expectClose(await readF32(d, vDst), accumulateRef(dst0, src, n), { rtol: 1e-3, atol: 1e-5, what: `dst seed=${seed}` });
  });

  it('touches only the first n elements of a longer view', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 300, len = 520;
    const dst0 = rng.floats(len), src = rng.floats(len), out0 = rng.floats(len);
    const d = gpu.device;
    const vDst = createView(d, 'dst', [len], dst0);
    const vOut = createView(d, 'out', [len], out0);
    const vSrc = createView(d, 'src', [len], src);
    const enc = new StepEncoder(gpu);
    accumulate(enc, vDst, vSrc, n);
    residualForward(enc, vOut, vSrc, vSrc, n);
    enc.submit();
    const want = Float64Array.from(dst0, (v, i) => (i < n ? v + src[i] : v));
    expectClose(await readF32(d, vDst), want, { rtol: 1e-3, atol: 1e-5, what: `dst seed=${seed}` });
    const wantOut = Float64Array.from(out0, (v, i) => (i < n ? 2 * src[i] : v));
    expectClose(await readF32(d, vOut), wantOut, { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
  });
});
