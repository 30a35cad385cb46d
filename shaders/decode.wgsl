// Decode family: what a key/value-cached generation adds to the training kernels (docs/design.md,
// "Generation on the GPU"; launchers src/kernels/decode.ts, runner src/model/decode.ts).
// Dimensions: B sequences, C channels, V vocabulary, NH query heads, NKV key/value heads, HS head
// size, QC = NH·HS, KC = NKV·HS, W = QC + 2·KC (a packed q|k|v row), S cache slots per sequence,
// N tokens generated at most, Tq rows per sequence of a kv_store input (the prefill length, or 1).
// Prompts start at slot 0 (right-padded, as training batches): slot = position. ctl[0] = s, the
// column being generated: at decode step s ≥ 1 sequence b feeds tokens[b, s−1] at position
// len_b + s − 1 and attends to slots 0 … len_b + s − 1. Step-varying values live in GPU buffers
// (ctl, lengths, tokens), so every step binds the same views and the same uniforms.
//   decode_embed      out (B,C) = wte[tokens[b, s−1]] (+ wpe[len_b + s − 1])     one part of wte per dispatch
//   decode_rope       qkv (B,W): q and k heads rotated in place at position len_b + s − 1
//   decode_kv_store   cache (B,S,2·KC) [slot] = qkv (B·Tq,W) [k|v]; prefill (Tq rows): slot t < len_b;
//                     decode (Tq = 1): slot len_b + s − 1
//   decode_attention  out (B,QC) = softmax over slots ≤ len_b + s − 1 of q·k/√HS, times v (GQA:
//                     query head h reads key/value head h/(NH/NKV)); scores (B,NH,S) scratch
//   decode_gather     out (B,C) = x (B·Tq,C) [b·Tq + len_b − 1]: each prompt's last position
//   decode_place      logits (B,V) [b, row0 + j] = block (B,rows) [b, j]: one LM-head part's columns
//   decode_advance    ctl[0] += 1
//   decode_matvec_nn  out (M,N) = x (M,K) · W (K,N) [+ bias]     M ≤ 8 rows (Conv1D layout)
//   decode_matvec_nt  out (M,N) = x (M,K) · W (N,K)ᵀ [+ bias]    M ≤ 8 rows (nn.Linear layout, the LM head)
//                     CPU adapters' form of a decode step's products: matmul_blocked* computes
//                     4 rows per invocation, 4× the work when one row is real; these read each
//                     weight once for all M rows.
// Every output element has one owner; reductions run in a fixed order (deterministic).

const NEG_BIG = -3.0e38;

// ---- decode_embed ----
struct EmbedParams { B: u32, C: u32, V: u32, row0: u32, rows: u32, N: u32, _p0: u32, _p1: u32 }

// false: no position table (Llama family); wpe is bound (to wte) and never read
override HAS_WPE: bool = true;

@group(0) @binding(0) var<storage, read_write> e_out: array<f32>;
@group(0) @binding(1) var<storage, read> e_wte: array<f32>;
@group(0) @binding(2) var<storage, read> e_wpe: array<f32>;
@group(0) @binding(3) var<storage, read> e_tokens: array<u32>;
@group(0) @binding(4) var<storage, read> e_lengths: array<u32>;
@group(0) @binding(5) var<storage, read> e_ctl: array<u32>;
@group(0) @binding(6) var<uniform> ep: EmbedParams;

// Grid-stride over B·C; the same two operations as encoder_forward (wte, then + wpe), so a token
// embeds bitwise as in the prefill.
@compute @workgroup_size(256)
fn decode_embed(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = e_ctl[0];
  let n = ep.B * ep.C;
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < n; i += stride) {
    let b = i / ep.C;
    let c = i % ep.C;
    let id = e_tokens[b * ep.N + s - 1u];
    if (id >= ep.row0 && id < ep.row0 + ep.rows) {
      var x = e_wte[(id - ep.row0) * ep.C + c];
      if (HAS_WPE) { x += e_wpe[(e_lengths[b] + s - 1u) * ep.C + c]; }
      e_out[i] = x;
    }
  }
}

