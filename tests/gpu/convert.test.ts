// Tier 2: shaders/convert.wgsl (f32 ↔ f16 packed in u32 words) on real WebGPU against the
// float64 reference src/reference/f16.ts, bit for bit: odd n (a half-filled last word), n past
// the capped grid, values across the whole f16 range: subnormals, ties, overflow to ±Inf, NaN.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32, readU32 } from '../../src/engine/readback';
import { packF16, unpackF16, f16Words } from '../../src/kernels/convert';
import { STRIDED_MAX_GROUPS, ELEMENTWISE_WG } from '../../src/kernels/grid';
import { f16Bits, f16Value, packF16 as packRef } from '../../src/reference/f16';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

/** Values over the f16 range and its edges, as f32 (what the kernel reads). */
function values(n: number, rng: Rng): Float32Array {
  const edges = [0, -0, 1, -1, 65504, -65504, 65519, 65520, -65520, 1e6, -1e30, Infinity, -Infinity, 2 ** -24, 2 ** -25, 3 * 2 ** -25, 2 ** -14, 2 ** -14 - 2 ** -24, 1e-8, -1e-6, 1 + 2 ** -11, 1 + 3 * 2 ** -11];
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (i < edges.length) x[i] = edges[i];
    else if (rng.uniform(0, 1) < 0.2) x[i] = f16Value(rng.int(0x7c00)) * (rng.int(2) ? 1 : -1) + (rng.int(2) ? 0 : f16Value(rng.int(0x7c00)) * 2 ** -11); // at or near a tie
    else x[i] = rng.normal() * 2 ** (rng.int(46) - 30); // 2⁻³⁰ … 2¹⁵ and beyond: subnormal to overflow
  }
  return x;
}

async function roundTrip(x: Float32Array): Promise<{ words: Uint32Array; back: Float32Array }> {
  const d = gpu.device;
  const n = x.length;
  const vx = createView(d, 'x', [n], x);
  const vw = createView(d, 'words', [f16Words(n)], new Uint32Array(f16Words(n)).fill(0xdeadbeef)); // garbage: written
  const vb = createView(d, 'back', [n + 1], new Float32Array(n + 1).fill(7)); // one more: must stay 7
  const enc = new StepEncoder(gpu);
  packF16(enc, vw, vx, n);
  unpackF16(enc, vb, vw, n);
  enc.submit();
  const out = { words: await readU32(d, vw), back: await readF32(d, vb) };
  for (const v of [vx, vw, vb]) v.buffer.destroy();
  return out;
}

describe('f16 pack/unpack kernels on WebGPU', () => {
  it.each([1, 2, 255, 513, 3001, 2 * STRIDED_MAX_GROUPS * ELEMENTWISE_WG + 77])('n=%i: words bit-exact vs the reference, unpack exact', async (n) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const x = values(n, rng);
    x[n - 1] = 1.5; // the last element of an odd n sits alone in the low half
    const { words, back } = await roundTrip(x);
    const want = packRef(x);
    for (let w = 0; w < want.length; w++) {
      if (words[w] !== want[w]) {
        const i = 2 * w;
        expect.fail(`word ${w} = 0x${words[w].toString(16)}, want 0x${want[w].toString(16)} (x[${i}] = ${x[i]}, x[${i + 1}] = ${x[i + 1]}) seed=${seed}`);
      }
    }
    for (let i = 0; i < n; i++) {
      const v = f16Value(f16Bits(x[i]));
      if (!(Object.is(back[i], v) || (Number.isNaN(v) && Number.isNaN(back[i])))) expect.fail(`back[${i}] = ${back[i]}, want ${v} (x = ${x[i]}) seed=${seed}`);
    }
    expect(back[n], 'unpack writes n values, not a whole last word').toBe(7);
  });

  it('NaN stays NaN', async () => {
    const { words, back } = await roundTrip(new Float32Array([NaN, 1]));
    expect((words[0] & 0x7c00) === 0x7c00 && (words[0] & 0x3ff) !== 0, `0x${words[0].toString(16)}`).toBe(true);
    expect(back[0]).toBeNaN();
    expect(back[1]).toBe(1);
  });

  it('refuses views too small for n', () => {
    const d = gpu.device;
    const enc = new StepEncoder(gpu);
    expect(() => packF16(enc, createView(d, 'w', [2]), createView(d, 'x', [5]), 5)).toThrow(/w holds 2 words, needs 3/);
    expect(() => unpackF16(enc, createView(d, 'o', [4]), createView(d, 'w2', [3]), 5)).toThrow(/o holds 4 elements, needs 5/);
    expect(() => packF16(enc, createView(d, 'w3', [2]), createView(d, 'x3', [4]), 0)).toThrow(/n = 0 must be a positive/);
  });
});
