// KTO on pairs, as TRL's KTOTrainer unpairs a paired data set (batches of 1000: chosen rows then
// rejected rows), and the fixed prompts of samples over time from pairs or unpaired examples.
import { describe, expect, it } from 'vitest';
import { unpairPairs, UNPAIR_BATCH } from '../../src/train/unpair';
import { dataLengths, timedPrompts } from '../../src/onnx/timed-samples';
import { ByteTokenizer } from '../../src/tokenizer/byte';
import type { PairIds } from '../../src/train/pairs';

const enc = (s: string) => Array.from(new TextEncoder().encode(s));
const pair = (i: number): PairIds => ({ promptIds: enc(`p${i}`), chosenIds: enc(`c${i}`), rejectedIds: enc(`rr${i}`), index: i, line: i + 1 });

describe('unpairPairs', () => {
  it('chosen rows (label true) then rejected rows, per batch of 1000, keeping index and line', () => {
    const u = unpairPairs([0, 1, 2].map(pair));
    expect(u.map((x) => [x.index, x.label, x.line])).toEqual([[0, true, 1], [1, true, 2], [2, true, 3], [0, false, 1], [1, false, 2], [2, false, 3]]);
    expect(u[3].completionIds).toEqual(enc('rr0'));
    const big = unpairPairs(Array.from({ length: UNPAIR_BATCH + 2 }, (_, i) => pair(i)));
    expect(big.slice(UNPAIR_BATCH - 1, UNPAIR_BATCH + 1).map((x) => [x.index, x.label])).toEqual([[999, true], [0, false]]);
    expect(big.slice(2 * UNPAIR_BATCH).map((x) => [x.index, x.label])).toEqual([[1000, true], [1001, true], [1000, false], [1001, false]]);
  });
});

describe('timed prompts', () => {
  const tok = new ByteTokenizer();
  it('the first held-out pairs, or the training ones without an eval split', () => {
    const ps = [0, 1, 2, 3].map(pair);
    expect(timedPrompts(ps, ps.slice(2), tok, 3).map((p) => [p.prompt, p.pair.chosen, p.pair.rejected])).toEqual([['p2', 'c2', 'rr2'], ['p3', 'c3', 'rr3']]);
    expect(timedPrompts(ps, [], tok, 2).map((p) => p.prompt)).toEqual(['p0', 'p1']);
  });
  it('unpaired examples grouped by prompt: desirable as chosen, undesirable as rejected', () => {
    const u = unpairPairs([0, 1].map(pair));
    expect(timedPrompts(u, [], tok, 3).map((p) => [p.prompt, p.pair.chosen, p.pair.rejected])).toEqual([['p0', 'c0', 'rr0'], ['p1', 'c1', 'rr1']]);
    expect(dataLengths(u)).toEqual({ chosen: 2, rejected: 3 });
    expect(dataLengths([0, 1].map(pair))).toEqual({ chosen: 2, rejected: 3 });
  });
});
