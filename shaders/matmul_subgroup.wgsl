// Matmul for CPU adapters with subgroups (SwiftShader: subgroup = the 4 SIMD lanes of one
// workgroup of 4 invocations). Same product, bindings and overrides as matmul.wgsl's
// matmul_blocked_* forms (C (M,N) = op(A) · op(B) [+ bias] [+= C]); src/kernels/matmul.ts
// picks these for plan 'subgroup' when the shape is aligned, else falls back to matmul.wgsl.
//
// Why: on SwiftShader every storage load whose address varies per invocation is a gather —
// one branch and one scalar load per lane per component — so loads, not FMAs, bound
// matmul_blocked_*. Here a workgroup is one subgroup of 4 lanes; the
// lanes own 4 neighbouring column groups (4 columns each) of the SAME 32 rows, so each A value
// is loaded by one lane only and handed to the others with subgroupBroadcast (a register
// shuffle on a CPU): per 4 k-steps a lane makes 4 vec4 loads of B and 8 of A for 512 FMAs
// (matmul_blocked_nn4: 4 + 4 for 64). The 32×4 block lives in 32 vec4 accumulators (spilled to
// the stack, which is cheap next to a gather). Needs subgroup size ≥ 4 and all 4 invocations
// of the workgroup in one subgroup; control flow stays uniform (no early return) around the
// broadcasts. Rows past M are clamped onto row M−1 for loading and never stored.
// Where N % 4 = 0 (nn, tn always; nt as matmul_sg_nt4) a lane stores each row of its block as one
// vec4 (with the bias and the accumulated C read as vec4s) instead of four masked scalars; same
// additions in the same order (a few percent at the K = 64 of small models, docs/perf.md §20).
enable subgroups;

override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false; // C += op(A)·op(B)

