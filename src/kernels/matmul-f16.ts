// f16-operand matmul with f32 accumulation (docs/perf.md, "f16 arithmetic"): C (M,N) f32 =
// op(A) (M,K) · op(B) (K,N) [+ bias (N), f32] [+= C], where A and B are IEEE half, four values per
// 8-byte quad (element 2w in the low half of u32 word w: shaders/convert.wgsl's pack_f16 writes
// them). TRANS_A: A stored (K,M); TRANS_B: B stored (N,K). The layouts of the model's products:
//   forward  out = inp · W          NN  (Conv1D)      out = inp · Wᵀ     NT  (nn.Linear)
//   backward dinp = dout · Wᵀ       NT  (Conv1D)      dinp = dout · W    NN  (nn.Linear)
//            dW += inpᵀ · dout      TN  (Conv1D)      dW += doutᵀ · inp  TN  (nn.Linear)
// Each operand's contiguous dimension must be a multiple of 4 (whole quads): A's K (or M when
// TRANS_A), B's N (or K when TRANS_B).
// The kernel, 16 × 16 invocations a workgroup, stages 64 × 16 tiles of A and B in workgroup
// memory as f16 quads (half the bytes of shaders/matmul.wgsl's f32 tiles) and gives each
// invocation a 4 × 4 block of C: per k-quad it reads 4 quads of each tile, widens them to f32
// (transposing in registers where the tile's quads run the other way) and does 64 f32 FMAs.
// Products of two f16 values are exact in f32 (11 + 11 significant bits), so the only rounding
// is the f32 accumulation, k in increasing order: error ≤ K·2⁻²⁴·Σ_k |a_ik·b_kj| (plus 2⁻²⁴ of
// the bias and C terms), on top of rounding the inputs to f16 (tests/gpu/matmul-f16.test.ts).
// Written once for both variants of src/kernels/f16-variant.ts.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { checkDims, checkView } from './check';
import { checkF16Variant, f16Prelude, f16QuadWords, f16VariantFor, type F16Variant } from './f16-variant';
import { F16UnavailableError } from './plan';

/** Outputs per workgroup side. */
const TILE = 64;

const BODY = /* wgsl */ `
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override ACCUMULATE: bool = false;
override HAS_BIAS: bool = false;

struct Params { M: u32, N: u32, K: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read_write> c: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<st4>;
@group(0) @binding(2) var<storage, read> b: array<st4>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

const TILE = 64u; // outputs per workgroup side
const KT = 16u;   // k per stage
// A's tile: [64 rows][4 k-quads] (A stored (M,K)) or [16 k][16 row-quads] (TRANS_A)
var<workgroup> ta: array<h4, 256>;
// B's tile: [16 k][16 column-quads] (B stored (K,N)) or [64 columns][4 k-quads] (TRANS_B)
var<workgroup> tb: array<h4, 256>;

// Quad l (0 … 255) of A's tile at rows m0…, k k0…, as ta holds it; zero outside A.
fn load_a(l: u32, m0: u32, k0: u32) -> h4 {
  var m: u32; var k: u32;
  if (TRANS_A) { m = m0 + (l % 16u) * 4u; k = k0 + l / 16u; }
  else { m = m0 + l / 4u; k = k0 + (l % 4u) * 4u; }
  if (m >= p.M || k >= p.K) { return h4(); }
  if (TRANS_A) { return ld4(a[(k * p.M + m) / 4u]); }
  return ld4(a[(m * p.K + k) / 4u]);
}

// Quad l of B's tile at k k0…, columns n0…, as tb holds it; zero outside B.
fn load_b(l: u32, k0: u32, n0: u32) -> h4 {
  var n: u32; var k: u32;
  if (TRANS_B) { n = n0 + l / 4u; k = k0 + (l % 4u) * 4u; }
  else { n = n0 + (l % 16u) * 4u; k = k0 + l / 16u; }
  if (n >= p.N || k >= p.K) { return h4(); }
  if (TRANS_B) { return ld4(b[(n * p.K + k) / 4u]); }
  return ld4(b[(k * p.N + n) / 4u]);
}

// Dispatch (ceil(N/64), ceil(M/64)).
@compute @workgroup_size(16, 16)
fn matmul_f16(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let tx = lid.x; let ty = lid.y; let l = ty * 16u + tx;
  let m0 = wg.y * TILE; let n0 = wg.x * TILE;
  // acc[i]: row m0 + 4ty + i, columns n0 + 4tx … + 3
  var acc = array<vec4f, 4>(vec4f(0.0), vec4f(0.0), vec4f(0.0), vec4f(0.0));
  for (var k0 = 0u; k0 < p.K; k0 += KT) {
    ta[l] = load_a(l, m0, k0);
    tb[l] = load_b(l, k0, n0);
    workgroupBarrier();
    for (var kq = 0u; kq < 4u; kq++) {
      // ar[i]: A at row 4ty + i, k 4kq … + 3
      var ar: mat4x4f;
      if (TRANS_A) {
        ar = transpose(mat4x4f(wid4(ta[(4u * kq) * 16u + ty]), wid4(ta[(4u * kq + 1u) * 16u + ty]), wid4(ta[(4u * kq + 2u) * 16u + ty]), wid4(ta[(4u * kq + 3u) * 16u + ty])));
      } else {
        ar = mat4x4f(wid4(ta[(4u * ty) * 4u + kq]), wid4(ta[(4u * ty + 1u) * 4u + kq]), wid4(ta[(4u * ty + 2u) * 4u + kq]), wid4(ta[(4u * ty + 3u) * 4u + kq]));
      }
      // br[j]: B at k 4kq + j, columns 4tx … + 3
      var br: mat4x4f;
      if (TRANS_B) {
        br = transpose(mat4x4f(wid4(tb[(4u * tx) * 4u + kq]), wid4(tb[(4u * tx + 1u) * 4u + kq]), wid4(tb[(4u * tx + 2u) * 4u + kq]), wid4(tb[(4u * tx + 3u) * 4u + kq])));
      } else {
        br = mat4x4f(wid4(tb[(4u * kq) * 16u + tx]), wid4(tb[(4u * kq + 1u) * 16u + tx]), wid4(tb[(4u * kq + 2u) * 16u + tx]), wid4(tb[(4u * kq + 3u) * 16u + tx]));
      }
      for (var i = 0u; i < 4u; i++) {
        let ai = ar[i];
        var s = acc[i];
        s = fma(vec4f(ai.x), br[0], s);
        s = fma(vec4f(ai.y), br[1], s);
        s = fma(vec4f(ai.z), br[2], s);
        s = fma(vec4f(ai.w), br[3], s);
        acc[i] = s;
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let row = m0 + 4u * ty + i;
    if (row >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let col = n0 + 4u * tx + j;
      if (col < p.N) {
        var x = acc[i][j];
        if (HAS_BIAS) { x += bias[col]; }
        if (ACCUMULATE) { x += c[row * p.N + col]; }
        c[row * p.N + col] = x;
      }
    }
  }
}
`;

