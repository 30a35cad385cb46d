// Optimizer family over n elements of the parameter arena (or a sub-range of it).
//   grad_norm_partials  partials (G)  = Σ grads² over each workgroup's grid-stride share   (stage 1)
//   grad_norm_finish    out (1)       = Σ partials                                          (stage 2)
//   adamw_step          params, m, v (n) updated from grads (n)    — torch.optim.AdamW
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
