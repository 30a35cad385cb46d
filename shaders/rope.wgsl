// RoPE family (Hugging Face LlamaRotaryEmbedding + apply_rotary_pos_emb, rotate_half convention:
// halves, not interleaved pairs; no rope_scaling). Dimensions: B batch, T time, NH heads (query
// heads for q, key/value heads for k), HS head size (even), half = HS/2.
// A (B,T,NH,HS) tensor lies in its buffer as rows: row r = b·T + t starts at element
// off + r·stride and holds its NH heads of HS contiguously, so q and k inside a packed
// (B,T,(NH+2·NKV)·HS) qkv buffer are (off 0, stride (NH+2·NKV)·HS) and (off NH·HS, same stride).
// Each invocation owns one pair (x_i, x_{i+half}) of one head of one row, t its position:
//   out_i = x_i·cos − x_{i+half}·sin,   out_{i+half} = x_{i+half}·cos + x_i·sin,
//   angle = t·inv_freq[i], sin taken with p.sign (+1 forward; −1 backward: the transpose of a
//   rotation is the rotation by the opposite angle, so dinp = rotate(dout, −angle)).
//   rope_rotate          out (rows) = rotate(inp (rows))     (written)
//   rope_rotate_inplace  x (rows) = rotate(x (rows))         (one read_write binding)
// inv_freq (half) arrives in Params, computed on the host in f32 exactly as Hugging Face does
// (src/kernels/rope.ts ropeInvFreq); angle = t·inv_freq is one f32 product, as in HF's
// inv_freq @ position_ids. cos/sin are computed here from that f32 angle with an explicit range
// reduction, so they stay accurate at large positions whatever the driver's sin/cos do there.
// Grid-stride loops over the n = B·T·NH·half pairs.

struct Params {
  n: u32,
  T: u32,
  NH: u32,
  half: u32,
  in_off: u32,
  in_stride: u32,
  out_off: u32,
  out_stride: u32,
  sign: f32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
  inv_freq: array<vec4f, 32>, // HS ≤ 256
}

// π/2 as P1 + P2 + P3 + P4: P1..P3 carry 8 significant bits each, so j·Pk is exact in f32 for
// |j| < 2^16 (angles below ~1e5 rad), and a − j·π/2 is formed without cancellation error.
const TWO_OVER_PI = 0.6366197723675814;
const PIO2_1 = 1.5703125;
const PIO2_2 = 4.825592041015625e-4;
const PIO2_3 = 1.26659870147705078125e-6;
const PIO2_4 = 9.920936294705029e-10;

// (cos a, sin a): reduce to r = a − j·π/2 ∈ [−π/4, π/4], minimax polynomials on r (the Cephes
// sinf/cosf coefficients, ~1 ulp there), then pick by quadrant j mod 4.
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

// Pair k → its row r = b·T + t, the column of x_i within the row (h·HS + i), (cos, sign·sin).
struct Pair { row: u32, col: u32, cs: vec2f }

fn pair(k: u32, T: u32, NH: u32, half: u32, inv: f32, sign: f32) -> Pair {
  let i = k % half;
  let rh = k / half; // row·NH + head
  let row = rh / NH;
  let h = rh % NH;
  let t = row % T;
  let cs = cos_sin(f32(t) * inv);
  return Pair(row, h * 2u * half + i, vec2f(cs.x, sign * cs.y));
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn rope_rotate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var k = gid.x; k < p.n; k += stride) {
    let i = k % p.half;
    let q = pair(k, p.T, p.NH, p.half, p.inv_freq[i / 4u][i % 4u], p.sign);
    let a = p.in_off + q.row * p.in_stride + q.col;
    let x1 = inp[a];
    let x2 = inp[a + p.half];
    let o = p.out_off + q.row * p.out_stride + q.col;
    out[o] = x1 * q.cs.x - x2 * q.cs.y;
    out[o + p.half] = x2 * q.cs.x + x1 * q.cs.y;
  }
}

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<uniform> px: Params;

// The in-place form reads the layout from in_off/in_stride (src/kernels/rope.ts sets both pairs equal).
@compute @workgroup_size(256)
fn rope_rotate_inplace(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var k = gid.x; k < px.n; k += stride) {
    let i = k % px.half;
    let q = pair(k, px.T, px.NH, px.half, px.inv_freq[i / 4u][i % 4u], px.sign);
    let a = px.in_off + q.row * px.in_stride + q.col;
    let x1 = x[a];
    let x2 = x[a + px.half];
    x[a] = x1 * q.cs.x - x2 * q.cs.y;
    x[a + px.half] = x2 * q.cs.x + x1 * q.cs.y;
  }
}