const sources = new Map<F16Variant, string>();

/** The WGSL of the f16 matmul in `variant` (the prelude of src/kernels/f16-variant.ts, then the kernel). */
export function matmulF16Source(variant: F16Variant): string {
  let s = sources.get(variant);
  if (s === undefined) {
    s = f16Prelude(variant) + BODY;
    sources.set(variant, s);
  }
  return s;
}

export interface MatmulF16Flags {
  TRANS_A?: boolean;
  TRANS_B?: boolean;
  ACCUMULATE?: boolean;
  /** WGSL form; defaults to the plan's (native where the device has `shader-f16`, else an F16UnavailableError). */
  variant?: F16Variant;
}

/**
 * C (M,N) f32 = op(A) · op(B) [+ bias (N)] [+= C] with A and B packed f16 (words: u32 views of
 * at least ⌈n/4⌉·2 words each). Throws F16UnavailableError when no variant is given and the device
 * lacks `shader-f16`.
 */
export function matmulF16(enc: StepEncoder, c: View, a: View, b: View, bias: View | null, M: number, N: number, K: number, flags: MatmulF16Flags = {}): void {
  const { TRANS_A = false, TRANS_B = false, ACCUMULATE = false } = flags;
  const variant = flags.variant ?? f16VariantFor(enc.gpu.features);
  if (variant === null) throw new F16UnavailableError(enc.gpu.adapter);
  checkF16Variant('matmulF16', enc.gpu.features, variant);
  checkDims('matmulF16', { M, N, K });
  const aInner = TRANS_A ? ['M', M] as const : ['K', K] as const;
  const bInner = TRANS_B ? ['K', K] as const : ['N', N] as const;
  if (aInner[1] % 4 !== 0) throw new Error(`matmulF16: A's contiguous dimension ${aInner[0]} = ${aInner[1]} must be a multiple of 4 (A is read in quads of f16)`);
  if (bInner[1] % 4 !== 0) throw new Error(`matmulF16: B's contiguous dimension ${bInner[0]} = ${bInner[1]} must be a multiple of 4 (B is read in quads of f16)`);
  checkView('matmulF16', c, M * N);
  checkView('matmulF16', a, f16QuadWords(M * K), 'words');
  checkView('matmulF16', b, f16QuadWords(K * N), 'words');
  if (bias) checkView('matmulF16', bias, N);
  const constants = { TRANS_A, TRANS_B, ACCUMULATE, HAS_BIAS: bias !== null };
  // an unused bias binding still needs a buffer: `a` is bound there and never read
  enc.dispatch({ shader: `matmul_f16.${variant}`, source: matmulF16Source(variant), entryPoint: 'matmul_f16', constants }, [c, a, b, bias ?? a], params(M, N, K, 0), [Math.ceil(N / TILE), Math.ceil(M / TILE)]);
}
