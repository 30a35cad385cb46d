// Tier 1 for the LoRA reference (src/reference/lora.ts): a hand-computed projection, then the
// backward against central finite differences of Σ y·dy with a random upstream gradient.
import { describe, it, expect } from 'vitest';
import { loraBackwardRef, loraForwardRef } from '../../src/reference/lora';
import { Rng } from '../../src/util/rng';
import { expectClose, freshSeed } from '../helpers/close';
import { centralDiff } from '../helpers/fd';

describe('LoRA reference', () => {
  it('forward adds s·(x Aᵀ) Bᵀ to the base projection (hand-computed)', () => {
    // x (1,2) = [1, 2]; W (1,2) = [[3, 4]], b = [0.5]; A (1,2) = [[1, -1]], B (1,1) = [[2]]; s = 0.5
    // base 1·3 + 2·4 + 0.5 = 11.5; u = 0.5·(1 − 2) = −0.5; adapter −0.5·2 = −1
    const { y, u } = loraForwardRef([1, 2], [3, 4], [0.5], [1, -1], [2], 0.5, 1, 2, 1, 1);
    expect(Array.from(u)).toEqual([-0.5]);
    expect(Array.from(y)).toEqual([10.5]);
  });

  it('B = 0 (PEFT init) leaves the base projection and gives dA = 0 exactly', () => {
    const rng = new Rng(freshSeed());
    const [R, IC, OC, r] = [3, 5, 4, 2];
    const x = rng.floats(R * IC), W = rng.floats(OC * IC), A = rng.floats(r * IC), B = new Float32Array(OC * r);
    const base = loraForwardRef(x, W, null, A, new Float32Array(OC * r), 0.7, R, IC, OC, r).y;
    const { dA, dB } = loraBackwardRef(rng.floats(R * OC), x, W, A, B, 0.7, R, IC, OC, r);
    for (let i = 0; i < R; i++) for (let o = 0; o < OC; o++) {
      let want = 0;
      for (let c = 0; c < IC; c++) want += x[i * IC + c] * W[o * IC + c];
      expect(base[i * OC + o]).toBeCloseTo(want, 12);
    }
    expect(dA.every((v) => v === 0)).toBe(true);
    expect(dB.some((v) => v !== 0)).toBe(true);
  });

  it.each([
    [3, 5, 4, 2],
    [1, 7, 3, 1],
    [4, 3, 6, 4],
  ])('backward matches central finite differences (R=%i IC=%i OC=%i r=%i)', (R, IC, OC, r) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rand = (n: number) => Float64Array.from({ length: n }, () => rng.uniform(-1, 1));
    const x = rand(R * IC), W = rand(OC * IC), A = rand(r * IC), B = rand(OC * r), dy = rand(R * OC);
    const s = 16 / r;
    const f = () => loraForwardRef(x, W, null, A, B, s, R, IC, OC, r).y.reduce((acc, v, i) => acc + v * dy[i], 0);
    const { dx, dA, dB } = loraBackwardRef(dy, x, W, A, B, s, R, IC, OC, r);
    expectClose(dx, centralDiff(x, f), { rtol: 1e-6, atol: 1e-7, what: `dx seed=${seed}` });
    expectClose(dA, centralDiff(A, f), { rtol: 1e-6, atol: 1e-7, what: `dA seed=${seed}` });
    expectClose(dB, centralDiff(B, f), { rtol: 1e-6, atol: 1e-7, what: `dB seed=${seed}` });
  });
});
