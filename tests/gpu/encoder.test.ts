// Tier 2: shaders/encoder.wgsl on real WebGPU (Dawn) against the float64 reference, with
// repeated token ids, C not a multiple of 64, P > T, and more distinct ids than the capped
// dispatch (STRIDED_MAX_GROUPS). dwte and dwpe accumulate onto pre-filled random values; rows of
// unused ids and positions ≥ T must be left as they were.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { encoderForward, encoderBackward, prepareEncoderBackward } from '../../src/kernels/encoder';
import { STRIDED_MAX_GROUPS } from '../../src/kernels/grid';
import { encoderForwardRef, encoderBackwardRef } from '../../src/reference/encoder';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

// B, T, C, V, P
const SHAPES: Array<[number, number, number, number, number]> = [
  [1, 1, 1, 1, 1],
  [2, 5, 7, 11, 8],
  [3, 33, 65, 50, 40],
  [1, 9, 130, 4, 9],
];

function randomTokens(rng: Rng, n: number, V: number): number[] {
  return Array.from({ length: n }, () => rng.int(V));
}

async function backward(B: number, T: number, C: number, V: number, P: number, tokens: number[], rng: Rng, seed: number): Promise<void> {
  const dout = rng.floats(B * T * C), dwte0 = rng.floats(V * C), dwpe0 = rng.floats(P * C);
  const d = gpu.device;
  const vDwte = createView(d, 'dwte', [V, C], dwte0);
  const vDwpe = createView(d, 'dwpe', [P, C], dwpe0);
  const buckets = prepareEncoderBackward(gpu, tokens, B, T, V);
  const enc = new StepEncoder(gpu);
  encoderBackward(enc, vDwte, vDwpe, createView(d, 'dout', [B, T, C], dout), buckets, B, T, C);
  enc.submit();
  const ref = encoderBackwardRef(dout, tokens, B, T, C, V, P);
  expectClose(await readF32(d, vDwte), ref.dwte.map((g, i) => g + dwte0[i]), { rtol: 1e-3, atol: 1e-5, what: `dwte seed=${seed}` });
  expectClose(await readF32(d, vDwpe), ref.dwpe.map((g, i) => g + dwpe0[i]), { rtol: 1e-3, atol: 1e-5, what: `dwpe seed=${seed}` });
  buckets.destroy();
}

describe('encoder kernels on WebGPU', () => {
  it.each(SHAPES)('forward B=%i T=%i C=%i V=%i P=%i matches float64', async (B, T, C, V, P) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const tokens = randomTokens(rng, B * T, V);
    const wte = rng.floats(V * C), wpe = rng.floats(P * C);
    const d = gpu.device;
    const vOut = createView(d, 'out', [B, T, C], rng.floats(B * T * C));
    const enc = new StepEncoder(gpu);
    encoderForward(enc, vOut, createView(d, 'inp', [B, T], Uint32Array.from(tokens)), createView(d, 'wte', [V, C], wte), createView(d, 'wpe', [P, C], wpe), B, T, C);
    enc.submit();
    expectClose(await readF32(d, vOut), encoderForwardRef(tokens, wte, wpe, B, T, C), { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
  });

  it('forward writes NaN for a token id ≥ V and leaves other rows correct', async () => {
    const B = 1, T = 3, C = 4, V = 5;
    const wte = new Rng(1).floats(V * C), wpe = new Rng(2).floats(T * C);
    const d = gpu.device;
    const vOut = createView(d, 'out', [B, T, C]);
    const enc = new StepEncoder(gpu);
    encoderForward(enc, vOut, createView(d, 'inp', [B, T], Uint32Array.from([2, 5, 0])), createView(d, 'wte', [V, C], wte), createView(d, 'wpe', [T, C], wpe), B, T, C);
    enc.submit();
    const out = await readF32(d, vOut);
    expect(Array.from(out.subarray(4, 8)).every(Number.isNaN)).toBe(true);
    const ref = encoderForwardRef([2, 0, 0], wte, wpe, B, T, C);
    expectClose([...out.subarray(0, 4), ...out.subarray(8)], [...ref.subarray(0, 4), ...ref.subarray(8)], { what: 'valid rows' });
  });

  it.each(SHAPES)('backward B=%i T=%i C=%i V=%i P=%i matches float64 and accumulates', async (B, T, C, V, P) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    await backward(B, T, C, V, P, randomTokens(rng, B * T, V), rng, seed);
  });

  it('backward strides over more distinct ids than the capped dispatch', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const B = 2, T = STRIDED_MAX_GROUPS / 2 + 40, C = 3, V = 9000;
    const tokens = rng.shuffle(Array.from({ length: V }, (_, i) => i)).slice(0, B * T);
    await backward(B, T, C, V, T, tokens, rng, seed);
  });

  it('backward is bitwise deterministic across runs', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const B = 4, T = 16, C = 70, V = 3;
    const tokens = randomTokens(rng, B * T, V);
    const dout = rng.floats(B * T * C), dwte0 = rng.floats(V * C);
    const d = gpu.device;
    const vDout = createView(d, 'dout', [B, T, C], dout);
    const buckets = prepareEncoderBackward(gpu, tokens, B, T, V);
    const results: Float32Array[] = [];
    for (let r = 0; r < 2; r++) {
      const vDwte = createView(d, 'dwte', [V, C], dwte0);
      const enc = new StepEncoder(gpu);
      encoderBackward(enc, vDwte, createView(d, 'dwpe', [T, C]), vDout, buckets, B, T, C);
      enc.submit();
      results.push(await readF32(d, vDwte));
    }
    buckets.destroy();
    const ref = encoderBackwardRef(dout, tokens, B, T, C, V, T);
    expectClose(results[0], ref.dwte.map((g, i) => g + dwte0[i]), { rtol: 1e-3, atol: 1e-5, what: `dwte seed=${seed}` });
    expect(Array.from(results[0]), `seed=${seed}`).toEqual(Array.from(results[1]));
  });

  it('backward refuses buckets built for another batch shape', () => {
    const d = gpu.device;
    const buckets = prepareEncoderBackward(gpu, [0, 1, 0, 1], 2, 2, 2);
    const enc = new StepEncoder(gpu);
    expect(() => encoderBackward(enc, createView(d, 'dwte', [2, 4]), createView(d, 'dwpe', [4, 4]), createView(d, 'dout', [1, 4, 4]), buckets, 1, 4, 4)).toThrow(/built for B=2 T=2/);
    buckets.destroy();
  });
});
