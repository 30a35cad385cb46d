// Causal grouped-query self-attention (Hugging Face GPT2Attention, and LlamaAttention /
// Qwen2Attention after RoPE), flash style: the T×T scores and probabilities are never stored.
// The forward keeps one running max / sum per query row (online softmax) and saves only the
// row's log-sum-exp; the backward recomputes each probability from q, k and that log-sum-exp
// (FlashAttention-2's recipe, one row per invocation).
// Dimensions: B batch, T time, NH query heads, NKV key/value heads (NH % NKV == 0; NKV = NH is
// multi-head attention, NKV = 1 multi-query), G = NH/NKV query heads per group, HS head size (a
// multiple of 4 up to 128, independent of the model width). The kernels work in vec4s of
// channels: H4 = HS/4, QW4 = NH·H4 (q and out row width), KW4 = NKV·H4 (k and v row width),
// R4 = QW4 + 2·KW4 (qkv row width).
// qkv (B,T,(NH+2·NKV)·HS), per token [q (NH·HS) | k (NKV·HS) | v (NKV·HS)], head after head; GPT-2's
// c_attn output (B,T,3C) is the case NKV = NH, HS = C/NH. Query head h reads key/value head
// floor(h/G) (Hugging Face repeat_kv).
// out (B,T,NH·HS) c_proj's / o_proj's input; lse (B,NH,T) per-row log Σ exp(score); delta (B,NH,T) = dout·out.
// lengths (B): real length of each right-padded sequence; rows t ≥ lengths[b] are padding.
// src/kernels/attention.ts dispatches:
//   forward   attention_forward       out, lse                                   one invocation per query row (t,h,b)
//   backward  attention_backward_dq   delta_t = dout_t·out_t,
//                                     dq_t = scale Σ_{s≤t} P_ts (dout_t·v_s − delta_t) k_s      one invocation per query row
//             attention_backward_dkv  dk_s = scale Σ_{h in group} Σ_{t≥s} P_ts (dout_t·v_s − delta_t) q_t,
//                                     dv_s = Σ_{h in group} Σ_{t≥s} P_ts dout_t        one invocation per key row (s,kvh,b)
//   with P_ts = exp(scale q_t·k_s − lse_t) for query head h, scale = 1/sqrt(HS).
// Padded rows get out = 0, lse = 0, delta = 0 and dqkv = 0, and sums run only over real rows
// t < lengths[b]: padded outputs are constants, so they pass no gradient back.
// Each invocation keeps its row's vectors (H4 vec4s each) in private arrays: on a GPU those live
// in registers or spill to cache; on a CPU adapter (SwiftShader) the lanes of a SIMD group are
// neighbouring rows of one head, so the loops below run nearly in lock step across the group.
// The other side of each pair (keys for a query row, query rows for a key) is taken 4 at a time,
// their scores held in the lanes of one vec4: each private vector is then read (and each
// accumulator read and written) once per 4 partners instead of once per partner.
// A key/value head's gradient sums over the G query heads of its group inside one invocation,
// in a fixed order (head by head), so each dk/dv element has one owner and no atomics.

struct Params { B: u32, T: u32, NH: u32, NKV: u32, HS: u32 }

// Query (or key) rows per workgroup; no barriers, so it only sets the dispatch granularity.
override WG: u32 = 64u;
const MAX_H4 = 32u; // 128 channels
const NEG_BIG = -3.0e38; // below any score; WGSL has no -inf literal
const LANES = vec4u(0u, 1u, 2u, 3u);

// ---- forward ----
@group(0) @binding(0) var<storage, read_write> out_f: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> lse_f: array<f32>;
@group(0) @binding(2) var<storage, read> qkv_f: array<vec4f>;
@group(0) @binding(3) var<storage, read> lengths_f: array<u32>;
@group(0) @binding(4) var<uniform> pf: Params;

