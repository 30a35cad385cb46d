// f16 storage in u32 words (no `shader-f16` extension), elementwise:
//   pack_f16    out (ceil(n/2) words) = f16(inp (n)), element 2w in the low half of word w
//   unpack_f16  out (n) = f32 of the f16 halves of inp (ceil(n/2) words)
// An odd n leaves the high half of the last word 0. Grid-stride loops over words, so n may
// exceed 65535 · 256 (src/kernels/grid.ts).
// Packing rounds on the bits (f16_bits), not with pack2x16float: WGSL leaves that built-in's
// result indeterminate when a value is outside the f16 range (SwiftShader returns 0xffff for
// 1e6, and a NaN spoils the other half of its word) and does not fix its rounding direction.
// f16_bits is round to nearest even everywhere, overflow (|x| ≥ 65520) to ±Inf, NaN to a quiet
// NaN: the same bits as src/reference/f16.ts on every adapter for every non-NaN input (a NaN
// keeps its sign and top payload bits here; the reference writes 0x7e00). Unpacking with
// unpack2x16float is exact (every f16 is an f32), subnormals included where the backend keeps
// them. Activations past ±65504 become ±Inf: only a diverging run gets there.

struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }

// binary16 bits of x, round to nearest even.
fn f16_bits(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  let sign = (b >> 16u) & 0x8000u;
  let a = b & 0x7fffffffu;
  if (a > 0x7f800000u) { return sign | 0x7e00u | ((a >> 13u) & 0x3ffu); } // NaN, kept quiet
  if (a >= 0x477ff000u) { return sign | 0x7c00u; }                          // ≥ 65520: ±Inf
  if (a >= 0x38800000u) {                                                   // ≥ 2⁻¹⁴: normal
    let m = a - 0x38000000u; // exponent rebiased from 127 to 15; the mantissa carries into it
    return sign | ((m + 0xfffu + ((m >> 13u) & 1u)) >> 13u);
  }
  // below 2⁻¹⁴: q units of 2⁻²⁴ (q = 1024 is the smallest normal's pattern)
  let e = a >> 23u;
  if (e < 102u) { return sign; } // < 2⁻²⁵ (f32 subnormals too): rounds to ±0
  let mant = (a & 0x7fffffu) | 0x800000u;
  let shift = 126u - e; // 14 … 24
  var q = mant >> shift;
  let rem = mant & ((1u << shift) - 1u);
  let half = 1u << (shift - 1u);
  if (rem > half || (rem == half && (q & 1u) == 1u)) { q += 1u; }
  return sign | q;
}

@group(0) @binding(0) var<storage, read_write> packed: array<u32>;
@group(0) @binding(1) var<storage, read> pinp: array<f32>;
@group(0) @binding(2) var<uniform> pp: Params;

@compute @workgroup_size(256)
fn pack_f16(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  let words = (pp.n + 1u) / 2u;
  for (var w = gid.x; w < words; w += stride) {
    let i = 2u * w;
    var hi = 0u;
    if (i + 1u < pp.n) { hi = f16_bits(pinp[i + 1u]) << 16u; }
    packed[w] = f16_bits(pinp[i]) | hi;
  }
}

@group(0) @binding(0) var<storage, read_write> uout: array<f32>;
@group(0) @binding(1) var<storage, read> uinp: array<u32>;
@group(0) @binding(2) var<uniform> pu: Params;

@compute @workgroup_size(256)
fn unpack_f16(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  let words = (pu.n + 1u) / 2u;
  for (var w = gid.x; w < words; w += stride) {
    let v = unpack2x16float(uinp[w]);
    let i = 2u * w;
    uout[i] = v.x;
    if (i + 1u < pu.n) { uout[i + 1u] = v.y; }
  }
}
