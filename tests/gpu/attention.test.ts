// Tier 2: shaders/attention.wgsl (flash style: no T×T storage) on real WebGPU (Dawn) against the
// float64 reference, with fresh random inputs, T not a multiple of the workgroup (and above 64),
// head sizes 8 to 128 (the maximum), B 1 and 3, and sequences shorter than T (one empty).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { allowAttentionSubgroups, attentionForward, attentionBackward, attentionRowStatsSize } from '../../src/kernels/attention';
import { attentionForwardRef, attentionBackwardRef } from '../../src/reference/attention';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

// [B, T, C, NH, lengths]
const SHAPES: Array<[number, number, number, number, number[]]> = [
  [1, 5, 8, 1, [5]], // NH=1, HS=8
  [3, 13, 32, 2, [13, 7, 1]], // HS=16
  [3, 70, 16, 2, [70, 65, 3]], // T > 64, HS=8
  [2, 67, 48, 3, [60, 0]], // HS=16, an empty sequence
  [2, 9, 36, 3, [9, 4]], // HS=12: 3 vec4s, T not a multiple of the 4-key blocks
  [1, 6, 256, 2, [6]], // HS=128, the largest the kernels hold
  [2, 1, 4, 1, [1, 0]], // T=1, HS=4 (one vec4), an empty sequence
  [1, 7, 8, 2, [7]], // HS=4 with 2 heads, T not a multiple of 4
];

function runForward(B: number, T: number, C: number, NH: number, qkv: Float32Array, lengths: number[], rng: Rng) {
  const d = gpu.device;
  const vOut = createView(d, 'out', [B, T, C], rng.floats(B * T * C)); // garbage: out is written
  const vLse = createView(d, 'lse', [attentionRowStatsSize(B, T, NH)], rng.floats(B * NH * T));
  const enc = new StepEncoder(gpu);
  attentionForward(enc, vOut, vLse, createView(d, 'qkv', [B, T, 3 * C], qkv), createView(d, 'lengths', [B], Uint32Array.from(lengths)), B, T, NH, NH, C / NH);
  enc.submit();
  return { vOut, vLse };
}

afterAll(() => allowAttentionSubgroups(null));

