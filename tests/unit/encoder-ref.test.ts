// Tier 1: the float64 encoder reference against a hand example and central finite
// differences (sum(out · dout) trick), and the host-side token bucketing (CSR) used by
// the GPU backward.
import { describe, it, expect } from 'vitest';
import { encoderForwardRef, encoderBackwardRef } from '../../src/reference/encoder';
import { bucketTokens } from '../../src/kernels/encoder';
import { Rng } from '../../src/util/rng';
import { freshSeed, expectClose } from '../helpers/close';
import { centralDiff } from '../helpers/fd';


describe('encoder reference', () => {
  it('forward adds the token row and the position row', () => {
    // V=3, P=2, C=2; tokens (1,2) = [[2, 0]]
    const out = encoderForwardRef([2, 0], [0, 1, 10, 11, 20, 21], [0.5, -0.5, 100, 200], 1, 2, 2);
    expect(Array.from(out)).toEqual([20.5, 20.5, 100, 201]);
  });

  it.each([
    [2, 3, 4, 5, 6],
    [3, 4, 2, 2, 4],
    [1, 1, 1, 1, 1],
  ])('backward matches central finite differences (B=%i T=%i C=%i V=%i P=%i)', (B, T, C, V, P) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rand = (k: number) => Float64Array.from({ length: k }, () => rng.uniform(-1, 1));
    const inp = Array.from({ length: B * T }, () => rng.int(V));
    const wte = rand(V * C), wpe = rand(P * C), dout = rand(B * T * C);
    const f = () => encoderForwardRef(inp, wte, wpe, B, T, C).reduce((s, o, i) => s + o * dout[i], 0);
    const { dwte, dwpe } = encoderBackwardRef(dout, inp, B, T, C, V, P);
    expectClose(dwte, centralDiff(wte, f), { rtol: 1e-6, atol: 1e-8, what: `dwte seed=${seed}` });
    expectClose(dwpe, centralDiff(wpe, f), { rtol: 1e-6, atol: 1e-8, what: `dwpe seed=${seed}` });
  });
});

describe('bucketTokens', () => {
  it('groups positions by token id in CSR order', () => {
    // B=2, T=3: [[4, 1, 4], [0, 4, 1]]
    const b = bucketTokens([4, 1, 4, 0, 4, 1], 2, 3, 6);
    expect(Array.from(b.ids)).toEqual([0, 1, 4]);
    expect(Array.from(b.offsets)).toEqual([0, 1, 3, 6]);
    expect(Array.from(b.positions)).toEqual([3, 1, 5, 0, 2, 4]);
  });

  it('covers every position exactly once for random batches', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const B = 3, T = 17, V = 9;
    const tokens = Array.from({ length: B * T }, () => rng.int(V));
    const b = bucketTokens(tokens, B, T, V);
    expect(b.offsets[b.ids.length]).toBe(B * T);
    expect([...b.positions].sort((x, y) => x - y)).toEqual(Array.from({ length: B * T }, (_, i) => i));
    b.ids.forEach((id, u) => {
      for (let k = b.offsets[u]; k < b.offsets[u + 1]; k++) expect(tokens[b.positions[k]], `seed=${seed}`).toBe(id);
    });
  });

  it('rejects a token outside the vocabulary, naming its position', () => {
    expect(() => bucketTokens([0, 1, 7, 2], 2, 2, 5)).toThrow(/b=1 t=0 is 7, not an integer in \[0, 5\)/);
    expect(() => bucketTokens([0, -1], 1, 2, 5)).toThrow(/b=0 t=1 is -1/);
    expect(() => bucketTokens([0, 1.5], 1, 2, 5)).toThrow(/is 1.5/);
  });

  it('rejects a token count that is not B·T', () => {
    expect(() => bucketTokens([0, 1, 2], 2, 2, 5)).toThrow(/got 3 tokens, B·T = 2·2 needs 4/);
  });
});
