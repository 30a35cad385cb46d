// Tier 2: shaders/rmsnorm.wgsl on real WebGPU (Dawn) against the float64 reference
// (src/reference/rmsnorm.ts): C = 1, odd C, C below, at and above the 256-wide workgroup, N = 1,
// and N beyond the capped row dispatch (STRIDED_MAX_GROUPS) so workgroups stride over rows; both
// row widths (CPU adapters' 4, GPUs' 256). dinp is written (or added with `accumulate`), dweight
// accumulates; outputs start from random values so a write/add mix-up fails.
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { rmsnormForward, rmsnormBackward } from '../../src/kernels/rmsnorm';
import { STRIDED_MAX_GROUPS } from '../../src/kernels/grid';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';
import { rmsnormForwardRef, rmsnormBackwardRef } from '../../src/reference/rmsnorm';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});
afterEach(() => forceAdapterClass(null));

const EPS = 1e-6;
const SHAPES: Array<[number, number]> = [
  [1, 1],
  [1, 7],
  [3, 7],
  [5, 256],
  [4, 257],
  [2, 1100],
  [STRIDED_MAX_GROUPS + 5, 3],
  [7, 64], // C % 4 = 0: the CPU `_rows` forms, rows not a multiple of their 4-row workgroup
  [4 * STRIDED_MAX_GROUPS + 9, 8], // … and rows past their capped dispatch (CPU only, below)
];
const CLASSES: AdapterClass[] = ['cpu', 'gpu'];
// the 256-wide form runs slowly on SwiftShader (one thread per workgroup), so it skips the striding shape
const CASES = CLASSES.flatMap((cls) => SHAPES.filter(([N]) => cls === 'cpu' || N <= STRIDED_MAX_GROUPS).map(([N, C]) => [cls, N, C] as [AdapterClass, number, number]));