// ---- decode_rope: shaders/rope.wgsl's rotation (same cos_sin, same products) at each row's position ----
struct RopeParams {
  n: u32, // B · (NH + NKV) · half pairs
  heads: u32, // NH + NKV: q's heads, then k's, contiguous from column 0 of a qkv row
  half: u32,
  W: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
  _p3: u32,
  inv_freq: array<vec4f, 32>, // HS ≤ 256
}

const TWO_OVER_PI = 0.6366197723675814;
const PIO2_1 = 1.5703125;
const PIO2_2 = 4.825592041015625e-4;
const PIO2_3 = 1.26659870147705078125e-6;
const PIO2_4 = 9.920936294705029e-10;

// verbatim from shaders/rope.wgsl: (cos a, sin a) with an explicit range reduction
fn cos_sin(a: f32) -> vec2f {
  let j = round(a * TWO_OVER_PI);
  let r = (((a - j * PIO2_1) - j * PIO2_2) - j * PIO2_3) - j * PIO2_4;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  switch (u32(i32(j)) & 3u) {
    case 0u: { return vec2f(c, s); }
    case 1u: { return vec2f(-s, c); }
    case 2u: { return vec2f(-c, -s); }
    default: { return vec2f(s, -c); }
  }
}

@group(0) @binding(0) var<storage, read_write> r_x: array<f32>;
@group(0) @binding(1) var<storage, read> r_lengths: array<u32>;
@group(0) @binding(2) var<storage, read> r_ctl: array<u32>;
@group(0) @binding(3) var<uniform> rp: RopeParams;

@compute @workgroup_size(256)
fn decode_rope(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = r_ctl[0];
  let stride = nwg.x * 256u;
  for (var k = gid.x; k < rp.n; k += stride) {
    let i = k % rp.half;
    let bh = k / rp.half;
    let b = bh / rp.heads;
    let h = bh % rp.heads;
    let pos = r_lengths[b] + s - 1u;
    let cs = cos_sin(f32(pos) * rp.inv_freq[i / 4u][i % 4u]);
    let a = b * rp.W + h * 2u * rp.half + i;
    let x1 = r_x[a];
    let x2 = r_x[a + rp.half];
    r_x[a] = x1 * cs.x - x2 * cs.y;
    r_x[a + rp.half] = x2 * cs.x + x1 * cs.y;
  }
}

// ---- decode_kv_store ----
struct KvParams { R: u32, Tq: u32, S: u32, KC2: u32, QC: u32, W: u32, decode: u32, _p: u32 }

@group(0) @binding(0) var<storage, read_write> k_cache: array<f32>;
@group(0) @binding(1) var<storage, read> k_qkv: array<f32>;
@group(0) @binding(2) var<storage, read> k_lengths: array<u32>;
@group(0) @binding(3) var<storage, read> k_ctl: array<u32>;
@group(0) @binding(4) var<uniform> kp: KvParams;

// Grid-stride over R·2KC: a qkv row's k|v (2·KC contiguous floats from column QC) into its slot.
@compute @workgroup_size(256)
fn decode_kv_store(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let s = k_ctl[0];
  let n = kp.R * kp.KC2;
  let stride = nwg.x * 256u;
  for (var e = gid.x; e < n; e += stride) {
    let r = e / kp.KC2;
    let j = e % kp.KC2;
    let b = r / kp.Tq;
    let t = r % kp.Tq;
    let len = k_lengths[b];
    var slot = t;
    if (kp.decode != 0u) {
      slot = len + s - 1u;
    } else if (t >= len) {
      continue;
    }
    k_cache[(b * kp.S + slot) * kp.KC2 + j] = k_qkv[r * kp.W + kp.QC + j];
  }
}

// ---- decode_attention: one workgroup per (query head, sequence) ----
struct AttnParams { B: u32, NH: u32, NKV: u32, HS: u32, S: u32, W: u32, _p0: u32, _p1: u32 }

// Invocations per (head, sequence): 64 on GPUs, 4 on CPU adapters (src/kernels/plan.ts).
override AWG: u32 = 64u;
const MAX_H4 = 32u; // HS ≤ 128, as shaders/attention.wgsl

