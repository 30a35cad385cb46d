// GELU family, GPT-2's gelu_new (tanh approximation), elementwise over n floats:
//   gelu_forward   out (n)  = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)
//   gelu_backward  dinp (n) = gelu'(x) · dout (n)   (written, not accumulated)
// tanh is built from e = exp(−2|u|) ∈ [0, 1], which never overflows: WGSL tanh of a large
// argument returns NaN on some drivers, and 1 + tanh(u) for u ≪ 0 would cancel in f32.
// Grid-stride loops: n may exceed 65535 · 256 (src/kernels/grid.ts).

struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }

const S = 0.7978845608028654; // √(2/π)
const K = 0.044715;

// (1 + tanh(u), 1 − tanh²(u)) without cancellation.
fn tanh_parts(u: f32) -> vec2f {
  let e = exp(-2.0 * abs(u));
  let d = 1.0 + e;
  var one_plus = 2.0 / d;
  if (u < 0.0) { one_plus = 2.0 * e / d; }
  return vec2f(one_plus, 4.0 * e / (d * d));
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> inp: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn gelu_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < p.n; i += stride) {
    let x = inp[i];
    out[i] = 0.5 * x * tanh_parts(S * (x + K * x * x * x)).x;
  }
}

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(1) var<storage, read> binp: array<f32>;
@group(0) @binding(2) var<storage, read> dout: array<f32>;
@group(0) @binding(3) var<uniform> pb: Params;

@compute @workgroup_size(256)
fn gelu_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < pb.n; i += stride) {
    let x = binp[i];
    let t = tanh_parts(S * (x + K * x * x * x));
    // x·sech² → 0 where sech² underflows, so |x| huge gives 0, not inf·0.
    var tail = 0.0;
    if (t.y > 0.0) { tail = 0.5 * x * t.y * S * (1.0 + 3.0 * K * x * x); }
    dinp[i] = (0.5 * t.x + tail) * dout[i];
  }
}
