// Tier 2: adamw_step_bf16 (AdamW with m, v stored as bf16, two per u32 word, rounded
// stochastically) on real WebGPU against the float64 reference with the same rounding bits,
// over several steps with clipping on and off, odd n (the last word has one used half, whose
// other half must survive), m and v starting below WebGPU's binding alignment inside padded
// buffers, an index base that wraps at 2³²; the rounding's edge cases and its mean; v decaying
// under zero gradients; then how far bf16 moments drift from f32 moments over 50 steps of a
// noisy quadratic.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView, type View } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32, readU32 } from '../../src/engine/readback';
import { adamwStep, adamwStepBf16, bf16Words, gradNormSquared, gradNormPartialsSize, packBf16, unpackBf16, writeOptimizerHp, OPTIMIZER_HP_SIZE } from '../../src/kernels/optimizer';
import { adamwStepBf16Ref, gradNormSquaredRef, toBf16, toBf16Stochastic, type OptimizerHp } from '../../src/reference/optimizer';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

/** Words of sentinel before the moments: 128 bytes, so their views start off the 256-byte binding alignment. */
const LEAD = 32;
const TAIL = 16;
const SENTINEL = 0xdeadbeef;
/** The unused high half of an odd n's last word. */
const HALF_SENTINEL = 0xbeef;

function scratch(n: number) {
  const d = gpu.device;
  return { normSq: createView(d, 'normSq', [1]), partials: createView(d, 'partials', [gradNormPartialsSize(n)]), hp: createView(d, 'hp', [OPTIMIZER_HP_SIZE]) };
}

/** bf16 moments of n values packed at word LEAD of a sentinel-filled buffer. */
function paddedWords(name: string, values: Float32Array): { view: View; base: View } {
  const words = packBf16(values);
  if (values.length % 2) words[words.length - 1] |= HALF_SENTINEL << 16;
  const all = new Uint32Array(LEAD + words.length + TAIL).fill(SENTINEL);
  all.set(words, LEAD);
  const base = createView(gpu.device, `${name}.buffer`, [all.length], all);
  return { base, view: { ...base, offset: LEAD * 4, size: words.length * 4, length: words.length, name, shape: [words.length] } };
}

/** The n bf16 values back, after checking the sentinels around them and in the unused half. */
async function readWords(p: { view: View; base: View }, n: number): Promise<Float32Array> {
  const all = await readU32(gpu.device, p.base);
  const w = p.view.length;
  expect(Array.from(all.slice(0, LEAD)), `${p.view.name} before the range`).toEqual(new Array(LEAD).fill(SENTINEL));
  expect(Array.from(all.slice(LEAD + w)), `${p.view.name} after the range`).toEqual(new Array(TAIL).fill(SENTINEL));
  const words = all.slice(LEAD, LEAD + w);
  if (n % 2) expect(words[w - 1] >>> 16, `${p.view.name} unused high half of the last word`).toBe(HALF_SENTINEL);
  return unpackBf16(words, n);
}

/**
 * got vs want where a few elements may be one bf16 rounding apart: the GPU's f32 moment and the
 * float64 one land on different sides of the rounding threshold (set by the shared random bits)
 * with probability ~2⁻¹⁶ per rounding (f32 error ~2⁻²⁴ relative against bf16's 2⁻⁸ spacing),
 * and such a flip carries into later steps. All elements must pass `loose`; at most maxFlips
 * may fail `tight`.
 */
function expectCloseFlips(got: ArrayLike<number>, want: ArrayLike<number>, tight: { rtol: number; atol: number }, loose: { rtol: number; atol: number }, maxFlips: number, what: string): number {
  expectClose(got, want, { ...loose, what });
  let flips = 0;
  for (let i = 0; i < want.length; i++) if (Math.abs(got[i] - want[i]) > tight.atol + tight.rtol * Math.abs(want[i])) flips++;
  expect(flips, `${what}: ${flips} elements past the tight tolerance`).toBeLessThanOrEqual(maxFlips);
  return flips;
}

