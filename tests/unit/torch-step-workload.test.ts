// scripts/torch_step.py (the PyTorch step for the GPU ratio, docs/perf.md) draws the bench's own
// workload — weights, tokens, targets, completion positions and the engine's coefficients — with a
// Python port of src/util/rng.ts, so its tokens/s and its `logp_seq0` are for the same model and
// batch as `npm run bench`. Checked here against src/bench/workload.ts, with numpy's vectorised
// draws and with the plain-Python ones. Needs python3 (no torch).
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { presetConfig } from '../../src/model/config';
import { IGNORE_TARGET } from '../../src/model/constants';
import { benchBatch, benchCoefficients, benchWeights } from '../../src/bench/workload';
import { Rng } from '../../src/util/rng';

interface Dump {
  weights: Record<string, { n: number; sum: number; first: number[]; last: number }>;
  tokens: number[];
  targets: number[];
  completion: number[];
  coef_first: number[];
  coef_sum: number;
}

function dump(preset: string, B: number, T: number, noNumpy: boolean): Dump {
  const args = ['scripts/torch_step.py', '--dump-workload', '--preset', preset, '--batch', String(B), '--seq', String(T), ...(noNumpy ? ['--no-numpy'] : [])];
  return JSON.parse(execFileSync('python3', args, { encoding: 'utf8' })) as Dump;
}

describe('scripts/torch_step.py draws the bench workload', () => {
  it.each([
    ['builtin', 2, 9, false],
    ['builtin', 2, 9, true],
    ['tiny', 3, 16, false],
  ] as const)('%s %d × %d (plain Python: %s)', (preset, B, T, noNumpy) => {
    const got = dump(preset, B, T, noNumpy);
    const config = presetConfig(preset);
    const weights = benchWeights(config, 1);
    expect(Object.keys(got.weights)).toEqual([...weights.keys()]);
    for (const [name, w] of weights) {
      const g = got.weights[name];
      expect(g.n, name).toBe(w.length);
      // Python keeps float64 draws; the engine stores them as f32 (relative rounding ≤ 6e-8)
      const sum = w.reduce((s, x) => s + x, 0);
      expect(Math.abs(g.sum - sum), `${name} sum`).toBeLessThan(1e-6 * Math.max(1, w.length * 0.02));
      g.first.forEach((x, i) => expect(Math.abs(x - w[i]), `${name}[${i}]`).toBeLessThanOrEqual(Math.abs(w[i]) * 1e-7));
      expect(Math.abs(g.last - w[w.length - 1]), `${name} last`).toBeLessThanOrEqual(Math.abs(w[w.length - 1]) * 1e-7);
    }
    const batch = benchBatch(config, B, T, 2);
    expect(got.tokens).toEqual(Array.from(batch.tokens));
    expect(got.targets).toEqual(Array.from(batch.targets, (t) => (t === IGNORE_TARGET ? -1 : t)));
    expect(got.completion).toEqual(Array.from(batch.completionMask));
    const coef = benchCoefficients(batch, new Rng(3)); // the engine's first step (EngineStep seeds 3)
    got.coef_first.forEach((x, i) => expect(Math.abs(x - coef[i])).toBeLessThanOrEqual(Math.abs(coef[i]) * 1e-7));
    expect(Math.abs(got.coef_sum - coef.reduce((s, x) => s + x, 0))).toBeLessThan(1e-6);
  });
});
