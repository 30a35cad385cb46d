// Sampling one token per row from logits (B,V) on the GPU, as src/train/rl/sampling.ts specifies
// (transformers' warpers in order: temperature → top-k → top-p, then one categorical draw), without
// reading the logits back. One workgroup per row; launcher src/kernels/decode-sample.ts.
// Dimensions: B rows, V vocabulary, N columns of the output (tokens generated at most).
// ctl = [s, seed, draw0, _]: s the column written; the stream's seed and first draw (in a storage
// buffer, so a new seed needs no new uniform). Finished rows (done[b] ≠ 0) write PAD and log-probs 0.
//
// Scores s_i = z_i / T (z_i when T = 1). Order keys: okey(s) is an increasing u32 map of f32
// (−0 folded onto +0), so "score ≥ x" is "okey ≥ okey(x)" and thresholds are found by bisection
// over the 32 key bits, each bit one pass over the row and one fixed-order reduction:
//   top-k   τ_k = the largest key with #{okey(s_i) ≥ τ_k} ≥ k: exactly the k-th largest score, so
//           ties at the k-th value survive (TopKLogitsWarper's s < kth → −∞).
//   top-p   the host sorts ascending (ties by vocabulary index), takes the cumulative softmax and
//           drops entries whose cumulative ≤ 1 − p, keeping the largest. With e_i = exp(s_i − max)
//           over the top-k survivors, S = Σ e, thr = (1 − p)·S, H(K) = Σ_{okey ≤ K} e: K* = 1 + the
//           largest K with H(K) ≤ thr is the first kept key; among entries tied at K* the dropped
//           ones are a prefix in index order, found by a second bisection over the index when
//           there are ties. When every cumulative ≤ thr (p = 0, or rounding), only the last entry
//           of the ascending order stays: the maximum, the largest index among its ties.
// probs (B,V) holds e_i for kept entries and −1 for dropped ones (the mask, for tests).
// The draw: u = draw number n = draw0 + s·B + b of the seeded stream, n-th value of
// src/util/rng.ts's mulberry32 (state seed + (n+1)·0x6D2B79F5), truncated to 24 bits; the token is
// the first index in vocabulary order whose running sum of kept e exceeds u·S_kept (blocked:
// each invocation sums a contiguous block, one scan of the block sums, the crossing block scans
// its elements), or the last kept index when rounding leaves u·S_kept at or past the total.
// Outputs at (b, s): the token; logp = log softmax(z / T)[token] (TRL's training log-prob);
// wlogp = log of the token's probability under the warped distribution (sampleToken's logprob).
// Greedy (flag): the first argmax of z, logp = log softmax(z)[token], wlogp = 0.
// A row is done once it emits one of stop_ids[0 … n_stop).

struct Params {
  B: u32,
  V: u32,
  N: u32,
  greedy: u32,
  top_k: u32, // 0 or ≥ V: off
  n_stop: u32,
  pad: u32,
  use_top_p: u32,
  temperature: f32,
  top_p: f32,
  _p0: u32,
  _p1: u32,
}

override WG: u32 = 256u;
const NEG_BIG = -3.0e38;
const NONE = 0xffffffffu;

@group(0) @binding(0) var<storage, read_write> tokens: array<u32>;
@group(0) @binding(1) var<storage, read_write> logp: array<f32>;
@group(0) @binding(2) var<storage, read_write> wlogp: array<f32>;
@group(0) @binding(3) var<storage, read_write> done: array<u32>;
@group(0) @binding(4) var<storage, read_write> probs: array<f32>;
@group(0) @binding(5) var<storage, read> logits: array<f32>;
@group(0) @binding(6) var<storage, read> stop_ids: array<u32>;
@group(0) @binding(7) var<storage, read> ctl: array<u32>;
@group(0) @binding(8) var<uniform> p: Params;

var<workgroup> rf: array<f32, WG>;
var<workgroup> ru: array<u32, WG>;
var<workgroup> rp: array<f32, WG>;
var<workgroup> bu: u32;
var<workgroup> bf: f32;

fn okey(x: f32) -> u32 {
  let u = select(bitcast<u32>(x), 0u, x == 0.0);
  return select(u | 0x80000000u, ~u, (u & 0x80000000u) != 0u);
}

fn score(z: f32) -> f32 {
  return select(z / p.temperature, z, p.temperature == 1.0);
}

