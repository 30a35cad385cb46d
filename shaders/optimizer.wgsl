// Optimizer family over n elements of the parameter arena (or a sub-range of it).
//   grad_norm_partials  partials (G)  = Σ grads² over each workgroup's grid-stride share   (stage 1)
//   grad_norm_finish    out (1)       = Σ partials                                          (stage 2)
//   adamw_step          params, m, v (n) updated from grads (n)    — torch.optim.AdamW
//   adamw_step_bf16     the same with m, v stored as bf16, two per u32 word (ceil(n/2) words),
//                       rounded stochastically
//   sgd_step            params (n) -= lr·clip·grads (n)            — torch.optim.SGD, no momentum
// Both steps clip as torch.nn.utils.clip_grad_norm_, reading normSq (1) on the GPU:
//   clip = min(1, maxGradNorm / (sqrt(normSq) + 1e-6)) when maxGradNorm > 0, else 1.
// Step-varying hyperparameters come from the storage struct Hp (written each step with
// queue.writeBuffer, see src/kernels/optimizer.ts), not from the content-pooled uniforms.
// Reductions use no atomics: a fixed tree order, so the norm is deterministic.

const WG = 256u;
// Invocations per workgroup of the norm's reductions: 256 on GPUs, fewer on CPU adapters.
override RWG: u32 = 256u;

struct Hp {
  lr: f32,
  beta1: f32,
  one_minus_beta1: f32,
  beta2: f32,
  one_minus_beta2: f32,
  eps: f32,
  decay: f32,      // 1 − lr·weightDecay
  step_size: f32,  // lr / (1 − beta1^step)
  bc2_sqrt: f32,   // sqrt(1 − beta2^step)
  max_grad_norm: f32,
  step: u32,       // 1-based step count: seeds adamw_step_bf16's stochastic rounding
}

struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }

var<workgroup> red: array<f32, RWG>;

fn tree_sum(li: u32) {
  workgroupBarrier();
  for (var s = RWG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
}

fn clip_coef(norm_sq: f32, max_norm: f32) -> f32 {
  if (max_norm <= 0.0) { return 1.0; }
  return min(1.0, max_norm / (sqrt(norm_sq) + 1e-6));
}

// ---- stage 1: partials (G) ----
@group(0) @binding(0) var<storage, read_write> n1_partials: array<f32>;
@group(0) @binding(1) var<storage, read> n1_grads: array<f32>;
@group(0) @binding(2) var<uniform> p1: Params;

@compute @workgroup_size(RWG)
fn grad_norm_partials(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  var acc = 0.0;
  for (var i = wg.x * RWG + li; i < p1.n; i += nwg.x * RWG) {
    let g = n1_grads[i];
    acc = fma(g, g, acc);
  }
  red[li] = acc;
  tree_sum(li);
  if (li == 0u) { n1_partials[wg.x] = red[0]; }
}

// ---- stage 2: out (1) = Σ partials (n = G), one workgroup ----
// partials is bound read_write: callers keep out and partials in one scratch buffer, and
// WebGPU rejects a buffer bound both writable and read-only in one dispatch.
@group(0) @binding(0) var<storage, read_write> n2_out: array<f32>;
@group(0) @binding(1) var<storage, read_write> n2_partials: array<f32>;
@group(0) @binding(2) var<uniform> p2: Params;

@compute @workgroup_size(RWG)
fn grad_norm_finish(@builtin(local_invocation_index) li: u32) {
  var acc = 0.0;
  for (var i = li; i < p2.n; i += RWG) { acc += n2_partials[i]; }
  red[li] = acc;
  tree_sum(li);
  if (li == 0u) { n2_out[0] = red[0]; }
}

// ---- AdamW: params, m, v (n) from grads (n), normSq (1), hp ----
@group(0) @binding(0) var<storage, read_write> a_params: array<f32>;
@group(0) @binding(1) var<storage, read_write> a_m: array<f32>;
@group(0) @binding(2) var<storage, read_write> a_v: array<f32>;
@group(0) @binding(3) var<storage, read> a_grads: array<f32>;
@group(0) @binding(4) var<storage, read> a_norm_sq: array<f32>;
@group(0) @binding(5) var<storage, read> a_hp: Hp;
@group(0) @binding(6) var<uniform> pa: Params;

@compute @workgroup_size(256)
fn adamw_step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let h = a_hp;
  let clip = clip_coef(a_norm_sq[0], h.max_grad_norm);
  for (var i = gid.x; i < pa.n; i += nwg.x * WG) {
    let g = a_grads[i] * clip;
    let p = a_params[i] * h.decay;
    // m.lerp_(g, 1 − β1) and v·β2 + (1 − β2)·g², in torch's order of operations
    let m = a_m[i] + h.one_minus_beta1 * (g - a_m[i]);
    let v = a_v[i] * h.beta2 + h.one_minus_beta2 * g * g;
    a_m[i] = m;
    a_v[i] = v;
    a_params[i] = p - h.step_size * (m / (sqrt(v) / h.bc2_sqrt + h.eps));
  }
}

