// Tier 2 for shaders/matmul_packed.wgsl: products whose weight is stored as bf16 or f16 (two per
// u32 word) against the float64 reference on the rounded weights, in both layouts (Conv1D's
// matmulForward/matmulBackward dinp, nn.Linear's linearForward/linearBackward dinp), at shapes
// that take the any-shape kernel and the vec4 forms.
import { describe, it, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { linearBackward, linearForward, matmulBackward, matmulForward } from '../../src/kernels/matmul';
import { packedWords, type PackedWeight } from '../../src/kernels/matmul-packed';
import { packBf16, unpackBf16 } from '../../src/kernels/optimizer';
import { packF16, unpackF16 } from '../../src/reference/f16';
import { matmulBackwardRef, matmulForwardRef } from '../../src/reference/matmul';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [9, 13, 7], // odd everything: the any-shape kernel, an odd number of values
  [70, 36, 20], // K, N % 4 = 0: the vec4 forms
  [37, 20, 33], // Conv1D forward vec4 needs N % 4: falls back; Linear NT takes the vec4 form
];

function pack(w: Float32Array, dtype: 'bf16' | 'f16'): { words: Uint32Array; rounded: Float64Array } {
  if (dtype === 'bf16') {
    const words = packBf16(w);
    return { words, rounded: Float64Array.from(unpackBf16(words, w.length)) };
  }
  const words = packF16(w);
  return { words, rounded: unpackF16(words, w.length) };
}

const CASES = (['bf16', 'f16'] as const).flatMap((dt) => SHAPES.map((s) => [dt, ...s] as const));

describe('matmul with a packed 16-bit weight', () => {
  it.each(CASES)('%s R=%i IC=%i OC=%i: Conv1D and Linear forward and dinp match float64 on the rounded weight', async (dtype, R, IC, OC) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const d = gpu.device;
    const inp = rng.floats(R * IC), b = rng.floats(OC), dout = rng.floats(R * OC);
    // IC·OC values: Conv1D reads them as (IC,OC), nn.Linear as (OC,IC)
    const w = rng.floats(IC * OC);
    const { words, rounded } = pack(w, dtype);
    const weight: PackedWeight = { words: createView(d, 'w16', [packedWords(w.length)], words), dtype, length: w.length, name: 'w16' };
    const vInp = createView(d, 'inp', [R, IC], inp), vB = createView(d, 'b', [OC], b), vDout = createView(d, 'dout', [R, OC], dout);
    const out1 = createView(d, 'out1', [R, OC]), out2 = createView(d, 'out2', [R, OC], rng.floats(R * OC));
    const dinp1 = createView(d, 'dinp1', [R, IC], rng.floats(R * IC)), dinp2 = createView(d, 'dinp2', [R, IC], rng.floats(R * IC));
    const enc = new StepEncoder(gpu);
    matmulForward(enc, out1, vInp, weight, vB, R, IC, OC);
    matmulBackward(enc, dinp1, null, null, vDout, vInp, weight, R, IC, OC);
    linearForward(enc, out2, vInp, weight, vB, R, IC, OC);
    linearBackward(enc, dinp2, null, null, vDout, vInp, weight, R, IC, OC);
    enc.submit();
    const tol = { rtol: 1e-4, atol: 1e-5 };
    expectClose(await readF32(d, out1), matmulForwardRef(inp, rounded, b, R, IC, OC), { ...tol, what: `conv1d out seed=${seed}` });
    expectClose(await readF32(d, dinp1), matmulBackwardRef(dout, inp, rounded, R, IC, OC).dinp, { ...tol, what: `conv1d dinp seed=${seed}` });
    // Linear: out = inp · Wᵀ with W (OC,IC) stored row-major = `rounded` read as (OC,IC)
    const wantLin = new Float64Array(R * OC);
    const wantDinp = new Float64Array(R * IC);
    for (let r = 0; r < R; r++) for (let o = 0; o < OC; o++) {
      let acc = b[o];
      for (let i = 0; i < IC; i++) {
        acc += inp[r * IC + i] * rounded[o * IC + i];
        wantDinp[r * IC + i] += dout[r * OC + o] * rounded[o * IC + i];
      }
      wantLin[r * OC + o] = acc;
    }
    expectClose(await readF32(d, out2), wantLin, { ...tol, what: `linear out seed=${seed}` });
    expectClose(await readF32(d, dinp2), wantDinp, { ...tol, what: `linear dinp seed=${seed}` });
  });
});