// Dispatch (ceil(T/WG), NH, B).
@compute @workgroup_size(WG)
fn attention_forward(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x; let h = gid.y; let b = gid.z;
  let T = pf.T; let H4 = pf.HS / 4u; let QW4 = pf.NH * H4; let KW4 = pf.NKV * H4;
  let R4 = QW4 + 2u * KW4;
  if (t >= T) { return; }
  let o = (b * T + t) * QW4 + h * H4;
  let row = (b * pf.NH + h) * T + t;
  if (t >= lengths_f[b]) {
    for (var d = 0u; d < H4; d++) { out_f[o + d] = vec4f(0.0); }
    lse_f[row] = 0.0;
    return;
  }
  let scale = inverseSqrt(f32(pf.HS));
  let kvo = QW4 + (h / (pf.NH / pf.NKV)) * H4; // this head's key within a row
  var q: array<vec4f, MAX_H4>;
  var acc: array<vec4f, MAX_H4>;
  let qo = (b * T + t) * R4 + h * H4;
  for (var d = 0u; d < H4; d++) { q[d] = qkv_f[qo + d] * scale; acc[d] = vec4f(0.0); }
  // online softmax over keys 4 at a time: m the running max, l = Σ exp(score − m), acc = Σ exp(score − m) v
  var m = NEG_BIG;
  var l = 0.0;
  for (var s0 = 0u; s0 <= t; s0 += 4u) {
    let valid = s0 + LANES <= vec4u(t);
    let ks = (b * T + min(s0 + LANES, vec4u(t))) * R4 + kvo; // masked keys read key t
    var sc = vec4f(0.0);
    for (var d = 0u; d < H4; d++) {
      let qd = q[d];
      sc += vec4f(dot(qd, qkv_f[ks.x + d]), dot(qd, qkv_f[ks.y + d]), dot(qd, qkv_f[ks.z + d]), dot(qd, qkv_f[ks.w + d]));
    }
    sc = select(vec4f(NEG_BIG), sc, valid);
    let mn = max(m, max(max(sc.x, sc.y), max(sc.z, sc.w)));
    let corr = exp(m - mn);
    let p = select(vec4f(0.0), exp(sc - mn), valid);
    l = l * corr + p.x + p.y + p.z + p.w;
    m = mn;
    let vs = ks + KW4;
    for (var d = 0u; d < H4; d++) {
      acc[d] = acc[d] * corr + p.x * qkv_f[vs.x + d] + p.y * qkv_f[vs.y + d] + p.z * qkv_f[vs.z + d] + p.w * qkv_f[vs.w + d];
    }
  }
  let inv = 1.0 / l;
  for (var d = 0u; d < H4; d++) { out_f[o + d] = acc[d] * inv; }
  lse_f[row] = m + log(l);
}

// ---- backward: delta and dq, one invocation per query row ----
@group(0) @binding(0) var<storage, read_write> dqkv_q: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> delta_q: array<f32>;
@group(0) @binding(2) var<storage, read> dout_q: array<vec4f>;
@group(0) @binding(3) var<storage, read> out_q: array<vec4f>;
@group(0) @binding(4) var<storage, read> qkv_q: array<vec4f>;
@group(0) @binding(5) var<storage, read> lse_q: array<f32>;
@group(0) @binding(6) var<storage, read> lengths_q: array<u32>;
@group(0) @binding(7) var<uniform> pq: Params;

// Dispatch (ceil(T/WG), NH, B). Writes the q part of dqkv and delta.
@compute @workgroup_size(WG)
fn attention_backward_dq(@builtin(global_invocation_id) gid: vec3u) {
  let t = gid.x; let h = gid.y; let b = gid.z;
  let T = pq.T; let H4 = pq.HS / 4u; let QW4 = pq.NH * H4; let KW4 = pq.NKV * H4;
  let R4 = QW4 + 2u * KW4;
  if (t >= T) { return; }
  let qo = (b * T + t) * R4 + h * H4;
  let row = (b * pq.NH + h) * T + t;
  if (t >= lengths_q[b]) {
    for (var d = 0u; d < H4; d++) { dqkv_q[qo + d] = vec4f(0.0); }
    delta_q[row] = 0.0;
    return;
  }
  let scale = inverseSqrt(f32(pq.HS));
  let kvo = QW4 + (h / (pq.NH / pq.NKV)) * H4;
  let o = (b * T + t) * QW4 + h * H4;
  var q: array<vec4f, MAX_H4>;
  var dout: array<vec4f, MAX_H4>;
  var dq: array<vec4f, MAX_H4>;
  var delta = 0.0;
  for (var d = 0u; d < H4; d++) {
    q[d] = qkv_q[qo + d] * scale;
    dout[d] = dout_q[o + d];
    dq[d] = vec4f(0.0);
    delta += dot(dout[d], out_q[o + d]);
  }
  delta_q[row] = delta;
  let lse = lse_q[row];
  for (var s0 = 0u; s0 <= t; s0 += 4u) {
    let valid = s0 + LANES <= vec4u(t);
    let ks = (b * T + min(s0 + LANES, vec4u(t))) * R4 + kvo;
    let vs = ks + KW4;
    var sc = vec4f(0.0);
    var dp = vec4f(0.0);
    for (var d = 0u; d < H4; d++) {
      let qd = q[d];
      let od = dout[d];
      sc += vec4f(dot(qd, qkv_q[ks.x + d]), dot(qd, qkv_q[ks.y + d]), dot(qd, qkv_q[ks.z + d]), dot(qd, qkv_q[ks.w + d]));
      dp += vec4f(dot(od, qkv_q[vs.x + d]), dot(od, qkv_q[vs.y + d]), dot(od, qkv_q[vs.z + d]), dot(od, qkv_q[vs.w + d]));
    }
    let ds = select(vec4f(0.0), exp(sc - lse) * (dp - delta), valid);
    for (var d = 0u; d < H4; d++) {
      dq[d] += ds.x * qkv_q[ks.x + d] + ds.y * qkv_q[ks.y + d] + ds.z * qkv_q[ks.z + d] + ds.w * qkv_q[ks.w + d];
    }
  }
  for (var d = 0u; d < H4; d++) { dqkv_q[qo + d] = dq[d] * scale; }
}

