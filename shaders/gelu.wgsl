// GELU family, GPT-2's gelu_new (tanh approximation), elementwise over n floats:
//   gelu_forward   out (n)  = 0.5·x·(1 + tanh(u)),  u = √(2/π)·(x + 0.044715·x³)
//   gelu_backward  dinp (n) = gelu'(x) · dout (n)   (written, not accumulated)
// tanh is built from e = exp(−2|u|) ∈ [0, 1], which never overflows: WGSL tanh of a large
// argument returns NaN on some drivers, and 1 + tanh(u) for u ≪ 0 would cancel in f32.
// Grid-stride loops: n may exceed 65535 · 256 (src/kernels/grid.ts).
// gelu_forward4 / gelu_backward4: the same per element on vec4s (n a multiple of 4), each
// invocation doing PER vec4s of its workgroup's chunk (src/kernels/grid.ts vec4Chunks): on a
// CPU adapter an invocation's fixed cost is large, so 16 per invocation there (1 on GPUs).

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

// tanh_parts on 4 lanes: the same operations per component.
fn tanh_parts4(u: vec4f) -> array<vec4f, 2> {
  let e = exp(-2.0 * abs(u));
  let d = 1.0 + e;
  return array<vec4f, 2>(select(2.0 / d, 2.0 * e / d, u < vec4f(0.0)), 4.0 * e / (d * d));
}

// vec4s per invocation of the vec4 forms (override: 16 on CPU adapters, 1 on GPUs)
override PER: u32 = 1u;
const WG4 = 64u;

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

@group(0) @binding(0) var<storage, read_write> out4: array<vec4f>;
@group(0) @binding(1) var<storage, read> inp4: array<vec4f>;
@group(0) @binding(2) var<uniform> p4: Params;

// Dispatch vec4Chunks(n/4, PER): workgroup w owns vec4s [w·64·PER, (w+1)·64·PER) of each
// grid stride, invocation li every 64th of them.
@compute @workgroup_size(WG4)
fn gelu_forward4(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n4 = p4.n / 4u;
  for (var base = wg.x * WG4 * PER; base < n4; base += nwg.x * WG4 * PER) {
    for (var j = 0u; j < PER; j++) {
      let i = base + j * WG4 + li;
      if (i < n4) {
        let x = inp4[i];
        out4[i] = 0.5 * x * tanh_parts4(S * (x + K * x * x * x))[0];
      }
    }
  }
}

@group(0) @binding(0) var<storage, read_write> dinp4: array<vec4f>;
@group(0) @binding(1) var<storage, read> binp4: array<vec4f>;
@group(0) @binding(2) var<storage, read> dout4: array<vec4f>;
@group(0) @binding(3) var<uniform> pb4: Params;

@compute @workgroup_size(WG4)
fn gelu_backward4(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n4 = pb4.n / 4u;
  for (var base = wg.x * WG4 * PER; base < n4; base += nwg.x * WG4 * PER) {
    for (var j = 0u; j < PER; j++) {
      let i = base + j * WG4 + li;
      if (i < n4) {
        let x = binp4[i];
        let t = tanh_parts4(S * (x + K * x * x * x));
        // as gelu_backward: the tail is 0 where sech² underflows (select drops a NaN of inf·0)
        let tail = select(vec4f(0.0), 0.5 * x * t[1] * S * (1.0 + 3.0 * K * x * x), t[1] > vec4f(0.0));
        dinp4[i] = (0.5 * t[0] + tail) * dout4[i];
      }
    }
  }
}