/** Draw n of mulberry32 seeded with `seed` (src/util/rng.ts), as a u32. */
fn mulberry(seed: u32, n: u32) -> u32 {
  var t = seed + (n + 1u) * 0x6d2b79f5u;
  t = (t ^ (t >> 15u)) * (t | 1u);
  t = t ^ (t + (t ^ (t >> 7u)) * (t | 61u));
  return t ^ (t >> 14u);
}

// Invocation 0's value to every invocation, as a uniform value.
fn bcast_u(li: u32, x: u32) -> u32 {
  if (li == 0u) { bu = x; }
  let r = workgroupUniformLoad(&bu);
  workgroupBarrier();
  return r;
}

fn sum_u(li: u32, x: u32) -> u32 {
  ru[li] = x;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) { ru[li] += ru[li + w]; }
    workgroupBarrier();
  }
  if (li == 0u) { bu = ru[0]; }
  let r = workgroupUniformLoad(&bu);
  workgroupBarrier();
  return r;
}

fn sum_f(li: u32, x: f32) -> f32 {
  rf[li] = x;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) { rf[li] += rf[li + w]; }
    workgroupBarrier();
  }
  if (li == 0u) { bf = rf[0]; }
  let r = workgroupUniformLoad(&bf);
  workgroupBarrier();
  return r;
}

fn max_u(li: u32, x: u32) -> u32 {
  ru[li] = x;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) { ru[li] = max(ru[li], ru[li + w]); }
    workgroupBarrier();
  }
  if (li == 0u) { bu = ru[0]; }
  let r = workgroupUniformLoad(&bu);
  workgroupBarrier();
  return r;
}

fn min_u(li: u32, x: u32) -> u32 {
  ru[li] = x;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) { ru[li] = min(ru[li], ru[li + w]); }
    workgroupBarrier();
  }
  if (li == 0u) { bu = ru[0]; }
  let r = workgroupUniformLoad(&bu);
  workgroupBarrier();
  return r;
}

// Σ e_i over kept entries with okey ≤ K (probs < 0 marks entries top-k dropped).
fn mass_le(li: u32, row: u32, K: u32) -> f32 {
  var acc = 0.0;
  for (var i = li; i < p.V; i += WG) {
    let e = probs[row + i];
    if (e > 0.0 && okey(score(logits[row + i])) <= K) { acc += e; }
  }
  return sum_f(li, acc);
}

fn finish(li: u32, b: u32, o: u32, tok: u32, lp: f32, wlp: f32) {
  if (li == 0u) {
    tokens[o] = tok;
    logp[o] = lp;
    wlogp[o] = wlp;
    for (var j = 0u; j < p.n_stop; j++) {
      if (stop_ids[j] == tok) { done[b] = 1u; }
    }
  }
}

