// Tier 2: shaders/rope.wgsl on real WebGPU (Dawn) against the float64 reference
// (src/reference/rope.ts) and against transformers' float32 arithmetic written out here
// (inv_freq and the angle rounded to f32, cos/sin of that angle): head sizes 2, 6, 8, 64 and 256,
// odd T, N = 1, a dispatch large enough to stride, positions up to 70000 (the kernel's own range
// reduction), q and k rotated in place inside a packed qkv buffer with NH ≠ NKV (v untouched),
// strided ↔ contiguous copies, and the launchers' argument checks.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { ropeForward, ropeBackward, ropeForwardInPlace, ropeBackwardInPlace, ropeInvFreq, qkvRopeRows, type RopeRows } from '../../src/kernels/rope';
import { ropeForwardRef, ropeBackwardRef, ropeInvFreqRef } from '../../src/reference/rope';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const F32_EPS = 2 ** -24;

// Against the float64 reference, f32 rounding of inv_freq and of t·inv_freq moves each angle by up
// to t·(ln θ + 3)·2⁻²⁴ rad (src/kernels/rope.ts); with inputs in [−1, 1] a pair has norm ≤ √2.
function refAtol(T: number, theta: number): number {
  return 1e-5 + Math.SQRT2 * (T - 1) * (Math.log(theta) + 3) * F32_EPS;
}

// transformers in float32: inv_freq = 1/(θ ** (arange(0, HS, 2)/HS)) and freqs = inv_freq·t, each
// rounded to f32; cos/sin of that f32 angle (taken here in float64); the rotation itself in float64.
function hfF32Rope(x: ArrayLike<number>, B: number, T: number, NH: number, HS: number, theta: number, sign: 1 | -1): Float64Array {
  const half = HS / 2;
  const out = new Float64Array(B * T * NH * HS);
  for (let i = 0; i < half; i++) {
    const inv = Math.fround(1 / Math.fround(Math.fround(theta) ** Math.fround((2 * i) / HS)));
    for (let t = 0; t < T; t++) {
      const a = Math.fround(t * inv);
      const c = Math.cos(a), s = sign * Math.sin(a);
      for (let bh = 0; bh < B * NH; bh++) {
        const b = Math.floor(bh / NH), h = bh % NH;
        const o = ((b * T + t) * NH + h) * HS;
        out[o + i] = x[o + i] * c - x[o + half + i] * s;
        out[o + half + i] = x[o + half + i] * c + x[o + i] * s;
      }
    }
  }
  return out;
}

// Our f32 kernel vs transformers' f32 arithmetic: a few ulp of the output, at any position.
const HF_TOL = { rtol: 1e-5, atol: 2e-6 };

/** The (B,T,NH,HS) tensor at `rows` of a wider buffer, as a contiguous copy. */
function gather(buf: ArrayLike<number>, rows: RopeRows, B: number, T: number, NH: number, HS: number): Float32Array {
  const w = NH * HS;
  const out = new Float32Array(B * T * w);
  for (let r = 0; r < B * T; r++) for (let j = 0; j < w; j++) out[r * w + j] = buf[rows.offset + r * rows.rowStride + j];
  return out;
}

/** `buf` with the (B,T,NH,HS) tensor `x` written at `rows`. */
function scatter(buf: ArrayLike<number>, x: ArrayLike<number>, rows: RopeRows, B: number, T: number, NH: number, HS: number): Float64Array {
  const out = Float64Array.from(buf);
  const w = NH * HS;
  for (let r = 0; r < B * T; r++) for (let j = 0; j < w; j++) out[rows.offset + r * rows.rowStride + j] = x[r * w + j];
  return out;
}

type Shape = [B: number, T: number, NH: number, HS: number, theta: number];
const SHAPES: Shape[] = [
  [1, 1, 1, 2, 10000],
  [2, 5, 3, 8, 10000],
  [1, 7, 2, 6, 1e6],
  [3, 3, 1, 64, 10000],
  [1, 9, 5, 64, 500000],
  [2, 3, 4, 6, 100],
  [1, 1029, 2, 256, 10000], // 263424 pairs: more than 1024 workgroups of 256, so invocations stride
];

