// Residual family: elementwise over n floats.
//   residual_forward  out (n) = inp1 (n) + inp2 (n)
//   accumulate        dst (n) += src (n)   (residual-stream gradients)
// Grid-stride loops: src/kernels/grid.ts caps the workgroup count, so n may exceed
// 65535 · 256.
// residual_forward4 / accumulate4: the same on vec4s (n a multiple of 4), PER vec4s per
// invocation (src/kernels/grid.ts vec4Chunks: 16 on CPU adapters, 1 on GPUs).

struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> inp1: array<f32>;
@group(0) @binding(2) var<storage, read> inp2: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(256)
fn residual_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < p.n; i += stride) {
    out[i] = inp1[i] + inp2[i];
  }
}

@group(0) @binding(0) var<storage, read_write> dst: array<f32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<uniform> pa: Params;

@compute @workgroup_size(256)
fn accumulate(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < pa.n; i += stride) {
    dst[i] += src[i];
  }
}

override PER: u32 = 1u;
const WG4 = 64u;

@group(0) @binding(0) var<storage, read_write> out4: array<vec4f>;
@group(0) @binding(1) var<storage, read> inp14: array<vec4f>;
@group(0) @binding(2) var<storage, read> inp24: array<vec4f>;
@group(0) @binding(3) var<uniform> p4: Params;

@compute @workgroup_size(WG4)
fn residual_forward4(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n4 = p4.n / 4u;
  for (var base = wg.x * WG4 * PER; base < n4; base += nwg.x * WG4 * PER) {
    for (var j = 0u; j < PER; j++) {
      let i = base + j * WG4 + li;
      if (i < n4) { out4[i] = inp14[i] + inp24[i]; }
    }
  }
}

@group(0) @binding(0) var<storage, read_write> dst4: array<vec4f>;
@group(0) @binding(1) var<storage, read> src4: array<vec4f>;
@group(0) @binding(2) var<uniform> pa4: Params;

@compute @workgroup_size(WG4)
fn accumulate4(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let n4 = pa4.n / 4u;
  for (var base = wg.x * WG4 * PER; base < n4; base += nwg.x * WG4 * PER) {
    for (var j = 0u; j < PER; j++) {
      let i = base + j * WG4 + li;
      if (i < n4) { dst4[i] += src4[i]; }
    }
  }
}
