// Matmul family in Conv1D layout (y = x·W + b), as Hugging Face GPT-2's Conv1D.
// One tiled kernel computes  C (M,N) = op(A) (M,K) · op(B) (K,N) [+ bias (N)] [+= C];
// src/kernels/matmul.ts uses it three ways (rows R = B·T, in channels IC, out channels OC):
//   forward           out (R,OC)     = inp (R,IC) · weight (IC,OC) + bias      M=R,  K=IC, N=OC
//   backward dinp     dinp (R,IC)    = dout (R,OC) · weightᵀ        TRANS_B    M=R,  K=OC, N=IC
//   backward dweight  dweight (IC,OC) += inpᵀ · dout                TRANS_A    M=IC, K=R,  N=OC
// and matmul_backward_bias: dbias (OC) += Σ_r dout (r, OC).
// Activation gradients are written (=), parameter gradients accumulate (+=) — docs/design.md.
//
// Two kernel shapes compute the same product; src/kernels/matmul.ts picks one per adapter:
//   matmul            64×64 tile per workgroup staged through workgroup memory (GPUs).
//   matmul_blocked*   v2, register-blocked: each invocation owns a 4×4 block of C held in four
//                     vec4 accumulators and reads A and B straight from storage — no workgroup
//                     memory, no barriers. On a CPU adapter (SwiftShader) a barrier suspends
//                     every invocation of the workgroup and workgroup arrays are memory, so this
//                     runs ~10× faster there (docs/perf.md). _nn4/_nt4/_tn4 are its vec4-load
//                     forms for aligned shapes (one 16-byte load feeds four FMAs).
// CPU adapters with `subgroups` take shaders/matmul_subgroup.wgsl (32×4 blocks per lane, A
// shared across the 4 lanes by subgroupBroadcast) where aligned; matmul_blocked* is its fallback.

override TRANS_A: bool = false;    // A stored (K,M) instead of (M,K)
override TRANS_B: bool = false;    // B stored (N,K) instead of (K,N)
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false; // C += op(A)·op(B)

struct Params { M: u32, N: u32, K: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read_write> c: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// A 64×64 tile of C per workgroup of 16×16 threads; each thread owns 4×4 outputs strided by
// 16 so that neighbouring threads store neighbouring columns. K advances 16 at a time
// through workgroup memory, stored k-major so the inner loop reads rows of As and Bs.
const BM = 64u;
const BN = 64u;
const BK = 16u;
const TM = 4u;
const TN = 4u;

var<workgroup> As: array<f32, 1024>; // [BK][BM]
var<workgroup> Bs: array<f32, 1024>; // [BK][BN]

fn load_a(m: u32, k: u32) -> f32 {
  if (m >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return a[k * p.M + m]; }
  return a[m * p.K + k];
}

fn load_b(k: u32, n: u32) -> f32 {
  if (n >= p.N || k >= p.K) { return 0.0; }
  if (TRANS_B) { return b[n * p.K + k]; }
  return b[k * p.N + n];
}

@compute @workgroup_size(16, 16)
fn matmul(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let m0 = wg.y * BM;
  let n0 = wg.x * BN;
  var acc: array<f32, 16>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    // 1024 elements of each tile, 4 per thread; index so consecutive threads read
    // consecutive addresses of whichever layout the operand is stored in.
    for (var l = 0u; l < 4u; l++) {
      let flat = l * 256u + li;
      var r: u32; var ka: u32;
      if (TRANS_A) { ka = flat / BM; r = flat % BM; } else { r = flat / BK; ka = flat % BK; }
      As[ka * BM + r] = load_a(m0 + r, k0 + ka);
      var cn: u32; var kb: u32;
      if (TRANS_B) { cn = flat / BK; kb = flat % BK; } else { kb = flat / BN; cn = flat % BN; }
      Bs[kb * BN + cn] = load_b(k0 + kb, n0 + cn);
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      var ra: array<f32, 4>;
      var rb: array<f32, 4>;
      for (var i = 0u; i < TM; i++) { ra[i] = As[k * BM + lid.y + i * 16u]; }
      for (var j = 0u; j < TN; j++) { rb[j] = Bs[k * BN + lid.x + j * 16u]; }
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN; j++) { acc[i * TN + j] = fma(ra[i], rb[j], acc[i * TN + j]); }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TM; i++) {
    let row = m0 + lid.y + i * 16u;
    if (row >= p.M) { continue; }
    for (var j = 0u; j < TN; j++) {
      let col = n0 + lid.x + j * 16u;
      if (col >= p.N) { continue; }
      var v = acc[i * TN + j];
      if (HAS_BIAS) { v += bias[col]; }
      if (ACCUMULATE) { v += c[row * p.N + col]; }
      c[row * p.N + col] = v;
    }
  }
}

// dbias (N) += Σ_m dout (M,N). A workgroup owns 64 columns; its 4 rows of threads sum
// every 4th row of dout, then combine through workgroup memory.
@group(0) @binding(0) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<uniform> pb: Params;