// ---- AdamW on vec4s (n a multiple of 4): adamw_step's operations per component, PER vec4s per
// invocation (src/kernels/grid.ts vec4Chunks: 16 on CPU adapters, 1 on GPUs) ----
override PER: u32 = 1u;
const WG4 = 64u;

@group(0) @binding(0) var<storage, read_write> a4_params: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> a4_m: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> a4_v: array<vec4f>;
@group(0) @binding(3) var<storage, read> a4_grads: array<vec4f>;
@group(0) @binding(4) var<storage, read> a4_norm_sq: array<f32>;
@group(0) @binding(5) var<storage, read> a4_hp: Hp;
@group(0) @binding(6) var<uniform> pa4: Params;

@compute @workgroup_size(WG4)
fn adamw_step4(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let h = a4_hp;
  let clip = clip_coef(a4_norm_sq[0], h.max_grad_norm);
  let n4 = pa4.n / 4u;
  for (var base = wg.x * WG4 * PER; base < n4; base += nwg.x * WG4 * PER) {
    for (var j = 0u; j < PER; j++) {
      let i = base + j * WG4 + li;
      if (i < n4) {
        let g = a4_grads[i] * clip;
        let p = a4_params[i] * h.decay;
        let m0 = a4_m[i];
        let m = m0 + h.one_minus_beta1 * (g - m0);
        let v = a4_v[i] * h.beta2 + h.one_minus_beta2 * g * g;
        a4_m[i] = m;
        a4_v[i] = v;
        a4_params[i] = p - h.step_size * (m / (sqrt(v) / h.bc2_sqrt + h.eps));
      }
    }
  }
}

// ---- AdamW with bf16 moments: params (n), m, v (ceil(n/2) u32 words) from grads (n) ----
// Word k holds elements 2k (low 16 bits) and 2k+1 (high 16 bits), each the upper half of its
// f32 pattern. Plain u32 bit operations, so every adapter runs it (no shader-f16 needed).
// The math is adamw_step's in f32; the new m, v are rounded to bf16 and the rounded values
// (what is stored, so what a resumed run sees) drive the parameter update.
// The rounding is stochastic (bf16_bits_sr): round-to-nearest would freeze v, since v·β2 with
// β2 = 0.999 moves v by 0.1 %, under half a bf16 spacing, and rounds back to v every step.
// The random bits hash (index_base + element, step), so runs are deterministic and resumable;
// index_base is the range's first arena element, so per-tensor dispatches draw the same bits
// as one dispatch over the arena.
// m, v may start mid-binding (m_base, v_base words): per-tensor ranges need not sit at the
// storage-offset alignment (see src/kernels/optimizer.ts).
struct Bf16Params { n: u32, m_base: u32, v_base: u32, index_base: u32 }

@group(0) @binding(0) var<storage, read_write> b_params: array<f32>;
@group(0) @binding(1) var<storage, read_write> b_m: array<u32>;
@group(0) @binding(2) var<storage, read_write> b_v: array<u32>;
@group(0) @binding(3) var<storage, read> b_grads: array<f32>;
@group(0) @binding(4) var<storage, read> b_norm_sq: array<f32>;
@group(0) @binding(5) var<storage, read> b_hp: Hp;
@group(0) @binding(6) var<uniform> pb: Bf16Params;

