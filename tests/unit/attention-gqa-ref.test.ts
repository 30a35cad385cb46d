// Tier 1: the float64 grouped-query attention reference: a hand case, equality with the
// multi-head reference (attention.ts) when NKV = NH and with it on Hugging Face's repeat_kv
// expansion when NKV < NH, and its backward against central finite differences (sum(out · dout)
// trick, random upstream gradient) at GQA ratios 1, 2, 3 and NKV = 1.
import { describe, it, expect } from 'vitest';
import { attentionGqaForwardRef, attentionGqaBackwardRef } from '../../src/reference/attention-gqa';
import { attentionForwardRef, attentionBackwardRef } from '../../src/reference/attention';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';
import { centralDiff } from '../helpers/fd';

// k or v (B,T,NKV,HS) -> (B,T,NH,HS): query head h gets kv head floor(h / (NH/NKV)) (repeat_kv)
function repeatKv(x: ArrayLike<number>, B: number, T: number, NKV: number, NH: number, HS: number): Float64Array {
  const G = NH / NKV;
  const out = new Float64Array(B * T * NH * HS);
  for (let r = 0; r < B * T; r++) for (let h = 0; h < NH; h++) for (let d = 0; d < HS; d++) out[(r * NH + h) * HS + d] = x[(r * NKV + Math.floor(h / G)) * HS + d];
  return out;
}

// q, k, v (B,T,NH,HS) -> qkv (B,T,3C) in GPT-2's c_attn layout, C = NH·HS
function packQkv(q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>, B: number, T: number, C: number): Float64Array {
  const qkv = new Float64Array(B * T * 3 * C);
  for (let r = 0; r < B * T; r++) {
    for (let c = 0; c < C; c++) {
      qkv[r * 3 * C + c] = q[r * C + c];
      qkv[r * 3 * C + C + c] = k[r * C + c];
      qkv[r * 3 * C + 2 * C + c] = v[r * C + c];
    }
  }
  return qkv;
}

