// Tier 2: shaders/optimizer.wgsl on real WebGPU against the float64 reference: the gradient
// norm (deterministic two-stage reduction), several AdamW and SGD steps with clipping on and
// off, on sub-ranges of larger buffers (the elements around them stay untouched), n not a
// multiple of the workgroup, and n past one grid-stride pass.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView, type View } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { adamwStep, sgdStep, gradNormSquared, gradNormPartialsSize, writeOptimizerHp, OPTIMIZER_HP_SIZE } from '../../src/kernels/optimizer';
import { adamwStepRef, sgdStepRef, gradNormSquaredRef, type OptimizerHp } from '../../src/reference/optimizer';
import { Rng } from '../../src/util/rng';
import { STRIDED_MAX_GROUPS, VEC4_WG } from '../../src/kernels/grid';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const PAD = 64; // elements (256 bytes) of sentinel on each side of a sub-range
const SENTINEL = 12345;

/** n elements at a 256-byte offset inside a buffer padded with SENTINEL on both sides. */
function padded(name: string, data: Float32Array): { view: View; base: View } {
  const n = data.length;
  const all = new Float32Array(PAD + n + PAD).fill(SENTINEL);
  all.set(data, PAD);
  const base = createView(gpu.device, `${name}.arena`, [all.length], all);
  return { base, view: { ...base, offset: PAD * 4, size: n * 4, length: n, name, shape: [n] } };
}

async function readPadded(p: { view: View; base: View }): Promise<Float32Array> {
  const all = await readF32(gpu.device, p.base);
  const n = p.view.length;
  expect(Array.from(all.slice(0, PAD)), `${p.view.name} before the range`).toEqual(new Array(PAD).fill(SENTINEL));
  expect(Array.from(all.slice(PAD + n)), `${p.view.name} after the range`).toEqual(new Array(PAD).fill(SENTINEL));
  return all.slice(PAD, PAD + n);
}

function scratch(n: number) {
  const d = gpu.device;
  return { normSq: createView(d, 'normSq', [1]), partials: createView(d, 'partials', [gradNormPartialsSize(n)]), hp: createView(d, 'hp', [OPTIMIZER_HP_SIZE]) };
}

// Tolerances for k steps on parameters in [-1, 1]: the GPU rounds p to f32 a few times per
// step (≈ 4·2⁻²⁴ ≈ 2.4e-7 absolute each), and its f32 update differs from float64 by ~1e-6
// relative to lr. So the parameter change (p − p0) is compared with rtol 1e-4 and
// atol = k·(2.4e-7 + 1e-6·lr); m with atol 1e-7·max|g| for cancellation between steps.
function deltaTol(k: number, lr: number) {
  return { rtol: 1e-4, atol: k * (2.4e-7 + 1e-6 * lr) };
}

