// LM-head log-probs, fused and chunked: the full (N,V) logits are never stored.
// N rows (tokens), C channels, V vocabulary, W columns in the current chunk (≤ chunk),
// v0 its first vocabulary id. src/kernels/logprob.ts loops over chunks of wte (V,C):
//   logits (N,W) = hidden (N,C) · wte[v0:v0+W]ᵀ          matmul.wgsl, TRANS_B
//   forward   logprob_forward_chunk   online max / logsumexp per row -> logp, lse, meanLogit,
//             entropy (−Σ p log p), correct (argmax = target, first maximum wins) (N)
//   backward  logprob_backward_chunk  logits -> dlogits in place, then two matmuls
//             dhidden (N,C) (=, then +=) = dlogits · wte[v0:v0+W];  dwte[v0:v0+W] += dlogitsᵀ · hidden
// plus sequence_sums: out (B) = Σ_t values (B,T) · weights (B,T).
// Rows whose target is IGNORE get logp 0 and no gradient.

const IGNORE = 0xffffffffu;
// Invocations per row of the reductions: 256 on GPUs, fewer on CPU adapters (src/kernels/plan.ts).
override WG: u32 = 256u;
const NEG_BIG = -3.0e38;

struct ChunkParams { N: u32, W: u32, v0: u32, V: u32, first: u32, last: u32, _p0: u32, _p1: u32 }

var<workgroup> red_a: array<f32, WG>;
var<workgroup> red_b: array<f32, WG>;
var<workgroup> red_i: array<u32, WG>;

// ---- forward: one workgroup per row (grid-stride over rows) ----
// state (N,6): running max m, Σ exp(z − m), Σ z, target logit, Σ exp(z − m)·(z − m), argmax
// (an f32 index, exact below 2^24); read and written between chunks, turned into the outputs on
// the last chunk. With se = Σ exp(z − m) and sz = Σ exp(z − m)·(z − m), the entropy is
// log se − sz/se: both terms ≥ 0, so nothing cancels. When the max moves from m to m',
// sz becomes exp(m − m')·(sz + (m − m')·se). state and logits share the
// scratch buffer, so logits is bound read_write too: WebGPU rejects a buffer bound both
// writable and read-only in one dispatch, even on disjoint ranges.
@group(0) @binding(0) var<storage, read_write> f_logp: array<f32>;
@group(0) @binding(1) var<storage, read_write> f_lse: array<f32>;
@group(0) @binding(2) var<storage, read_write> f_mean: array<f32>;
@group(0) @binding(3) var<storage, read_write> f_entropy: array<f32>;
@group(0) @binding(4) var<storage, read_write> f_correct: array<f32>;
@group(0) @binding(5) var<storage, read_write> f_state: array<f32>;
@group(0) @binding(6) var<storage, read_write> f_logits: array<f32>;
@group(0) @binding(7) var<storage, read> f_targets: array<u32>;
@group(0) @binding(8) var<uniform> fp: ChunkParams;

// One row's chunk statistics (max cm at chunk column ci, Σ logits clin, Σ exp(z − cm) ce and
// Σ exp(z − cm)·(z − cm) cez) merged into the row's state (started on the first chunk), then the
// outputs on the last chunk or the state for the next one. Shared by both forward forms; one
// invocation per row calls it.
fn finish_row(r: u32, row: u32, cm: f32, ci: u32, clin: f32, ce: f32, cez: f32) {
  let k = r * 6u;
  var mx = cm;
  var se = ce;
  var sz = cez;
  var sl = clin;
  var tl = 0.0;
  var am = f32(fp.v0 + ci);
  if (fp.first == 0u) {
    let om = f_state[k];
    let ose = f_state[k + 1u];
    mx = max(om, cm);
    let a = exp(om - mx);
    let b = exp(cm - mx);
    sz = a * (f_state[k + 4u] + (om - mx) * ose) + b * (sz + (cm - mx) * se);
    se = ose * a + se * b;
    sl += f_state[k + 2u];
    tl = f_state[k + 3u];
    // chunks arrive in vocabulary order: on a tie the earlier chunk's index stays
    if (!(cm > om)) { am = f_state[k + 5u]; }
  }
  let t = f_targets[r];
  if (t != IGNORE && t >= fp.v0 && t < fp.v0 + fp.W) { tl = f_logits[row + t - fp.v0]; }
  if (fp.last != 0u) {
    let l = mx + log(se);
    f_lse[r] = l;
    f_mean[r] = sl / f32(fp.V);
    f_logp[r] = select(tl - l, 0.0, t == IGNORE);
    f_entropy[r] = log(se) - sz / se;
    f_correct[r] = select(0.0, 1.0, t != IGNORE && am == f32(t));
  } else {
    f_state[k] = mx;
    f_state[k + 1u] = se;
    f_state[k + 2u] = sl;
    f_state[k + 3u] = tl;
    f_state[k + 4u] = sz;
    f_state[k + 5u] = am;
  }
}