struct Params { M: u32, N: u32, K: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read_write> c: array<f32>;
@group(0) @binding(1) var<storage, read> a4: array<vec4f>;
@group(0) @binding(2) var<storage, read> b4: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// Rows of C per lane (and per workgroup); columns per workgroup are 4 lanes × 4.
const ROWS = 32u;

// Four rows of the lane's block: cᵢ += xᵢ · [b0; b1; b2; b3], where xᵢ holds row i of A at
// k..k+3 and b_t holds row k+t of B at the lane's 4 columns.
fn rows4(c0: ptr<function, vec4f>, c1: ptr<function, vec4f>, c2: ptr<function, vec4f>, c3: ptr<function, vec4f>,
         x0: vec4f, x1: vec4f, x2: vec4f, x3: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) {
  *c0 = fma(vec4f(x0.w), b3, fma(vec4f(x0.z), b2, fma(vec4f(x0.y), b1, fma(vec4f(x0.x), b0, *c0))));
  *c1 = fma(vec4f(x1.w), b3, fma(vec4f(x1.z), b2, fma(vec4f(x1.y), b1, fma(vec4f(x1.x), b0, *c1))));
  *c2 = fma(vec4f(x2.w), b3, fma(vec4f(x2.z), b2, fma(vec4f(x2.y), b1, fma(vec4f(x2.x), b0, *c2))));
  *c3 = fma(vec4f(x3.w), b3, fma(vec4f(x3.z), b2, fma(vec4f(x3.y), b1, fma(vec4f(x3.x), b0, *c3))));
}

// A stored (M,K): lane l loaded row l of the group at k..k+3 (`own`); every lane gets all four.
fn rows4_a(c0: ptr<function, vec4f>, c1: ptr<function, vec4f>, c2: ptr<function, vec4f>, c3: ptr<function, vec4f>,
           own: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) {
  rows4(c0, c1, c2, c3, subgroupBroadcast(own, 0u), subgroupBroadcast(own, 1u), subgroupBroadcast(own, 2u), subgroupBroadcast(own, 3u), b0, b1, b2, b3);
}

// A stored (K,M): lane l loaded the group's 4 rows at k+l (`own`); transposed on the way in
// (free on a CPU, where each component is its own register).
fn rows4_at(c0: ptr<function, vec4f>, c1: ptr<function, vec4f>, c2: ptr<function, vec4f>, c3: ptr<function, vec4f>,
            own: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) {
  let y0 = subgroupBroadcast(own, 0u); let y1 = subgroupBroadcast(own, 1u);
  let y2 = subgroupBroadcast(own, 2u); let y3 = subgroupBroadcast(own, 3u);
  rows4(c0, c1, c2, c3, vec4f(y0.x, y1.x, y2.x, y3.x), vec4f(y0.y, y1.y, y2.y, y3.y), vec4f(y0.z, y1.z, y2.z, y3.z), vec4f(y0.w, y1.w, y2.w, y3.w), b0, b1, b2, b3);
}

// C (M,N) at `row`, columns n0..n0+3, each masked at the edges; bias and accumulation per flags.
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

// The same as store_row for N % 4 = 0, columns 4·n4 … 4·n4 + 3 all inside: one vec4 (cv and
// biasv alias c and bias; an entry point uses one view of each). Same additions in the same order.
@group(0) @binding(0) var<storage, read_write> cv: array<vec4f>;
@group(0) @binding(3) var<storage, read> biasv: array<vec4f>;

fn store_row4(row: u32, n4: u32, v: vec4f) {
  if (row >= p.M) { return; }
  var x = v;
  if (HAS_BIAS) { x += biasv[n4]; }
  let i = row * (p.N / 4u) + n4;
  if (ACCUMULATE) { x += cv[i]; }
  cv[i] = x;
}

fn store4v(m: u32, n4: u32, v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f) {
  store_row4(m, n4, v0); store_row4(m + 1u, n4, v1); store_row4(m + 2u, n4, v2); store_row4(m + 3u, n4, v3);
}

fn store4(m: u32, n0: u32, v0: vec4f, v1: vec4f, v2: vec4f, v3: vec4f) {
  store_row(m, n0, v0); store_row(m + 1u, n0, v1); store_row(m + 2u, n0, v2); store_row(m + 3u, n0, v3);
}

// NN, K % 4 = 0 and N % 4 = 0 (forward: inp · weight).
@compute @workgroup_size(4)
fn matmul_sg_nn(@builtin(workgroup_id) wg: vec3u, @builtin(subgroup_invocation_id) l: u32) {
  let N4 = p.N / 4u;
  let K4 = p.K / 4u;
  let m0 = wg.y * ROWS;
  let n4 = min(wg.x * 4u + l, N4 - 1u);
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0); var c4 = vec4f(0.0); var c5 = vec4f(0.0); var c6 = vec4f(0.0); var c7 = vec4f(0.0);
  var c8 = vec4f(0.0); var c9 = vec4f(0.0); var c10 = vec4f(0.0); var c11 = vec4f(0.0); var c12 = vec4f(0.0); var c13 = vec4f(0.0); var c14 = vec4f(0.0); var c15 = vec4f(0.0);
  var c16 = vec4f(0.0); var c17 = vec4f(0.0); var c18 = vec4f(0.0); var c19 = vec4f(0.0); var c20 = vec4f(0.0); var c21 = vec4f(0.0); var c22 = vec4f(0.0); var c23 = vec4f(0.0);
  var c24 = vec4f(0.0); var c25 = vec4f(0.0); var c26 = vec4f(0.0); var c27 = vec4f(0.0); var c28 = vec4f(0.0); var c29 = vec4f(0.0); var c30 = vec4f(0.0); var c31 = vec4f(0.0);
  for (var k4 = 0u; k4 < K4; k4++) {
    let kb = k4 * 4u * N4 + n4;
    let b0 = b4[kb]; let b1 = b4[kb + N4]; let b2 = b4[kb + 2u * N4]; let b3 = b4[kb + 3u * N4];
    rows4_a(&c0, &c1, &c2, &c3, a4[min(m0 + 0u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c4, &c5, &c6, &c7, a4[min(m0 + 4u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c8, &c9, &c10, &c11, a4[min(m0 + 8u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c12, &c13, &c14, &c15, a4[min(m0 + 12u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c16, &c17, &c18, &c19, a4[min(m0 + 16u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c20, &c21, &c22, &c23, a4[min(m0 + 20u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c24, &c25, &c26, &c27, a4[min(m0 + 24u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c28, &c29, &c30, &c31, a4[min(m0 + 28u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
  }
  if (wg.x * 4u + l >= N4) { return; }
  store4v(m0 + 0u, n4, c0, c1, c2, c3);
  store4v(m0 + 4u, n4, c4, c5, c6, c7);
  store4v(m0 + 8u, n4, c8, c9, c10, c11);
  store4v(m0 + 12u, n4, c12, c13, c14, c15);
  store4v(m0 + 16u, n4, c16, c17, c18, c19);
  store4v(m0 + 20u, n4, c20, c21, c22, c23);
  store4v(m0 + 24u, n4, c24, c25, c26, c27);
  store4v(m0 + 28u, n4, c28, c29, c30, c31);
}

// NT (B stored (N,K)), K % 4 = 0 (dinp = dout · weightᵀ, LM-head logits): the lane's 4 columns
// are 4 rows of B, read as vec4 along k and transposed into b_t. The block shared by
// matmul_sg_nt and matmul_sg_nt4 (which differ only in the stores): rows m0..m0+31 at the lane's
// columns n0..n0+3, returned by value as accumulators 0..31 (one function, inlined by the
// compiler; no extra loads or stores).
fn nt_block(m0: u32, n0: u32, l: u32) -> array<vec4f, ROWS> {
  let K4 = p.K / 4u;
  let q = min(vec4u(n0, n0 + 1u, n0 + 2u, n0 + 3u), vec4u(p.N - 1u)) * K4;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0); var c4 = vec4f(0.0); var c5 = vec4f(0.0); var c6 = vec4f(0.0); var c7 = vec4f(0.0);
  var c8 = vec4f(0.0); var c9 = vec4f(0.0); var c10 = vec4f(0.0); var c11 = vec4f(0.0); var c12 = vec4f(0.0); var c13 = vec4f(0.0); var c14 = vec4f(0.0); var c15 = vec4f(0.0);
  var c16 = vec4f(0.0); var c17 = vec4f(0.0); var c18 = vec4f(0.0); var c19 = vec4f(0.0); var c20 = vec4f(0.0); var c21 = vec4f(0.0); var c22 = vec4f(0.0); var c23 = vec4f(0.0);
  var c24 = vec4f(0.0); var c25 = vec4f(0.0); var c26 = vec4f(0.0); var c27 = vec4f(0.0); var c28 = vec4f(0.0); var c29 = vec4f(0.0); var c30 = vec4f(0.0); var c31 = vec4f(0.0);
  for (var k4 = 0u; k4 < K4; k4++) {
    let e0 = b4[q.x + k4]; let e1 = b4[q.y + k4]; let e2 = b4[q.z + k4]; let e3 = b4[q.w + k4];
    let b0 = vec4f(e0.x, e1.x, e2.x, e3.x); let b1 = vec4f(e0.y, e1.y, e2.y, e3.y);
    let b2 = vec4f(e0.z, e1.z, e2.z, e3.z); let b3 = vec4f(e0.w, e1.w, e2.w, e3.w);
    rows4_a(&c0, &c1, &c2, &c3, a4[min(m0 + 0u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c4, &c5, &c6, &c7, a4[min(m0 + 4u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c8, &c9, &c10, &c11, a4[min(m0 + 8u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c12, &c13, &c14, &c15, a4[min(m0 + 12u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c16, &c17, &c18, &c19, a4[min(m0 + 16u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c20, &c21, &c22, &c23, a4[min(m0 + 20u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c24, &c25, &c26, &c27, a4[min(m0 + 24u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
    rows4_a(&c28, &c29, &c30, &c31, a4[min(m0 + 28u + l, p.M - 1u) * K4 + k4], b0, b1, b2, b3);
  }
  return array<vec4f, ROWS>(c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15,
                           c16, c17, c18, c19, c20, c21, c22, c23, c24, c25, c26, c27, c28, c29, c30, c31);
}

@compute @workgroup_size(4)
fn matmul_sg_nt(@builtin(workgroup_id) wg: vec3u, @builtin(subgroup_invocation_id) l: u32) {
  let m0 = wg.y * ROWS;
  let n0 = (wg.x * 4u + l) * 4u;
  let c = nt_block(m0, n0, l);
  store4(m0 + 0u, n0, c[0], c[1], c[2], c[3]);
  store4(m0 + 4u, n0, c[4], c[5], c[6], c[7]);
  store4(m0 + 8u, n0, c[8], c[9], c[10], c[11]);
  store4(m0 + 12u, n0, c[12], c[13], c[14], c[15]);
  store4(m0 + 16u, n0, c[16], c[17], c[18], c[19]);
  store4(m0 + 20u, n0, c[20], c[21], c[22], c[23]);
  store4(m0 + 24u, n0, c[24], c[25], c[26], c[27]);
  store4(m0 + 28u, n0, c[28], c[29], c[30], c[31]);
}

// matmul_sg_nt for N % 4 = 0 (every dinp): vec4 stores.
@compute @workgroup_size(4)
fn matmul_sg_nt4(@builtin(workgroup_id) wg: vec3u, @builtin(subgroup_invocation_id) l: u32) {
  let m0 = wg.y * ROWS;
  let n0 = (wg.x * 4u + l) * 4u;
  let c = nt_block(m0, n0, l);
  if (n0 >= p.N) { return; }
  let n4 = n0 / 4u;
  store4v(m0 + 0u, n4, c[0], c[1], c[2], c[3]);
  store4v(m0 + 4u, n4, c[4], c[5], c[6], c[7]);
  store4v(m0 + 8u, n4, c[8], c[9], c[10], c[11]);
  store4v(m0 + 12u, n4, c[12], c[13], c[14], c[15]);
  store4v(m0 + 16u, n4, c[16], c[17], c[18], c[19]);
  store4v(m0 + 20u, n4, c[20], c[21], c[22], c[23]);
  store4v(m0 + 24u, n4, c[24], c[25], c[26], c[27]);
  store4v(m0 + 28u, n4, c[28], c[29], c[30], c[31]);
}

// TN (A stored (K,M)), M, N and K % 4 = 0 (dweight += inpᵀ · dout): lane l loads the 4 rows
// of each group at k+l.
@compute @workgroup_size(4)
fn matmul_sg_tn(@builtin(workgroup_id) wg: vec3u, @builtin(subgroup_invocation_id) l: u32) {
  let M4 = p.M / 4u;
  let N4 = p.N / 4u;
  let K4 = p.K / 4u;
  let m0 = wg.y * ROWS;
  let g = m0 / 4u;
  let n4 = min(wg.x * 4u + l, N4 - 1u);
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0); var c4 = vec4f(0.0); var c5 = vec4f(0.0); var c6 = vec4f(0.0); var c7 = vec4f(0.0);
  var c8 = vec4f(0.0); var c9 = vec4f(0.0); var c10 = vec4f(0.0); var c11 = vec4f(0.0); var c12 = vec4f(0.0); var c13 = vec4f(0.0); var c14 = vec4f(0.0); var c15 = vec4f(0.0);
  var c16 = vec4f(0.0); var c17 = vec4f(0.0); var c18 = vec4f(0.0); var c19 = vec4f(0.0); var c20 = vec4f(0.0); var c21 = vec4f(0.0); var c22 = vec4f(0.0); var c23 = vec4f(0.0);
  var c24 = vec4f(0.0); var c25 = vec4f(0.0); var c26 = vec4f(0.0); var c27 = vec4f(0.0); var c28 = vec4f(0.0); var c29 = vec4f(0.0); var c30 = vec4f(0.0); var c31 = vec4f(0.0);
  for (var k4 = 0u; k4 < K4; k4++) {
    let kb = k4 * 4u * N4 + n4;
    let b0 = b4[kb]; let b1 = b4[kb + N4]; let b2 = b4[kb + 2u * N4]; let b3 = b4[kb + 3u * N4];
    let ka = (k4 * 4u + l) * M4;
    rows4_at(&c0, &c1, &c2, &c3, a4[ka + min(g + 0u, M4 - 1u)], b0, b1, b2, b3);
    rows4_at(&c4, &c5, &c6, &c7, a4[ka + min(g + 1u, M4 - 1u)], b0, b1, b2, b3);
    rows4_at(&c8, &c9, &c10, &c11, a4[ka + min(g + 2u, M4 - 1u)], b0, b1, b2, b3);
    rows4_at(&c12, &c13, &c14, &c15, a4[ka + min(g + 3u, M4 - 1u)], b0, b1, b2, b3);
    rows4_at(&c16, &c17, &c18, &c19, a4[ka + min(g + 4u, M4 - 1u)], b0, b1, b2, b3);
    rows4_at(&c20, &c21, &c22, &c23, a4[ka + min(g + 5u, M4 - 1u)], b0, b1, b2, b3);
    rows4_at(&c24, &c25, &c26, &c27, a4[ka + min(g + 6u, M4 - 1u)], b0, b1, b2, b3);
    rows4_at(&c28, &c29, &c30, &c31, a4[ka + min(g + 7u, M4 - 1u)], b0, b1, b2, b3);
  }
  if (wg.x * 4u + l >= N4) { return; }
  store4v(m0 + 0u, n4, c0, c1, c2, c3);
  store4v(m0 + 4u, n4, c4, c5, c6, c7);
  store4v(m0 + 8u, n4, c8, c9, c10, c11);
  store4v(m0 + 12u, n4, c12, c13, c14, c15);
  store4v(m0 + 16u, n4, c16, c17, c18, c19);
  store4v(m0 + 20u, n4, c20, c21, c22, c23);
  store4v(m0 + 24u, n4, c24, c25, c26, c27);
  store4v(m0 + 28u, n4, c28, c29, c30, c31);
}
