// Residual family: elementwise over n floats.
//   residual_forward  out (n) = inp1 (n) + inp2 (n)
//   accumulate        dst (n) += src (n)   (residual-stream gradients)
// Grid-stride loops: src/kernels/grid.ts caps the workgroup count, so n may exceed
// 65535 · 256.

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
