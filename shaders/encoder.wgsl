// Encoder family: token + position embedding. B batch, T time, C channels, V vocab.
//   encoder_forward       out (B,T,C) = wte (V,C)[inp (B,T)] + wpe (P,C)[t]
//                         (HAS_WPE false: no position table, out = wte[inp]; the Llama family)
//   encoder_backward_wte  dwte (V,C) += Σ_{pos : inp[pos] = v} dout (pos,C)
//   encoder_backward_wpe  dwpe (T,C) += Σ_b dout (b,t,C)
// The wte backward has no atomics: the host groups positions by token id (CSR: ids (U),
// offsets (U+1), positions (B·T); src/kernels/encoder.ts), so one invocation owns each
// (used id, channel) and sums in a fixed order — deterministic.
// Row parts: a wte larger than one storage binding is split by rows into parts (src/engine/arena.ts);
// each dispatch binds one part, rows [row0, row0 + rows) of the table, and touches only those ids.
// An unsplit table is the one part row0 = 0, rows = V.

struct Params { B: u32, T: u32, C: u32, V: u32, row0: u32, rows: u32, u0: u32, _p: u32 }

// false: the model has no learned positions (Llama family); wpe is bound (to wte) but never read
override HAS_WPE: bool = true;

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> inp: array<u32>;
@group(0) @binding(2) var<storage, read> wte: array<f32>;
@group(0) @binding(3) var<storage, read> wpe: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

// Grid-stride over B·T·C; writes the positions whose id lies in this part's rows. A token id
// ≥ V writes NaN (in the dispatch of the last part) so a bad batch shows in the loss.
@compute @workgroup_size(256)
fn encoder_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = p.B * p.T * p.C;
  let stride = nwg.x * 256u;
  let last = p.row0 + p.rows >= p.V;
  for (var i = gid.x; i < n; i += stride) {
    let bt = i / p.C;
    let c = i % p.C;
    let id = inp[bt];
    if (id >= p.row0 && id < p.row0 + p.rows) {
      var x = wte[(id - p.row0) * p.C + c];
      if (HAS_WPE) { x += wpe[(bt % p.T) * p.C + c]; }
      out[i] = x;
    } else if (id >= p.V && last) {
      out[i] = bitcast<f32>(0x7fc00000u | id); // a quiet NaN (a constant NaN is a WGSL error)
    }
  }
}

@group(0) @binding(0) var<storage, read_write> dwte: array<f32>;
@group(0) @binding(1) var<storage, read> dout: array<f32>;
@group(0) @binding(2) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read> offsets: array<u32>;
@group(0) @binding(4) var<storage, read> positions: array<u32>;
@group(0) @binding(5) var<uniform> pw: Params; // V holds u1: this part's used ids are buckets [u0, u1)

// x: 64 channels per workgroup; y: this part's used ids [u0, u1) (ids within [row0, row0 + rows),
// the buckets being sorted by id), striding when there are more than the dispatch.
@compute @workgroup_size(64)
fn encoder_backward_wte(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let c = gid.x;
  if (c >= pw.C) { return; }
  for (var u = pw.u0 + wg.y; u < pw.V; u += nwg.y) {
    var s = 0.0;
    for (var k = offsets[u]; k < offsets[u + 1u]; k++) { s += dout[positions[k] * pw.C + c]; }
    dwte[(ids[u] - pw.row0) * pw.C + c] += s;
  }
}

@group(0) @binding(0) var<storage, read_write> dwpe: array<f32>;
@group(0) @binding(1) var<storage, read> pdout: array<f32>;
@group(0) @binding(2) var<uniform> pp: Params;

// Grid-stride over T·C; each invocation sums its (t, c) over the batch in order.
@compute @workgroup_size(256)
fn encoder_backward_wpe(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n = pp.T * pp.C;
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < n; i += stride) {
    var s = 0.0;
    for (var b = 0u; b < pp.B; b++) { s += pdout[b * n + i]; }
    dwpe[i] += s;
  }
}