describe('rope kernels on WebGPU', () => {
  it('ropeInvFreq rounds like transformers in float32 and stays within f32 rounding of θ^(−2i/HS)', () => {
    expect(Array.from(ropeInvFreq(8, 10000))).toEqual(Array.from(Float32Array.from([1, 0.1, 0.01, 0.001])));
    for (const [HS, theta] of [[6, 1e6], [64, 10000], [128, 500000], [256, 10000]]) {
      // exponent, power and reciprocal each rounded: relative error ≤ (ln θ·e + 2)·2⁻²⁴, e < 1
      expectClose(ropeInvFreq(HS, theta), ropeInvFreqRef(HS, theta), { rtol: (Math.log(theta) + 2) * F32_EPS, atol: 0, what: `inv_freq HS=${HS} theta=${theta}` });
    }
  });

  it.each(SHAPES)('forward B=%i T=%i NH=%i HS=%i theta=%f matches float64 and transformers f32', async (B, T, NH, HS, theta) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = B * T * NH * HS;
    const inp = rng.floats(n);
    const d = gpu.device;
    const vOut = createView(d, 'out', [B, T, NH, HS], rng.floats(n));
    const enc = new StepEncoder(gpu);
    ropeForward(enc, vOut, createView(d, 'inp', [B, T, NH, HS], inp), B, T, NH, HS, theta);
    enc.submit();
    const got = await readF32(d, vOut);
    expectClose(got, ropeForwardRef(inp, B, T, NH, HS, theta), { rtol: 1e-4, atol: refAtol(T, theta), what: `out vs float64 seed=${seed}` });
    expectClose(got, hfF32Rope(inp, B, T, NH, HS, theta, 1), { ...HF_TOL, what: `out vs transformers f32 seed=${seed}` });
  });

  it.each<Shape>([
    [1, 70001, 1, 2, 10000], // inv_freq = 1: angles t up to 70000 rad, exact in f32
    [1, 4099, 1, 6, 10000],
    [1, 4099, 1, 64, 1e6],
  ])('forward at large positions B=%i T=%i NH=%i HS=%i theta=%f: cos/sin stay accurate', async (B, T, NH, HS, theta) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = B * T * NH * HS;
    const inp = rng.floats(n);
    const d = gpu.device;
    const vOut = createView(d, 'out', [B, T, NH, HS]);
    const enc = new StepEncoder(gpu);
    ropeForward(enc, vOut, createView(d, 'inp', [B, T, NH, HS], inp), B, T, NH, HS, theta);
    enc.submit();
    const got = await readF32(d, vOut);
    expectClose(got, hfF32Rope(inp, B, T, NH, HS, theta, 1), { ...HF_TOL, what: `out vs transformers f32 seed=${seed}` });
    expectClose(got, ropeForwardRef(inp, B, T, NH, HS, theta), { rtol: 1e-4, atol: refAtol(T, theta), what: `out vs float64 seed=${seed}` });
  });

  it.each(SHAPES.slice(0, 6))('backward B=%i T=%i NH=%i HS=%i theta=%f matches float64; dinp written', async (B, T, NH, HS, theta) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = B * T * NH * HS;
    const dout = rng.floats(n);
    const d = gpu.device;
    const vDinp = createView(d, 'dinp', [B, T, NH, HS], rng.floats(n));
    const enc = new StepEncoder(gpu);
    ropeBackward(enc, vDinp, createView(d, 'dout', [B, T, NH, HS], dout), B, T, NH, HS, theta);
    enc.submit();
    const got = await readF32(d, vDinp);
    expectClose(got, ropeBackwardRef(dout, B, T, NH, HS, theta), { rtol: 1e-3, atol: refAtol(T, theta), what: `dinp vs float64 seed=${seed}` });
    expectClose(got, hfF32Rope(dout, B, T, NH, HS, theta, -1), { ...HF_TOL, what: `dinp vs transformers f32 seed=${seed}` });
  });

  type Packed = [B: number, T: number, NH: number, NKV: number, HS: number];
  const PACKED: Packed[] = [
    [2, 5, 4, 2, 8],
    [1, 7, 3, 1, 6],
    [2, 3, 2, 1, 64],
  ];

  it.each(PACKED)('in place on q and k of a packed qkv buffer B=%i T=%i NH=%i NKV=%i HS=%i; v untouched; backward undoes it', async (B, T, NH, NKV, HS) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const theta = 10000;
    const rows = qkvRopeRows(NH, NKV, HS);
    const qkv = rng.floats(B * T * (NH + 2 * NKV) * HS);
    const d = gpu.device;
    const vQkv = createView(d, 'qkv', [B, T, (NH + 2 * NKV) * HS], qkv);
    let enc = new StepEncoder(gpu);
    ropeForwardInPlace(enc, vQkv, B, T, NH, HS, theta, rows.q);
    ropeForwardInPlace(enc, vQkv, B, T, NKV, HS, theta, rows.k);
    enc.submit();
    const got = await readF32(d, vQkv);
    const q = gather(qkv, rows.q, B, T, NH, HS), k = gather(qkv, rows.k, B, T, NKV, HS);
    expectClose(gather(got, rows.q, B, T, NH, HS), ropeForwardRef(q, B, T, NH, HS, theta), { rtol: 1e-4, atol: refAtol(T, theta), what: `q seed=${seed}` });
    expectClose(gather(got, rows.k, B, T, NKV, HS), ropeForwardRef(k, B, T, NKV, HS, theta), { rtol: 1e-4, atol: refAtol(T, theta), what: `k seed=${seed}` });
    expect(Array.from(gather(got, rows.v, B, T, NKV, HS))).toEqual(Array.from(gather(qkv, rows.v, B, T, NKV, HS)));

    // the backward of a rotation is the opposite rotation: dq, dk in a packed dqkv buffer
    const dqkv = rng.floats(qkv.length);
    const vDqkv = createView(d, 'dqkv', [B, T, (NH + 2 * NKV) * HS], dqkv);
    enc = new StepEncoder(gpu);
    ropeBackwardInPlace(enc, vDqkv, B, T, NH, HS, theta, rows.q);
    ropeBackwardInPlace(enc, vDqkv, B, T, NKV, HS, theta, rows.k);
    ropeBackwardInPlace(enc, vQkv, B, T, NH, HS, theta, rows.q);
    ropeBackwardInPlace(enc, vQkv, B, T, NKV, HS, theta, rows.k);
    enc.submit();
    const dgot = await readF32(d, vDqkv);
    const dq = gather(dqkv, rows.q, B, T, NH, HS), dk = gather(dqkv, rows.k, B, T, NKV, HS);
    expectClose(gather(dgot, rows.q, B, T, NH, HS), ropeBackwardRef(dq, B, T, NH, HS, theta), { rtol: 1e-3, atol: refAtol(T, theta), what: `dq seed=${seed}` });
    expectClose(gather(dgot, rows.k, B, T, NKV, HS), ropeBackwardRef(dk, B, T, NKV, HS, theta), { rtol: 1e-3, atol: refAtol(T, theta), what: `dk seed=${seed}` });
    expect(Array.from(gather(dgot, rows.v, B, T, NKV, HS))).toEqual(Array.from(gather(dqkv, rows.v, B, T, NKV, HS)));
    expectClose(await readF32(d, vQkv), qkv, { rtol: 0, atol: 1e-6, what: `rotate then rotate back seed=${seed}` });
  });

  it('out of place between a packed buffer and a contiguous one, in both directions; the rest of the destination untouched', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const [B, T, NH, NKV, HS, theta] = [2, 5, 3, 1, 6, 10000];
    const rows = qkvRopeRows(NH, NKV, HS);
    const qkv = rng.floats(B * T * (NH + 2 * NKV) * HS);
    const d = gpu.device;
    const vK = createView(d, 'k', [B, T, NKV, HS]);
    const dk = rng.floats(B * T * NKV * HS), dqkv0 = rng.floats(qkv.length);
    const vDqkv = createView(d, 'dqkv', [B, T, (NH + 2 * NKV) * HS], dqkv0);
    const enc = new StepEncoder(gpu);
    ropeForward(enc, vK, createView(d, 'qkv', [B, T, (NH + 2 * NKV) * HS], qkv), B, T, NKV, HS, theta, undefined, rows.k);
    ropeBackward(enc, vDqkv, createView(d, 'dk', [B, T, NKV, HS], dk), B, T, NKV, HS, theta, rows.k);
    enc.submit();
    const atol = refAtol(T, theta);
    expectClose(await readF32(d, vK), ropeForwardRef(gather(qkv, rows.k, B, T, NKV, HS), B, T, NKV, HS, theta), { rtol: 1e-4, atol, what: `k seed=${seed}` });
    expectClose(await readF32(d, vDqkv), scatter(dqkv0, ropeBackwardRef(dk, B, T, NKV, HS, theta), rows.k, B, T, NKV, HS), { rtol: 1e-3, atol, what: `dqkv seed=${seed}` });
  });

  it('rejects views that are too small, bad head sizes, bad row layouts, theta ≤ 0 and out/inp sharing a buffer', () => {
    const d = gpu.device;
    const enc = new StepEncoder(gpu);
    const v = (n: number) => createView(d, `v${n}`, [n]);
    const [B, T, NH, HS] = [2, 3, 2, 4];
    const n = B * T * NH * HS; // 48
    expect(() => ropeForward(enc, v(n - 1), v(n), B, T, NH, HS, 1e4)).toThrow(/ropeForward: v47 holds 47 elements, needs 48$/);
    expect(() => ropeForward(enc, v(n), v(n - 1), B, T, NH, HS, 1e4)).toThrow(/holds 47 elements, needs 48$/);
    expect(() => ropeBackward(enc, v(n), v(n - 1), B, T, NH, HS, 1e4)).toThrow(/ropeBackward: v47 holds 47 elements, needs 48$/);
    expect(() => ropeForwardInPlace(enc, v(n - 1), B, T, NH, HS, 1e4)).toThrow(/ropeForwardInPlace: v47 holds 47 elements, needs 48$/);
    expect(() => ropeBackwardInPlace(enc, v(n - 1), B, T, NH, HS, 1e4)).toThrow(/holds 47 elements, needs 48$/);
    // packed (NH=2, NKV=1): row stride 16; k at offset 8 needs 8 + 5·16 + 4 = 92 elements
    const rows = qkvRopeRows(NH, 1, HS);
    expect(() => ropeForwardInPlace(enc, v(B * T * 16 - 5), B, T, 1, HS, 1e4, rows.k)).toThrow(/holds 91 elements, needs 92$/);
    expect(() => ropeForwardInPlace(enc, v(B * T * 16), B, T, 1, HS, 1e4, rows.k)).not.toThrow();
    expect(() => ropeForwardInPlace(enc, v(n), B, T, NH, HS, 1e4, { offset: 0, rowStride: NH * HS - 1 })).toThrow(/row stride 7 must be an integer ≥ NH·HS = 8/);
    expect(() => ropeForwardInPlace(enc, v(n), B, T, NH, HS, 1e4, { offset: -1, rowStride: NH * HS })).toThrow(/row offset -1 must be a non-negative integer/);
    expect(() => ropeForward(enc, v(n), v(n), B, T, NH, 5, 1e4)).toThrow(/head size HS=5 must be even and at most 256/);
    expect(() => ropeForward(enc, v(2 * 258), v(2 * 258), 1, 1, 2, 258, 1e4)).toThrow(/head size HS=258 must be even and at most 256/);
    expect(() => ropeForward(enc, v(n), v(n), B, T, NH, HS, 0)).toThrow(/theta=0 must be a finite number > 0/);
    expect(() => ropeForward(enc, v(n), v(n), B, 0, NH, HS, 1e4)).toThrow(/T = 0 must be a positive integer/);
    const x = v(n);
    expect(() => ropeForward(enc, x, x, B, T, NH, HS, 1e4)).toThrow(/share a GPUBuffer/);
    expect(enc.dispatches).toBe(1); // only the valid packed call above
  });
});
