// Random per-sequence statistics shaped like the engine's readback, and central finite
// differences of an objective's loss with respect to each per-sequence sum.
import type { PairBatch, UnpairedBatch } from '../../../src/train/objectives';
import { Rng } from '../../../src/util/rng';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface PairFixture {
  chosenLogp: number[];
  rejectedLogp: number[];
  chosenRefLogp: number[];
  rejectedRefLogp: number[];
  chosenLen: number[];
  rejectedLen: number[];
  chosenLogitSum: number[];
  chosenLogitCount: number[];
  rejectedLogitSum: number[];
  rejectedLogitCount: number[];
  chosenNllSum: number[];
  chosenNllCount: number[];
}

/**
 * n pairs with lengths 1..12 and average log-probs in (−3, −0.05); `nearZero` puts some averages
 * at −1e−3 … −1e−6 (a nearly certain model, where ORPO's log(1 − e^A) is steep).
 */
export function randomPairs(rng: Rng, n: number, opts: { nearZero?: boolean } = {}): PairFixture {
  const f: PairFixture = { chosenLogp: [], rejectedLogp: [], chosenRefLogp: [], rejectedRefLogp: [], chosenLen: [], rejectedLen: [], chosenLogitSum: [], chosenLogitCount: [], rejectedLogitSum: [], rejectedLogitCount: [], chosenNllSum: [], chosenNllCount: [] };
  const avg = (): number => (opts.nearZero && rng.next() < 0.5 ? -(10 ** -rng.uniform(3, 6)) : -rng.uniform(0.05, 3));
  for (let i = 0; i < n; i++) {
    const lw = 1 + rng.int(12);
    const ll = 1 + rng.int(12);
    const sw = avg() * lw;
    const sl = avg() * ll;
    f.chosenLen.push(lw);
    f.rejectedLen.push(ll);
    f.chosenLogp.push(sw);
    f.rejectedLogp.push(sl);
    f.chosenRefLogp.push(Math.min(0, sw + rng.uniform(-2, 2)));
    f.rejectedRefLogp.push(Math.min(0, sl + rng.uniform(-2, 2)));
    f.chosenLogitSum.push(rng.uniform(-3, 3) * lw);
    f.chosenLogitCount.push(lw);
    f.rejectedLogitSum.push(rng.uniform(-3, 3) * ll);
    f.rejectedLogitCount.push(ll);
    const prompt = 1 + rng.int(10);
    f.chosenNllCount.push(prompt + lw);
    f.chosenNllSum.push(sw - rng.uniform(0.5, 3) * prompt);
  }
  return f;
}

export interface UnpairedFixture {
  logp: number[];
  refLogp: number[];
  len: number[];
  desirable: boolean[];
  logitSum: number[];
  logitCount: number[];
  klLogp: number[];
  klRefLogp: number[];
}

export function randomUnpaired(rng: Rng, n: number): UnpairedFixture {
  const f: UnpairedFixture = { logp: [], refLogp: [], len: [], desirable: [], logitSum: [], logitCount: [], klLogp: [], klRefLogp: [] };
  for (let i = 0; i < n; i++) {
    const len = 1 + rng.int(12);
    const s = -rng.uniform(0.05, 3) * len;
    f.len.push(len);
    f.logp.push(s);
    f.refLogp.push(Math.min(0, s + rng.uniform(-4, 4)));
    f.desirable.push(i === 0 ? true : i === 1 ? false : rng.next() < 0.5);
    f.logitSum.push(rng.uniform(-3, 3) * len);
    f.logitCount.push(len);
    const k = -rng.uniform(1, 20);
    f.klLogp.push(k);
    f.klRefLogp.push(k - rng.uniform(-1, 3));
  }
  return f;
}

/**
 * Central difference of loss(x) at x[i], step rel·|x[i]| (at least 1e−9) so tiny near-zero sums
 * stay ≤ 0. Losses with large third derivatives (discopop's σ(z/τ)) need a smaller rel.
 */
export function centralDiff(x: number[], i: number, loss: () => number, rel = 1e-5): number {
  const old = x[i];
  const h = Math.max(1e-9, rel * Math.abs(old));
  x[i] = old + h;
  const up = loss();
  x[i] = old - h;
  const down = loss();
  x[i] = old;
  return (up - down) / (2 * h);
}

/** (N,) finite-difference ∂loss/∂field[i] for each i. */
export function fdPairs(f: PairFixture, field: keyof PairFixture, loss: (b: PairBatch) => number, rel?: number): Float64Array {
  const x = f[field];
  return Float64Array.from(x, (_, i) => centralDiff(x, i, () => loss(f), rel));
}

export function fdUnpaired(f: UnpairedFixture, loss: (b: UnpairedBatch) => number): Float64Array {
  return Float64Array.from(f.logp, (_, i) => centralDiff(f.logp, i, () => loss(f)));
}

/**
 * Two pairs with hand-checkable numbers (A_w = (−1, −1.5), A_l = (−2, −0.4)), used by the worked
 * values of several objectives; reference-free ones ignore the reference sums.
 */
export const FIXED_PAIRS: PairBatch = {
  chosenLogp: [-4, -3],
  rejectedLogp: [-6, -2],
  chosenRefLogp: [-5, -2.5],
  rejectedRefLogp: [-5.5, -2.5],
  chosenLen: [4, 2],
  rejectedLen: [3, 5],
  chosenLogitSum: [2, -1],
  chosenLogitCount: [4, 2],
  rejectedLogitSum: [0.5, 4],
  rejectedLogitCount: [3, 5],
};
