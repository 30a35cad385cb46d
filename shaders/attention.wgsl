// Causal multi-head self-attention family (Hugging Face GPT2Attention).
// Dimensions: B batch, T time, C channels, NH heads, HS = C/NH head size.
// qkv (B,T,3C) from c_attn: q = [0,C), k = [C,2C), v = [2C,3C); head h owns channels h·HS..(h+1)·HS.
// lengths (B): real length of each right-padded sequence; rows t ≥ lengths[b] are padding.
// src/kernels/attention.ts dispatches:
//   forward   attention_softmax_forward  att (B,NH,T,T) = softmax_{t2 ≤ t}(q_t·k_t2 / sqrt(HS))   one workgroup per row (t,h,b)
//             attention_forward          out (B,T,C)    = Σ_t2 att · v, heads concatenated       one thread per output
//   backward  attention_backward_rows    dpreatt (B,NH,T,T) = att ⊙ (datt − Σ att·datt) / sqrt(HS),
//                                        datt = dout_t · v_t2                                     one workgroup per row (t,h,b)
//             attention_backward_qkv     dqkv (B,T,3C) written (=):                              one thread per output
//                                        dq_t = Σ_{t2≤t} dpreatt[t,t2] k_t2, dk_t2 = Σ_{t≥t2} dpreatt[t,t2] q_t,
//                                        dv_t2 = Σ_{t≥t2} att[t,t2] dout_t
// attention_forward4 / attention_backward_qkv4 (end of file) are the same two passes over vec4s
// of channels, used when HS % 4 = 0.
// Padded rows get out = 0, att = 0 and dqkv = 0, and passes sum only over real rows t < lengths[b]:
// padded outputs are constants, so they pass no gradient back. dpreatt is written only for
// t2 ≤ t < lengths[b], and only those entries are read.

struct Params { B: u32, T: u32, C: u32, NH: u32 }

// Invocations per row of the row kernels: 64 on GPUs, fewer on CPU adapters (src/kernels/plan.ts).
override WG: u32 = 64u;
const NEG_BIG = -3.0e38; // below any score; WGSL has no -inf literal

var<workgroup> red: array<f32, WG>;