describe('adamw_step_bf16 on WebGPU', () => {
  it.each([
    ['clipping off, weight decay', 0, 0.1, 0],
    ['clipping on, index base wrapping at 2³²', 1.0, 0, 2 ** 32 - 500],
  ])('5 steps with odd n (%s) match the float64 bf16-moment reference', async (_label, maxGradNorm, weightDecay, indexBase) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 1001, steps = 5, lr = 1e-2;
    const d = gpu.device;
    const p0 = rng.floats(n);
    // moments already in use (nonzero, both signs for m), exactly representable in bf16
    const m0 = rng.floats(n, -0.05, 0.05).map(toBf16), v0 = rng.floats(n, 0, 1e-3).map(toBf16);
    const P = createView(d, 'params', [n], p0), G = createView(d, 'grads', [n]);
    const M = paddedWords('m', m0), V = paddedWords('v', v0);
    const s = scratch(n);
    const rp = Float64Array.from(p0), rm = Float64Array.from(m0), rv = Float64Array.from(v0);
    for (let step = 1; step <= steps; step++) {
      const g = rng.floats(n);
      d.queue.writeBuffer(G.buffer, 0, g.buffer, g.byteOffset, g.byteLength);
      const hp: OptimizerHp = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay, step, maxGradNorm };
      writeOptimizerHp(d, s.hp, hp);
      const enc = new StepEncoder(gpu);
      gradNormSquared(enc, s.normSq, s.partials, G, n);
      adamwStepBf16(enc, P, M.view, V.view, G, s.normSq, s.hp, n, indexBase);
      enc.submit();
      adamwStepBf16Ref(rp, rm, rv, g, gradNormSquaredRef(g), hp, indexBase);
    }
    const m = await readWords(M, n), v = await readWords(V, n);
    const maxFlips = 6;
    const bf16Ulp = { rtol: 2 ** -6, atol: 1e-30 }; // two bf16 spacings (≤ 2⁻⁷ relative each): a flip plus its carry
    const flipsM = expectCloseFlips(m, rm, { rtol: 1e-6, atol: 1e-30 }, bf16Ulp, maxFlips, `m seed=${seed}`);
    const flipsV = expectCloseFlips(v, rv, { rtol: 1e-6, atol: 1e-30 }, bf16Ulp, maxFlips, `v seed=${seed}`);
    // parameters: f32 rounding as in the f32 AdamW test (k·(2.4e-7 + 1e-6·lr) on p − p0, and the
    // moment math in f32 ~1e-5 relative to the step lr); a flipped moment moves that element's
    // later steps by up to 2⁻⁶ of lr each
    const p = await readF32(d, P);
    const dp = p.map((x, i) => x - p0[i]), rdp = rp.map((x, i) => x - p0[i]);
    const flipsP = expectCloseFlips(dp, rdp, { rtol: 1e-4, atol: steps * (2.4e-7 + 1e-5 * lr) }, { rtol: 1e-4, atol: steps * 2 ** -6 * lr }, 2 * maxFlips, `params − p0 seed=${seed}`);
    console.log(`adamw_step_bf16 n=${n} ${_label}: elements one bf16 rounding off the float64 reference: m ${flipsM}, v ${flipsV}, params ${flipsP}`);
  });

  it('covers n beyond one grid-stride pass (even n, clipping on)', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 2 * (4096 * 256) + 778;
    const d = gpu.device;
    const p0 = rng.floats(n), g = rng.floats(n);
    const P = createView(d, 'p', [n], p0), G = createView(d, 'g', [n], g);
    const M = createView(d, 'm', [bf16Words(n)]), V = createView(d, 'v', [bf16Words(n)]);
    const s = scratch(n);
    const hp: OptimizerHp = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, maxGradNorm: 1 };
    writeOptimizerHp(d, s.hp, hp);
    const enc = new StepEncoder(gpu);
    gradNormSquared(enc, s.normSq, s.partials, G, n);
    adamwStepBf16(enc, P, M, V, G, s.normSq, s.hp, n);
    enc.submit();
    const rp = Float64Array.from(p0), rm = new Float64Array(n), rv = new Float64Array(n);
    adamwStepBf16Ref(rp, rm, rv, g, gradNormSquaredRef(g), hp);
    const maxFlips = Math.ceil(n * 1e-3);
    expectCloseFlips(unpackBf16(await readU32(d, M), n), rm, { rtol: 1e-6, atol: 1e-30 }, { rtol: 2 ** -7, atol: 1e-30 }, maxFlips, `m seed=${seed}`);
    const p = await readF32(d, P);
    expectCloseFlips(p.map((x, i) => x - p0[i]), rp.map((x, i) => x - p0[i]), { rtol: 1e-4, atol: 2.4e-7 + 1e-7 }, { rtol: 1e-4, atol: 2 ** -7 * hp.lr }, maxFlips, `params − p0 seed=${seed}`);
  });

  it('rounds to either neighbour, overflows only from within a spacing of the largest bf16, keeps Inf and NaN (β1 = β2 = 0: the new m is g, v is g²)', async () => {
    // f32 bit patterns: ties (low 16 bits 0x8000) with even and odd upper halves, just off a
    // tie, the largest bf16 (stays), values above it (may round to Inf, as the reference does
    // with the same bits), f32's max, Inf, NaNs (all-ones payloads would carry into the sign and
    // exponent if rounded blindly: 0x7fffffff to −0). NaN reaches the packing only if the
    // adapter's arithmetic propagates it, as IEEE hardware does (payload included on x86, where
    // SwiftShader runs).
    const bits = [0x3f808000, 0x3f818000, 0xbf808000, 0xc0c18000, 0x3f808001, 0x3f817fff, 0x7f7f0000, 0x7f7f8000, 0xff7fffff, 0x7f800000, 0x7fc00000, 0x7fffffff, 0xffffffff, 0x3e4ccccd, 0x42f6e979, 0x3f800000];
    const g = new Float32Array(Uint32Array.from(bits).buffer);
    const n = g.length;
    const d = gpu.device;
    const P = createView(d, 'p', [n]), G = createView(d, 'g', [n], g);
    const M = paddedWords('m', new Float32Array(n)), V = paddedWords('v', new Float32Array(n));
    const s = scratch(n);
    const step = 1 + new Rng(freshSeed()).int(1e6); // other rounding bits each run
    const hp: OptimizerHp = { lr: 1e-3, beta1: 0, beta2: 0, eps: 1e-8, weightDecay: 0, step, maxGradNorm: 0 };
    writeOptimizerHp(d, s.hp, hp);
    const enc = new StepEncoder(gpu);
    adamwStepBf16(enc, P, M.view, V.view, G, s.normSq, s.hp, n);
    enc.submit();
    const rp = new Float64Array(n), rm = new Float64Array(n), rv = new Float64Array(n);
    adamwStepBf16Ref(rp, rm, rv, g, 0, hp);
    // the reference by hand: each m is g's bf16 neighbour toward zero or away from it
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(g[i])) continue;
      expect([toBf16Stochastic(g[i], 0), toBf16Stochastic(g[i], 0xffff)], `m[${i}] step=${step}`).toContain(rm[i]);
    }
    expect(rm[6]).toBe(3.3895313892515355e38); // the largest bf16 stays
    expect(Array.from(rm.slice(9, 13))).toEqual([Infinity, NaN, NaN, NaN]);
    expect(rm[15]).toBe(1);
    expect(Array.from(await readWords(M, n)), `m step=${step}`).toEqual(Array.from(rm));
    expect(Array.from(await readWords(V, n)), `v step=${step}`).toEqual(Array.from(rv));
  });

  it('rounds without bias: m = 1 + 2⁻⁹ (¼ spacing above 1) over 65536 elements averages 1 + 2⁻⁹', async () => {
    // β1 = β2 = 0: m = g and v = g² = 1 + 2⁻⁸ + 2⁻¹⁸ exactly in f32, rounded once. Their
    // fractions of a spacing (2⁻⁷) are ¼ and ½ + 2⁻¹¹; the share rounded up has sd
    // sqrt(p(1 − p)/n) ≤ 2e-3. Bound 1.5e-2; nearest-even or truncation would give 0 (m) and 0 or 1 (v)
    const n = 1 << 16;
    const d = gpu.device;
    const g = new Float32Array(n).fill(1 + 2 ** -9);
    const P = createView(d, 'p', [n]), G = createView(d, 'g', [n], g);
    const M = createView(d, 'm', [bf16Words(n)]), V = createView(d, 'v', [bf16Words(n)]);
    const s = scratch(n);
    const step = 1 + new Rng(freshSeed()).int(1e6);
    const hp: OptimizerHp = { lr: 1e-3, beta1: 0, beta2: 0, eps: 1e-8, weightDecay: 0, step, maxGradNorm: 0 };
    writeOptimizerHp(d, s.hp, hp);
    const enc = new StepEncoder(gpu);
    adamwStepBf16(enc, P, M, V, G, s.normSq, s.hp, n);
    enc.submit();
    const m = unpackBf16(await readU32(d, M), n), v = unpackBf16(await readU32(d, V), n);
    const rp = new Float64Array(n), rm = new Float64Array(n), rv = new Float64Array(n);
    adamwStepBf16Ref(rp, rm, rv, g, 0, hp);
    // m = g and v = g² are exact in f32, so no element may differ from the reference
    for (const [what, got, want] of [['m', m, rm], ['v', v, rv]] as const) {
      const bad = got.findIndex((x, i) => x !== want[i]);
      expect(bad, `${what}[${bad}] = ${got[bad]} vs reference ${want[bad]}, step=${step}`).toBe(-1);
    }
    const up = (x: Float32Array) => x.reduce((k, y) => k + (y === 1 + 2 ** -7 ? 1 : y === 1 ? 0 : NaN), 0) / n;
    console.log(`adamw_step_bf16 stochastic rounding over ${n} elements: share rounded up m ${up(m).toFixed(4)} (want 0.25), v ${up(v).toFixed(4)} (want ${(0.5 + 2 ** -11).toFixed(4)})`);
    expect(Math.abs(up(m) - 0.25), `m step=${step}`).toBeLessThan(1.5e-2);
    expect(Math.abs(up(v) - 0.5 - 2 ** -11), `v step=${step}`).toBeLessThan(1.5e-2);
  });

  it('decays v under zero gradients as f32 does: 300 steps of ×0.999 give 0.741·v0 on average (nearest-even kept v0)', async () => {
    // E[v₃₀₀] = 0.999³⁰⁰·v0; each element's ratio wanders ~4 % (sd), the mean of 4096 ~0.06 %.
    // Bounds: mean within 1 %, every element below 0.95·v0 (~7 sd above the mean; nearest-even stays at 1)
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 4096, steps = 300;
    const d = gpu.device;
    const v0 = Float32Array.from({ length: n }, () => toBf16(Math.exp(rng.uniform(-30, 3))));
    const P = createView(d, 'p', [n]), G = createView(d, 'g', [n]);
    const M = createView(d, 'm', [bf16Words(n)]), V = createView(d, 'v', [bf16Words(n)], packBf16(v0));
    const s = scratch(n);
    for (let step = 1; step <= steps; step++) {
      writeOptimizerHp(d, s.hp, { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step, maxGradNorm: 0 });
      const enc = new StepEncoder(gpu);
      adamwStepBf16(enc, P, M, V, G, s.normSq, s.hp, n);
      enc.submit();
    }
    const v = unpackBf16(await readU32(d, V), n);
    const ratios = v.map((x, i) => x / v0[i]);
    const mean = ratios.reduce((a, b) => a + b, 0) / n, want = 0.999 ** steps;
    console.log(`adamw_step_bf16 v under zero gradients, ${steps} steps: mean v/v0 ${mean.toFixed(4)} (f32 ${want.toFixed(4)}), largest ${Math.max(...ratios).toFixed(4)}, seed=${seed}`);
    expect(Math.abs(mean / want - 1), `seed=${seed}`).toBeLessThan(1e-2);
    expect(Math.max(...ratios), `seed=${seed}`).toBeLessThan(0.95);
  });

  it('draws the same rounding bits per element whether the range is one dispatch or split at k with indexBase k', async () => {
    // the trainer steps per tensor (indexBase = its arena offset) with weight decay, over the
    // whole arena without: both must round each element alike
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 1001, k = 512; // k·4 bytes: a binding-aligned split of the f32 views
    const d = gpu.device;
    const p0 = rng.floats(n), g = rng.floats(n), m0 = rng.floats(n, -0.05, 0.05), v0 = rng.floats(n, 0, 1e-3);
    const hp: OptimizerHp = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1 + rng.int(1e6), maxGradNorm: 0 };
    const runs: Array<[Float32Array, Uint32Array, Uint32Array]> = [];
    for (const split of [false, true]) {
      const P = createView(d, 'p', [n], p0), G = createView(d, 'g', [n], g);
      const M = createView(d, 'm', [bf16Words(n)], packBf16(m0)), V = createView(d, 'v', [bf16Words(n)], packBf16(v0));
      const s = scratch(n);
      writeOptimizerHp(d, s.hp, hp);
      const enc = new StepEncoder(gpu);
      if (!split) adamwStepBf16(enc, P, M, V, G, s.normSq, s.hp, n);
      else {
        const part = (x: View, from: number, len: number): View => ({ ...x, offset: from * 4, size: len * 4, length: len, shape: [len] });
        adamwStepBf16(enc, part(P, 0, k), part(M, 0, k / 2), part(V, 0, k / 2), part(G, 0, k), s.normSq, s.hp, k, 0);
        adamwStepBf16(enc, part(P, k, n - k), part(M, k / 2, bf16Words(n - k)), part(V, k / 2, bf16Words(n - k)), part(G, k, n - k), s.normSq, s.hp, n - k, k);
      }
      enc.submit();
      runs.push([await readF32(d, P), await readU32(d, M), await readU32(d, V)]);
    }
    runs[1].forEach((x, j) => expect(Array.from(x), `array ${j} seed=${seed}`).toEqual(Array.from(runs[0][j])));
    // and the bits do depend on the index: shifting it changes some roundings
    const rm = Float64Array.from(m0, toBf16), rv = Float64Array.from(v0, toBf16), rm1 = rm.slice(), rv1 = rv.slice();
    adamwStepBf16Ref(Float64Array.from(p0), rm, rv, g, 0, hp, 0);
    adamwStepBf16Ref(Float64Array.from(p0), rm1, rv1, g, 0, hp, 1);
    expect(rm.some((x, i) => x !== rm1[i]) && rv.some((x, i) => x !== rv1[i]), `seed=${seed}`).toBe(true);
  });

  it('rejects moment views shorter than ceil(n/2) words', () => {
    const d = gpu.device;
    const n = 11;
    const P = createView(d, 'p', [n]), G = createView(d, 'g', [n]), ok = createView(d, 'ok', [6]), short = createView(d, 'short', [5]);
    const s = scratch(n);
    expect(() => adamwStepBf16(new StepEncoder(gpu), P, short, ok, G, s.normSq, s.hp, n)).toThrow(/short holds 5 elements, needs 6/);
    expect(() => adamwStepBf16(new StepEncoder(gpu), P, ok, short, G, s.normSq, s.hp, n)).toThrow(/needs 6/);
  });
});

