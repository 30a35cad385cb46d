// Tier 2: shaders/matmul.wgsl on real WebGPU (Dawn) against the float64 reference, at
// shapes that are not multiples of the 64×64 tile, and 1×N / N×1, with fresh random inputs,
// for every kernel shape (tiled, register-blocked with its vec4 forms, and the subgroup-shared
// forms of shaders/matmul_subgroup.wgsl, which fall back to register-blocked when unaligned).
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
  [68, 52, 20], // R % 4 = 0: all three subgroup forms (nn, nt, tn), rows not a multiple of 32
  [100, 44, 52], // subgroup forms with rows and columns past the 32×16 workgroup tile
  [52, 37, 20], // IC odd: forward and dweight fall back, dinp takes the subgroup nt form with N % 4 ≠ 0
  [8, 36, 20], // 8 rows: the subgroup plan falls back (a 32-row strip would be 4× the work)
];

// Every kernel shape runs on any adapter; each adapter gets one by default (matmulPlanFor).
const PLANS: MatmulPlan[] = ['tiled', 'blocked', 'subgroup'];
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

  it('the subgroup plan dispatches the subgroup forms (nn, nt4 / nt, tn) where aligned', () => {
    expect(gpu.features.has('subgroups')).toBe(true);
    const d = gpu.device;
    const [R, IC, OC] = [68, 52, 20];
    const enc = new StepEncoder(gpu);
    const used: string[] = [];
    const dispatch = enc.dispatch.bind(enc);
    enc.dispatch = (spec, ...rest) => {
      used.push(`${spec.shader}:${spec.entryPoint}`);
      dispatch(spec, ...rest);
    };
    const v = (n: string, shape: number[]) => createView(d, n, shape);
    matmulForward(enc, v('o', [R, OC]), v('i', [R, IC]), v('w', [IC, OC]), v('b', [OC]), R, IC, OC, 'subgroup');
    matmulBackward(enc, v('di', [R, IC]), v('dw', [IC, OC]), null, v('do', [R, OC]), v('i2', [R, IC]), v('w2', [IC, OC]), R, IC, OC, 'subgroup');
    matmulForward(enc, v('o3', [R, 37]), v('i3', [R, 37 + 3]), v('w3', [37 + 3, 37]), null, R, 37 + 3, 37, 'subgroup');
    matmulForward(enc, v('o4', [8, OC]), v('i4', [8, IC]), v('w4', [IC, OC]), null, 8, IC, OC, 'subgroup'); // 8 rows: 4× waste
    matmulBackward(enc, v('di5', [R, 37]), null, null, v('do5', [R, OC]), v('i5', [R, 37]), v('w5', [37, OC]), R, 37, OC, 'subgroup'); // dinp with N = 37: scalar stores
    enc.submit();
    expect(used).toEqual(['matmul_subgroup:matmul_sg_nn', 'matmul_subgroup:matmul_sg_nt4', 'matmul_subgroup:matmul_sg_tn', 'matmul:matmul_blocked', 'matmul:matmul_blocked_nn4', 'matmul_subgroup:matmul_sg_nt']);
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