// Sum (or max) of every thread's `x` across the workgroup; call from uniform control flow.
fn reduce(x: f32, lid: u32, is_max: bool) -> f32 {
  red[lid] = x;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) {
      if (is_max) { red[lid] = max(red[lid], red[lid + s]); } else { red[lid] = red[lid] + red[lid + s]; }
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

// ---- forward: softmax rows ----
@group(0) @binding(0) var<storage, read_write> att_w: array<f32>;
@group(0) @binding(1) var<storage, read> qkv_s: array<f32>;
@group(0) @binding(2) var<storage, read> lengths_s: array<u32>;
@group(0) @binding(3) var<uniform> ps: Params;

// Thread lid owns keys t2 ≡ lid (mod WG) of row (t,h,b); att holds the scaled scores, then
// exp(score − max), then the probabilities, each touched only by its owner.
@compute @workgroup_size(WG)
fn attention_softmax_forward(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  let t = wg.x; let h = wg.y; let b = wg.z;
  let T = ps.T; let C = ps.C; let HS = C / ps.NH;
  let row = ((b * ps.NH + h) * T + t) * T;
  let nk = select(0u, t + 1u, t < min(lengths_s[b], T)); // keys of this row; 0 on padding
  let scale = 1.0 / sqrt(f32(HS));
  let q = (b * T + t) * 3u * C + h * HS;
  // subtract the row max for numerical stability
  var m = NEG_BIG;
  for (var t2 = lid; t2 < nk; t2 += WG) {
    let k = (b * T + t2) * 3u * C + C + h * HS;
    var s = 0.0;
    for (var d = 0u; d < HS; d++) { s = fma(qkv_s[q + d], qkv_s[k + d], s); }
    s *= scale;
    att_w[row + t2] = s;
    m = max(m, s);
  }
  m = reduce(m, lid, true);
  var sum = 0.0;
  for (var t2 = lid; t2 < nk; t2 += WG) {
    let e = exp(att_w[row + t2] - m);
    att_w[row + t2] = e;
    sum += e;
  }
  sum = reduce(sum, lid, false);
  let inv = 1.0 / sum;
  for (var t2 = lid; t2 < T; t2 += WG) {
    att_w[row + t2] = select(0.0, att_w[row + t2] * inv, t2 < nk);
  }
}

// ---- forward: out = att · v ----
@group(0) @binding(0) var<storage, read_write> out_w: array<f32>;
@group(0) @binding(1) var<storage, read> att_o: array<f32>;
@group(0) @binding(2) var<storage, read> qkv_o: array<f32>;
@group(0) @binding(3) var<storage, read> lengths_o: array<u32>;
@group(0) @binding(4) var<uniform> po: Params;

// One thread per out (b,t,c); dispatch (ceil(C/64), T, B).
@compute @workgroup_size(64)
fn attention_forward(@builtin(global_invocation_id) gid: vec3u) {
  let c = gid.x; let t = gid.y; let b = gid.z;
  let T = po.T; let C = po.C; let HS = C / po.NH;
  if (c >= C) { return; }
  var acc = 0.0;
  if (t < lengths_o[b]) {
    let row = ((b * po.NH + c / HS) * T + t) * T;
    for (var t2 = 0u; t2 <= t; t2++) { acc = fma(att_o[row + t2], qkv_o[(b * T + t2) * 3u * C + 2u * C + c], acc); }
  }
  out_w[(b * T + t) * C + c] = acc;
}

// ---- backward: dpreatt rows ----
@group(0) @binding(0) var<storage, read_write> dpreatt_w: array<f32>;
@group(0) @binding(1) var<storage, read> dout_r: array<f32>;
@group(0) @binding(2) var<storage, read> qkv_r: array<f32>;
@group(0) @binding(3) var<storage, read> att_r: array<f32>;
@group(0) @binding(4) var<storage, read> lengths_r: array<u32>;
@group(0) @binding(5) var<uniform> pr: Params;

// Thread lid owns keys t2 ≡ lid (mod WG) of row (t,h,b); dpreatt first holds datt.
@compute @workgroup_size(WG)
fn attention_backward_rows(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  let t = wg.x; let h = wg.y; let b = wg.z;
  let T = pr.T; let C = pr.C; let HS = C / pr.NH;
  let row = ((b * pr.NH + h) * T + t) * T;
  let nk = select(0u, t + 1u, t < min(lengths_r[b], T));
  let scale = 1.0 / sqrt(f32(HS));
  let o = (b * T + t) * C + h * HS;
  var dot = 0.0;
  for (var t2 = lid; t2 < nk; t2 += WG) {
    let v = (b * T + t2) * 3u * C + 2u * C + h * HS;
    var s = 0.0;
    for (var d = 0u; d < HS; d++) { s = fma(dout_r[o + d], qkv_r[v + d], s); }
    dpreatt_w[row + t2] = s;
    dot = fma(att_r[row + t2], s, dot);
  }
  dot = reduce(dot, lid, false);
  for (var t2 = lid; t2 < nk; t2 += WG) {
    dpreatt_w[row + t2] = att_r[row + t2] * (dpreatt_w[row + t2] - dot) * scale;
  }
}

// ---- backward: dqkv ----
@group(0) @binding(0) var<storage, read_write> dqkv_w: array<f32>;
@group(0) @binding(1) var<storage, read> dout_q: array<f32>;
@group(0) @binding(2) var<storage, read> dpreatt_q: array<f32>;
@group(0) @binding(3) var<storage, read> qkv_q: array<f32>;
@group(0) @binding(4) var<storage, read> att_q: array<f32>;
@group(0) @binding(5) var<storage, read> lengths_q: array<u32>;
@group(0) @binding(6) var<uniform> pq: Params;

// One thread per dqkv (b,t,j), j in [0,3C); dispatch (ceil(3C/64), T, B). The q part sums
// over keys t2 ≤ t of row t; the k and v parts sum over real query rows t' ≥ t of column t.
@compute @workgroup_size(64)
fn attention_backward_qkv(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x; let t = gid.y; let b = gid.z;
  let T = pq.T; let C = pq.C; let HS = C / pq.NH;
  if (j >= 3u * C) { return; }
  let len = min(lengths_q[b], T);
  let part = j / C; // 0 q, 1 k, 2 v
  let c = j % C;
  let head = (b * pq.NH + c / HS) * T;
  var acc = 0.0;
  if (t < len) {
    if (part == 0u) {
      let row = (head + t) * T;
      for (var t2 = 0u; t2 <= t; t2++) { acc = fma(dpreatt_q[row + t2], qkv_q[(b * T + t2) * 3u * C + C + c], acc); }
    } else if (part == 1u) {
      for (var tq = t; tq < len; tq++) { acc = fma(dpreatt_q[(head + tq) * T + t], qkv_q[(b * T + tq) * 3u * C + c], acc); }
    } else {
      for (var tq = t; tq < len; tq++) { acc = fma(att_q[(head + tq) * T + t], dout_q[(b * T + tq) * C + c], acc); }
    }
  }
  dqkv_w[(b * T + t) * 3u * C + j] = acc;
}

// ---- v2: vec4 forms of attention_forward and attention_backward_qkv (HS % 4 = 0) ----
// One invocation owns 4 neighbouring channels of one head: each att / dpreatt value read
// feeds 4 FMAs and q, k, v, dout are read 16 bytes at a time (4× fewer loads than v1).
// C4 = C/4 channel groups; the head of group c4 is c4·4 / HS.
@group(0) @binding(0) var<storage, read_write> out4_w: array<vec4f>;
@group(0) @binding(2) var<storage, read> qkv4_o: array<vec4f>;

// Dispatch (ceil(C4/64), T, B).
@compute @workgroup_size(64)
fn attention_forward4(@builtin(global_invocation_id) gid: vec3u) {
  let c4 = gid.x; let t = gid.y; let b = gid.z;
  let T = po.T; let C4 = po.C / 4u; let HS = po.C / po.NH;
  if (c4 >= C4) { return; }
  var acc = vec4f(0.0);
  if (t < lengths_o[b]) {
    let row = ((b * po.NH + (c4 * 4u) / HS) * T + t) * T;
    for (var t2 = 0u; t2 <= t; t2++) { acc = fma(vec4f(att_o[row + t2]), qkv4_o[(b * T + t2) * 3u * C4 + 2u * C4 + c4], acc); }
  }
  out4_w[(b * T + t) * C4 + c4] = acc;
}

@group(0) @binding(0) var<storage, read_write> dqkv4_w: array<vec4f>;
@group(0) @binding(1) var<storage, read> dout4_q: array<vec4f>;
@group(0) @binding(3) var<storage, read> qkv4_q: array<vec4f>;

// One invocation per 4 channels j4 of dqkv (b,t), j4 in [0, 3·C4); dispatch (ceil(3·C4/64), T, B).
@compute @workgroup_size(64)
fn attention_backward_qkv4(@builtin(global_invocation_id) gid: vec3u) {
  let j4 = gid.x; let t = gid.y; let b = gid.z;
  let T = pq.T; let C4 = pq.C / 4u; let HS = pq.C / pq.NH;
  if (j4 >= 3u * C4) { return; }
  let len = min(lengths_q[b], T);
  let part = j4 / C4; // 0 q, 1 k, 2 v
  let c4 = j4 % C4;
  let head = (b * pq.NH + (c4 * 4u) / HS) * T;
  var acc = vec4f(0.0);
  if (t < len) {
    if (part == 0u) {
      let row = (head + t) * T;
      for (var t2 = 0u; t2 <= t; t2++) { acc = fma(vec4f(dpreatt_q[row + t2]), qkv4_q[(b * T + t2) * 3u * C4 + C4 + c4], acc); }
    } else if (part == 1u) {
      for (var tq = t; tq < len; tq++) { acc = fma(vec4f(dpreatt_q[(head + tq) * T + t]), qkv4_q[(b * T + tq) * 3u * C4 + c4], acc); }
    } else {
      for (var tq = t; tq < len; tq++) { acc = fma(vec4f(att_q[(head + tq) * T + t]), dout4_q[(b * T + tq) * C4 + c4], acc); }
    }
  }
  dqkv4_w[(b * T + t) * 3u * C4 + j4] = acc;
}