var<workgroup> partial: array<f32, 256>; // [4][64]

@compute @workgroup_size(64, 4)
fn matmul_backward_bias(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let col = wg.x * 64u + lid.x;
  var s = 0.0;
  if (col < pb.N) {
    for (var m = lid.y; m < pb.M; m += 4u) { s += dout[m * pb.N + col]; }
  }
  partial[lid.y * 64u + lid.x] = s;
  workgroupBarrier();
  if (lid.y == 0u && col < pb.N) {
    dbias[col] += partial[lid.x] + partial[64u + lid.x] + partial[128u + lid.x] + partial[192u + lid.x];
  }
}

// The same sum on CPU adapters (N a multiple of 4): an invocation owns 4 columns and sums all M
// rows itself — no workgroup memory, no barrier (SwiftShader runs a kernel with barriers as
// coroutines; docs/perf.md §18). Rows m ≡ j (mod 4) go to accumulator j and the four are added
// as matmul_backward_bias adds its partials, so the result is bitwise the same.
@group(0) @binding(0) var<storage, read_write> dbias4: array<vec4f>;
@group(0) @binding(1) var<storage, read> dout4: array<vec4f>;
@group(0) @binding(2) var<uniform> pb4: Params;

// Dispatch ceil(N/16) workgroups of 4.
@compute @workgroup_size(4)
fn matmul_backward_bias4(@builtin(global_invocation_id) gid: vec3u) {
  let N4 = pb4.N / 4u;
  let c4 = gid.x;
  if (c4 >= N4) { return; }
  var s0 = vec4f(0.0);
  var s1 = vec4f(0.0);
  var s2 = vec4f(0.0);
  var s3 = vec4f(0.0);
  var m = 0u;
  for (; m + 3u < pb4.M; m += 4u) {
    s0 += dout4[m * N4 + c4];
    s1 += dout4[(m + 1u) * N4 + c4];
    s2 += dout4[(m + 2u) * N4 + c4];
    s3 += dout4[(m + 3u) * N4 + c4];
  }
  if (m < pb4.M) { s0 += dout4[m * N4 + c4]; }
  if (m + 1u < pb4.M) { s1 += dout4[(m + 1u) * N4 + c4]; }
  if (m + 2u < pb4.M) { s2 += dout4[(m + 2u) * N4 + c4]; }
  dbias4[c4] += s0 + s1 + s2 + s3;
}

// ---- v2: register-blocked, 4×4 outputs per invocation of an 8×8 workgroup (a 32×32 tile) ----
// Rows and columns past the edge are clamped onto the last one so every load stays in bounds;
// their results are never stored.

fn clamp4(x0: u32, n: u32) -> vec4u {
  return min(vec4u(x0, x0 + 1u, x0 + 2u, x0 + 3u), vec4u(n - 1u));
}

// Stores row `row` of a 4×4 block (columns n0..n0+3) into the scalar C, masked at the edges.
fn store_row(row: u32, n0: u32, v: vec4f) {
  if (row >= p.M) { return; }
  for (var j = 0u; j < 4u; j++) {
    let col = n0 + j;
    if (col < p.N) {
      var x = v[j];
      if (HAS_BIAS) { x += bias[col]; }
      if (ACCUMULATE) { x += c[row * p.N + col]; }
      c[row * p.N + col] = x;
    }
  }
}

// Any shape, any layout (TRANS_A, TRANS_B): scalar loads gathered into vec4s.
@compute @workgroup_size(8, 8)
fn matmul_blocked(@builtin(global_invocation_id) gid: vec3u) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  let mi = clamp4(m0, p.M);
  let nj = clamp4(n0, p.N);
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  for (var k = 0u; k < p.K; k++) {
    var av: vec4f; var bv: vec4f;
    if (TRANS_A) { av = vec4f(a[k * p.M + mi.x], a[k * p.M + mi.y], a[k * p.M + mi.z], a[k * p.M + mi.w]); }
    else { av = vec4f(a[mi.x * p.K + k], a[mi.y * p.K + k], a[mi.z * p.K + k], a[mi.w * p.K + k]); }
    if (TRANS_B) { bv = vec4f(b[nj.x * p.K + k], b[nj.y * p.K + k], b[nj.z * p.K + k], b[nj.w * p.K + k]); }
    else { bv = vec4f(b[k * p.N + nj.x], b[k * p.N + nj.y], b[k * p.N + nj.z], b[k * p.N + nj.w]); }
    c0 = fma(vec4f(av.x), bv, c0);
    c1 = fma(vec4f(av.y), bv, c1);
    c2 = fma(vec4f(av.z), bv, c2);
    c3 = fma(vec4f(av.w), bv, c3);
  }
  store_row(m0, n0, c0);
  store_row(m0 + 1u, n0, c1);
  store_row(m0 + 2u, n0, c2);
  store_row(m0 + 3u, n0, c3);
}

