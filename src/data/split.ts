// Deterministic data order (README.md: every method sees the same data order for a seed):
// the train/eval split and length-bucketed batches, both drawn from src/util/rng.ts.
import { Rng } from '../util/rng';

/**
 * A seeded split: round(n · evalFraction) items go to eval (at least one, and at least one left
 * for training, when evalFraction > 0 and n ≥ 2). Both parts keep the input order.
 */
export function splitTrainEval<T>(items: readonly T[], evalFraction: number, seed: number): { train: T[]; eval: T[] } {
  if (!(evalFraction >= 0 && evalFraction < 1)) throw new Error(`evalFraction must be in [0, 1), got ${evalFraction}`);
  const n = items.length;
  let nEval = Math.round(n * evalFraction);
  if (evalFraction > 0 && n >= 2) nEval = Math.min(Math.max(nEval, 1), n - 1);
  const order = new Rng(seed).shuffle(Array.from({ length: n }, (_, i) => i));
  const isEval = new Uint8Array(n);
  for (let k = 0; k < nEval; k++) isEval[order[k]] = 1;
  const train: T[] = [];
  const evalSet: T[] = [];
  items.forEach((x, i) => (isEval[i] ? evalSet : train).push(x));
  return { train, eval: evalSet };
}

export interface BucketOptions {
  /** Batches per bucket: items are sorted by length within groups of batchSize · bucketBatches. */
  bucketBatches?: number;
  /** Drop the last, smaller batch. */
  dropLast?: boolean;
}

/**
 * Index batches of similar lengths (less padding), in a seeded random order: shuffle all
 * indices, cut them into buckets of batchSize · bucketBatches, sort each bucket by length
 * (longest first, ties by index), cut into batches, shuffle the batches. Every index appears
 * exactly once (unless dropLast drops the smaller final batch).
 */
export function lengthBucketedBatches(lengths: readonly number[], batchSize: number, seed: number, o: BucketOptions = {}): number[][] {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batchSize must be an integer ≥ 1, got ${batchSize}`);
  const bucketBatches = o.bucketBatches ?? 50;
  const rng = new Rng(seed);
  const order = rng.shuffle(Array.from({ length: lengths.length }, (_, i) => i));
  const bucket = batchSize * bucketBatches;
  const batches: number[][] = [];
  for (let b = 0; b < order.length; b += bucket) {
    const group = order.slice(b, b + bucket).sort((i, j) => lengths[j] - lengths[i] || i - j);
    for (let k = 0; k < group.length; k += batchSize) batches.push(group.slice(k, k + batchSize));
  }
  // buckets are whole multiples of batchSize: only the very last batch can be short
  if (o.dropLast && batches.length && batches.at(-1)!.length < batchSize) batches.pop();
  return rng.shuffle(batches);
}
