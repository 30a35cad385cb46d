// Tier 2: shaders/logprob.wgsl (chunked LM head) on real WebGPU against the float64 reference:
// V not a multiple of the chunk, V smaller than one chunk, N not a multiple of the 64-row
// matmul tile, one IGNORE row, dhidden pre-filled with garbage (it is written) and dwte
// pre-filled with random values (it accumulates); entropy and argmax = target, with ties
// inside one chunk and across chunks.
import { describe, it, expect, beforeAll, onTestFinished } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { logprobForward, logprobBackward, sequenceSums, lmHeadScratchSize } from '../../src/kernels/logprob';
import { logprobForwardRef, logprobBackwardRef, sequenceSumsRef, IGNORE } from '../../src/reference/logprob';
import { Rng } from '../../src/util/rng';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

// [N, C, V, chunk]
const SHAPES: Array<[number, number, number, number]> = [
  [70, 40, 257, 64],
  [70, 40, 257, 128],
  [5, 24, 50, 64], // V < chunk: a single partial chunk
  [1, 17, 129, 64],
];
/** Each shape with both adapter classes' forms (CPU: an invocation per row; GPU: a workgroup per row, a 2D backward grid). */
const CASES = (['cpu', 'gpu'] as const).flatMap((cls) => SHAPES.map(([N, C, V, chunk]) => [cls, N, C, V, chunk] as [AdapterClass, number, number, number, number]));

function setup(N: number, C: number, V: number, seed: number) {
  const rng = new Rng(seed);
  const hidden = rng.floats(N * C), wte = rng.floats(V * C);
  const targets = Uint32Array.from({ length: N }, () => rng.int(V));
  targets[0] = V - 1; // the last vocabulary id lives in the final, partial chunk
  if (N > 2) targets[2] = IGNORE;
  return { rng, hidden, wte, targets };
}

/** float64 logits of row r: the top two values and the first argmax. */
function top2(hidden: ArrayLike<number>, wte: ArrayLike<number>, r: number, C: number, V: number): { arg: number; gap: number } {
  let [a, b, arg] = [-Infinity, -Infinity, 0];
  for (let v = 0; v < V; v++) {
    let z = 0;
    for (let c = 0; c < C; c++) z += hidden[r * C + c] * wte[v * C + c];
    if (z > a) [a, b, arg] = [z, a, v];
    else if (z > b) b = z;
  }
  return { arg, gap: a - b };
}

function views(N: number) {
  const d = gpu.device;
  return { logp: createView(d, 'logp', [N]), lse: createView(d, 'lse', [N]), mean: createView(d, 'mean', [N]), entropy: createView(d, 'entropy', [N]), correct: createView(d, 'correct', [N]) };
}