// On a CPU adapter (the test adapter) head sizes ≤ 64 run src/kernels/attention-cpu.ts's
// generated kernels: the `_sg` ones where the device has 4-lane subgroups, else the plain ones;
// HS = 128 runs shaders/attention.wgsl. tests/gpu/attention-gqa.test.ts runs the GPU forms.
describe.each([true, false])('attention kernels on WebGPU (subgroup kernels allowed: %s)', (sg) => {
  beforeAll(() => allowAttentionSubgroups(sg));

  it.each(SHAPES)('forward B=%i T=%i C=%i NH=%i lengths=%j matches float64', async (B, T, C, NH, lengths) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const qkv = rng.floats(B * T * 3 * C, -2, 2);
    const { vOut, vLse } = runForward(B, T, C, NH, qkv, lengths, rng);
    const ref = attentionForwardRef(qkv, lengths, B, T, C, NH);
    expectClose(await readF32(gpu.device, vOut), ref.out, { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
    expectClose(await readF32(gpu.device, vLse), ref.lse, { rtol: 1e-4, atol: 1e-5, what: `lse seed=${seed}` });
  });

  it('forward rescales its running sum: scores near 150 neither overflow nor lose ties', async () => {
    // HS=16, q = 8, k_t2 = 4.5 + m_t2/64 in every channel: score = 32·k = 144 + m/2, exact in f32
    // (exp(144) overflows f32: the running max must be subtracted). Keys whose scores rise make
    // the online softmax rescale by exp(−Δ/2) per step; later keys repeat (ties) or fall.
    const B = 1, T = 9, C = 32, NH = 2;
    const seed = freshSeed();
    const rng = new Rng(seed);
    const qkv = rng.floats(B * T * 3 * C);
    for (let t = 0; t < T; t++) {
      const m = t < 6 ? t : rng.int(6); // rising first, then random (ties included)
      for (let c = 0; c < C; c++) {
        qkv[t * 3 * C + c] = 8;
        qkv[t * 3 * C + C + c] = 4.5 + m / 64;
      }
    }
    const { vOut, vLse } = runForward(B, T, C, NH, qkv, [T], rng);
    const ref = attentionForwardRef(qkv, [T], B, T, C, NH);
    expectClose(await readF32(gpu.device, vOut), ref.out, { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
    expectClose(await readF32(gpu.device, vLse), ref.lse, { rtol: 1e-5, atol: 1e-5, what: `lse seed=${seed}` });
  });

  it.each(SHAPES)('backward B=%i T=%i C=%i NH=%i lengths=%j matches float64', async (B, T, C, NH, lengths) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const qkv = rng.floats(B * T * 3 * C, -2, 2);
    const dout = rng.floats(B * T * C); // nonzero on padded rows too: they must not count
    const fwd = attentionForwardRef(qkv, lengths, B, T, C, NH);
    const d = gpu.device;
    const rows = attentionRowStatsSize(B, T, NH);
    const vDqkv = createView(d, 'dqkv', [B, T, 3 * C], rng.floats(B * T * 3 * C)); // garbage: dqkv is written
    const vDelta = createView(d, 'delta', [rows], new Float32Array(rows).fill(NaN));
    const enc = new StepEncoder(gpu);
    attentionBackward(
      enc, vDqkv, vDelta, createView(d, 'dout', [B, T, C], dout), createView(d, 'out', [B, T, C], Float32Array.from(fwd.out)),
      createView(d, 'qkv', [B, T, 3 * C], qkv), createView(d, 'lse', [rows], Float32Array.from(fwd.lse)), createView(d, 'lengths', [B], Uint32Array.from(lengths)), B, T, NH, NH, C / NH,
    );
    enc.submit();
    const ref = attentionBackwardRef(dout, qkv, fwd.att, lengths, B, T, C, NH);
    expectClose(await readF32(d, vDqkv), ref.dqkv, { rtol: 1e-3, atol: 1e-5, what: `dqkv seed=${seed}` });
  });

  it('rejects views that are too small, NH not divisible by NKV and head sizes that are not 4k ≤ 128', () => {
    const d = gpu.device;
    const enc = new StepEncoder(gpu);
    const v = (n: number) => createView(d, `v${n}`, [n]);
    expect(() => attentionForward(enc, v(4 * 8), v(2 * 4 - 1), v(4 * 24), v(1), 1, 4, 2, 2, 4)).toThrow(/holds 7 elements, needs 8$/);
    expect(() => attentionForward(enc, v(4 * 12), v(12), v(4 * 20), v(1), 1, 4, 3, 2, 4)).toThrow(/NH=3 is not a multiple of NKV=2/);
    expect(() => attentionForward(enc, v(4 * 132), v(4), v(12 * 132), v(1), 1, 4, 1, 1, 132)).toThrow(/head size HS = 132 must be a multiple of 4 and at most 128/);
    expect(() => attentionForward(enc, v(4 * 10), v(8), v(12 * 10), v(1), 1, 4, 2, 2, 5)).toThrow(/head size HS = 5 must be a multiple of 4/);
    expect(() => attentionForward(enc, v(4 * 8), v(8), v(4 * 24), v(1), 1, 4, 2, 0, 4)).toThrow(/NKV = 0 must be a positive integer/);
    expect(() => attentionBackward(enc, v(96), v(8), v(32), v(32), v(96), v(7), v(1), 1, 4, 2, 2, 4)).toThrow(/holds 7 elements, needs 8$/);
    // GQA sizes: qkv (B,T,(NH+2·NKV)·HS) = 4·(4+2)·8, out (B,T,NH·HS)
    expect(() => attentionBackward(enc, v(191), v(16), v(128), v(128), v(192), v(16), v(1), 1, 4, 4, 1, 8)).toThrow(/v191 holds 191 elements, needs 192$/);
  });
});
