// Tier 2: shaders/matmul.wgsl on real WebGPU (Dawn) against the float64 reference, at
// shapes that are not multiples of the 64×64 tile, and 1×N / N×1, with fresh random inputs,
// for both kernel shapes (tiled and register-blocked, with its vec4 forms).
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { matmulForward, matmulBackward, type MatmulPlan } from '../../src/kernels/matmul';
import { matmulForwardRef, matmulBackwardRef } from '../../src/reference/matmul';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [1, 37, 129], // 1×N
  [130, 33, 1], // N×1
  [65, 17, 63],
  [7, 96, 200],
  [128, 64, 64],
  [70, 36, 20], // channels multiples of 4, rows not: the vec4 register-blocked kernels
  [9, 12, 132],
];

// Both kernel shapes run on any adapter; each adapter gets one by default (matmulPlanFor).
const PLANS: MatmulPlan[] = ['tiled', 'blocked'];
const CASES = PLANS.flatMap((plan) => SHAPES.map(([R, IC, OC]) => [plan, R, IC, OC] as const));

describe('matmul kernels on WebGPU', () => {
  it('found a real adapter', () => {
    expect(gpu.adapter.vendor + gpu.adapter.architecture + gpu.adapter.description).not.toBe('');
  });

  it.each(CASES)('%s forward R=%i IC=%i OC=%i matches float64', async (plan, R, IC, OC) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const inp = rng.floats(R * IC), w = rng.floats(IC * OC), b = rng.floats(OC);
    const d = gpu.device;
    const vOut = createView(d, 'out', [R, OC]);
    const enc = new StepEncoder(gpu);
    matmulForward(enc, vOut, createView(d, 'inp', [R, IC], inp), createView(d, 'w', [IC, OC], w), createView(d, 'b', [OC], b), R, IC, OC, plan);
    enc.submit();
    expectClose(await readF32(d, vOut), matmulForwardRef(inp, w, b, R, IC, OC), { rtol: 1e-4, atol: 1e-5, what: `out seed=${seed}` });
  });

  it.each(CASES)('%s backward R=%i IC=%i OC=%i matches float64 and accumulates parameter grads', async (plan, R, IC, OC) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const inp = rng.floats(R * IC), w = rng.floats(IC * OC), dout = rng.floats(R * OC);
    const dw0 = rng.floats(IC * OC), db0 = rng.floats(OC);
    const d = gpu.device;
    const vDinp = createView(d, 'dinp', [R, IC], rng.floats(R * IC)); // garbage: dinp is written, not accumulated
    const vDw = createView(d, 'dw', [IC, OC], dw0);
    const vDb = createView(d, 'db', [OC], db0);
    const enc = new StepEncoder(gpu);
    matmulBackward(enc, vDinp, vDw, vDb, createView(d, 'dout', [R, OC], dout), createView(d, 'inp', [R, IC], inp), createView(d, 'w', [IC, OC], w), R, IC, OC, plan);
    enc.submit();
    const ref = matmulBackwardRef(dout, inp, w, R, IC, OC);
    expectClose(await readF32(d, vDinp), ref.dinp, { rtol: 1e-4, atol: 1e-5, what: `dinp seed=${seed}` });
    expectClose(await readF32(d, vDw), ref.dweight.map((g, i) => g + dw0[i]), { rtol: 1e-4, atol: 1e-5, what: `dweight seed=${seed}` });
    expectClose(await readF32(d, vDb), ref.dbias.map((g, i) => g + db0[i]), { rtol: 1e-4, atol: 1e-5, what: `dbias seed=${seed}` });
  });

  it('reuses cached pipelines and uniforms across calls', async () => {
    const before = gpu.pipelines.size;
    const d = gpu.device;
    const enc = new StepEncoder(gpu);
    const a = createView(d, 'a', [65, 17], new Float32Array(65 * 17));
    const w = createView(d, 'w', [17, 63], new Float32Array(17 * 63));
    matmulForward(enc, createView(d, 'o', [65, 63]), a, w, null, 65, 17, 63, 'tiled');
    enc.submit();
    await d.queue.onSubmittedWorkDone();
    expect(gpu.pipelines.size - before).toBeLessThanOrEqual(1); // only the no-bias variant may be new
  });
});