describe('rmsnorm kernels on WebGPU', () => {
  it.each(CASES)('forward (%s row width) N=%i C=%i matches float64 (out, rstd)', async (cls, N, C) => {
    forceAdapterClass(cls);
    const seed = freshSeed();
    const rng = new Rng(seed);
    const inp = rng.floats(N * C, -2, 3), w = rng.floats(C, 0.5, 1.5);
    const d = gpu.device;
    const vOut = createView(d, 'out', [N, C], rng.floats(N * C));
    const vRstd = createView(d, 'rstd', [N], rng.floats(N));
    const enc = new StepEncoder(gpu);
    rmsnormForward(enc, vOut, vRstd, createView(d, 'inp', [N, C], inp), createView(d, 'w', [C], w), N, C, EPS);
    enc.submit();
    const ref = rmsnormForwardRef(inp, w, N, C, EPS);
    expectClose(await readF32(d, vOut), ref.out, { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
    expectClose(await readF32(d, vRstd), ref.rstd, { rtol: 1e-4, atol: 1e-5, what: `rstd seed=${seed}` });
  });

  it('forward: an all-zero row gives out 0 and rstd 1/√eps', async () => {
    const [N, C] = [2, 5];
    const inp = Float32Array.from([0, 0, 0, 0, 0, 1, -1, 2, 0.5, 3]);
    const w = Float32Array.from([1, 2, 3, 4, 5]);
    const d = gpu.device;
    const vOut = createView(d, 'out', [N, C]);
    const vRstd = createView(d, 'rstd', [N]);
    const enc = new StepEncoder(gpu);
    rmsnormForward(enc, vOut, vRstd, createView(d, 'inp', [N, C], inp), createView(d, 'w', [C], w), N, C, EPS);
    enc.submit();
    const ref = rmsnormForwardRef(inp, w, N, C, EPS);
    expect(ref.rstd[0]).toBeCloseTo(1000, 6);
    expectClose(await readF32(d, vOut), ref.out, { rtol: 1e-4, atol: 1e-5, what: 'out' });
    expectClose(await readF32(d, vRstd), ref.rstd, { rtol: 1e-4, atol: 1e-5, what: 'rstd' });
  });

  it.each(CASES)('backward (%s row width) N=%i C=%i matches float64; dinp written, dweight accumulates', async (cls, N, C) => {
    forceAdapterClass(cls);
    const seed = freshSeed();
    const rng = new Rng(seed);
    const inp = rng.floats(N * C, -2, 3), w = rng.floats(C, 0.5, 1.5), dout = rng.floats(N * C);
    const rstd = Float32Array.from(rmsnormForwardRef(inp, w, N, C, EPS).rstd);
    const dw0 = rng.floats(C);
    const d = gpu.device;
    const vDinp = createView(d, 'dinp', [N, C], rng.floats(N * C));
    const vDw = createView(d, 'dw', [C], dw0);
    const enc = new StepEncoder(gpu);
    rmsnormBackward(enc, vDinp, vDw, createView(d, 'dout', [N, C], dout), createView(d, 'inp', [N, C], inp), createView(d, 'w', [C], w), createView(d, 'rstd', [N], rstd), N, C);
    enc.submit();
    const ref = rmsnormBackwardRef(dout, inp, w, rstd, N, C);
    expectClose(await readF32(d, vDinp), ref.dinp, { rtol: 1e-3, atol: 1e-5, what: `dinp seed=${seed}` });
    expectClose(await readF32(d, vDw), ref.dweight.map((g, i) => g + dw0[i]), { rtol: 1e-3, atol: 1e-5, what: `dweight seed=${seed}` });
  });

  it.each<[number, number]>([[1, 7], [6, 257]])('backward with accumulate N=%i C=%i adds into dinp', async (N, C) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const inp = rng.floats(N * C, -2, 3), w = rng.floats(C, 0.5, 1.5), dout = rng.floats(N * C);
    const rstd = Float32Array.from(rmsnormForwardRef(inp, w, N, C, EPS).rstd);
    const dinp0 = rng.floats(N * C), dw0 = rng.floats(C);
    const d = gpu.device;
    const vDinp = createView(d, 'dinp', [N, C], dinp0);
    const vDw = createView(d, 'dw', [C], dw0);
    const enc = new StepEncoder(gpu);
    rmsnormBackward(enc, vDinp, vDw, createView(d, 'dout', [N, C], dout), createView(d, 'inp', [N, C], inp), createView(d, 'w', [C], w), createView(d, 'rstd', [N], rstd), N, C, { accumulate: true });
    enc.submit();
    const ref = rmsnormBackwardRef(dout, inp, w, rstd, N, C);
    expectClose(await readF32(d, vDinp), ref.dinp.map((g, i) => g + dinp0[i]), { rtol: 1e-3, atol: 1e-5, what: `dinp seed=${seed}` });
    expectClose(await readF32(d, vDw), ref.dweight.map((g, i) => g + dw0[i]), { rtol: 1e-3, atol: 1e-5, what: `dweight seed=${seed}` });
  });

  it('rejects views that are too small, bad dimensions and eps ≤ 0', () => {
    const d = gpu.device;
    const enc = new StepEncoder(gpu);
    const v = (n: number) => createView(d, `v${n}`, [n]);
    const [N, C] = [3, 5];
    expect(() => rmsnormForward(enc, v(N * C - 1), v(N), v(N * C), v(C), N, C, EPS)).toThrow(/rmsnormForward: v14 holds 14 elements, needs 15$/);
    expect(() => rmsnormForward(enc, v(N * C), v(N - 1), v(N * C), v(C), N, C, EPS)).toThrow(/holds 2 elements, needs 3$/);
    expect(() => rmsnormForward(enc, v(N * C), v(N), v(N * C - 1), v(C), N, C, EPS)).toThrow(/holds 14 elements, needs 15$/);
    expect(() => rmsnormForward(enc, v(N * C), v(N), v(N * C), v(C - 1), N, C, EPS)).toThrow(/holds 4 elements, needs 5$/);
    expect(() => rmsnormForward(enc, v(N * C), v(N), v(N * C), v(C), N, C, 0)).toThrow(/eps must be > 0/);
    expect(() => rmsnormForward(enc, v(N * C), v(N), v(N * C), v(C), 0, C, EPS)).toThrow(/N = 0 must be a positive integer/);
    expect(() => rmsnormBackward(enc, v(N * C - 1), v(C), v(N * C), v(N * C), v(C), v(N), N, C)).toThrow(/rmsnormBackward: .* holds 14 elements, needs 15$/);
    expect(() => rmsnormBackward(enc, v(N * C), v(C - 1), v(N * C), v(N * C), v(C), v(N), N, C)).toThrow(/holds 4 elements, needs 5$/);
    expect(() => rmsnormBackward(enc, v(N * C), v(C), v(N * C), v(N * C - 1), v(C), v(N), N, C)).toThrow(/holds 14 elements, needs 15$/);
    expect(() => rmsnormBackward(enc, v(N * C), v(C), v(N * C), v(N * C), v(C), v(N - 1), N, C)).toThrow(/holds 2 elements, needs 3$/);
    expect(() => rmsnormBackward(enc, v(N * C), v(C), v(N * C), v(N * C), v(C), v(N), N, 2.5)).toThrow(/C = 2.5 must be a positive integer/);
    expect(enc.dispatches).toBe(0);
  });
});
