// Tier 2: shaders/swiglu.wgsl on real WebGPU (Dawn) against the float64 reference
// (src/reference/swiglu.ts), with gate and up read from the two halves of each fused gate_up
// (N,2I) row: N = 1, I = 1, odd I, I at and above the 256-wide workgroup, a dispatch large enough to
// stride, and gates far into both tails (no overflow, no NaN). dgate_up is written: it starts
// from random values.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { swigluForward, swigluBackward } from '../../src/kernels/swiglu';
import { swigluForwardRef, swigluBackwardRef } from '../../src/reference/swiglu';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

/** gate_up (N,2I) from gate (N,I) and up (N,I): each row is gate then up. */
function join(gate: ArrayLike<number>, up: ArrayLike<number>, N: number, I: number): Float32Array {
  const out = new Float32Array(N * 2 * I);
  for (let n = 0; n < N; n++) {
    for (let j = 0; j < I; j++) {
      out[n * 2 * I + j] = gate[n * I + j];
      out[n * 2 * I + I + j] = up[n * I + j];
    }
  }
  return out;
}

const SHAPES: Array<[number, number]> = [
  [1, 1],
  [1, 7],
  [3, 5],
  [4, 256],
  [5, 257],
  [2, 1100],
  [3, 87383], // 262149 elements: more than 1024 workgroups of 256, so invocations stride
];

async function run(N: number, I: number, gate: Float32Array, up: Float32Array, dh: Float32Array, seed: number): Promise<void> {
  const d = gpu.device;
  const gateUp = join(gate, up, N, I);
  const vH = createView(d, 'h', [N, I], new Rng(seed + 1).floats(N * I));
  const vDgu = createView(d, 'dgate_up', [N, 2 * I], new Rng(seed + 2).floats(N * 2 * I));
  const vGu = createView(d, 'gate_up', [N, 2 * I], gateUp);
  const enc = new StepEncoder(gpu);
  swigluForward(enc, vH, vGu, N, I);
  swigluBackward(enc, vDgu, createView(d, 'dh', [N, I], dh), vGu, N, I);
  enc.submit();
  const h = await readF32(d, vH);
  const dgu = await readF32(d, vDgu);
  expect(h.every(Number.isFinite) && dgu.every(Number.isFinite)).toBe(true);
  expectClose(h, swigluForwardRef(gate, up, N * I), { rtol: 1e-4, atol: 1e-5, what: `h seed=${seed}` });
  const ref = swigluBackwardRef(dh, gate, up, N * I);
  expectClose(dgu, join(ref.dgate, ref.dup, N, I), { rtol: 1e-3, atol: 1e-5, what: `dgate_up seed=${seed}` });
}

describe('swiglu kernels on WebGPU', () => {
  it.each(SHAPES)('forward and backward N=%i I=%i match float64; dgate_up written', async (N, I) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    await run(N, I, rng.floats(N * I, -5, 5), rng.floats(N * I, -2, 2), rng.floats(N * I), seed);
  });

  it('gates far into both tails: silu → 0 and → g without overflow or NaN', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const gate = Float32Array.from([-1000, -100, -30, -1e-3, 0, 1e-3, 30, 100, 1000, -87.5, 88.5]);
    const n = gate.length;
    await run(1, n, gate, rng.floats(n, -2, 2), rng.floats(n), seed);
  });

  it('rejects views that are too small and bad dimensions', () => {
    const d = gpu.device;
    const enc = new StepEncoder(gpu);
    const v = (n: number) => createView(d, `v${n}`, [n]);
    const [N, I] = [3, 5];
    expect(() => swigluForward(enc, v(N * I - 1), v(2 * N * I), N, I)).toThrow(/swigluForward: v14 holds 14 elements, needs 15$/);
    expect(() => swigluForward(enc, v(N * I), v(2 * N * I - 1), N, I)).toThrow(/holds 29 elements, needs 30$/);
    expect(() => swigluBackward(enc, v(2 * N * I - 1), v(N * I), v(2 * N * I), N, I)).toThrow(/swigluBackward: v29 holds 29 elements, needs 30$/);
    expect(() => swigluBackward(enc, v(2 * N * I), v(N * I - 1), v(2 * N * I), N, I)).toThrow(/holds 14 elements, needs 15$/);
    expect(() => swigluBackward(enc, v(2 * N * I), v(N * I), v(2 * N * I - 1), N, I)).toThrow(/holds 29 elements, needs 30$/);
    expect(() => swigluForward(enc, v(N * I), v(2 * N * I), N, 0)).toThrow(/I = 0 must be a positive integer/);
    expect(enc.dispatches).toBe(0);
  });
});
