// Tier 1: the float64 optimizer reference against closed forms of torch's AdamW, SGD and
// clip_grad_norm_, bf16 rounding and the bf16-moment AdamW, and the host-side packing of the
// per-step hyperparameters and of bf16 moments.
import { describe, it, expect } from 'vitest';
import { adamwStepRef, adamwStepBf16Ref, sgdStepRef, clipCoefRef, gradNormSquaredRef, bf16Bits, toBf16, type OptimizerHp } from '../../src/reference/optimizer';
import { packOptimizerHp, gradNormPartialsSize, optimizerGroups, OPTIMIZER_HP_SIZE, packBf16, unpackBf16, bf16Words } from '../../src/kernels/optimizer';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';

const HP: OptimizerHp = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step: 1, maxGradNorm: 0 };

describe('optimizer reference', () => {
  it('clips as clip_grad_norm_', () => {
    expect(gradNormSquaredRef([3, -4])).toBe(25);
    expect(clipCoefRef(25, 0)).toBe(1); // disabled
    expect(clipCoefRef(25, 10)).toBe(1); // norm already below the limit
    expect(clipCoefRef(25, 1)).toBeCloseTo(1 / (5 + 1e-6), 15);
  });

  it('AdamW step 1 moves each parameter by lr·g/(|g|+eps) after decoupled decay', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 20;
    const p0 = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const g = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const p = p0.slice(), m = new Float64Array(n), v = new Float64Array(n);
    const hp = { ...HP, weightDecay: 0.1 };
    adamwStepRef(p, m, v, g, 0, hp);
    const want = p0.map((x, i) => x * (1 - hp.lr * hp.weightDecay) - (hp.lr * g[i]) / (Math.abs(g[i]) + hp.eps));
    expectClose(p, want, { rtol: 1e-12, atol: 1e-15, what: `p seed=${seed}` });
    expectClose(m, g.map((x) => 0.1 * x), { rtol: 1e-12, atol: 0, what: 'm' });
    expectClose(v, g.map((x) => 0.001 * x * x), { rtol: 1e-12, atol: 0, what: 'v' });
  });

  it('AdamW with a constant gradient takes steps of exactly lr·g/(|g|+eps) (bias correction)', () => {
    const p = Float64Array.of(0.5, -0.25), m = new Float64Array(2), v = new Float64Array(2);
    const g = [0.3, -2];
    for (let step = 1; step <= 7; step++) adamwStepRef(p, m, v, g, 0, { ...HP, step });
    expectClose(p, [0.5 - (7e-3 * 0.3) / (0.3 + 1e-8), -0.25 + (7e-3 * 2) / (2 + 1e-8)], { rtol: 1e-12, atol: 1e-15, what: 'p' });
  });

  it('AdamW step 2 with gradients +1 then −1 matches the hand computation', () => {
    // m₂ = 0.9·0.1 − 0.1 = −0.01, m̂ = −0.01/0.19; v₂ = 0.999·0.001 + 0.001 = 0.001999, v̂ = 1
    const p = Float64Array.of(0), m = new Float64Array(1), v = new Float64Array(1);
    adamwStepRef(p, m, v, [1], 0, { ...HP, step: 1 });
    const p1 = p[0];
    adamwStepRef(p, m, v, [-1], 0, { ...HP, step: 2 });
    expect(p[0] - p1).toBeCloseTo((1e-3 * (0.01 / 0.19)) / (1 + 1e-8), 15);
  });

  it('clipping scales the gradient AdamW and SGD see', () => {
    const g = [3, -4]; // norm 5
    const clip = 1 / (5 + 1e-6);
    const pa = Float64Array.of(1, 1), m = new Float64Array(2), v = new Float64Array(2);
    adamwStepRef(pa, m, v, g, 25, { ...HP, maxGradNorm: 1 });
    expectClose(m, [0.1 * 3 * clip, -0.1 * 4 * clip], { rtol: 1e-12, atol: 0, what: 'm' });
    const ps = Float64Array.of(1, 1);
    sgdStepRef(ps, g, 25, { lr: 0.5, maxGradNorm: 1 });
    expectClose(ps, [1 - 0.5 * 3 * clip, 1 + 0.5 * 4 * clip], { rtol: 1e-12, atol: 0, what: 'sgd' });
  });
});

