// Tier 1: the float64 optimizer reference against closed forms of torch's AdamW, SGD and
// clip_grad_norm_, and the host-side packing of the per-step hyperparameters.
import { describe, it, expect } from 'vitest';
import { adamwStepRef, sgdStepRef, clipCoefRef, gradNormSquaredRef, type OptimizerHp } from '../../src/reference/optimizer';
import { packOptimizerHp, gradNormPartialsSize, optimizerGroups, OPTIMIZER_HP_SIZE } from '../../src/kernels/optimizer';
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
