// GRPO's token-level loss: a hand-computed value, per-token coefficients vs central finite
// differences for every aggregation (ratio ≠ 1, both clip regions, KL), the clip's zero-gradient
// regions token by token, and dapo's global normaliser across micro-batches.
import { describe, expect, it } from 'vitest';
import { GRPO_LOSS_TYPES, grpoLoss, type GrpoTokenBatch } from '../../../src/train/rl';
import { Rng } from '../../../src/util/rng';
import { centralDiff } from '../../helpers/fd';
import { expectClose, freshSeed } from '../../helpers/close';

const EPS = 0.2;

/** B completions of up to T tokens with old log-probs spread so that both clip regions occur, and no ratio within 1e−3 of a clip edge. */
function randomBatch(rng: Rng, B: number, T: number): GrpoTokenBatch {
  const logps = new Float64Array(B * T);
  const oldLogps = new Float64Array(B * T);
  const refLogps = new Float64Array(B * T);
  const mask = new Float64Array(B * T);
  for (let b = 0; b < B; b++) {
    const len = b === B - 1 ? 0 : 1 + rng.int(T); // the last completion is fully masked
    for (let t = 0; t < T; t++) {
      const k = b * T + t;
      logps[k] = -rng.uniform(0.05, 3);
      let r: number;
      do r = rng.uniform(-0.5, 0.5);
      while (Math.abs(Math.exp(r) - (1 - EPS)) < 1e-3 || Math.abs(Math.exp(r) - (1 + EPS)) < 1e-3);
      oldLogps[k] = logps[k] - r;
      refLogps[k] = logps[k] + rng.uniform(-1, 1);
      mask[k] = t < len ? 1 : 0;
    }
  }
  const advantages = Float64Array.from({ length: B }, () => rng.uniform(-2, 2));
  // completion 0's first token is always clipped high (A > 0, ρ = e^0.4 ≈ 1.49)
  advantages[0] = Math.abs(advantages[0]) + 0.1;
  oldLogps[0] = logps[0] - 0.4;
  return { B, T, logps, oldLogps, refLogps, mask, advantages };
}

describe('GRPO loss values', () => {
  it('one completion, ρ = 1, A = 1, ref − logp = ln 2: ℓ = −1 + β(1 − ln 2), c = (−1 − β)/2 per token', () => {
    const logps = [-1, -2];
    const b: GrpoTokenBatch = { B: 1, T: 2, logps, refLogps: logps.map((x) => x + Math.LN2), mask: [1, 1], advantages: [1] };
    const res = grpoLoss(b, { beta: 0.04 });
    expect(res.loss).toBeCloseTo(-1 + 0.04 * (1 - Math.LN2), 15);
    expectClose(res.coef, [-0.52, -0.52], { rtol: 1e-15, atol: 0 });
    expect(res.metrics.kl).toBeCloseTo(1 - Math.LN2, 15);
  });

  it('kl = 0 when the policy is the reference (step 1), and is logged even with β = 0', () => {
    const logps = [-1, -2, -0.5, -3];
    const res = grpoLoss({ B: 2, T: 2, logps, refLogps: logps, mask: [1, 1, 1, 0], advantages: [0.3, -0.3] });
    expect(res.metrics.kl).toBe(0);
  });

  it('the clip: ρA above the clipped term has gradient −Aρ, the clipped side 0', () => {
    // tokens: (A>0, ρ=1.5) clipped high; (A<0, ρ=0.5) clipped low; (A>0, ρ=0.5) and (A<0, ρ=1.5) unclipped.
    const lp = [-1, -1, -1, -1];
    const old = [-1 - Math.log(1.5), -1 - Math.log(0.5), -1 - Math.log(0.5), -1 - Math.log(1.5)];
    const res = grpoLoss({ B: 4, T: 1, logps: lp, oldLogps: old, mask: [1, 1, 1, 1], advantages: [1, -1, 1, -1] });
    expectClose(res.coef, [0, 0, -0.5 / 4, 1.5 / 4], { rtol: 1e-14, atol: 1e-16 });
    expect(res.loss).toBeCloseTo((-1.2 + 0.8 - 0.5 + 1.5) / 4, 14);
    expect(res.metrics['clip_ratio/high_mean']).toBe(0.25);
    expect(res.metrics['clip_ratio/low_mean']).toBe(0.25);
    expect(res.metrics['clip_ratio/region_mean']).toBe(0.5);
    expect(res.metrics['clip_ratio/low_min']).toBe(0);
    expect(res.metrics['clip_ratio/high_max']).toBe(1);
  });

  it('epsilonHigh ≠ epsilonLow moves only the upper edge', () => {
    const res = grpoLoss({ B: 1, T: 1, logps: [0], oldLogps: [-Math.log(1.25)], mask: [1], advantages: [1] }, { epsilonHigh: 0.28 });
    expect(res.coef[0]).toBeCloseTo(-1.25, 14); // 1.25 < 1.28: not clipped
  });
});

