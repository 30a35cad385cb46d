// Tier 1: the float64 attention reference's backward against central finite differences,
// using the sum(out · dout) trick with a random upstream gradient (nonzero on padded rows too).
import { describe, it, expect } from 'vitest';
import { attentionForwardRef, attentionBackwardRef } from '../../src/reference/attention';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';
import { centralDiff } from '../helpers/fd';


describe('attention reference', () => {
  it('forward matches a hand-computed case (B=1 T=2 C=1 NH=1)', () => {
    // rows (q, k, v): t=0 (1, 0, 2), t=1 (1, ln 3, 6); scale 1/sqrt(1)
    // row 1 scores [0, ln 3] -> probabilities [1/4, 3/4] -> out 2/4 + 18/4 = 5
    const { out, att } = attentionForwardRef([1, 0, 2, 1, Math.log(3), 6], [2], 1, 2, 1, 1);
    expectClose(out, [2, 5], { rtol: 1e-12, atol: 0, what: 'out' });
    expectClose(att, [1, 0, 0.25, 0.75], { rtol: 1e-12, atol: 0, what: 'att' });
  });

  it('is causal, scales by 1/sqrt(HS) and zeroes padded rows', () => {
    const B = 2, T = 4, C = 8, NH = 2;
    const rng = new Rng(7);
    const qkv = Float64Array.from({ length: B * T * 3 * C }, () => rng.uniform(-1, 1));
    const lengths = [4, 2];
    const a = attentionForwardRef(qkv, lengths, B, T, C, NH);
    // change the last row of sequence 0: rows 0..2 must not move
    const qkv2 = qkv.slice();
    for (let c = 0; c < 3 * C; c++) qkv2[3 * 3 * C + c] += 1;
    const b = attentionForwardRef(qkv2, lengths, B, T, C, NH);
    expect(Array.from(b.out.slice(0, 3 * C))).toEqual(Array.from(a.out.slice(0, 3 * C)));
    // padded rows t ≥ 2 of sequence 1: out and att are zeros
    expect(a.out.slice((T + 2) * C, 2 * T * C).every((x) => x === 0)).toBe(true);
    for (let h = 0; h < NH; h++) {
      const row = ((NH + h) * T + 2) * T;
      expect(a.att.slice(row, row + 2 * T).every((x) => x === 0)).toBe(true);
    }
    // row 1 of head 0, sequence 0, by hand: softmax of (q1·k0, q1·k1)/2 (HS = 4)
    const dot = (i: number, j: number) => [0, 1, 2, 3].reduce((s, d) => s + qkv[i + d] * qkv[j + d], 0);
    const s0 = dot(3 * C, C) / 2, s1 = dot(3 * C, 3 * C + C) / 2;
    const p0 = 1 / (1 + Math.exp(s1 - s0));
    expectClose([a.att[T], a.att[T + 1], a.att[T + 2]], [p0, 1 - p0, 0], { rtol: 1e-12, atol: 1e-15, what: 'att row 1' });
  });

  it('rejects bad shapes and lengths', () => {
    expect(() => attentionForwardRef(new Float64Array(18), [2], 1, 2, 3, 2)).toThrow(/C=3 is not a multiple of NH=2/);
    expect(() => attentionForwardRef(new Float64Array(18), [3], 1, 2, 3, 1)).toThrow(/lengths\[0\] = 3/);
    expect(() => attentionBackwardRef(new Float64Array(6), new Float64Array(18), new Float64Array(4), [], 1, 2, 3, 1)).toThrow(/lengths has 0 entries/);
  });

  it.each([
    [2, 4, 6, 2, [4, 2]],
    [1, 5, 3, 1, [3]], // NH=1, length < T
    [3, 3, 4, 2, [3, 1, 0]], // an empty sequence
    [1, 6, 8, 1, [6]],
  ])('backward matches central finite differences (B=%i T=%i C=%i NH=%i lengths=%j)', (B, T, C, NH, lengths) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rand = (n: number) => Float64Array.from({ length: n }, () => rng.uniform(-1.5, 1.5));
    const qkv = rand(B * T * 3 * C), dout = rand(B * T * C);
    const f = () => {
      const { out } = attentionForwardRef(qkv, lengths, B, T, C, NH);
      let s = 0;
      for (let i = 0; i < out.length; i++) s += out[i] * dout[i];
      return s;
    };
    const { att } = attentionForwardRef(qkv, lengths, B, T, C, NH);
    const { dqkv } = attentionBackwardRef(dout, qkv, att, lengths, B, T, C, NH);
    expect(dqkv.some((g) => Math.abs(g) > 1e-3)).toBe(true);
    expectClose(dqkv, centralDiff(qkv, f), { rtol: 1e-6, atol: 1e-8, what: `dqkv seed=${seed}` });
  });
});