// ---- backward: dk and dv, one invocation per key row of a key/value head ----
@group(0) @binding(0) var<storage, read_write> dqkv_k: array<vec4f>;
@group(0) @binding(1) var<storage, read> dout_k: array<vec4f>;
@group(0) @binding(2) var<storage, read> qkv_k: array<vec4f>;
@group(0) @binding(3) var<storage, read> lse_k: array<f32>;
@group(0) @binding(4) var<storage, read> delta_k: array<f32>;
@group(0) @binding(5) var<storage, read> lengths_k: array<u32>;
@group(0) @binding(6) var<uniform> pk: Params;

// Dispatch (ceil(T/WG), NKV, B) over key rows s of key/value head kvh; runs after
// attention_backward_dq (reads delta). Writes the k and v parts of dqkv (=), summed over the
// group's query heads kvh·G .. kvh·G + G − 1.
@compute @workgroup_size(WG)
fn attention_backward_dkv(@builtin(global_invocation_id) gid: vec3u) {
  let s = gid.x; let kvh = gid.y; let b = gid.z;
  let T = pk.T; let H4 = pk.HS / 4u; let QW4 = pk.NH * H4; let KW4 = pk.NKV * H4;
  let R4 = QW4 + 2u * KW4;
  let G = pk.NH / pk.NKV;
  if (s >= T) { return; }
  let len = min(lengths_k[b], T);
  let ko = (b * T + s) * R4 + QW4 + kvh * H4;
  let vo = ko + KW4;
  let scale = inverseSqrt(f32(pk.HS));
  var k: array<vec4f, MAX_H4>;
  var v: array<vec4f, MAX_H4>;
  var dk: array<vec4f, MAX_H4>;
  var dv: array<vec4f, MAX_H4>;
  for (var d = 0u; d < H4; d++) {
    k[d] = qkv_k[ko + d] * scale;
    v[d] = qkv_k[vo + d];
    dk[d] = vec4f(0.0);
    dv[d] = vec4f(0.0);
  }
  for (var h = kvh * G; h < (kvh + 1u) * G; h++) {
    // query rows t ≥ s, 4 at a time; a padded key row (s ≥ len) sees none and gets zeros
    for (var t0 = s; t0 < len; t0 += 4u) {
      let valid = t0 + LANES < vec4u(len);
      let ts = min(t0 + LANES, vec4u(len - 1u)); // masked rows read the last real row
      let qs = (b * T + ts) * R4 + h * H4;
      let os = (b * T + ts) * QW4 + h * H4;
      let rows = (b * pk.NH + h) * T + ts;
      var sc = vec4f(0.0);
      var dp = vec4f(0.0);
      for (var d = 0u; d < H4; d++) {
        let kd = k[d];
        let vd = v[d];
        sc += vec4f(dot(kd, qkv_k[qs.x + d]), dot(kd, qkv_k[qs.y + d]), dot(kd, qkv_k[qs.z + d]), dot(kd, qkv_k[qs.w + d]));
        dp += vec4f(dot(vd, dout_k[os.x + d]), dot(vd, dout_k[os.y + d]), dot(vd, dout_k[os.z + d]), dot(vd, dout_k[os.w + d]));
      }
      let lse = vec4f(lse_k[rows.x], lse_k[rows.y], lse_k[rows.z], lse_k[rows.w]);
      let delta = vec4f(delta_k[rows.x], delta_k[rows.y], delta_k[rows.z], delta_k[rows.w]);
      let p = select(vec4f(0.0), exp(sc - lse), valid);
      let ds = p * (dp - delta);
      for (var d = 0u; d < H4; d++) {
        dk[d] += ds.x * qkv_k[qs.x + d] + ds.y * qkv_k[qs.y + d] + ds.z * qkv_k[qs.z + d] + ds.w * qkv_k[qs.w + d];
        dv[d] += p.x * dout_k[os.x + d] + p.y * dout_k[os.y + d] + p.z * dout_k[os.z + d] + p.w * dout_k[os.w + d];
      }
    }
  }
  for (var d = 0u; d < H4; d++) {
    dqkv_k[ko + d] = dk[d] * scale;
    dqkv_k[vo + d] = dv[d];
  }
}
