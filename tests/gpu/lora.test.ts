// Tier 2 for the LoRA launchers (src/kernels/lora.ts, shaders/lora.wgsl): one projection with an
// adapter (B ≠ 0) on WebGPU against the float64 reference (src/reference/lora.ts), for a
// projection with its own output and for one that is a column slice of a stacked output (the
// Llama family's q|k|v), in both kernel forms; parameter gradients start from random values,
// so a write where an add belongs fails.
import { describe, it, beforeAll, afterEach } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { linearBackward, linearForward } from '../../src/kernels/matmul';
import { loraBackward, loraForward } from '../../src/kernels/lora';
import { loraBackwardRef, loraForwardRef } from '../../src/reference/lora';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});
afterEach(() => forceAdapterClass(null));

// R, IC, OC, r, stacked (col0, ld) or null
const SHAPES: Array<[number, number, number, number, [number, number] | null]> = [
  [7, 12, 20, 4, null],
  [65, 36, 44, 8, null], // rows past the 32-row tiles
  [33, 20, 9, 3, [5, 31]], // a slice in the middle of a stacked row
  [68, 24, 16, 8, [16, 48]], // the last third of a q|k|v row
];
const CASES = (['cpu', 'gpu'] as AdapterClass[]).flatMap((cls) => SHAPES.map((s) => [cls, ...s] as const));

describe('LoRA kernels vs float64', () => {
  it.each(CASES)('%s forms, R=%i IC=%i OC=%i r=%i, stacked %j', async (cls, R, IC, OC, r, stacked) => {
    forceAdapterClass(cls);
    const seed = freshSeed();
    const rng = new Rng(seed);
    const d = gpu.device;
    const s = 16 / r;
    const ld = stacked ? stacked[1] : OC;
    const col0 = stacked ? stacked[0] : 0;
    const cols = stacked ? { col0, ld } : undefined;
    const x = rng.floats(R * IC), A = rng.floats(r * IC), B = rng.floats(OC * r), b = rng.floats(OC);
    // a stacked output: the base product of the other projections is stand-in random values
    const W = stacked ? new Float32Array(OC * IC) : rng.floats(OC * IC);
    const y0 = rng.floats(R * ld);
    const vx = createView(d, 'x', [R, IC], x), vA = createView(d, 'A', [r, IC], A), vB = createView(d, 'B', [OC, r], B);
    const vy = createView(d, 'y', [R, ld], y0), vu = createView(d, 'u', [R, r]);
    const delta = stacked ? createView(d, 'delta', [R, OC]) : null;
    let enc = new StepEncoder(gpu);
    if (!stacked) linearForward(enc, vy, vx, createView(d, 'W', [OC, IC], W), createView(d, 'b', [OC], b), R, IC, OC);
    loraForward(enc, vy, vu, delta, vx, vA, vB, R, IC, OC, r, s, cols);
    enc.submit();
    const ref = loraForwardRef(x, W, stacked ? null : b, A, B, s, R, IC, OC, r);
    const wantY = Float64Array.from(y0);
    for (let i = 0; i < R; i++) for (let o = 0; o < OC; o++) wantY[i * ld + col0 + o] = (stacked ? y0[i * ld + col0 + o] : 0) + ref.y[i * OC + o];
    expectClose(await readF32(d, vy), wantY, { rtol: 1e-4, atol: 1e-5, what: `y seed=${seed}` });
    expectClose(await readF32(d, vu), ref.u, { rtol: 1e-4, atol: 1e-5, what: `u seed=${seed}` });

    // backward: dx from the base (written), then the adapter adds; dA, dB accumulate onto random values
    const dyFull = rng.floats(R * ld);
    const dy = new Float32Array(R * OC);
    for (let i = 0; i < R; i++) for (let o = 0; o < OC; o++) dy[i * OC + o] = dyFull[i * ld + col0 + o];
    const dx0 = rng.floats(R * IC), dA0 = rng.floats(r * IC), dB0 = rng.floats(OC * r);
    const vdx = createView(d, 'dx', [R, IC], dx0), vdA = createView(d, 'dA', [r, IC], dA0), vdB = createView(d, 'dB', [OC, r], dB0);
    const vdy = createView(d, 'dy', [R, ld], dyFull), vdu = createView(d, 'du', [R, r]);
    enc = new StepEncoder(gpu);
    if (!stacked) linearBackward(enc, vdx, null, null, vdy, vx, createView(d, 'W2', [OC, IC], W), R, IC, OC);
    loraBackward(enc, vdx, vdA, vdB, vdu, delta, vdy, vx, vu, vA, vB, R, IC, OC, r, s, cols);
    enc.submit();
    const g = loraBackwardRef(dy, x, W, A, B, s, R, IC, OC, r);
    expectClose(await readF32(d, vdx), g.dx.map((v, i) => v + (stacked ? dx0[i] : 0)), { rtol: 1e-3, atol: 1e-4, what: `dx seed=${seed}` });
    expectClose(await readF32(d, vdA), g.dA.map((v, i) => v + dA0[i]), { rtol: 1e-3, atol: 1e-4, what: `dA seed=${seed}` });
    expectClose(await readF32(d, vdB), g.dB.map((v, i) => v + dB0[i]), { rtol: 1e-3, atol: 1e-4, what: `dB seed=${seed}` });
  });
});
