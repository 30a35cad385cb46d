// Matmul with a frozen 16-bit B operand (src/kernels/matmul-packed.ts): the same product as
// shaders/matmul.wgsl, C (M,N) = A (M,K) · op(B) (K,N) [+ bias (N)] [+= C], where B is a weight
// stored as bfloat16 (B_F16 false) or IEEE half (B_F16 true), two values per u32 word (element
// 2w in the low half of word w, as src/kernels/optimizer.ts packBf16 and shaders/convert.wgsl).
// Each value is widened to f32 in registers; the arithmetic and A, C and the bias stay f32.
// TRANS_B: B stored (N,K) (nn.Linear's (out,in) weight, and the LM head) instead of (K,N) (Conv1D).
// Used for the frozen base weights of a LoRA run (docs/design.md); the weight is always the B
// operand of the products that read it: forward out = inp·W (Conv1D) or inp·Wᵀ (Linear), and
// the backward's dinp = dout·Wᵀ or dout·W. Frozen weights get no gradient, so there is no
// packed A operand and no packed output.
//   matmul_packed      any shape, either layout: a 4×4 block of C per invocation (as matmul_blocked)
//   matmul_packed_nn4  NN, K % 4 = 0 and N % 4 = 0: A rows as vec4, B rows as 2 words per 4 columns
//   matmul_packed_nt4  NT, K % 4 = 0: A rows and B rows (stored (N,K)) as vec4 / 2 words per 4 k
// Register-blocked like matmul_blocked* (no workgroup memory, no barriers): every adapter runs
// them; a GPU would do better with a tiled form (docs/perf.md, "not done").

override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACCUMULATE: bool = false;
override B_F16: bool = false;

struct Params { M: u32, N: u32, K: u32, _pad: u32 }

@group(0) @binding(0) var<storage, read_write> c: array<f32>;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<u32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// The two values of a word, element 2w first.
fn widen(w: u32) -> vec2f {
  if (B_F16) { return unpack2x16float(w); }
  return vec2f(bitcast<f32>(w << 16u), bitcast<f32>(w & 0xffff0000u));
}

// Element i of B's storage.
fn bval(i: u32) -> f32 {
  let v = widen(b[i >> 1u]);
  return select(v.x, v.y, (i & 1u) == 1u);
}

// Four consecutive elements i..i+3 of B's storage, i even.
fn b4at(i: u32) -> vec4f {
  let w = i >> 1u;
  return vec4f(widen(b[w]), widen(b[w + 1u]));
}

fn clamp4(x0: u32, n: u32) -> vec4u {
  return min(vec4u(x0, x0 + 1u, x0 + 2u, x0 + 3u), vec4u(n - 1u));
}

// Row `row` of a 4×4 block (columns n0..n0+3) into C, masked at the edges.
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

@compute @workgroup_size(8, 8)
fn matmul_packed(@builtin(global_invocation_id) gid: vec3u) {
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  let mi = clamp4(m0, p.M);
  let nj = clamp4(n0, p.N);
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  for (var k = 0u; k < p.K; k++) {
    let av = vec4f(a[mi.x * p.K + k], a[mi.y * p.K + k], a[mi.z * p.K + k], a[mi.w * p.K + k]);
    var bv: vec4f;
    if (TRANS_B) { bv = vec4f(bval(nj.x * p.K + k), bval(nj.y * p.K + k), bval(nj.z * p.K + k), bval(nj.w * p.K + k)); }
    else { bv = vec4f(bval(k * p.N + nj.x), bval(k * p.N + nj.y), bval(k * p.N + nj.z), bval(k * p.N + nj.w)); }
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

// vec4 views of the same bindings (K, N multiples of 4, see each kernel).
@group(0) @binding(0) var<storage, read_write> c4: array<vec4f>;
@group(0) @binding(1) var<storage, read> a4: array<vec4f>;
@group(0) @binding(3) var<storage, read> bias4: array<vec4f>;

fn store4(row: u32, n4: u32, v: vec4f) {
  if (row >= p.M) { return; }
  let i = row * (p.N / 4u) + n4;
  var x = v;
  if (HAS_BIAS) { x += bias4[n4]; }
  if (ACCUMULATE) { x += c4[i]; }
  c4[i] = x;
}

fn fma4(acc: vec4f, a: vec4f, b0: vec4f, b1: vec4f, b2: vec4f, b3: vec4f) -> vec4f {
  return fma(vec4f(a.w), b3, fma(vec4f(a.z), b2, fma(vec4f(a.y), b1, fma(vec4f(a.x), b0, acc))));
}

@compute @workgroup_size(8, 8)
fn matmul_packed_nn4(@builtin(global_invocation_id) gid: vec3u) {
  let N4 = p.N / 4u;
  let K4 = p.K / 4u;
  let n4 = gid.x;
  let m0 = gid.y * 4u;
  if (m0 >= p.M || n4 >= N4) { return; }
  let r = clamp4(m0, p.M) * K4;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  for (var k4 = 0u; k4 < K4; k4++) {
    let kb = k4 * 4u * p.N + n4 * 4u;
    let b0 = b4at(kb); let b1 = b4at(kb + p.N); let b2 = b4at(kb + 2u * p.N); let b3 = b4at(kb + 3u * p.N);
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

@compute @workgroup_size(8, 8)
fn matmul_packed_nt4(@builtin(global_invocation_id) gid: vec3u) {
  let K4 = p.K / 4u;
  let m0 = gid.y * 4u;
  let n0 = gid.x * 4u;
  if (m0 >= p.M || n0 >= p.N) { return; }
  let r = clamp4(m0, p.M) * K4;
  let q = clamp4(n0, p.N) * p.K;
  var c0 = vec4f(0.0); var c1 = vec4f(0.0); var c2 = vec4f(0.0); var c3 = vec4f(0.0);
  for (var k4 = 0u; k4 < K4; k4++) {
    let k = k4 * 4u;
    let b0 = b4at(q.x + k); let b1 = b4at(q.y + k); let b2 = b4at(q.z + k); let b3 = b4at(q.w + k);
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