describe('grouped-query attention reference', () => {
  it('forward matches a hand-computed case (NH=2 sharing one kv head, T=2, HS=1)', () => {
    // k = [0, ln 3], v = [2, 6]; head 0 q = [1, 1], head 1 q = [0, −1]
    // head 0 row 1: scores [0, ln 3] -> [1/4, 3/4] -> 5; head 1 row 1: [0, −ln 3] -> [3/4, 1/4] -> 3
    const q = [1, 0, 1, -1]; // (T=2, NH=2, HS=1)
    const { out, att } = attentionGqaForwardRef(q, [0, Math.log(3)], [2, 6], [2], 1, 2, 2, 1, 1);
    expectClose(out, [2, 2, 5, 3], { rtol: 1e-12, atol: 0, what: 'out' });
    expectClose(att, [1, 0, 0.25, 0.75, 1, 0, 0.75, 0.25], { rtol: 1e-12, atol: 0, what: 'att' });
  });

  it.each([
    [2, 5, 3, 3, 4, [5, 3]], // NKV = NH
    [1, 7, 4, 2, 6, [7]],
    [2, 5, 6, 2, 8, [5, 2]], // G = 3
    [1, 6, 3, 1, 6, [6]], // NKV = 1
  ])('equals multi-head attention on repeat_kv copies (B=%i T=%i NH=%i NKV=%i HS=%i)', (B, T, NH, NKV, HS, lengths) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rand = (n: number) => Float64Array.from({ length: n }, () => rng.uniform(-1.5, 1.5));
    const C = NH * HS;
    const q = rand(B * T * C), k = rand(B * T * NKV * HS), v = rand(B * T * NKV * HS), dout = rand(B * T * C);
    const g = attentionGqaForwardRef(q, k, v, lengths, B, T, NH, NKV, HS);
    const qkv = packQkv(q, repeatKv(k, B, T, NKV, NH, HS), repeatKv(v, B, T, NKV, NH, HS), B, T, C);
    const m = attentionForwardRef(qkv, lengths, B, T, C, NH);
    expectClose(g.out, m.out, { rtol: 1e-13, atol: 1e-15, what: `out seed=${seed}` });
    expectClose(g.att, m.att, { rtol: 1e-13, atol: 1e-15, what: `att seed=${seed}` });
    expectClose(g.lse, m.lse, { rtol: 1e-13, atol: 1e-15, what: `lse seed=${seed}` });
    // backward: dq as is; dk, dv are the multi-head gradients summed over each group's heads
    const { dq, dk, dv } = attentionGqaBackwardRef(dout, q, k, v, g.att, lengths, B, T, NH, NKV, HS);
    const { dqkv } = attentionBackwardRef(dout, qkv, m.att, lengths, B, T, C, NH);
    const G = NH / NKV;
    const wantDq = new Float64Array(B * T * C);
    const wantDk = new Float64Array(B * T * NKV * HS);
    const wantDv = new Float64Array(B * T * NKV * HS);
    for (let r = 0; r < B * T; r++) {
      for (let h = 0; h < NH; h++) {
        for (let d = 0; d < HS; d++) {
          const c = h * HS + d;
          const kv = (r * NKV + Math.floor(h / G)) * HS + d;
          wantDq[r * C + c] = dqkv[r * 3 * C + c];
          wantDk[kv] += dqkv[r * 3 * C + C + c];
          wantDv[kv] += dqkv[r * 3 * C + 2 * C + c];
        }
      }
    }
    expectClose(dq, wantDq, { rtol: 1e-12, atol: 1e-14, what: `dq seed=${seed}` });
    expectClose(dk, wantDk, { rtol: 1e-12, atol: 1e-14, what: `dk seed=${seed}` });
    expectClose(dv, wantDv, { rtol: 1e-12, atol: 1e-14, what: `dv seed=${seed}` });
  });

  it('is causal and zeroes padded rows', () => {
    const B = 2, T = 5, NH = 4, NKV = 2, HS = 6;
    const rng = new Rng(5);
    const rand = (n: number) => Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const q = rand(B * T * NH * HS), k = rand(B * T * NKV * HS), v = rand(B * T * NKV * HS);
    const lengths = [5, 3];
    const a = attentionGqaForwardRef(q, k, v, lengths, B, T, NH, NKV, HS);
    // change the last row's k and v of sequence 0: rows 0..3 must not move
    const k2 = k.slice(), v2 = v.slice();
    for (let c = 0; c < NKV * HS; c++) {
      k2[4 * NKV * HS + c] += 1;
      v2[4 * NKV * HS + c] -= 1;
    }
    const b = attentionGqaForwardRef(q, k2, v2, lengths, B, T, NH, NKV, HS);
    expect(Array.from(b.out.slice(0, 4 * NH * HS))).toEqual(Array.from(a.out.slice(0, 4 * NH * HS)));
    expect(a.out.slice((T + 3) * NH * HS, 2 * T * NH * HS).every((x) => x === 0)).toBe(true);
  });

  it('rejects bad shapes and lengths', () => {
    expect(() => attentionGqaForwardRef([], [], [], [1], 1, 1, 4, 3, 2)).toThrow(/NH=4 is not a multiple of NKV=3/);
    expect(() => attentionGqaForwardRef([], [], [], [2], 1, 1, 2, 1, 2)).toThrow(/lengths\[0\] = 2/);
    expect(() => attentionGqaBackwardRef([], [], [], [], [], [], 1, 1, 2, 1, 2)).toThrow(/lengths has 0 entries/);
    expect(() => attentionGqaForwardRef([], [], [], [0], 1, 1, 2, 0, 2)).toThrow(/NKV=0/);
  });

  it.each([
    [2, 5, 2, 2, 8, [5, 3]], // G = 1
    [1, 7, 4, 2, 6, [7]], // G = 2
    [2, 3, 6, 2, 6, [3, 0]], // G = 3, an empty sequence
    [3, 5, 3, 1, 8, [5, 2, 4]], // NKV = 1
    [1, 1, 2, 1, 6, [1]], // a single token
  ])('backward matches central finite differences (B=%i T=%i NH=%i NKV=%i HS=%i lengths=%j)', (B, T, NH, NKV, HS, lengths) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rand = (n: number) => Float64Array.from({ length: n }, () => rng.uniform(-1.5, 1.5));
    const q = rand(B * T * NH * HS), k = rand(B * T * NKV * HS), v = rand(B * T * NKV * HS), dout = rand(B * T * NH * HS);
    const f = () => attentionGqaForwardRef(q, k, v, lengths, B, T, NH, NKV, HS).out.reduce((s, o, i) => s + o * dout[i], 0);
    const { att } = attentionGqaForwardRef(q, k, v, lengths, B, T, NH, NKV, HS);
    const { dq, dk, dv } = attentionGqaBackwardRef(dout, q, k, v, att, lengths, B, T, NH, NKV, HS);
    expect(dv.some((g) => Math.abs(g) > 1e-3)).toBe(true);
    // atol 1e-7: central differences carry ~1e-8 truncation error on gradients of order 1 (seed 1418065665 hit 1.3e-8)
    expectClose(dq, centralDiff(q, f), { rtol: 1e-6, atol: 1e-7, what: `dq seed=${seed}` });
    expectClose(dk, centralDiff(k, f), { rtol: 1e-6, atol: 1e-7, what: `dk seed=${seed}` });
    expectClose(dv, centralDiff(v, f), { rtol: 1e-6, atol: 1e-7, what: `dv seed=${seed}` });
  });
});