// PCG hash (Jarzynski & Olano 2020): u32 -> u32, well mixed for consecutive inputs; u32
// arithmetic wraps. pcgHash in src/reference/optimizer.ts is the same function.
fn pcg_hash(x: u32) -> u32 {
  let s = x * 747796405u + 2891336453u;
  let w = ((s >> ((s >> 28u) + 4u)) ^ s) * 277803737u;
  return (w >> 22u) ^ w;
}

// f32 -> bf16 bits (low 16 of the result), rounded stochastically with r's low 16 bits: adding
// them before the cut rounds away from zero with probability (low half)/2¹⁶, so E[result] = x
// (including across binades: the carry walks the exponent). Only values above the largest
// bf16, within one spacing of it, can reach Inf; ±Inf stay (low half 0). NaN is tested on the
// bits (a NaN whose payload sits in the low 16 bits could carry into Inf) and stays a quiet
// NaN with its sign. The sum stays below 2³² for every non-NaN b.
fn bf16_bits_sr(x: f32, r: u32) -> u32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return (b >> 16u) | 0x0040u; }
  return (b + (r & 0xffffu)) >> 16u;
}

fn bf16_lo(w: u32) -> f32 { return bitcast<f32>(w << 16u); }
fn bf16_hi(w: u32) -> f32 { return bitcast<f32>(w & 0xffff0000u); }

// One element's update from its stored moments m0, v0; writes the parameter and returns the
// new moments' bf16 bits (m, v). key = pcg_hash(step); the element's 32 random bits round m
// (low 16) and v (high 16).
fn adamw_bf16_one(i: u32, m0: f32, v0: f32, clip: f32, key: u32) -> vec2u {
  let h = b_hp;
  let g = b_grads[i] * clip;
  let p = b_params[i] * h.decay;
  let r = pcg_hash(pb.index_base + i + key);
  let bits = vec2u(bf16_bits_sr(m0 + h.one_minus_beta1 * (g - m0), r), bf16_bits_sr(v0 * h.beta2 + h.one_minus_beta2 * g * g, r >> 16u));
  let m = bf16_lo(bits.x);
  let v = bf16_lo(bits.y);
  b_params[i] = p - h.step_size * (m / (sqrt(v) / h.bc2_sqrt + h.eps));
  return bits;
}

@compute @workgroup_size(256)
fn adamw_step_bf16(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let clip = clip_coef(b_norm_sq[0], b_hp.max_grad_norm);
  let words = pb.n / 2u + (pb.n & 1u);
  let key = pcg_hash(b_hp.step);
  for (var k = gid.x; k < words; k += nwg.x * WG) {
    let wm = b_m[pb.m_base + k];
    let wv = b_v[pb.v_base + k];
    let i = 2u * k;
    let lo = adamw_bf16_one(i, bf16_lo(wm), bf16_lo(wv), clip, key);
    // an odd n leaves the last word's high half unused: keep its bits as they are
    var m_hi = wm & 0xffff0000u;
    var v_hi = wv & 0xffff0000u;
    if (i + 1u < pb.n) {
      let hi = adamw_bf16_one(i + 1u, bf16_hi(wm), bf16_hi(wv), clip, key);
      m_hi = hi.x << 16u;
      v_hi = hi.y << 16u;
    }
    b_m[pb.m_base + k] = m_hi | lo.x;
    b_v[pb.v_base + k] = v_hi | lo.y;
  }
}

// ---- SGD: params (n) -= lr·clip·grads (n) ----
@group(0) @binding(0) var<storage, read_write> s_params: array<f32>;
@group(0) @binding(1) var<storage, read> s_grads: array<f32>;
@group(0) @binding(2) var<storage, read> s_norm_sq: array<f32>;
@group(0) @binding(3) var<storage, read> s_hp: Hp;
@group(0) @binding(4) var<uniform> ps: Params;

@compute @workgroup_size(256)
fn sgd_step(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let clip = clip_coef(s_norm_sq[0], s_hp.max_grad_norm);
  let lr = s_hp.lr;
  for (var i = gid.x; i < ps.n; i += nwg.x * WG) {
    s_params[i] = s_params[i] - lr * (s_grads[i] * clip);
  }
}
