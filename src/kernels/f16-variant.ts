// The two WGSL forms of the f16 kernels (src/kernels/matmul-f16.ts, attention-f16.ts). Each
// kernel is one WGSL text written against four names, and this prelude defines them:
//   h4        four values the kernel holds as f16 (registers, workgroup tiles)
//   st4       four f16 values in a storage buffer: 8 bytes, element 4i + j in half j of quad i
//   ld4(st4)  a stored quad as held values          wid4(h4)  held values widened to vec4f
// `native` (adapter with `shader-f16`): `enable f16;`, h4 = st4 = vec4<f16>, ld4 the identity,
// wid4 the conversion to f32. `emulated` (any adapter): st4 = vec2<u32> (the same 8 bytes, read
// as two packed pairs), h4 = vec4f, ld4 = unpack2x16float on each word, wid4 the identity.
// Everything else — indexing, tiling, loop order, every f32 operation — is the same text.
// Where the kernels hold f16 (operands from storage, the workgroup tiles, attention's query
// row) the emulated form holds the same f16 values in f32: reading an f16 is exact either way
// (every f16 is an f32), and the kernels never narrow an f32 to f16, so both forms do the same
// f32 arithmetic on the same values, and the emulated form, tested on any adapter
// (tests/gpu/*f16*.test.ts), checks everything of the native one but the f16 loads
// (tests/gpu-f16/, on adapters with `shader-f16`). One caveat, the same in both: WGSL lets an
// implementation flush f16 subnormals (|x| < 2⁻¹⁴) to zero when reading them.

/** Which WGSL form of an f16 kernel: `native` needs the device feature `shader-f16`. */
export type F16Variant = 'native' | 'emulated';

const PRELUDE: Record<F16Variant, string> = {
  native: `enable f16;
// f16 variant: native (shader-f16)
alias h4 = vec4<f16>;
alias st4 = vec4<f16>;
fn ld4(x: st4) -> h4 { return x; }
fn wid4(x: h4) -> vec4f { return vec4f(x); }
`,
  emulated: `// f16 variant: emulated (f16 values held in f32, storage read as packed u32 pairs)
alias h4 = vec4f;
alias st4 = vec2<u32>;
fn ld4(x: st4) -> h4 { return vec4f(unpack2x16float(x.x), unpack2x16float(x.y)); }
fn wid4(x: h4) -> vec4f { return x; }
`,
};

/** The prelude that defines h4, st4, ld4 and wid4 for `variant`. */
export function f16Prelude(variant: F16Variant): string {
  const p = PRELUDE[variant];
  if (p === undefined) throw new Error(`f16 kernel variant must be native or emulated, got ${String(variant)}`);
  return p;
}

/** Throws unless the device can compile `variant` (native needs `shader-f16`). */
export function checkF16Variant(kernel: string, features: ReadonlySet<string>, variant: F16Variant): void {
  f16Prelude(variant);
  if (variant === 'native' && !features.has('shader-f16')) {
    throw new Error(`${kernel}: the native f16 kernel needs the WebGPU feature 'shader-f16', which this device does not have (use the emulated variant, or f32 arithmetic)`);
  }
}

let forcedVariant: F16Variant | null = null;

/**
 * Tests: make the plan run `variant` whatever the device offers (the emulated form runs on any
 * adapter, so the f16 training path can be tested without `shader-f16`); null restores detection.
 */
export function forceF16Variant(variant: F16Variant | null): void {
  if (variant !== null) f16Prelude(variant);
  forcedVariant = variant;
}

/** The variant the plan runs: native when the device has `shader-f16`, else null (no f16 arithmetic); forceF16Variant overrides. */
export function f16VariantFor(features: ReadonlySet<string>): F16Variant | null {
  if (forcedVariant !== null) return forcedVariant;
  return features.has('shader-f16') ? 'native' : null;
}

/** u32 words of a buffer of n f16 values as the kernels read it: whole 8-byte quads. */
export function f16QuadWords(n: number): number {
  return Math.ceil(n / 4) * 2;
}
