// LayerNorm family over rows N (= B·T) of C channels:
//   layernorm_forward          out (N,C) = (inp − mean)·rstd·weight (C) + bias (C);
//                              saves mean (N) and rstd (N) = 1/√(var + eps) for backward
//   layernorm_backward         dinp (N,C) += ∂/∂inp        (residual stream: accumulates)
//   layernorm_backward_params  dweight (C) += Σ_n dout·norm, dbias (C) += Σ_n dout
// A workgroup owns a row (and strides over rows when N exceeds the dispatch); the
// parameter gradients get their own pass so one invocation owns each channel (no atomics).
// CPU adapters, C a multiple of 4 (src/kernels/layernorm.ts): the `_rows` forms give each
// invocation a whole row in vec4s and `layernorm_backward_params4` a vec4 of channels over all
// rows — no workgroup memory and no barriers, which on SwiftShader turn every invocation into a
// coroutine (docs/perf.md §16).

struct Params { N: u32, C: u32, eps: f32, _pad: u32 }

// Invocations per row: 256 on GPUs; a CPU adapter (SwiftShader) runs a workgroup as one
// thread and suspends it at every barrier, so src/kernels/layernorm.ts asks for fewer there.
override WG: u32 = 256u;

var<workgroup> red: array<vec2f, WG>;

// Sum of v over the workgroup, returned to every invocation. Call from uniform control flow.
fn wg_sum(v: vec2f, li: u32) -> vec2f {
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
@group(0) @binding(1) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(2) var<storage, read_write> rstd_out: array<f32>;
@group(0) @binding(3) var<storage, read> inp: array<f32>;
@group(0) @binding(4) var<storage, read> weight: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn layernorm_forward(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let C = p.C;
  for (var row = wg.x; row < p.N; row += nwg.x) {
    let base = row * C;
    // sum x − x₀ (x₀ the row's first value): with few invocations per row each one adds many
    // values in sequence, and a row with a large mean would round its running sum
    let x0 = inp[base];
    var s = 0.0;
    for (var c = li; c < C; c += WG) { s += inp[base + c] - x0; }
    let m = x0 + wg_sum(vec2f(s, 0.0), li).x / f32(C);
    // two-pass variance: Σ (x − mean)² does not cancel the way E[x²] − mean² does
    var v = 0.0;
    for (var c = li; c < C; c += WG) {
      let d = inp[base + c] - m;
      v += d * d;
    }
    let rs = inverseSqrt(wg_sum(vec2f(v, 0.0), li).x / f32(C) + p.eps);
    for (var c = li; c < C; c += WG) {
      out[base + c] = (inp[base + c] - m) * rs * weight[c] + bias[c];
    }
    if (li == 0u) {
      mean_out[row] = m;
      rstd_out[row] = rs;
    }
  }
}

@group(0) @binding(0) var<storage, read_write> dinp: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> binp: array<f32>;
@group(0) @binding(3) var<storage, read> bweight: array<f32>;
@group(0) @binding(4) var<storage, read> mean: array<f32>;
@group(0) @binding(5) var<storage, read> rstd: array<f32>;
@group(0) @binding(6) var<uniform> pb: Params;

// norm = (x − mean)·rstd, dnorm = weight·dout:
// dinp += (dnorm − mean_c(dnorm) − norm·mean_c(dnorm·norm))·rstd
@compute @workgroup_size(WG)
fn layernorm_backward(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  let C = pb.C;
  for (var row = wg.x; row < pb.N; row += nwg.x) {
    let base = row * C;
    let m = mean[row];
    let rs = rstd[row];
    var acc = vec2f(0.0);
    for (var c = li; c < C; c += WG) {
      let dnorm = bweight[c] * dout[base + c];
      acc += vec2f(dnorm, dnorm * (binp[base + c] - m) * rs);
    }
    let means = wg_sum(acc, li) / f32(C);
    for (var c = li; c < C; c += WG) {
      let norm = (binp[base + c] - m) * rs;
      let dnorm = bweight[c] * dout[base + c];
      dinp[base + c] += (dnorm - means.x - norm * means.y) * rs;
    }
  }
}

@group(0) @binding(0) var<storage, read_write> dweight: array<f32>;
@group(0) @binding(1) var<storage, read_write> dbias: array<f32>;
@group(0) @binding(2) var<storage, read> pdout: array<f32>;
@group(0) @binding(3) var<storage, read> pinp: array<f32>;
@group(0) @binding(4) var<storage, read> pmean: array<f32>;
@group(0) @binding(5) var<storage, read> prstd: array<f32>;
@group(0) @binding(6) var<uniform> pp: Params;

// A workgroup owns 16 channels; its 16 rows of threads sum every 16th row of the batch
// (neighbouring threads read neighbouring channels), then combine through red.
var<workgroup> red_p: array<vec2f, 256>;

@compute @workgroup_size(16, 16)
fn layernorm_backward_params(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(local_invocation_index) li: u32) {
  let c = wg.x * 16u + lid.x;
  var acc = vec2f(0.0);
  if (c < pp.C) {
    for (var n = lid.y; n < pp.N; n += 16u) {
      let g = pdout[n * pp.C + c];
      acc += vec2f(g * (pinp[n * pp.C + c] - pmean[n]) * prstd[n], g);
    }
  }
  red_p[li] = acc;
  workgroupBarrier();
  if (lid.y == 0u && c < pp.C) {
    var s = vec2f(0.0);
    for (var r = 0u; r < 16u; r++) { s += red_p[r * 16u + lid.x]; }
    dweight[c] += s.x;
    dbias[c] += s.y;
  }
}

// ---- CPU forms: one invocation per row (or per 4 channels), vec4s, no barriers ----
// Rows per workgroup: 4, one SIMD group on SwiftShader.
const RW = 4u;

@group(0) @binding(0) var<storage, read_write> out_r: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> mean_r: array<f32>;
@group(0) @binding(2) var<storage, read_write> rstd_r: array<f32>;
@group(0) @binding(3) var<storage, read> inp_r: array<vec4f>;
@group(0) @binding(4) var<storage, read> weight_r: array<vec4f>;
@group(0) @binding(5) var<storage, read> bias_r: array<vec4f>;
@group(0) @binding(6) var<uniform> pr: Params;

// Dispatch min(ceil(N/4), cap) workgroups of 4 rows; rows past the dispatch grid-stride.
@compute @workgroup_size(RW)
fn layernorm_forward_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let C4 = pr.C / 4u;
  for (var row = gid.x; row < pr.N; row += nwg.x * RW) {
    let base = row * C4;
    // as layernorm_forward: shifted by the row's first value, two-pass variance
    let x0 = inp_r[base].x;
    var s = vec4f(0.0);
    for (var c = 0u; c < C4; c++) { s += inp_r[base + c] - x0; }
    let m = x0 + (s.x + s.y + s.z + s.w) / f32(pr.C);
    var v = vec4f(0.0);
    for (var c = 0u; c < C4; c++) {
      let d = inp_r[base + c] - m;
      v += d * d;
    }
    let rs = inverseSqrt((v.x + v.y + v.z + v.w) / f32(pr.C) + pr.eps);
    for (var c = 0u; c < C4; c++) {
      out_r[base + c] = (inp_r[base + c] - m) * rs * weight_r[c] + bias_r[c];
    }
    mean_r[row] = m;
    rstd_r[row] = rs;
  }
}

