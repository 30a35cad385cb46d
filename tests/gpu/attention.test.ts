// Tier 2: shaders/attention.wgsl on real WebGPU (Dawn) against the float64 reference, with
// fresh random inputs, T not a multiple of the 64-wide workgroup (and above it), C and 3C not
// multiples of it, HS 8 and 16, B 1 and 3, and sequences shorter than T (one empty).
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { attentionForward, attentionBackward, attentionScratchSize } from '../../src/kernels/attention';
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
  [2, 67, 48, 3, [60, 0]], // HS=16, 3C=144, an empty sequence
  [2, 9, 12, 2, [9, 4]], // HS=6: the scalar kernels (HS % 4 ≠ 0), the others take the vec4 forms
];

function runForward(B: number, T: number, C: number, NH: number, qkv: Float32Array, lengths: number[], rng: Rng) {
  const d = gpu.device;
  const vOut = createView(d, 'out', [B, T, C], rng.floats(B * T * C)); // garbage: out is written
  const vAtt = createView(d, 'att', [B, NH, T, T], rng.floats(B * NH * T * T));
  const enc = new StepEncoder(gpu);
  attentionForward(enc, vOut, vAtt, createView(d, 'qkv', [B, T, 3 * C], qkv), createView(d, 'lengths', [B], Uint32Array.from(lengths)), B, T, C, NH);
  enc.submit();
  return { vOut, vAtt };
}

describe('attention kernels on WebGPU', () => {
  it.each(SHAPES)('forward B=%i T=%i C=%i NH=%i lengths=%j matches float64', async (B, T, C, NH, lengths) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const qkv = rng.floats(B * T * 3 * C, -2, 2);
    const { vOut, vAtt } = runForward(B, T, C, NH, qkv, lengths, rng);
    const ref = attentionForwardRef(qkv, lengths, B, T, C, NH);
    expectClose(await readF32(gpu.device, vOut), ref.out, { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
    expectClose(await readF32(gpu.device, vAtt), ref.att, { rtol: 1e-4, atol: 1e-5, what: `att seed=${seed}` });
  });

  it('forward subtracts the row max: scores up to 160 neither overflow nor lose ties', async () => {
    // HS=16, q = 8, k_t2 = m_t2 (integers 0..5) in every channel: score = 8·16·m/4 = 32m, exact in f32.
    const B = 1, T = 9, C = 32, NH = 2;
    const seed = freshSeed();
    const rng = new Rng(seed);
    const qkv = rng.floats(B * T * 3 * C);
    for (let t = 0; t < T; t++) {
      const m = rng.int(6);
      for (let c = 0; c < C; c++) {
        qkv[t * 3 * C + c] = 8;
        qkv[t * 3 * C + C + c] = m;
      }
    }
    const { vOut, vAtt } = runForward(B, T, C, NH, qkv, [T], rng);
    const ref = attentionForwardRef(qkv, [T], B, T, C, NH);
    expectClose(await readF32(gpu.device, vOut), ref.out, { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
    expectClose(await readF32(gpu.device, vAtt), ref.att, { rtol: 1e-4, atol: 1e-5, what: `att seed=${seed}` });
  });

  it.each(SHAPES)('backward B=%i T=%i C=%i NH=%i lengths=%j matches float64', async (B, T, C, NH, lengths) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const qkv = rng.floats(B * T * 3 * C, -2, 2);
    const dout = rng.floats(B * T * C); // nonzero on padded rows too: they must not count
    const att = Float32Array.from(attentionForwardRef(qkv, lengths, B, T, C, NH).att);
    const d = gpu.device;
    const vDqkv = createView(d, 'dqkv', [B, T, 3 * C], rng.floats(B * T * 3 * C)); // garbage: dqkv is written
    const vScratch = createView(d, 'scratch', [attentionScratchSize(B, T, NH)], new Float32Array(attentionScratchSize(B, T, NH)).fill(NaN));
    const enc = new StepEncoder(gpu);
    attentionBackward(enc, vDqkv, createView(d, 'dout', [B, T, C], dout), vScratch, createView(d, 'qkv', [B, T, 3 * C], qkv), createView(d, 'att', [B, NH, T, T], att), createView(d, 'lengths', [B], Uint32Array.from(lengths)), B, T, C, NH);
    enc.submit();
    const ref = attentionBackwardRef(dout, qkv, att, lengths, B, T, C, NH);
    expectClose(await readF32(d, vDqkv), ref.dqkv, { rtol: 1e-3, atol: 1e-5, what: `dqkv seed=${seed}` });
  });

  it('rejects views that are too small and C not divisible by NH', () => {
    const d = gpu.device;
    const enc = new StepEncoder(gpu);
    const v = (n: number) => createView(d, `v${n}`, [n]);
    expect(() => attentionForward(enc, v(4 * 8), v(4 * 4), v(4 * 24), v(1), 1, 4, 8, 2)).toThrow(/holds \d+ elements, needs 32$/);
    expect(() => attentionForward(enc, v(24), v(16), v(72), v(1), 1, 4, 6, 4)).toThrow(/C=6 is not a multiple of NH=4/);
    expect(() => attentionBackward(enc, v(96), v(32), v(31), v(96), v(32), v(1), 1, 4, 8, 2)).toThrow(/holds \d+ elements, needs 32$/);
  });
});
