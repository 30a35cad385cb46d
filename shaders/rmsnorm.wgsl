// RMSNorm family (Hugging Face LlamaRMSNorm / Qwen2RMSNorm) over rows N (= B·T) of C channels:
//   rmsnorm_forward          out (N,C) = inp·rstd·weight (C); saves rstd (N) = 1/√(mean_c(inp²) + eps)
//   rmsnorm_backward         dinp (N,C) = ∂/∂inp (written; ACCUMULATE adds instead, for a
//                            residual-stream input as in layernorm_backward)
//   rmsnorm_backward_params  dweight (C) += Σ_n dout·inp·rstd
// No mean and no bias, unlike shaders/layernorm.wgsl. A workgroup owns a row (and strides over
// rows when N exceeds the dispatch); the weight gradient gets its own pass so one invocation
// owns each channel (no atomics).
// CPU adapters, C a multiple of 4 (src/kernels/rmsnorm.ts): the `_rows` forms give each invocation
// a whole row in vec4s and `rmsnorm_backward_params4` a vec4 of channels over all rows — no
// workgroup memory and no barriers, as shaders/layernorm.wgsl's (docs/perf.md §16).

struct Params { N: u32, C: u32, eps: f32, _pad: u32 }

// Invocations per row: 256 on GPUs, fewer on a CPU adapter (src/kernels/rmsnorm.ts, plan.ts).
override WG: u32 = 256u;
// rmsnorm_backward: dinp += instead of dinp =.
override ACCUMULATE: bool = false;

var<workgroup> red: array<f32, WG>;

// Sum of v over the workgroup, returned to every invocation. Call from uniform control flow.
fn wg_sum(v: f32, li: u32) -> f32 {
  red[li] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (li < s) { red[li] += red[li + s]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier(); // red is reused by the next call
  return r;
}

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read_write> rstd_out: array<f32>;
@group(0) @binding(2) var<storage, read> inp: array<f32>;
@group(0) @binding(3) var<storage, read> weight: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn rmsnorm_forward(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let C = p.C;
  for (var row = wg.x; row < p.N; row += nwg.x) {
    let base = row * C;
    // Σ x² adds only non-negative terms, so one pass loses nothing to cancellation
    var s = 0.0;
    for (var c = li; c < C; c += WG) {
      let x = inp[base + c];
      s += x * x;
    }
    let rs = inverseSqrt(wg_sum(s, li) / f32(C) + p.eps);
    for (var c = li; c < C; c += WG) {
      out[base + c] = inp[base + c] * rs * weight[c];
    }
    if (li == 0u) { rstd_out[row] = rs; }
  }
}

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> binp: array<f32>;
@group(0) @binding(3) var<storage, read> bweight: array<f32>;
@group(0) @binding(4) var<storage, read> rstd: array<f32>;
@group(0) @binding(5) var<uniform> pb: Params;

// xhat = x·rstd, g = weight·dout: dinp = (g − xhat·mean_c(g·xhat))·rstd
@compute @workgroup_size(WG)
fn rmsnorm_backward(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let C = pb.C;
  for (var row = wg.x; row < pb.N; row += nwg.x) {
    let base = row * C;
    let rs = rstd[row];
    var acc = 0.0;
    for (var c = li; c < C; c += WG) {
      acc += bweight[c] * dout[base + c] * binp[base + c];
    }
    let m = wg_sum(acc, li) * rs / f32(C); // mean_c(g·xhat)
    for (var c = li; c < C; c += WG) {
      let xhat = binp[base + c] * rs;
      let v = (bweight[c] * dout[base + c] - xhat * m) * rs;
      if (ACCUMULATE) {
        dinp[base + c] += v;
      } else {
        dinp[base + c] = v;
      }
    }
  }
}

@group(0) @binding(0) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(1) var<storage, read> pdout: array<f32>;
@group(0) @binding(2) var<storage, read> pinp: array<f32>;
@group(0) @binding(3) var<storage, read> prstd: array<f32>;
@group(0) @binding(4) var<uniform> pp: Params;

// A workgroup owns 16 channels; its 16 rows of threads sum every 16th row of the batch
// (neighbouring threads read neighbouring channels), then combine in a fixed order.
var<workgroup> red_p: array<f32, 256>;

@compute @workgroup_size(16, 16)
fn rmsnorm_backward_params(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.x * 16u + lid.x;
  var acc = 0.0;
  if (c < pp.C) {
    for (var n = lid.y; n < pp.N; n += 16u) {
      acc += pdout[n * pp.C + c] * pinp[n * pp.C + c] * prstd[n];
    }
  }
  red_p[li] = acc;
  workgroupBarrier();
  if (lid.y == 0u && c < pp.C) {
    var s = 0.0;
    for (var r = 0u; r < 16u; r++) { s += red_p[r * 16u + lid.x]; }
    dweight[c] += s;
  }
}

// ---- CPU forms: one invocation per row (or per 4 channels), vec4s, no barriers ----
const RW = 4u; // rows per workgroup: one SIMD group on SwiftShader

@group(0) @binding(0) var<storage, read_write> out_r: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> rstd_r: array<f32>;
@group(0) @binding(2) var<storage, read> inp_r: array<vec4f>;
@group(0) @binding(3) var<storage, read> weight_r: array<vec4f>;
@group(0) @binding(4) var<uniform> pr: Params;

// Dispatch min(ceil(N/4), cap) workgroups of 4 rows; rows past the dispatch grid-stride.
@compute @workgroup_size(RW)
fn rmsnorm_forward_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let C4 = pr.C / 4u;
  for (var row = gid.x; row < pr.N; row += nwg.x * RW) {
    let base = row * C4;
    var s = vec4f(0.0);
    for (var c = 0u; c < C4; c++) {
      let x = inp_r[base + c];
      s += x * x;
    }
    let rs = inverseSqrt((s.x + s.y + s.z + s.w) / f32(pr.C) + pr.eps);
    for (var c = 0u; c < C4; c++) { out_r[base + c] = inp_r[base + c] * rs * weight_r[c]; }
    rstd_r[row] = rs;
  }
}