describe('bf16 moments against f32 moments', () => {
  it('50 AdamW steps on a noisy quadratic: moments and parameters stay close to the f32 run', async () => {
    // f(p) = ½ Σ aᵢ (pᵢ − cᵢ)², gradients a(p − c) + noise, both runs from the same start with
    // the same noise; only the moments' storage differs
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 4096, steps = 50, lr = 1e-2;
    const d = gpu.device;
    const a = rng.floats(n, 0.1, 10), c = rng.floats(n), p0 = rng.floats(n);
    const P32 = createView(d, 'p32', [n], p0), M32 = createView(d, 'm32', [n]), V32 = createView(d, 'v32', [n]);
    const P16 = createView(d, 'p16', [n], p0), M16 = createView(d, 'm16', [bf16Words(n)]), V16 = createView(d, 'v16', [bf16Words(n)]);
    const G32 = createView(d, 'g32', [n]), G16 = createView(d, 'g16', [n]);
    const s32 = scratch(n), s16 = scratch(n);
    const loss = (p: Float32Array) => p.reduce((acc, x, i) => acc + 0.5 * a[i] * (x - c[i]) ** 2, 0);
    const grads = (p: Float32Array, noise: Float32Array) => p.map((x, i) => a[i] * (x - c[i]) + noise[i]);
    let p32 = p0, p16 = p0;
    for (let step = 1; step <= steps; step++) {
      const noise = rng.floats(n, -0.5, 0.5);
      const g32 = grads(p32, noise), g16 = grads(p16, noise);
      d.queue.writeBuffer(G32.buffer, 0, g32.buffer, g32.byteOffset, g32.byteLength);
      d.queue.writeBuffer(G16.buffer, 0, g16.buffer, g16.byteOffset, g16.byteLength);
      const hp: OptimizerHp = { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step, maxGradNorm: 0 };
      writeOptimizerHp(d, s32.hp, hp);
      writeOptimizerHp(d, s16.hp, hp);
      const enc = new StepEncoder(gpu);
      gradNormSquared(enc, s32.normSq, s32.partials, G32, n);
      gradNormSquared(enc, s16.normSq, s16.partials, G16, n);
      adamwStep(enc, P32, M32, V32, G32, s32.normSq, s32.hp, n);
      adamwStepBf16(enc, P16, M16, V16, G16, s16.normSq, s16.hp, n);
      enc.submit();
      p32 = await readF32(d, P32);
      p16 = await readF32(d, P16);
    }
    const m32 = await readF32(d, M32), v32 = await readF32(d, V32);
    const m16 = unpackBf16(await readU32(d, M16), n), v16 = unpackBf16(await readU32(d, V16), n);
    const rel = (x: ArrayLike<number>, y: ArrayLike<number>) => {
      let num = 0, den = 0;
      for (let i = 0; i < y.length; i++) {
        num += (x[i] - y[i]) ** 2;
        den += y[i] ** 2;
      }
      return Math.sqrt(num / den);
    };
    const maxRel = (x: ArrayLike<number>, y: ArrayLike<number>) => {
      let r = 0;
      for (let i = 0; i < y.length; i++) r = Math.max(r, Math.abs(x[i] - y[i]) / Math.abs(y[i]));
      return r;
    };
    const dp32 = p32.map((x, i) => x - p0[i]), dp16 = p16.map((x, i) => x - p0[i]);
    const r = { m: rel(m16, m32), v: rel(v16, v32), vMax: maxRel(v16, v32), dp: rel(dp16, dp32), loss0: loss(p0), loss32: loss(p32), loss16: loss(p16) };
    console.log(
      `bf16 vs f32 moments after ${steps} steps (n=${n}, seed=${seed}): ‖Δm‖/‖m‖ ${r.m.toExponential(2)}, ‖Δv‖/‖v‖ ${r.v.toExponential(2)} (max elementwise ${r.vMax.toExponential(2)}), ` +
        `‖Δ(p−p0)‖/‖p−p0‖ ${r.dp.toExponential(2)}; loss ${r.loss0.toFixed(2)} → f32 ${r.loss32.toFixed(4)}, bf16 ${r.loss16.toFixed(4)}`,
    );
    // bf16's spacing is 2⁻⁸–2⁻⁷ relative; stochastic rounding errs by ~spacing/sqrt(6) rms,
    // ~2.3e-3 relative. m averages ~10 steps' roundings (β1 = 0.9): ~5e-3. v (β2 = 0.999) keeps
    // every step's rounding, weighted by the step: ~2.3e-3·sqrt(k/3) ≈ 9e-3 at k = 50. Bounds at
    // ~3× those; swapped halves or a lost word would be O(1)
    expect(r.m, `m seed=${seed}`).toBeLessThan(1.5e-2);
    expect(r.v, `v seed=${seed}`).toBeLessThan(2.5e-2);
    expect(r.dp, `p − p0 seed=${seed}`).toBeLessThan(1.5e-2);
    expect(Math.abs(r.loss16 - r.loss32) / r.loss32, `loss seed=${seed}`).toBeLessThan(1e-2);
    expect(r.loss16).toBeLessThan(0.5 * r.loss0);
  });
});