describe('GRPO coefficients match central finite differences', () => {
  it.each(GRPO_LOSS_TYPES.flatMap((lt) => [[lt, 0.04], [lt, 0]] as const))('%s, β = %s', (lossType, beta) => {
    const seed = freshSeed();
    for (let k = 0; k < 3; k++) {
      const b = randomBatch(new Rng(seed + k), 5, 7);
      const logps = b.logps as Float64Array;
      const opts = { lossType, beta, activeTokens: 40, gradAccum: 2, maxCompletionLength: 9 };
      const res = grpoLoss(b, opts);
      const fd = centralDiff(logps, () => grpoLoss(b, opts).loss, 1e-6);
      expectClose(res.coef, fd, { rtol: 1e-6, atol: 1e-9, what: `coef seed=${seed + k}` });
      if (beta === 0) expect(Math.abs(res.coef[0]), 'a clipped token has no gradient').toBe(0);
    }
  });
});

describe('dapo normaliser', () => {
  it('splitting a batch into micro-batches with the global active-token count sums to the whole', () => {
    const b = randomBatch(new Rng(7), 6, 5);
    const whole = grpoLoss(b, { beta: 0.04 });
    const active = Array.from(b.mask).reduce((a, x) => a + x, 0);
    const half = (lo: number, hi: number) =>
      grpoLoss(
        {
          B: hi - lo,
          T: 5,
          logps: (b.logps as Float64Array).slice(lo * 5, hi * 5),
          oldLogps: (b.oldLogps as Float64Array).slice(lo * 5, hi * 5),
          refLogps: (b.refLogps as Float64Array).slice(lo * 5, hi * 5),
          mask: (b.mask as Float64Array).slice(lo * 5, hi * 5),
          advantages: (b.advantages as Float64Array).slice(lo, hi),
        },
        { beta: 0.04, activeTokens: active, gradAccum: 2 }, // dapo ignores gradAccum, as TRL
      );
    const a = half(0, 3);
    const c = half(3, 6);
    expect(a.loss + c.loss).toBeCloseTo(whole.loss, 14);
    expectClose([...a.coef, ...c.coef], whole.coef, { rtol: 1e-14, atol: 1e-17 });
  });

  it('bnpo with one micro-batch equals dapo; grpo averages per-completion means', () => {
    const b = randomBatch(new Rng(11), 4, 6);
    expect(grpoLoss(b, { lossType: 'bnpo' }).loss).toBeCloseTo(grpoLoss(b, { lossType: 'dapo' }).loss, 14);
    const one = grpoLoss({ ...b, B: 1, logps: (b.logps as Float64Array).slice(0, 6), oldLogps: (b.oldLogps as Float64Array).slice(0, 6), refLogps: undefined, mask: (b.mask as Float64Array).slice(0, 6), advantages: [b.advantages[0]] }, { lossType: 'grpo' });
    const bnpo = grpoLoss({ ...b, B: 1, logps: (b.logps as Float64Array).slice(0, 6), oldLogps: (b.oldLogps as Float64Array).slice(0, 6), refLogps: undefined, mask: (b.mask as Float64Array).slice(0, 6), advantages: [b.advantages[0]] }, { lossType: 'bnpo' });
    expect(one.loss).toBeCloseTo(bnpo.loss, 14);
  });
});

describe('GRPO input errors', () => {
  it('β ≠ 0 needs reference log-probs; shapes and masks are checked', () => {
    expect(() => grpoLoss({ B: 1, T: 1, logps: [-1], mask: [1], advantages: [1] }, { beta: 0.04 })).toThrow(/refLogps are required/);
    expect(() => grpoLoss({ B: 1, T: 2, logps: [-1], mask: [1, 1], advantages: [1] })).toThrow(/logps has length 1, expected B·T/);
    expect(() => grpoLoss({ B: 1, T: 1, logps: [-1], mask: [0.5], advantages: [1] })).toThrow(/expected 0 or 1/);
    expect(() => grpoLoss({ B: 1, T: 1, logps: [-1], mask: [1], advantages: [1] }, { lossType: 'gspo' as never })).toThrow(/unknown/);
  });
});