@group(0) @binding(0) var<storage, read_write> dinp_r: array<vec4f>;
@group(0) @binding(1) var<storage, read> dout_r: array<vec4f>;
@group(0) @binding(2) var<storage, read> binp_r: array<vec4f>;
@group(0) @binding(3) var<storage, read> bweight_r: array<vec4f>;
@group(0) @binding(4) var<storage, read> bmean_r: array<f32>;
@group(0) @binding(5) var<storage, read> brstd_r: array<f32>;
@group(0) @binding(6) var<uniform> pbr: Params;

@compute @workgroup_size(RW)
fn layernorm_backward_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let C4 = pbr.C / 4u;
  for (var row = gid.x; row < pbr.N; row += nwg.x * RW) {
    let base = row * C4;
    let m = bmean_r[row];
    let rs = brstd_r[row];
    var a = vec4f(0.0);
    var b = vec4f(0.0);
    for (var c = 0u; c < C4; c++) {
      let dnorm = bweight_r[c] * dout_r[base + c];
      a += dnorm;
      b += dnorm * (binp_r[base + c] - m) * rs;
    }
    let ma = (a.x + a.y + a.z + a.w) / f32(pbr.C);
    let mb = (b.x + b.y + b.z + b.w) / f32(pbr.C);
    for (var c = 0u; c < C4; c++) {
      let norm = (binp_r[base + c] - m) * rs;
      let dnorm = bweight_r[c] * dout_r[base + c];
      dinp_r[base + c] += (dnorm - ma - norm * mb) * rs;
    }
  }
}

@group(0) @binding(0) var<storage, read_write> dweight_r: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> dbias_r: array<vec4f>;
@group(0) @binding(2) var<storage, read> pdout_r: array<vec4f>;
@group(0) @binding(3) var<storage, read> pinp_r: array<vec4f>;
@group(0) @binding(4) var<storage, read> pmean_r: array<f32>;
@group(0) @binding(5) var<storage, read> prstd_r: array<f32>;
@group(0) @binding(6) var<uniform> ppr: Params;

// Dispatch ceil(C/16) workgroups: invocation c4 owns channels 4·c4 … 4·c4 + 3 and sums all N rows.
@compute @workgroup_size(RW)
fn layernorm_backward_params4(@builtin(global_invocation_id) gid: vec3u) {
  let C4 = ppr.C / 4u;
  let c = gid.x;
  if (c >= C4) { return; }
  var dw = vec4f(0.0);
  var db = vec4f(0.0);
  for (var n = 0u; n < ppr.N; n++) {
    let g = pdout_r[n * C4 + c];
    dw += g * (pinp_r[n * C4 + c] - pmean_r[n]) * prstd_r[n];
    db += g;
  }
  dweight_r[c] += dw;
  dbias_r[c] += db;
}