@compute @workgroup_size(WG)
fn sample_rows(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) li: u32) {
  let b = wg.x;
  let V = p.V;
  let row = b * V;
  let s = bcast_u(li, ctl[0]);
  if (s >= p.N) { return; }
  let o = b * p.N + s;
  if (bcast_u(li, done[b]) != 0u) {
    if (li == 0u) {
      tokens[o] = p.pad;
      logp[o] = 0.0;
      wlogp[o] = 0.0;
    }
    return;
  }

  // the first maximum of z (torch.argmax), and Σ exp(s − max s) for log softmax(z / T)
  var m = NEG_BIG;
  var mi = NONE;
  for (var i = li; i < V; i += WG) {
    let z = logits[row + i];
    if (z > m) { m = z; mi = i; }
  }
  rf[li] = m;
  ru[li] = mi;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) {
      let om = rf[li + w];
      let oi = ru[li + w];
      if (om > rf[li] || (om == rf[li] && oi < ru[li])) { rf[li] = om; ru[li] = oi; }
    }
    workgroupBarrier();
  }
  if (li == 0u) { bu = ru[0]; }
  let amax = workgroupUniformLoad(&bu);
  workgroupBarrier();
  let zmax = logits[row + amax];
  let smax = score(zmax);
  var se = 0.0;
  for (var i = li; i < V; i += WG) { se += exp(score(logits[row + i]) - smax); }
  let lse = smax + log(sum_f(li, se));
  if (p.greedy != 0u) {
    finish(li, b, o, amax, smax - lse, 0.0);
    return;
  }

  // top-k: the k-th largest key
  var tk = 0u;
  if (p.top_k != 0u && p.top_k < V) {
    for (var bit = 0u; bit < 32u; bit++) {
      let cand = tk | (0x80000000u >> bit);
      var c = 0u;
      for (var i = li; i < V; i += WG) { c += select(0u, 1u, okey(score(logits[row + i])) >= cand); }
      if (sum_u(li, c) >= p.top_k) { tk = cand; }
    }
  }
  // e over the top-k survivors, −1 for the dropped
  var acc = 0.0;
  for (var i = li; i < V; i += WG) {
    let x = score(logits[row + i]);
    var e = -1.0;
    if (okey(x) >= tk) {
      e = exp(x - smax);
      acc += e;
    }
    probs[row + i] = e;
  }
  let S = sum_f(li, acc);

  // top-p: the first kept key K* and, among its ties, the first kept index I*
  if (p.use_top_p != 0u) {
    let thr = (1.0 - p.top_p) * S;
    var K = 0u;
    var below = 0.0;
    for (var bit = 0u; bit < 32u; bit++) {
      let cand = K | (0x80000000u >> bit);
      let h = mass_le(li, row, cand);
      if (h <= thr) { K = cand; below = h; }
    }
    var kstar = 0u;
    var istar = 0u;
    if (K == NONE) {
      // every cumulative ≤ 1 − p: keep the last of the ascending order only
      kstar = okey(smax);
      var last = 0u;
      for (var i = li; i < V; i += WG) {
        if (okey(score(logits[row + i])) == kstar) { last = max(last, i); }
      }
      istar = max_u(li, last);
    } else {
      kstar = K + 1u;
      var ties = 0u;
      for (var i = li; i < V; i += WG) {
        if (probs[row + i] > 0.0 && okey(score(logits[row + i])) == kstar) { ties += 1u; }
      }
      if (sum_u(li, ties) > 1u) {
        // the largest I with below + Σ_{tied, index < I} e ≤ thr
        var I = 0u;
        for (var bit = 0u; bit < 32u; bit++) {
          let cand = I | (0x80000000u >> bit);
          if (cand > V) { continue; }
          var t = 0.0;
          for (var i = li; i < V; i += WG) {
            let e = probs[row + i];
            if (i < cand && e > 0.0 && okey(score(logits[row + i])) == kstar) { t += e; }
          }
          if (below + sum_f(li, t) <= thr) { I = cand; }
        }
        istar = I;
      }
    }
    acc = 0.0;
    for (var i = li; i < V; i += WG) {
      let k = okey(score(logits[row + i]));
      var e = probs[row + i];
      if (k < kstar || (k == kstar && i < istar)) { e = -1.0; }
      probs[row + i] = e;
      acc += max(e, 0.0);
    }
  }
  let Skept = select(S, sum_f(li, acc), p.use_top_p != 0u);

  // the draw: blocked running sums in vocabulary order
  storageBarrier();
  let u = f32(mulberry(ctl[1], ctl[2] + s * p.B + b) >> 8u) * (1.0 / 16777216.0);
  let goal = u * Skept;
  let blk = (V + WG - 1u) / WG;
  let i0 = min(V, li * blk);
  let i1 = min(V, i0 + blk);
  var bs = 0.0;
  var lastKept = 0u;
  var anyKept = false;
  for (var i = i0; i < i1; i++) {
    let e = probs[row + i];
    if (e > 0.0) { bs += e; lastKept = i; anyKept = true; }
  }
  rp[li] = bs;
  workgroupBarrier();
  if (li == 0u) {
    var run = 0.0;
    for (var j = 0u; j < WG; j++) {
      let x = rp[j];
      rp[j] = run;
      run += x;
    }
  }
  workgroupBarrier();
  // every block scans from its prefix (a block past the crossing picks its first kept entry), so
  // the smallest pick is the crossing even where the block sums round differently from the scan
  var run = rp[li];
  var pick = NONE;
  for (var i = i0; i < i1; i++) {
    let e = probs[row + i];
    if (e > 0.0) {
      run += e;
      if (run > goal) { pick = i; break; }
    }
  }
  var tok = min_u(li, pick);
  if (tok == NONE) { tok = max_u(li, select(0u, lastKept, anyKept)); }
  let zt = logits[row + tok];
  let st = score(zt);
  finish(li, b, o, tok, st - lse, log(probs[row + tok]) - log(Skept));
}