var<workgroup> a_red: array<f32, AWG>;

@group(0) @binding(0) var<storage, read_write> a_out: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> a_scores: array<f32>;
@group(0) @binding(2) var<storage, read> a_qkv: array<vec4f>;
@group(0) @binding(3) var<storage, read> a_cache: array<vec4f>;
@group(0) @binding(4) var<storage, read> a_lengths: array<u32>;
@group(0) @binding(5) var<storage, read> a_ctl: array<u32>;
@group(0) @binding(6) var<uniform> ap: AttnParams;

// Three passes over the n = len_b + s cached slots: scores (q scaled first, then the dot product
// over HS in order, as attention_forward) and their max; exp(score − max) and their sum; then each
// invocation owns output channels (4 at a time) and sums p·v over the slots in order.
@compute @workgroup_size(AWG)
fn decode_attention(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let h = wg.x;
  let b = wg.y;
  let H4 = ap.HS / 4u;
  let KC24 = 2u * ap.NKV * H4; // a cache slot in vec4s
  let kv = (h / (ap.NH / ap.NKV)) * H4; // this head's key within a slot; its value follows at + NKV·H4
  let n = a_lengths[b] + a_ctl[0];
  let scale = inverseSqrt(f32(ap.HS));
  let srow = (b * ap.NH + h) * ap.S;
  var q: array<vec4f, MAX_H4>;
  let qo = (b * ap.W) / 4u + h * H4;
  for (var d = 0u; d < H4; d++) { q[d] = a_qkv[qo + d] * scale; }
  var m = NEG_BIG;
  for (var t = li; t < n; t += AWG) {
    let ko = (b * ap.S + t) * KC24 + kv;
    var sc = 0.0;
    for (var d = 0u; d < H4; d++) { sc += dot(q[d], a_cache[ko + d]); }
    a_scores[srow + t] = sc;
    m = max(m, sc);
  }
  a_red[li] = m;
  workgroupBarrier();
  for (var w = AWG / 2u; w > 0u; w >>= 1u) {
    if (li < w) { a_red[li] = max(a_red[li], a_red[li + w]); }
    workgroupBarrier();
  }
  let mx = a_red[0];
  workgroupBarrier();
  var l = 0.0;
  for (var t = li; t < n; t += AWG) {
    let p = exp(a_scores[srow + t] - mx);
    a_scores[srow + t] = p;
    l += p;
  }
  a_red[li] = l;
  storageBarrier();
  workgroupBarrier();
  for (var w = AWG / 2u; w > 0u; w >>= 1u) {
    if (li < w) { a_red[li] += a_red[li + w]; }
    workgroupBarrier();
  }
  let inv = 1.0 / a_red[0];
  let vo = kv + ap.NKV * H4;
  for (var d = li; d < H4; d += AWG) {
    var acc = vec4f(0.0);
    for (var t = 0u; t < n; t++) { acc += a_scores[srow + t] * a_cache[(b * ap.S + t) * KC24 + vo + d]; }
    a_out[(b * ap.NH + h) * H4 + d] = acc * inv;
  }
}

// ---- decode_gather ----
struct GatherParams { B: u32, Tq: u32, C: u32, _p: u32 }

@group(0) @binding(0) var<storage, read_write> g_out: array<f32>;
@group(0) @binding(1) var<storage, read> g_x: array<f32>;
@group(0) @binding(2) var<storage, read> g_lengths: array<u32>;
@group(0) @binding(3) var<uniform> gp: GatherParams;

@compute @workgroup_size(256)
fn decode_gather(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = gp.B * gp.C;
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < n; i += stride) {
    let b = i / gp.C;
    g_out[i] = g_x[(b * gp.Tq + g_lengths[b] - 1u) * gp.C + i % gp.C];
  }
}

// ---- decode_place ----
struct PlaceParams { B: u32, V: u32, row0: u32, rows: u32 }

@group(0) @binding(0) var<storage, read_write> p_logits: array<f32>;
@group(0) @binding(1) var<storage, read> p_block: array<f32>;
@group(0) @binding(2) var<uniform> pp: PlaceParams;

