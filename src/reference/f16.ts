// IEEE binary16 rounding in float64, the reference for shaders/convert.wgsl: round to nearest,
// ties to even, straight from the float64 value (no detour through f32), with subnormals
// (spacing 2⁻²⁴ below 2⁻¹⁴), overflow to ±Inf at ≥ 65520 (halfway past the largest finite
// 65504, which is odd: the tie goes up) and NaN to a quiet NaN.

/** Halfway cases to the even neighbour; v ≥ 0 and small enough that v − floor(v) is exact. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The binary16 bit pattern (16 bits) nearest x. */
export function f16Bits(x: number): number {
  if (Number.isNaN(x)) return 0x7e00;
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  const a = Math.abs(x);
  if (a >= 65520) return sign | 0x7c00;
  if (a < 2 ** -14) return sign | roundHalfEven(a * 2 ** 24); // subnormal: q units of 2⁻²⁴ (q = 1024 is the smallest normal's pattern)
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  if (2 ** (e + 1) <= a) e++;
  let q = roundHalfEven((a / 2 ** e) * 1024); // in [1024, 2048]; exact scaling by a power of two
  if (q === 2048) {
    q = 1024;
    e++;
  }
  return sign | ((e + 15) << 10) | (q - 1024); // e ≤ 15 here: a < 65520
}

/** The value of a binary16 bit pattern. */
export function f16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  if (e === 0) return sign * m * 2 ** -24;
  return sign * (1024 + m) * 2 ** (e - 25);
}

/** x rounded to binary16, as a number. */
export function toF16(x: number): number {
  return f16Value(f16Bits(x));
}

/** n values packed two per u32 word as shaders/convert.wgsl's pack_f16 does: element 2w in the low half of word w. */
export function packF16(x: ArrayLike<number>): Uint32Array {
  const out = new Uint32Array(Math.ceil(x.length / 2));
  for (let i = 0; i < x.length; i++) out[i >> 1] |= f16Bits(x[i]) << (16 * (i & 1));
  return out;
}

/** The first n values of packed words (unpack_f16). */
export function unpackF16(words: Uint32Array, n: number): Float64Array {
  if (words.length < Math.ceil(n / 2)) throw new Error(`unpackF16: ${words.length} words hold fewer than ${n} values`);
  return Float64Array.from({ length: n }, (_, i) => f16Value((words[i >> 1] >>> (16 * (i & 1))) & 0xffff));
}