@group(0) @binding(0) var<storage, read_write> dinp_r: array<vec4f>;
@group(0) @binding(1) var<storage, read> dout_r: array<vec4f>;
@group(0) @binding(2) var<storage, read> binp_r: array<vec4f>;
@group(0) @binding(3) var<storage, read> bweight_r: array<vec4f>;
@group(0) @binding(4) var<storage, read> brstd_r: array<f32>;
@group(0) @binding(5) var<uniform> pbr: Params;

@compute @workgroup_size(RW)
fn rmsnorm_backward_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let C4 = pbr.C / 4u;
  for (var row = gid.x; row < pbr.N; row += nwg.x * RW) {
    let base = row * C4;
    let rs = brstd_r[row];
    var a = vec4f(0.0);
    for (var c = 0u; c < C4; c++) { a += bweight_r[c] * dout_r[base + c] * binp_r[base + c]; }
    let m = (a.x + a.y + a.z + a.w) * rs / f32(pbr.C);
    for (var c = 0u; c < C4; c++) {
      let xhat = binp_r[base + c] * rs;
      let v = (bweight_r[c] * dout_r[base + c] - xhat * m) * rs;
      if (ACCUMULATE) {
        dinp_r[base + c] += v;
      } else {
        dinp_r[base + c] = v;
      }
    }
  }
}

@group(0) @binding(0) var<storage, read_write> dweight_r: array<vec4f>;
@group(0) @binding(1) var<storage, read> pdout_r: array<vec4f>;
@group(0) @binding(2) var<storage, read> pinp_r: array<vec4f>;
@group(0) @binding(3) var<storage, read> prstd_r: array<f32>;
@group(0) @binding(4) var<uniform> ppr: Params;

// Dispatch ceil(C/16) workgroups: invocation c4 owns channels 4·c4 … 4·c4 + 3 and sums all N rows.
@compute @workgroup_size(RW)
fn rmsnorm_backward_params4(@builtin(global_invocation_id) gid: vec3u) {
  let C4 = ppr.C / 4u;
  let c = gid.x;
  if (c >= C4) { return; }
  var dw = vec4f(0.0);
  for (var n = 0u; n < ppr.N; n++) { dw += pdout_r[n * C4 + c] * pinp_r[n * C4 + c] * prstd_r[n]; }
  dweight_r[c] += dw;
}