@compute @workgroup_size(256)
fn decode_place(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = pp.B * pp.rows;
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < n; i += stride) {
    p_logits[(i / pp.rows) * pp.V + pp.row0 + i % pp.rows] = p_block[i];
  }
}

// ---- decode_advance ----
@group(0) @binding(0) var<storage, read_write> c_ctl: array<u32>;

@compute @workgroup_size(1)
fn decode_advance() {
  c_ctl[0] = c_ctl[0] + 1u;
}

// ---- decode_matvec_nn / decode_matvec_nt ----
struct MvParams { M: u32, N: u32, K: u32, _p: u32 }

override MV_HAS_BIAS: bool = false;
const MAX_M = 8u;

@group(0) @binding(0) var<storage, read_write> mv_out: array<f32>;
@group(0) @binding(1) var<storage, read> mv_x: array<vec4f>;
@group(0) @binding(2) var<storage, read> mv_w: array<vec4f>;
@group(0) @binding(3) var<storage, read> mv_bias: array<f32>;
@group(0) @binding(4) var<uniform> mp: MvParams;

fn mv_store(m: u32, n0: u32, v: vec4f) {
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n < mp.N) {
      var y = v[j];
      if (MV_HAS_BIAS) { y += mv_bias[n]; }
      mv_out[m * mp.N + n] = y;
    }
  }
}

// Conv1D layout, K % 4 = 0 and N % 4 = 0: one invocation per 4 output columns; a row k of W read
// as one vec4, an outer product with x[m, k] for every row m.
@compute @workgroup_size(64)
fn decode_matvec_nn(@builtin(global_invocation_id) gid: vec3u) {
  let n4 = gid.x;
  let N4 = mp.N / 4u;
  let K4 = mp.K / 4u;
  if (n4 >= N4) { return; }
  var acc: array<vec4f, MAX_M>;
  for (var m = 0u; m < MAX_M; m++) { acc[m] = vec4f(0.0); }
  for (var k4 = 0u; k4 < K4; k4++) {
    let w0 = mv_w[(4u * k4) * N4 + n4];
    let w1 = mv_w[(4u * k4 + 1u) * N4 + n4];
    let w2 = mv_w[(4u * k4 + 2u) * N4 + n4];
    let w3 = mv_w[(4u * k4 + 3u) * N4 + n4];
    for (var m = 0u; m < mp.M; m++) {
      let xv = mv_x[m * K4 + k4];
      acc[m] = fma(vec4f(xv.w), w3, fma(vec4f(xv.z), w2, fma(vec4f(xv.y), w1, fma(vec4f(xv.x), w0, acc[m]))));
    }
  }
  for (var m = 0u; m < mp.M; m++) { mv_store(m, 4u * n4, acc[m]); }
}

// nn.Linear layout, K % 4 = 0: one invocation per 4 output columns (rows of W, clamped at the
// last), each a dot product over K with every row m of x.
@compute @workgroup_size(64)
fn decode_matvec_nt(@builtin(global_invocation_id) gid: vec3u) {
  let n0 = gid.x * 4u;
  let K4 = mp.K / 4u;
  if (n0 >= mp.N) { return; }
  let last = mp.N - 1u;
  let q = vec4u(n0, min(n0 + 1u, last), min(n0 + 2u, last), min(n0 + 3u, last)) * K4;
  var acc: array<vec4f, MAX_M>;
  for (var m = 0u; m < MAX_M; m++) { acc[m] = vec4f(0.0); }
  for (var k4 = 0u; k4 < K4; k4++) {
    let w0 = mv_w[q.x + k4];
    let w1 = mv_w[q.y + k4];
    let w2 = mv_w[q.z + k4];
    let w3 = mv_w[q.w + k4];
    for (var m = 0u; m < mp.M; m++) {
      let xv = mv_x[m * K4 + k4];
      acc[m] += vec4f(dot(xv, w0), dot(xv, w1), dot(xv, w2), dot(xv, w3));
    }
  }
  for (var m = 0u; m < mp.M; m++) { mv_store(m, n0, acc[m]); }
}