@compute @workgroup_size(WG)
fn logprob_forward_chunk(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  for (var r = wg.x; r < fp.N; r += nwg.x) {
    let row = r * fp.W;
    // pass 1: chunk max, its first index, and Σ logits
    var m = NEG_BIG;
    var mi = 0u;
    var lin = 0.0;
    for (var j = li; j < fp.W; j += WG) {
      let x = f_logits[row + j];
      if (x > m) { m = x; mi = j; }
      lin += x;
    }
    red_a[li] = m;
    red_b[li] = lin;
    red_i[li] = mi;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (li < s) {
        let o = red_a[li + s];
        if (o > red_a[li] || (o == red_a[li] && red_i[li + s] < red_i[li])) {
          red_a[li] = o;
          red_i[li] = red_i[li + s];
        }
        red_b[li] += red_b[li + s];
      }
      workgroupBarrier();
    }
    let cm = red_a[0];
    let clin = red_b[0];
    let ci = red_i[0];
    workgroupBarrier();
    // pass 2: Σ exp(logit − chunk max) and Σ exp(logit − chunk max)·(logit − chunk max)
    var e = 0.0;
    var ez = 0.0;
    for (var j = li; j < fp.W; j += WG) {
      let d = f_logits[row + j] - cm;
      let x = exp(d);
      e += x;
      ez = fma(x, d, ez);
    }
    red_a[li] = e;
    red_b[li] = ez;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (li < s) {
        red_a[li] += red_a[li + s];
        red_b[li] += red_b[li + s];
      }
      workgroupBarrier();
    }
    if (li == 0u) { finish_row(r, row, cm, ci, clin, red_a[0], red_b[0]); }
    workgroupBarrier();
  }
}

// ---- forward, CPU adapters: one invocation per row, no workgroup memory or barriers ----
// (SwiftShader runs a kernel with barriers as coroutines; docs/perf.md §21.) The same state and
// outputs as logprob_forward_chunk; the sums run along the row in one sequence (the first
// maximum still wins: only a strictly larger logit moves the argmax).
// Dispatch min(ceil(N/4), 65535) workgroups of 4; rows past the dispatch grid-stride.
@compute @workgroup_size(4)
fn logprob_forward_chunk_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var r = gid.x; r < fp.N; r += nwg.x * 4u) {
    let row = r * fp.W;
    var cm = NEG_BIG;
    var ci = 0u;
    var clin = 0.0;
    for (var j = 0u; j < fp.W; j++) {
      let x = f_logits[row + j];
      if (x > cm) { cm = x; ci = j; }
      clin += x;
    }
    var se = 0.0;
    var sz = 0.0;
    for (var j = 0u; j < fp.W; j++) {
      let d = f_logits[row + j] - cm;
      let x = exp(d);
      se += x;
      sz = fma(x, d, sz);
    }
    finish_row(r, row, cm, ci, clin, se, sz);
  }
}

// ---- backward: logits (N,W) -> dlogits in place, dlogits = coef·(1[v = target] − softmax) ----
@group(0) @binding(0) var<storage, read_write> b_dlogits: array<f32>;
@group(0) @binding(1) var<storage, read> b_coef: array<f32>;
@group(0) @binding(2) var<storage, read> b_targets: array<u32>;
@group(0) @binding(3) var<storage, read> b_lse: array<f32>;
@group(0) @binding(4) var<uniform> bp: ChunkParams;

@compute @workgroup_size(64)
fn logprob_backward_chunk(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = gid.x;
  if (j >= bp.W) { return; }
  for (var r = gid.y; r < bp.N; r += nwg.y) {
    let t = b_targets[r];
    let i = r * bp.W + j;
    var g = 0.0;
    if (t != IGNORE) {
      let hit = select(0.0, 1.0, bp.v0 + j == t);
      g = b_coef[r] * (hit - exp(b_dlogits[i] - b_lse[r]));
    }
    b_dlogits[i] = g;
  }
}

// CPU adapters: one invocation per row and all W columns of it (an invocation's fixed cost is
// large there; the 2D form above gives each one element). Bitwise the same values.
// Dispatch min(ceil(N/4), 65535) workgroups of 4; rows past the dispatch grid-stride.
@compute @workgroup_size(4)
fn logprob_backward_chunk_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  for (var r = gid.x; r < bp.N; r += nwg.x * 4u) {
    let t = b_targets[r];
    let c = b_coef[r];
    let lse = b_lse[r];
    for (var j = 0u; j < bp.W; j++) {
      let i = r * bp.W + j;
      var g = 0.0;
      if (t != IGNORE) {
        let hit = select(0.0, 1.0, bp.v0 + j == t);
        g = c * (hit - exp(b_dlogits[i] - lse));
      }
      b_dlogits[i] = g;
    }
  }
}

// ---- sequence_sums: out (B) = Σ_t values (B,T) · weights (B,T), one workgroup per sequence ----
struct SumParams { B: u32, T: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<storage, read_write> s_out: array<f32>;
@group(0) @binding(1) var<storage, read> s_values: array<f32>;
@group(0) @binding(2) var<storage, read> s_weights: array<f32>;
@group(0) @binding(3) var<uniform> sp: SumParams;

@compute @workgroup_size(WG)
fn sequence_sums(@builtin(workgroup_id) wg: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) li: u32) {
  for (var b = wg.x; b < sp.B; b += nwg.x) {
    var acc = 0.0;
    for (var t = li; t < sp.T; t += WG) { acc = fma(s_values[b * sp.T + t], s_weights[b * sp.T + t], acc); }
    red_a[li] = acc;
    workgroupBarrier();
    for (var s = WG / 2u; s > 0u; s >>= 1u) {
      if (li < s) { red_a[li] += red_a[li + s]; }
      workgroupBarrier();
    }
    if (li == 0u) { s_out[b] = red_a[0]; }
    workgroupBarrier();
  }
}