describe('logprob kernels on WebGPU', () => {
  it.each(CASES)('%s forms: forward N=%i C=%i V=%i chunk=%i matches float64', async (cls, N, C, V, chunk) => {
    forceAdapterClass(cls);
    onTestFinished(() => forceAdapterClass(null));
    const seed = freshSeed();
    const { rng, hidden, wte, targets } = setup(N, C, V, seed);
    const d = gpu.device;
    // every third row predicts its own argmax, so `correct` sees both outcomes
    const tops = Array.from({ length: N }, (_, r) => top2(hidden, wte, r, C, V));
    for (let r = 1; r < N; r += 3) targets[r] = tops[r].arg;
    const vLogp = createView(d, 'logp', [N], rng.floats(N)), vLse = createView(d, 'lse', [N]), vMean = createView(d, 'mean', [N]);
    const vEnt = createView(d, 'entropy', [N], rng.floats(N)), vCorrect = createView(d, 'correct', [N], rng.floats(N));
    const enc = new StepEncoder(gpu);
    logprobForward(enc, vLogp, vLse, vMean, vEnt, vCorrect, createView(d, 'hidden', [N, C], hidden), createView(d, 'wte', [V, C], wte), createView(d, 'targets', [N], targets), createView(d, 'scratch', [lmHeadScratchSize(N, chunk)]), N, C, V, chunk);
    enc.submit();
    const ref = logprobForwardRef(hidden, wte, targets, N, C, V);
    const logp = await readF32(d, vLogp);
    expectClose(logp, ref.logp, { rtol: 1e-4, atol: 1e-5, what: `logp seed=${seed}` });
    expectClose(await readF32(d, vLse), ref.lse, { rtol: 1e-4, atol: 1e-5, what: `lse seed=${seed}` });
    expectClose(await readF32(d, vMean), ref.meanLogit, { rtol: 1e-4, atol: 1e-5, what: `meanLogit seed=${seed}` });
    expectClose(await readF32(d, vEnt), ref.entropy, { rtol: 1e-4, atol: 1e-5, what: `entropy seed=${seed}` });
    // f32 logits may order a near-tie differently from float64: compare rows with a clear maximum
    const correct = await readF32(d, vCorrect);
    const clear = tops.map((t) => t.gap > 1e-3);
    expect(Array.from(correct).filter((_, r) => clear[r]), `correct seed=${seed}`).toEqual(Array.from(ref.correct).filter((_, r) => clear[r]));
    expect(correct.every((x) => x === 0 || x === 1)).toBe(true);
    if (N > 1) expect(correct).toContain(1);
    if (N > 2) expect([logp[2], correct[2]]).toEqual([0, 0]);
  });

  it.each<AdapterClass>(['cpu', 'gpu'])('argmax ties go to the first maximum, within a chunk and across chunks (torch.argmax; %s row width)', async (cls) => {
    forceAdapterClass(cls);
    // C=2, V=200, chunk 64; wte rows in ±0.1 except v=10, 20 = (3, 0) and v=70, 150 = (0, 5).
    // Rows 0–1, hidden (1, 0): logits 3 tie at 10 and 20 inside chunk 0. Rows 2–3, hidden (1, 1):
    // logits 5 tie at 70 and 150, across chunks 1 and 2.
    const [N, C, V, chunk] = [4, 2, 200, 64];
    const rng = new Rng(freshSeed());
    const wte = Float32Array.from({ length: V * C }, () => rng.uniform(-0.1, 0.1));
    wte.set([3, 0], 10 * C);
    wte.set([3, 0], 20 * C);
    wte.set([0, 5], 70 * C);
    wte.set([0, 5], 150 * C);
    const hidden = Float32Array.from([1, 0, 1, 0, 1, 1, 1, 1]);
    const targets = Uint32Array.from([10, 20, 70, 150]);
    const d = gpu.device;
    const v = views(N);
    const enc = new StepEncoder(gpu);
    logprobForward(enc, v.logp, v.lse, v.mean, v.entropy, v.correct, createView(d, 'hidden', [N, C], hidden), createView(d, 'wte', [V, C], wte), createView(d, 'targets', [N], targets), createView(d, 'scratch', [lmHeadScratchSize(N, chunk)]), N, C, V, chunk);
    enc.submit();
    const ref = logprobForwardRef(hidden, wte, targets, N, C, V);
    expect(Array.from(ref.correct)).toEqual([1, 0, 1, 0]);
    expect(Array.from(await readF32(d, v.correct))).toEqual([1, 0, 1, 0]);
    expectClose(await readF32(d, v.entropy), ref.entropy, { rtol: 1e-4, atol: 1e-5, what: 'entropy (ties)' });
    forceAdapterClass(null);
  });

  it.each(CASES)('%s forms: backward N=%i C=%i V=%i chunk=%i matches float64, writes dhidden, accumulates dwte', async (cls, N, C, V, chunk) => {
    forceAdapterClass(cls);
    onTestFinished(() => forceAdapterClass(null));
    const seed = freshSeed();
    const { rng, hidden, wte, targets } = setup(N, C, V, seed);
    const coef = rng.floats(N);
    if (N > 3) coef[3] = 0; // a row that does not matter
    const dwte0 = rng.floats(V * C);
    const d = gpu.device;
    const vHidden = createView(d, 'hidden', [N, C], hidden), vWte = createView(d, 'wte', [V, C], wte), vTargets = createView(d, 'targets', [N], targets);
    const vScratch = createView(d, 'scratch', [lmHeadScratchSize(N, chunk)]);
    const vLse = createView(d, 'lse', [N]);
    const vDhidden = createView(d, 'dhidden', [N, C], rng.floats(N * C)); // garbage: written, not accumulated
    const vDwte = createView(d, 'dwte', [V, C], dwte0);
    const enc = new StepEncoder(gpu);
    const v = views(N);
    logprobForward(enc, v.logp, vLse, v.mean, v.entropy, v.correct, vHidden, vWte, vTargets, vScratch, N, C, V, chunk);
    logprobBackward(enc, vDhidden, vDwte, createView(d, 'coef', [N], coef), vHidden, vWte, vTargets, vLse, vScratch, N, C, V, chunk);
    enc.submit();
    const ref = logprobBackwardRef(coef, hidden, wte, targets, N, C, V);
    expectClose(await readF32(d, vDhidden), ref.dhidden, { rtol: 1e-3, atol: 1e-5, what: `dhidden seed=${seed}` });
    expectClose(await readF32(d, vDwte), ref.dwte.map((g, i) => g + dwte0[i]), { rtol: 1e-3, atol: 1e-5, what: `dwte seed=${seed}` });
  });

  it('places the tied-head gradient in the right rows of a larger wte arena', async () => {
    // wte is a sub-view at a 256-byte-aligned offset inside a bigger buffer; the elements around it stay untouched.
    const seed = freshSeed();
    const [N, C, V, chunk] = [9, 8, 70, 64];
    const { hidden, wte, targets } = setup(N, C, V, seed);
    const coef = new Rng(seed + 1).floats(N);
    const pad = 64, total = pad + V * C + pad;
    const d = gpu.device;
    const arena = createView(d, 'arena', [total], new Float32Array(total).fill(7));
    const dwte = { ...arena, offset: pad * 4, size: V * C * 4, length: V * C, name: 'arena.dwte', shape: [V, C] };
    const enc = new StepEncoder(gpu);
    enc.clear(dwte);
    const vHidden = createView(d, 'hidden', [N, C], hidden), vWte = createView(d, 'wte', [V, C], wte), vTargets = createView(d, 'targets', [N], targets);
    const vScratch = createView(d, 'scratch', [lmHeadScratchSize(N, chunk)]), vLse = createView(d, 'lse', [N]);
    const v = views(N);
    logprobForward(enc, v.logp, vLse, v.mean, v.entropy, v.correct, vHidden, vWte, vTargets, vScratch, N, C, V, chunk);
    logprobBackward(enc, createView(d, 'dhidden', [N, C]), dwte, createView(d, 'coef', [N], coef), vHidden, vWte, vTargets, vLse, vScratch, N, C, V, chunk);
    enc.submit();
    const all = await readF32(d, arena);
    expect(Array.from(all.slice(0, pad))).toEqual(new Array(pad).fill(7));
    expect(Array.from(all.slice(pad + V * C))).toEqual(new Array(pad).fill(7));
    expectClose(all.slice(pad, pad + V * C), logprobBackwardRef(coef, hidden, wte, targets, N, C, V).dwte, { rtol: 1e-3, atol: 1e-5, what: `dwte seed=${seed}` });
  });

  it('rejects a chunk that would misalign wte sub-views', () => {
    const d = gpu.device;
    const v = createView(d, 'v', [4096]);
    expect(() => logprobForward(new StepEncoder(gpu), v, v, v, v, v, v, v, v, v, 2, 4, 10, 96 + 1)).toThrow(/chunk 97 must be a positive multiple of 64/);
    expect(() => logprobForward(new StepEncoder(gpu), v, v, v, v, v, v, v, v, createView(d, 's', [10]), 2, 4, 10, 64)).toThrow(/s holds 10 elements, needs/);
  });

  it.each([
    [3, 1030],
    [2, 1],
    [1, 300],
  ])('sequenceSums B=%i T=%i matches float64', async (B, T) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const values = rng.floats(B * T, -8, 0);
    const weights = Float32Array.from({ length: B * T }, () => (rng.next() < 0.7 ? 1 : 0));
    const d = gpu.device;
    const vOut = createView(d, 'out', [B], rng.floats(B));
    const enc = new StepEncoder(gpu);
    sequenceSums(enc, vOut, createView(d, 'values', [B, T], values), createView(d, 'weights', [B, T], weights), B, T);
    enc.submit();
    expectClose(await readF32(d, vOut), sequenceSumsRef(values, weights, B, T), { rtol: 1e-4, atol: 1e-5, what: `sums seed=${seed}` });
  });
});
