// The binary16 reference (src/reference/f16.ts) on every f16 pattern, every halfway point
// between neighbours, and the edges: subnormals, the overflow threshold, signed zero, NaN.
import { describe, it, expect } from 'vitest';
import { f16Bits, f16Value, toF16, packF16, unpackF16 } from '../../src/reference/f16';
import { freshSeed } from '../helpers/close';
import { Rng } from '../../src/util/rng';

/** Every finite non-negative f16 pattern in increasing order of value: 0x0000 … 0x7bff. */
const finite = Array.from({ length: 0x7c00 }, (_, b) => b);

describe('f16 reference', () => {
  it('values of known patterns', () => {
    expect(f16Value(0x3c00)).toBe(1);
    expect(f16Value(0x7bff)).toBe(65504);
    expect(f16Value(0x0001)).toBe(2 ** -24);
    expect(f16Value(0x03ff)).toBe(1023 * 2 ** -24);
    expect(f16Value(0x0400)).toBe(2 ** -14);
    expect(f16Value(0xc000)).toBe(-2);
    expect(f16Value(0x7c00)).toBe(Infinity);
    expect(f16Value(0xfc00)).toBe(-Infinity);
    expect(f16Value(0x7e00)).toBeNaN();
    expect(Object.is(f16Value(0x8000), -0)).toBe(true);
  });

  it('every f16 value rounds to itself, both signs', () => {
    for (const b of finite) {
      expect(f16Bits(f16Value(b))).toBe(b);
      expect(f16Bits(-f16Value(b))).toBe(b | 0x8000);
    }
    expect(f16Bits(Infinity)).toBe(0x7c00);
    expect(f16Bits(-Infinity)).toBe(0xfc00);
  });

  it('halfway points go to the even neighbour; just off them, to the nearer one', () => {
    for (let b = 0; b < 0x7bff; b++) {
      const lo = f16Value(b);
      const hi = f16Value(b + 1);
      const mid = (lo + hi) / 2; // exact in float64
      expect(f16Bits(mid), `mid of ${b.toString(16)}`).toBe(b % 2 === 0 ? b : b + 1);
      const eps = (hi - lo) * 2 ** -20;
      expect(f16Bits(mid - eps)).toBe(b);
      expect(f16Bits(mid + eps)).toBe(b + 1);
    }
  });

  it('overflow, underflow, signed zero and NaN', () => {
    expect(f16Bits(65519.999)).toBe(0x7bff);
    expect(f16Bits(65520)).toBe(0x7c00); // the tie past 65504 (odd mantissa) goes up, to Inf
    expect(f16Bits(-1e6)).toBe(0xfc00);
    expect(f16Bits(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal: even is 0
    expect(f16Bits(2 ** -25 * 1.0001)).toBe(1);
    expect(f16Bits(3 * 2 ** -25)).toBe(2); // tie between 1 and 2 units: 2
    expect(f16Bits(1e-30)).toBe(0);
    expect(f16Bits(-1e-30)).toBe(0x8000);
    expect(f16Bits(-0)).toBe(0x8000);
    expect(f16Bits(2 ** -14 - 2 ** -26)).toBe(0x0400); // rounds up out of the subnormals
    expect(f16Bits(NaN)).toBe(0x7e00);
    expect(toF16(1 + 2 ** -11)).toBe(1);
    expect(toF16(1 + 3 * 2 ** -11)).toBe(1 + 2 ** -9);
  });

  it('random values: the error is at most half a spacing (relative 2⁻¹¹ in the normal range)', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    for (let i = 0; i < 20000; i++) {
      const x = rng.normal() * 2 ** (rng.int(40) - 26);
      if (Math.abs(x) >= 65504) continue;
      const r = toF16(x);
      const spacing = Math.abs(x) < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(Math.abs(x))) - 10);
      expect(Math.abs(r - x), `x=${x} seed=${seed}`).toBeLessThanOrEqual(spacing / 2);
    }
  });

  it('pack puts element 2w in the low half of word w; unpack inverts it', () => {
    const words = packF16([1, -2, 65504]);
    expect(Array.from(words)).toEqual([0xc0003c00, 0x7bff]);
    expect(Array.from(unpackF16(words, 3))).toEqual([1, -2, 65504]);
    expect(() => unpackF16(words, 5)).toThrow(/2 words hold fewer than 5 values/);
  });
});