// vec4 views of the same bindings (K, N or M multiples of 4, see each kernel).
@group(0) @binding(0) var<storage, read_write> c4: array<vec4f>;
@group(0) @binding(1) var<storage, read> a4: array<vec4f>;
@group(0) @binding(2) var<storage, read> b4: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias4: array<vec4f>;

// C (M,N) row `row`, column group n4 (N % 4 = 0), masked on rows.
fn store4(row: u32, n4: u32, v: vec4f) {
  if (row >= p.M) { return; }
  let i = row * (p.N / 4u) + n4;
  var x = v;
  if (HAS_BIAS) { x += bias4[n4]; }
  if (ACCUMULATE) { x += c4[i]; }
  c4[i] = x;
}

// acc += a (1×4 slice of A along k) · B rows k..k+3 (each a vec4 along n)
fn fma4(acc: vec4f, a: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return fma(vec4f(a.w), b3, fma(vec4f(a.z), b2, fma(vec4f(a.y), b1, fma(vec4f(a.x), b0, acc))));
}

// NN, K % 4 = 0 and N % 4 = 0: A rows and B rows both read as vec4.
@compute @workgroup_size(8, 8)
fn matmul_blocked_nn4(@builtin(global_invocation_id) gid: vec3u) {
  let N4 = p.N / 4u;
  let K4 = p.K / 4u;
  let n4 = gid.x;
  let m0 = gid.y * 4u;
  if (m0 >= p.M || n4 >= N4) { return; }
  let r = clamp4(m0, p.M) * K4;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  for (var k4 = 0u; k4 < K4; k4++) {
    let kb = k4 * 4u * N4 + n4;
    let b0 = b4[kb]; let b1 = b4[kb + N4]; let b2 = b4[kb + 2u * N4]; let b3 = b4[kb + 3u * N4];
    c0 = fma4(c0, a4[r.x + k4], b0, b1, b2, b3);
    c1 = fma4(c1, a4[r.y + k4], b0, b1, b2, b3);
    c2 = fma4(c2, a4[r.z + k4], b0, b1, b2, b3);
    c3 = fma4(c3, a4[r.w + k4], b0, b1, b2, b3);
  }
  store4(m0, n4, c0);
  store4(m0 + 1u, n4, c1);
  store4(m0 + 2u, n4, c2);
  store4(m0 + 3u, n4, c3);
}

// NT (TRANS_B), K % 4 = 0: rows of A and rows of B (stored (N,K)) read as vec4; C is scalar.
@compute @workgroup_size(8, 8)
fn matmul_blocked_nt4(@builtin(global_invocation_id) gid: vec3u) {
  let K4 = p.K / 4u;
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  let r = clamp4(m0, p.M) * K4;
  let q = clamp4(n0, p.N) * K4;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  for (var k4 = 0u; k4 < K4; k4++) {
    let b0 = b4[q.x + k4]; let b1 = b4[q.y + k4]; let b2 = b4[q.z + k4]; let b3 = b4[q.w + k4];
    let a0 = a4[r.x + k4]; let a1 = a4[r.y + k4]; let a2 = a4[r.z + k4]; let a3 = a4[r.w + k4];
    c0 += vec4f(dot(a0, b0), dot(a0, b1), dot(a0, b2), dot(a0, b3));
    c1 += vec4f(dot(a1, b0), dot(a1, b1), dot(a1, b2), dot(a1, b3));
    c2 += vec4f(dot(a2, b0), dot(a2, b1), dot(a2, b2), dot(a2, b3));
    c3 += vec4f(dot(a3, b0), dot(a3, b1), dot(a3, b2), dot(a3, b3));
  }
  store_row(m0, n0, c0);
  store_row(m0 + 1u, n0, c1);
  store_row(m0 + 2u, n0, c2);
  store_row(m0 + 3u, n0, c3);
}

// TN (TRANS_A), M % 4 = 0 and N % 4 = 0: a row k of A (stored (K,M)) and of B read as vec4,
// an outer product per k.
@compute @workgroup_size(8, 8)
fn matmul_blocked_tn4(@builtin(global_invocation_id) gid: vec3u) {
  let M4 = p.M / 4u;
  let N4 = p.N / 4u;
  let n4 = gid.x;
  let m4 = gid.y;
  if (m4 >= M4 || n4 >= N4) { return; }
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  for (var k = 0u; k < p.K; k++) {
    let av = a4[k * M4 + m4];
    let bv = b4[k * N4 + n4];
    c0 = fma(vec4f(av.x), bv, c0);
    c1 = fma(vec4f(av.y), bv, c1);
    c2 = fma(vec4f(av.z), bv, c2);
    c3 = fma(vec4f(av.w), bv, c3);
  }
  let m0 = m4 * 4u;
  store4(m0, n4, c0);
  store4(m0 + 1u, n4, c1);
  store4(m0 + 2u, n4, c2);
  store4(m0 + 3u, n4, c3);
}
