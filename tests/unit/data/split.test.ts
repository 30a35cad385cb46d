// Deterministic data order (the train/eval split, length-bucketed batches) and the duplicate index.
import { describe, it, expect } from 'vitest';
import { splitTrainEval, lengthBucketedBatches } from '../../../src/data/split';
import { Rng } from '../../../src/util/rng';
import { DupIndex, hashTexts } from '../../../src/data/dup-index';

describe('splitTrainEval', () => {
  const items = Array.from({ length: 103 }, (_, i) => i);
  it('is a seeded partition that keeps the input order', () => {
    const a = splitTrainEval(items, 0.1, 7);
    expect(a).toEqual(splitTrainEval(items, 0.1, 7));
    expect(a.eval).toHaveLength(10);
    expect([...a.train, ...a.eval].sort((x, y) => x - y)).toEqual(items);
    expect(a.train).toEqual([...a.train].sort((x, y) => x - y));
    expect(splitTrainEval(items, 0.1, 8).eval).not.toEqual(a.eval);
  });
  it('keeps one example on each side when it can, none in eval for 0', () => {
    expect(splitTrainEval([1, 2], 0.01, 1).eval).toHaveLength(1);
    expect(splitTrainEval([1, 2], 0.99, 1).train).toHaveLength(1);
    expect(splitTrainEval(items, 0, 1)).toEqual({ train: items, eval: [] });
    expect(() => splitTrainEval(items, 1, 1)).toThrow(/evalFraction/);
  });
});

describe('lengthBucketedBatches', () => {
  const rng = new Rng(3);
  const lengths = Array.from({ length: 1000 }, () => 1 + rng.int(500));
  it('uses every index once, is seeded, and groups similar lengths', () => {
    const b = lengthBucketedBatches(lengths, 8, 11, { bucketBatches: 10 });
    expect(b).toEqual(lengthBucketedBatches(lengths, 8, 11, { bucketBatches: 10 }));
    expect(b.flat().sort((x, y) => x - y)).toEqual(lengths.map((_, i) => i));
    expect(b.filter((x) => x.length !== 8)).toHaveLength(0);
    const spread = (bs: number[][]) => bs.reduce((s, x) => s + Math.max(...x.map((i) => lengths[i])) - Math.min(...x.map((i) => lengths[i])), 0) / bs.length;
    const random = Array.from({ length: 125 }, (_, k) => Array.from({ length: 8 }, (_, j) => k * 8 + j));
    expect(spread(b)).toBeLessThan(spread(random) / 4);
    expect(lengthBucketedBatches(lengths, 8, 12, { bucketBatches: 10 })).not.toEqual(b);
  });
  it('keeps or drops the short last batch', () => {
    const ls = Array.from({ length: 10 }, (_, i) => i);
    expect(lengthBucketedBatches(ls, 4, 1).flat()).toHaveLength(10);
    const dropped = lengthBucketedBatches(ls, 4, 1, { dropLast: true });
    expect(dropped.map((x) => x.length)).toEqual([4, 4]);
    expect(() => lengthBucketedBatches(ls, 0, 1)).toThrow(/batchSize/);
  });
});

describe('DupIndex', () => {
  it('finds every repeat with its first line across table growth, and no false repeats', () => {
    const idx = new DupIndex();
    const n = 50_000;
    for (let i = 0; i < n; i++) expect(idx.checkAndAdd(hashTexts([`p${i}`, 'c', 'r']), i + 1)).toBeUndefined();
    for (let i = 0; i < n; i += 997) expect(idx.checkAndAdd(hashTexts([`p${i}`, 'c', 'r']), n + i + 1)).toBe(i + 1);
    // the separator matters: ("ab", "c") is not ("a", "bc")
    expect(hashTexts(['ab', 'c'])).not.toEqual(hashTexts(['a', 'bc']));
  });
});
