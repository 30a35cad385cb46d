// The diagnostics' numbers (src/train/displacement.ts, src/train/ches.ts) against a direct float64
// computation from logged per-pair statistics: changes since the start, means and quantiles over
// pairs (numpy's linear interpolation), the margin gained and the share above zero; the
// displacement, negative-reward and saturation notices; CHES from hidden states; token pieces.
import { describe, it, expect } from 'vitest';
import { chesQuarters, displaced, displacementRows, pairDeltas, quantileSorted, saturation, spread, type SumsPoint } from '../../src/train/displacement';
import { batchChes, chesFromSums } from '../../src/train/ches';
import { buildBatch } from '../../src/model/batch';
import { tokenPieces } from '../../src/worker/pair-table';
import { ByteTokenizer } from '../../src/tokenizer/byte';
import { displacementNotes } from '../../src/ui/diagnostics/data';
import { Rng } from '../../src/util/rng';

/** Quantile by its definition: the order statistic at (n−1)q, interpolated linearly. */
function quantileRef(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = (s.length - 1) * q;
  const lo = Math.floor(h);
  return lo + 1 < s.length ? s[lo] * (1 - (h - lo)) + s[lo + 1] * (h - lo) : s[lo];
}

describe('quantiles', () => {
  it('match numpy.quantile (linear) on hand-checked values', () => {
    const xs = [1, 2, 3, 4, 10];
    expect(quantileSorted(xs, 0)).toBe(1);
    expect(quantileSorted(xs, 1)).toBe(10);
    expect(quantileSorted(xs, 0.5)).toBe(3);
    expect(quantileSorted(xs, 0.1)).toBeCloseTo(1.4, 12); // numpy.quantile([1,2,3,4,10], 0.1) = 1.4
    expect(quantileSorted(xs, 0.9)).toBeCloseTo(7.6, 12); // numpy: 7.6
    expect(quantileSorted([5], 0.9)).toBe(5);
    expect(spread([3, 1, 2])).toEqual({ mean: 2, p10: 1.2, p25: 1.5, p50: 2, p75: 2.5, p90: 2.8 });
  });
});

describe('displacement from logged per-pair statistics', () => {
  const rng = new Rng(17);
  const K = 13;
  const lens = { chosen: Array.from({ length: K }, () => 1 + rng.int(20)), rejected: Array.from({ length: K }, () => 1 + rng.int(20)) };
  const sums = (step: number, drift: number): SumsPoint => ({
    step,
    chosen: Array.from({ length: K }, (_, i) => -lens.chosen[i] * (1 + rng.next()) + drift * lens.chosen[i]),
    rejected: Array.from({ length: K }, (_, i) => -lens.rejected[i] * (1 + rng.next()) + 2 * drift * lens.rejected[i]),
  });
  const start = sums(0, 0);
  const points = [sums(2, -0.1), sums(4, -0.3), sums(5, -0.6)];

  for (const scale of ['avg', 'sum'] as const) {
    it(`means, 10–90 % quantiles, margins and the share above zero equal float64 (${scale})`, () => {
      const rows = displacementRows(start, points, lens, scale);
      expect(rows.map((r) => r.step)).toEqual([0, 2, 4, 5]);
      expect(rows[0].chosen).toEqual({ mean: 0, p10: 0, p25: 0, p50: 0, p75: 0, p90: 0 });
      points.forEach((p, k) => {
        const row = rows[k + 1];
        const div = (i: number, side: 'chosen' | 'rejected') => (scale === 'avg' ? lens[side][i] : 1);
        const dc = p.chosen.map((s, i) => (s - start.chosen[i]) / div(i, 'chosen'));
        const dr = p.rejected.map((s, i) => (s - start.rejected[i]) / div(i, 'rejected'));
        const dm = dc.map((c, i) => c - dr[i]);
        const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        for (const [got, xs] of [[row.chosen, dc], [row.rejected, dr], [row.margin, dm]] as const) {
          expect(got.mean).toBeCloseTo(mean(xs), 12);
          for (const [q, key] of [[0.1, 'p10'], [0.25, 'p25'], [0.5, 'p50'], [0.75, 'p75'], [0.9, 'p90']] as const) expect(got[key]).toBeCloseTo(quantileRef(xs, q), 12);
        }
        expect(row.accuracy).toBe(dm.filter((m) => m > 0).length / K);
        pairDeltas(start, p, lens, scale).margin.forEach((m, i) => expect(m).toBeCloseTo(dm[i], 12));
      });
    });
  }

  it('says "displacement" when both fall while the margin rises, and explains a negative chosen reward', () => {
    const rows = displacementRows(start, points, lens, 'avg');
    // chosen drifts down by 0.6/token, rejected by 1.2/token: both fall, the margin grows
    expect(rows.at(-1)!.chosen.mean).toBeLessThan(0);
    expect(rows.at(-1)!.margin.mean).toBeGreaterThan(0);
    expect(displaced(rows)).toBe(true);
    const notes = displacementNotes(rows, 'DPO', { reference: true, nll: false });
    expect(notes[0]).toMatch(/only the margin is optimised; a larger β, a lower learning rate or an NLL term/i);
    expect(notes[1]).toMatch(/rewards\/chosen .* negative/);
    expect(displacementNotes(rows, 'ORPO', { reference: false, nll: true })[0]).toMatch(/^ORPO: .*likelihood displacement\. Its NLL term was not enough/);
    // chosen rising: neither
    const up = displacementRows(start, [{ step: 3, chosen: start.chosen.map((s) => s + 1), rejected: start.rejected.map((s) => s - 1) }], lens, 'sum');
    expect(displaced(up)).toBe(false);
    expect(displacementNotes(up, 'DPO', { reference: true, nll: false })).toEqual([]);
    // without a reference (ORPO, SimPO): rewards are β·A, negative by construction, said whatever the change
    expect(displacementNotes(up, 'ORPO', { reference: false, nll: true })).toEqual([expect.stringMatching(/ORPO: its rewards\/chosen .* always negative/)]);
    expect(displaced(displacementRows(start, [], lens, 'sum'))).toBe(false);
  });
});