describe('optimizer kernels on WebGPU', () => {
  it.each([1, 1000, 263_000])('gradNormSquared n=%i matches float64 and is deterministic', async (n) => {
    const seed = freshSeed();
    const g = new Rng(seed).floats(n);
    const d = gpu.device;
    const s = scratch(n);
    const grads = createView(d, 'grads', [n], g);
    const enc = new StepEncoder(gpu);
    gradNormSquared(enc, s.normSq, s.partials, grads, n);
    enc.submit();
    const first = (await readF32(d, s.normSq))[0];
    // f32 sums of positive terms through a short per-thread chain and a 256-way tree
    expectClose([first], [gradNormSquaredRef(g)], { rtol: 1e-5, atol: 0, what: `normSq seed=${seed}` });
    const enc2 = new StepEncoder(gpu);
    gradNormSquared(enc2, s.normSq, s.partials, grads, n);
    enc2.submit();
    expect((await readF32(d, s.normSq))[0]).toBe(first);
  });

  it.each([
    ['clipping off, weight decay', 0, 0.1],
    ['clipping on', 1.0, 0],
  ])('AdamW over 5 steps (%s) matches float64', async (_label, maxGradNorm, weightDecay) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 1000, steps = 5, lr = 1e-2;
    const p0 = rng.floats(n);
    const P = padded('params', p0), M = padded('m', new Float32Array(n)), Vv = padded('v', new Float32Array(n)), G = padded('grads', new Float32Array(n));
    const s = scratch(n);
    const rp = Float64Array.from(p0), rm = new Float64Array(n), rv = new Float64Array(n);
    let maxG = 0;
    for (let step = 1; step <= steps; step++) {
      const g = rng.floats(n);
      maxG = Math.max(maxG, ...g.map(Math.abs));
      gpu.device.queue.writeBuffer(G.view.buffer, G.view.offset, g.buffer, g.byteOffset, g.byteLength);
      const hp: OptimizerHp = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step, maxGradNorm };
      writeOptimizerHp(gpu.device, s.hp, hp);
      const enc = new StepEncoder(gpu);
      gradNormSquared(enc, s.normSq, s.partials, G.view, n);
      adamwStep(enc, P.view, M.view, Vv.view, G.view, s.normSq, s.hp, n);
      enc.submit();
      adamwStepRef(rp, rm, rv, g, gradNormSquaredRef(g), hp);
    }
    const p = await readPadded(P);
    expectClose(p.map((x, i) => x - p0[i]), rp.map((x, i) => x - p0[i]), { ...deltaTol(steps, lr), what: `params − p0 seed=${seed}` });
    expectClose(await readPadded(M), rm, { rtol: 1e-4, atol: 1e-7 * maxG, what: `m seed=${seed}` });
    expectClose(await readPadded(Vv), rv, { rtol: 1e-4, atol: 1e-12, what: `v seed=${seed}` });
    await readPadded(G);
  });

  it.each([
    ['clipping off', 0],
    ['clipping on', 1.0],
  ])('SGD over 3 steps (%s) matches float64', async (_label, maxGradNorm) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 777, steps = 3, lr = 0.05;
    const p0 = rng.floats(n);
    const P = padded('params', p0), G = padded('grads', new Float32Array(n));
    const s = scratch(n);
    const rp = Float64Array.from(p0);
    for (let step = 1; step <= steps; step++) {
      const g = rng.floats(n);
      gpu.device.queue.writeBuffer(G.view.buffer, G.view.offset, g.buffer, g.byteOffset, g.byteLength);
      const hp: OptimizerHp = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step, maxGradNorm };
      writeOptimizerHp(gpu.device, s.hp, hp);
      const enc = new StepEncoder(gpu);
      gradNormSquared(enc, s.normSq, s.partials, G.view, n);
      sgdStep(enc, P.view, G.view, s.normSq, s.hp, n);
      enc.submit();
      sgdStepRef(rp, g, gradNormSquaredRef(g), hp);
    }
    const p = await readPadded(P);
    expectClose(p.map((x, i) => x - p0[i]), rp.map((x, i) => x - p0[i]), { ...deltaTol(steps, lr), what: `params − p0 seed=${seed}` });
  });

  // n % 4 = 0 runs adamw_step4: 16 vec4s per invocation on CPU adapters, 1 on GPUs; n past
  // that form's capped grid, on a sub-range with sentinels around it
  it.each<[AdapterClass, number]>([
    ['cpu', 16],
    ['gpu', 1],
  ])('AdamW vec4 form (%s shapes) over 3 steps, n past its grid, matches float64', async (form, per) => {
    forceAdapterClass(form);
    try {
      const seed = freshSeed();
      const rng = new Rng(seed);
      const n = 4 * STRIDED_MAX_GROUPS * VEC4_WG * per + 36, steps = 3, lr = 1e-2;
      const p0 = rng.floats(n);
      const P = padded('params', p0), M = padded('m', new Float32Array(n)), Vv = padded('v', new Float32Array(n)), G = padded('grads', new Float32Array(n));
      const s = scratch(n);
      const rp = Float64Array.from(p0), rm = new Float64Array(n), rv = new Float64Array(n);
      for (let step = 1; step <= steps; step++) {
        const g = rng.floats(n);
        gpu.device.queue.writeBuffer(G.view.buffer, G.view.offset, g.buffer, g.byteOffset, g.byteLength);
        const hp: OptimizerHp = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1, step, maxGradNorm: 1.0 };
        writeOptimizerHp(gpu.device, s.hp, hp);
        const enc = new StepEncoder(gpu);
        gradNormSquared(enc, s.normSq, s.partials, G.view, n);
        adamwStep(enc, P.view, M.view, Vv.view, G.view, s.normSq, s.hp, n);
        enc.submit();
        adamwStepRef(rp, rm, rv, g, gradNormSquaredRef(g), hp);
      }
      const p = await readPadded(P);
      expectClose(p.map((x, i) => x - p0[i]), rp.map((x, i) => x - p0[i]), { ...deltaTol(steps, lr), what: `params − p0 seed=${seed}` });
      expectClose(await readPadded(M), rm, { rtol: 1e-4, atol: 1e-7, what: `m seed=${seed}` });
      expectClose(await readPadded(Vv), rv, { rtol: 1e-4, atol: 1e-12, what: `v seed=${seed}` });
    } finally {
      forceAdapterClass(null);
    }
  });

  it('covers n beyond one grid-stride pass (AdamW and SGD, clipping on)', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 4096 * 256 + 777;
    const d = gpu.device;
    const p0 = rng.floats(n), g = rng.floats(n);
    const pa = createView(d, 'pa', [n], p0), ps = createView(d, 'ps', [n], p0), m = createView(d, 'm', [n]), v = createView(d, 'v', [n]), grads = createView(d, 'g', [n], g);
    const s = scratch(n);
    const hp: OptimizerHp = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, maxGradNorm: 1 };
    writeOptimizerHp(d, s.hp, hp);
    const enc = new StepEncoder(gpu);
    gradNormSquared(enc, s.normSq, s.partials, grads, n);
    adamwStep(enc, pa, m, v, grads, s.normSq, s.hp, n);
    sgdStep(enc, ps, grads, s.normSq, s.hp, n);
    enc.submit();
    const normSq = gradNormSquaredRef(g);
    expectClose(await readF32(d, s.normSq), [normSq], { rtol: 1e-5, atol: 0, what: `normSq seed=${seed}` });
    const rpa = Float64Array.from(p0), rm = new Float64Array(n), rv = new Float64Array(n), rps = Float64Array.from(p0);
    adamwStepRef(rpa, rm, rv, g, normSq, hp);
    sgdStepRef(rps, g, normSq, hp);
    const gotA = await readF32(d, pa), gotS = await readF32(d, ps);
    expectClose(gotA.map((x, i) => x - p0[i]), rpa.map((x, i) => x - p0[i]), { ...deltaTol(1, hp.lr), what: `adamw params − p0 seed=${seed}` });
    expectClose(gotS.map((x, i) => x - p0[i]), rps.map((x, i) => x - p0[i]), { ...deltaTol(1, hp.lr), what: `sgd params − p0 seed=${seed}` });
  });

  it('takes a new learning rate every step without new uniform buffers', async () => {
    const n = 300;
    const d = gpu.device;
    const P = createView(d, 'p', [n], new Float32Array(n).fill(1)), G = createView(d, 'g', [n], new Float32Array(n).fill(1));
    const s = scratch(n);
    let want = 1;
    let poolAfterFirst = 0;
    for (let step = 1; step <= 4; step++) {
      const lr = 0.01 * step;
      writeOptimizerHp(d, s.hp, { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step, maxGradNorm: 0 });
      const enc = new StepEncoder(gpu);
      gradNormSquared(enc, s.normSq, s.partials, G, n);
      sgdStep(enc, P, G, s.normSq, s.hp, n);
      enc.submit();
      want -= lr;
      if (step === 1) poolAfterFirst = gpu.uniforms.size;
    }
    expectClose(await readF32(d, P), new Array(n).fill(want), { rtol: 1e-6, atol: 1e-7, what: 'params after 4 learning rates' });
    expect(gpu.uniforms.size).toBe(poolAfterFirst);
  });
});