describe('optimizer hyperparameter packing', () => {
  it('computes bias corrections in float64 and rounds once', () => {
    const w = packOptimizerHp({ lr: 3e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, step: 10, maxGradNorm: 1 });
    expect(w.length).toBe(OPTIMIZER_HP_SIZE);
    const want = [3e-4, 0.9, 0.1, 0.999, 0.001, 1e-8, 1 - 3e-6, 3e-4 / (1 - 0.9 ** 10), Math.sqrt(1 - 0.999 ** 10), 1];
    want.forEach((x, i) => expect(w[i]).toBe(Math.fround(x)));
  });

  it.each([
    [{ lr: NaN }, /lr = NaN/],
    [{ beta1: 1 }, /beta1 = 1 must be in \[0, 1\)/],
    [{ beta2: -0.1 }, /beta2/],
    [{ eps: -1 }, /eps/],
    [{ weightDecay: Infinity }, /weightDecay/],
    [{ step: 0 }, /step = 0/],
    [{ step: 1.5 }, /step = 1.5/],
    [{ maxGradNorm: -1 }, /maxGradNorm/],
  ])('rejects %o naming the field', (bad, re) => {
    expect(() => packOptimizerHp({ ...HP, ...bad })).toThrow(re);
  });

  it('sizes the grid and the norm partials', () => {
    expect(gradNormPartialsSize(1)).toBe(1);
    expect(gradNormPartialsSize(257)).toBe(2);
    expect(gradNormPartialsSize(124_000_000)).toBe(1024);
    expect(optimizerGroups(124_000_000)).toBe(4096); // grid-stride: n up to 2³² − 1 fits one dimension
  });
});

/** The f32 bit pattern of x. */
function f32Bits(x: number): number {
  return new Uint32Array(Float32Array.of(x).buffer)[0];
}

describe('bf16 rounding', () => {
  it('keeps values bf16 already holds exactly', () => {
    for (const x of [0, 1, -2, 0.5, 1.5, 3.140625, -1.9921875, 2 ** -126, 2 ** -133, 65280, 3.3895313892515355e38]) expect(toBf16(x)).toBe(x);
    expect(Object.is(toBf16(-0), -0)).toBe(true);
    expect(toBf16(Infinity)).toBe(Infinity);
    expect(toBf16(-Infinity)).toBe(-Infinity);
  });

  it('rounds to nearest, ties to even', () => {
    // bf16 spacing at [1, 2) is 2⁻⁷; 1 + 2⁻⁸ is halfway between 1 (even) and 1 + 2⁻⁷ (odd)
    expect(toBf16(1 + 2 ** -8)).toBe(1);
    expect(toBf16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6); // halfway between 1 + 2⁻⁷ (odd) and 1 + 2⁻⁶ (even)
    expect(toBf16(1 + 2 ** -8 + 2 ** -20)).toBe(1 + 2 ** -7); // just above the tie
    expect(toBf16(1 + 2 ** -8 - 2 ** -20)).toBe(1); // just below
    expect(toBf16(-(1 + 3 * 2 ** -8))).toBe(-(1 + 2 ** -6));
    expect(toBf16(0.1)).toBe(0.10009765625); // 0x3DCD
    expect(bf16Bits(f32Bits(0.1))).toBe(0x3dcd);
  });

  it('overflows to ±Infinity past the largest bf16', () => {
    expect(toBf16(3.4028234663852886e38)).toBe(Infinity); // f32 max rounds up
    expect(toBf16(-3.4028234663852886e38)).toBe(-Infinity);
    expect(bf16Bits(0x7f7f8000)).toBe(0x7f80); // tie between 0x7f7f (odd) and Inf (even)
    expect(bf16Bits(0x7f7f7fff)).toBe(0x7f7f);
  });

  it('keeps NaN a NaN, including payloads only in the low 16 bits', () => {
    expect(toBf16(NaN)).toBeNaN();
    expect(bf16Bits(0x7f800001)).toBe(0x7fc0); // would be Inf (0x7f80) if rounded blindly
    expect(bf16Bits(0xff800001)).toBe(0xffc0);
    expect(bf16Bits(0x7fffffff)).toBe(0x7fff);
  });

  it('packs element 2k into the low half of word k, 2k + 1 into the high half', () => {
    const words = packBf16(Float32Array.of(1, 2, 3));
    expect(Array.from(words)).toEqual([0x40003f80, 0x00004040]);
    expect(Array.from(unpackBf16(words, 3))).toEqual([1, 2, 3]);
    expect(bf16Words(3)).toBe(2);
    const seed = freshSeed();
    const x = new Rng(seed).floats(1001).map((v) => v * 1e-3);
    expect(Array.from(unpackBf16(packBf16(x), x.length)), `seed=${seed}`).toEqual(Array.from(x, toBf16));
  });
});

