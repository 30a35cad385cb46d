// KTO: derivatives vs central finite differences (z₀ detached), values at a fixed input and
// TRL's metric names, including batches with only one label.
import { describe, expect, it } from 'vitest';
import { ktoObjective, type UnpairedBatch } from '../../../src/train/objectives';
import { Rng } from '../../../src/util/rng';
import { expectClose, freshSeed } from '../../helpers/close';
import { fdUnpaired, randomUnpaired } from './fixtures';

describe('KTO derivatives match central finite differences', () => {
  it.each([
    ['kto', { beta: 0.1 }],
    ['kto, weighted', { beta: 0.5, desirableWeight: 1.33, undesirableWeight: 0.7 }],
    ['apo_zero_unpaired', { beta: 0.3, lossType: 'apo_zero_unpaired' as const }],
  ])('%s', (_name, opts) => {
    const seed = freshSeed();
    for (let k = 0; k < 3; k++) {
      const f = randomUnpaired(new Rng(seed + k), 5 + k);
      const obj = ktoObjective(opts);
      const res = obj.compute(f);
      expectClose(res.dLogp, fdUnpaired(f, (b) => obj.compute(b).loss), { rtol: 1e-5, atol: 1e-9, what: `dLogp seed=${seed + k}` });
    }
  });
});

// r = (1, −2, 0.5), desirable = (T, F, T); KL pairs give mean 0.25 → z₀ = 0.25.
const FIXED: UnpairedBatch = {
  logp: [-2, -5, -1],
  refLogp: [-3, -3, -1.5],
  len: [2, 5, 1],
  desirable: [true, false, true],
  logitSum: [1, 5, -2],
  logitCount: [2, 5, 1],
  klLogp: [-4, -6],
  klRefLogp: [-4.5, -6],
};
const sig = (x: number) => 1 / (1 + Math.exp(-x));

describe('KTO values (plain Math)', () => {
  it('loss with z₀ = max(0, mean KL)', () => {
    const beta = 0.5;
    const z0 = 0.25;
    const want = (1.2 * (1 - sig(beta * (1 - z0))) + 0.8 * (1 - sig(beta * (z0 - -2))) + 1.2 * (1 - sig(beta * (0.5 - z0)))) / 3;
    const res = ktoObjective({ beta, desirableWeight: 1.2, undesirableWeight: 0.8 }).compute(FIXED);
    expect(res.loss).toBeCloseTo(want, 12);
    expect(res.metrics.kl).toBeCloseTo(z0, 12);
  });

  it('a negative KL estimate is clamped to 0', () => {
    const b = { ...FIXED, klLogp: [-5, -7], klRefLogp: [-4, -6] };
    const beta = 0.1;
    const want = (1 - sig(beta * 1) + (1 - sig(beta * 2)) + (1 - sig(beta * 0.5))) / 3;
    const res = ktoObjective({ beta }).compute(b);
    expect(res.metrics.kl).toBe(0);
    expect(res.loss).toBeCloseTo(want, 12);
  });

  it('apo_zero_unpaired ignores the KL sequences', () => {
    const beta = 0.2;
    const want = (1 - sig(beta * 1) + sig(beta * -2) + (1 - sig(beta * 0.5))) / 3;
    const { klLogp: _a, klRefLogp: _b, ...noKl } = FIXED;
    expect(ktoObjective({ beta, lossType: 'apo_zero_unpaired' }).compute(noKl).loss).toBeCloseTo(want, 12);
  });

  it('TRL metric names and values: rewards/logps/logits per label, margins, kl', () => {
    const m = ktoObjective({ beta: 0.5 }).compute(FIXED).metrics;
    expect(Object.keys(m)).toEqual(['loss', 'kl', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'logps/chosen', 'logps/rejected', 'logits/chosen', 'logits/rejected', 'log_odds/chosen', 'log_odds/rejected', 'logps_avg/chosen', 'logps_avg/rejected', 'margins_avg', 'logps_sum/chosen', 'logps_sum/rejected', 'margins_sum']);
    expect(m['rewards/chosen']).toBeCloseTo((0.5 * (1 + 0.5)) / 2, 12);
    expect(m['rewards/rejected']).toBeCloseTo(0.5 * -2, 12);
    expect(m['rewards/margins']).toBeCloseTo(0.375 + 1, 12);
    expect(m['logps/chosen']).toBe(-1.5);
    expect(m['logps/rejected']).toBe(-5);
    expect(m['logits/chosen']).toBeCloseTo(-1 / 3, 12);
    expect(m['logits/rejected']).toBe(1);
    const lo = (a: number) => a - Math.log(1 - Math.exp(a));
    expect(m['log_odds/chosen']).toBeCloseTo((lo(-1) + lo(-1)) / 2, 12);
    expect(m['log_odds/rejected']).toBeCloseTo(lo(-1), 12);
    // the page's shared log-prob curves: per-token averages A = S/|y| and sums, desirable as chosen
    expect(m['logps_avg/chosen']).toBeCloseTo(-1, 12);
    expect(m['logps_avg/rejected']).toBeCloseTo(-1, 12);
    expect(m.margins_avg).toBeCloseTo(0, 12);
    expect(m['logps_sum/chosen']).toBe(-1.5);
    expect(m.margins_sum).toBe(3.5);
  });

  it('a batch with only desirable examples omits the rejected metrics and the margin (as TRL)', () => {
    const m = ktoObjective().compute({ ...FIXED, desirable: [true, true, true] }).metrics;
    expect(Object.keys(m)).toEqual(['loss', 'kl', 'rewards/chosen', 'logps/chosen', 'logits/chosen', 'log_odds/chosen', 'logps_avg/chosen', 'logps_sum/chosen']);
  });

  it('requires the KL sequences for loss_type kto', () => {
    const { klLogp: _a, klRefLogp: _b, ...noKl } = FIXED;
    expect(() => ktoObjective().compute(noKl)).toThrow(/kto: klLogp is missing/);
  });
});
