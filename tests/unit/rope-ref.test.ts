// Tier 1: the float64 RoPE reference against a direct transcription of Hugging Face's equations
// (inv_freq, cos/sin tables over emb = [f, f], q·cos + rotate_half(q)·sin), hand values, its
// relative-position property, and its backward against central finite differences.
import { describe, it, expect } from 'vitest';
import { ropeForwardRef, ropeBackwardRef, ropeInvFreqRef } from '../../src/reference/rope';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';
import { centralDiff } from '../helpers/fd';

// LlamaRotaryEmbedding + apply_rotary_pos_emb, written out on (B,T,NH,HS) with position ids 0..T−1.
function hfRope(x: Float64Array, B: number, T: number, NH: number, HS: number, theta: number): Float64Array {
  const invFreq = Array.from({ length: HS / 2 }, (_, i) => 1 / theta ** ((2 * i) / HS)); // torch.arange(0, dim, 2) / dim
  const out = new Float64Array(x.length);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const freqs = invFreq.map((f) => t * f);
      const emb = [...freqs, ...freqs];
      const cos = emb.map(Math.cos);
      const sin = emb.map(Math.sin);
      for (let h = 0; h < NH; h++) {
        const o = ((b * T + t) * NH + h) * HS;
        const q = Array.from(x.subarray(o, o + HS));
        const rotateHalf = [...q.slice(HS / 2).map((v) => -v), ...q.slice(0, HS / 2)];
        for (let j = 0; j < HS; j++) out[o + j] = q[j] * cos[j] + rotateHalf[j] * sin[j];
      }
    }
  }
  return out;
}

describe('rope reference', () => {
  it('inv_freq is theta^(−2i/HS)', () => {
    expectClose(ropeInvFreqRef(8, 10000), [1, 0.1, 0.01, 0.001], { rtol: 1e-14, atol: 0 });
    expectClose(ropeInvFreqRef(6, 1e6), [1, 1e-2, 1e-4], { rtol: 1e-14, atol: 0 });
  });

  it('forward matches a hand-computed rotation (HS=2: a plain rotation by t radians)', () => {
    // B=1 T=3 NH=1 HS=2, theta irrelevant (inv_freq = [1]); row t rotated by angle t
    const out = ropeForwardRef([1, 0, 1, 0, 0, 2], 1, 3, 1, 2, 10000);
    expectClose(out, [1, 0, Math.cos(1), Math.sin(1), -2 * Math.sin(2), 2 * Math.cos(2)], { rtol: 1e-14, atol: 1e-15 });
  });

  it.each([
    [2, 5, 3, 8, 10000],
    [1, 7, 2, 6, 100],
    [3, 3, 1, 4, 1e6],
    [1, 9, 4, 2, 10],
  ])('forward matches the Hugging Face equations (B=%i T=%i NH=%i HS=%i theta=%f)', (B, T, NH, HS, theta) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const x = Float64Array.from({ length: B * T * NH * HS }, () => rng.uniform(-2, 2));
    expectClose(ropeForwardRef(x, B, T, NH, HS, theta), hfRope(x, B, T, NH, HS, theta), { rtol: 1e-13, atol: 1e-14, what: `rope seed=${seed}` });
  });

  it('position 0 is the identity, norms are kept, and q·k depends only on the position difference', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const T = 7, HS = 6, theta = 50;
    const x = Float64Array.from({ length: T * HS }, () => rng.uniform(-1, 1));
    const out = ropeForwardRef(x, 1, T, 1, HS, theta);
    expectClose(out.subarray(0, HS), x.subarray(0, HS), { rtol: 0, atol: 0, what: 'row 0' });
    for (let t = 0; t < T; t++) {
      const n = (a: Float64Array) => Math.hypot(...a.subarray(t * HS, (t + 1) * HS));
      expect(n(out)).toBeCloseTo(n(x), 12);
    }
    // the same q at positions (t, u) and k at positions (t+2, u+2) give the same score
    const q = Array.from({ length: HS }, () => rng.uniform(-1, 1));
    const k = Array.from({ length: HS }, () => rng.uniform(-1, 1));
    const score = (tq: number, tk: number) => {
      const rows = new Float64Array(T * HS * 2);
      rows.set(q, tq * HS);
      rows.set(k, (T + tk) * HS);
      const r = ropeForwardRef(rows, 2, T, 1, HS, theta); // q in batch 0, k in batch 1
      let s = 0;
      for (let d = 0; d < HS; d++) s += r[tq * HS + d] * r[(T + tk) * HS + d];
      return s;
    };
    expect(score(4, 1)).toBeCloseTo(score(6, 3), 12);
    expect(score(2, 2)).toBeCloseTo(q.reduce((s, v, d) => s + v * k[d], 0), 12);
  });

  it('rejects an odd head size', () => {
    expect(() => ropeForwardRef(new Float64Array(3), 1, 1, 1, 3, 10000)).toThrow(/HS=3 must be a positive even integer/);
    expect(() => ropeBackwardRef(new Float64Array(4), 1, 1, 1, 4, 0)).toThrow(/theta=0/);
  });

  it.each([
    [2, 5, 3, 8, 10000],
    [1, 7, 2, 6, 100],
    [1, 4, 1, 2, 10],
  ])('backward matches central finite differences (B=%i T=%i NH=%i HS=%i theta=%f)', (B, T, NH, HS, theta) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const n = B * T * NH * HS;
    const x = Float64Array.from({ length: n }, () => rng.uniform(-1.5, 1.5));
    const dout = Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const f = () => ropeForwardRef(x, B, T, NH, HS, theta).reduce((s, o, i) => s + o * dout[i], 0);
    expectClose(ropeBackwardRef(dout, B, T, NH, HS, theta), centralDiff(x, f), { rtol: 1e-6, atol: 1e-8, what: `dinp seed=${seed}` });
  });
});
