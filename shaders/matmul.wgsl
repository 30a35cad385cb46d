// Matmul family in Conv1D layout (y = x·W + b), as Hugging Face GPT-2's Conv1D.
// One tiled kernel computes  C (M,N) = op(A) (M,K) · op(B) (K,N) [+ bias (N)] [+= C];
// src/kernels/matmul.ts uses it three ways (rows R = B·T, in channels IC, out channels OC):
//   forward           out (R,OC)     = inp (R,IC) · weight (IC,OC) + bias      M=R,  K=IC, N=OC
//   backward dinp     dinp (R,IC)    = dout (R,OC) · weightᵀ        TRANS_B    M=R,  K=OC, N=IC
//   backward dweight  dweight (IC,OC) += inpᵀ · dout                TRANS_A    M=IC, K=R,  N=OC
// and matmul_backward_bias: dbias (OC) += Σ_r dout (r, OC).
// Activation gradients are written (=), parameter gradients accumulate (+=) — STYLE 5.

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