describe('saturation', () => {
  const train = (acc: number[]) => acc.map((a, i) => ({ step: i + 1, 'rewards/accuracies': a }));
  const evals = (acc: number[], margin: number[]) => acc.map((a, i) => ({ step: 2 * (i + 1), 'eval_rewards/accuracies': a, 'eval_rewards/margins': margin[i] }));

  it('needs train accuracy ≥ 0.95 over the last 5 updates and a stalled eval', () => {
    expect(saturation(train([0.5, 1, 1, 1, 1, 1]), evals([0.6, 0.7, 0.7], [0.1, 0.2, 0.3]))).toEqual({ kind: 'eval-stalled', trainAccuracy: 1, stalled: ['accuracy'] });
    expect(saturation(train([1, 1, 1, 1, 1]), evals([0.6, 0.7, 0.8], [0.1, 0.3, 0.2]))).toMatchObject({ stalled: ['margin'] });
    expect(saturation(train([1, 1, 1, 1, 1]), evals([0.6, 0.7, 0.8], [0.1, 0.2, 0.3]))).toBeNull(); // still improving
    expect(saturation(train([1, 1, 1, 1, 0.5]), evals([0.7, 0.7], [0.3, 0.3]))).toBeNull(); // 0.9 < 0.95
    expect(saturation(train([1, 1, 1, 1, 1]), evals([0.7], [0.3]))).toBeNull(); // one eval cannot stall
    expect(saturation(train([1, 1, 1, 1, 1]), [])).toEqual({ kind: 'no-eval', trainAccuracy: 1 });
    expect(saturation([], [])).toBeNull();
  });
});

describe('CHES', () => {
  it('equals ⟨Σh_w, Σh_l⟩ − ‖Σh_w‖² over the positions predicting completion tokens (float64 by hand)', () => {
    const rng = new Rng(5);
    const C = 3;
    // pair 0: prompt [1,2], chosen [3,4,5], rejected [6]; pair 1: prompt [7], chosen [8], rejected [9,10]
    const batch = buildBatch(
      [
        { ids: [1, 2, 3, 4, 5], promptLen: 2 },
        { ids: [7, 8], promptLen: 1 },
        { ids: [1, 2, 6], promptLen: 2 },
        { ids: [7, 9, 10], promptLen: 1 },
      ],
      0,
      6,
    );
    const hidden = Float32Array.from({ length: batch.B * batch.T * C }, () => rng.normal());
    const h = (b: number, t: number) => Array.from(hidden.subarray((b * batch.T + t) * C, (b * batch.T + t + 1) * C), Number);
    const sum = (rows: number[][]) => rows.reduce((a, r) => a.map((x, c) => x + r[c]), [0, 0, 0]);
    const dot = (a: number[], b: number[]) => a.reduce((s, x, c) => s + x * b[c], 0);
    // chosen of pair 0 is predicted at positions 1, 2, 3 (the last prompt token up to the second-to-last token)
    const want = [
      [sum([h(0, 1), h(0, 2), h(0, 3)]), sum([h(2, 1)]), 3, 1],
      [sum([h(1, 0)]), sum([h(3, 0), h(3, 1)]), 1, 2],
    ] as const;
    const got = batchChes(hidden, batch, C);
    want.forEach(([sw, sl, lw, ll], j) => {
      expect(got[j].ches).toBeCloseTo(dot(sw, sl) - dot(sw, sw), 10);
      expect(got[j].normalized).toBeCloseTo(dot(sw, sl) / (lw * ll) - dot(sw, sw) / (lw * lw), 10);
    });
    expect(chesFromSums([1, 0], [1, 0], 1, 1)).toEqual({ ches: 0, normalized: 0 }); // identical answers: 0
  });

  it('counts chosen falls among the highest- and lowest-CHES quarters', () => {
    expect(chesQuarters([5, 1, 4, 0, 3, 2, 7, 6], [true, false, false, false, true, true, true, false])).toEqual({ top: [1, 2], bottom: [0, 2] });
  });
});

describe('token pieces', () => {
  it('join into the text; a character split over bytes belongs to its last byte; eos is named', () => {
    const tok = new ByteTokenizer();
    const ids = [...tok.encode(' 서울 🙂!'), tok.eosTokenId];
    const pieces = tokenPieces(ids, tok);
    expect(pieces).toHaveLength(ids.length);
    expect(pieces.slice(0, -1).join('')).toBe(' 서울 🙂!');
    expect(pieces.at(-1)).toBe('⟨eos⟩');
    expect(pieces.slice(1, 4)).toEqual(['', '', '서']);
  });
});