describe('AdamW with bf16 moments (reference)', () => {
  it('cannot decay v with β2 = 0.999 (a limit of round-to-nearest, documented here): 0.999·v rounds back to v', () => {
    // bf16 spacing is 2⁻⁷..2⁻⁸ relative, so a 0.1% decrease is under half a spacing everywhere;
    // v then only grows (on gradients with g² above ~2–4·v), so long runs keep early, larger v.
    // With β2 = 0.99 the 1% decrease survives.
    const seed = freshSeed();
    const rng = new Rng(seed);
    for (let k = 0; k < 1000; k++) {
      const v = toBf16(Math.exp(rng.uniform(-40, 5)));
      expect(toBf16(0.999 * v), `v=${v} seed=${seed}`).toBe(v);
      expect(toBf16(0.99 * v), `v=${v} seed=${seed}`).toBeLessThan(v);
    }
  });


  it('is AdamW with m and v rounded to bf16 before the parameter update', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = 50;
    const hp = { ...HP, weightDecay: 0.1, step: 3, maxGradNorm: 1 };
    const p0 = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const m0 = Float64Array.from({ length: n }, () => toBf16(rng.uniform(-0.1, 0.1)));
    const v0 = Float64Array.from({ length: n }, () => toBf16(rng.uniform(0, 0.01)));
    const g = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const normSq = gradNormSquaredRef(g);
    const p = p0.slice(), m = m0.slice(), v = v0.slice();
    adamwStepBf16Ref(p, m, v, g, normSq, hp);
    const clip = clipCoefRef(normSq, 1);
    const { beta1: b1, beta2: b2 } = hp;
    const wantM = m0.map((x, i) => toBf16(b1 * x + (1 - b1) * clip * g[i]));
    const wantV = v0.map((x, i) => toBf16(b2 * x + (1 - b2) * (clip * g[i]) ** 2));
    expect(Array.from(m)).toEqual(Array.from(wantM));
    expect(Array.from(v)).toEqual(Array.from(wantV));
    const bc1 = 1 - b1 ** 3, bc2 = 1 - b2 ** 3;
    const wantP = p0.map((x, i) => x * (1 - 1e-4) - ((1e-3 / bc1) * wantM[i]) / (Math.sqrt(wantV[i]) / Math.sqrt(bc2) + 1e-8));
    expectClose(p, wantP, { rtol: 1e-14, atol: 1e-16, what: `p seed=${seed}` });
    // and its moments differ from float64 AdamW's by one rounding: bf16's unit roundoff 2⁻⁸
    // (plus 2⁻²⁴ for the f32 step on the way)
    const pf = p0.slice(), mf = m0.slice(), vf = v0.slice();
    adamwStepRef(pf, mf, vf, g, normSq, hp);
    expectClose(m, mf, { rtol: 2 ** -8 + 2 ** -23, atol: 0, what: `m vs float64 seed=${seed}` });
    expectClose(v, vf, { rtol: 2 ** -8 + 2 ** -23, atol: 0, what: `v vs float64 seed=${seed}` });
  });
});
