// LoRA helpers (src/kernels/lora.ts, docs/design.md): a low-rank adapter adds s·(x Aᵀ) Bᵀ to a
// projection's output. The products run on the matmul kernels; these move the low-rank pieces:
//   lora_scale        x (n) *= s, in place (u = s·x Aᵀ kept for the backward; du = s·dy B)
//   lora_add_cols     y (R, ld) columns [col0, col0 + n) += d (R, n)
//   lora_gather_cols  d (R, n) = y (R, ld) columns [col0, col0 + n)
// The column forms serve projections stacked into one output (the Llama family's q|k|v and
// gate|up, src/model/llama.ts): a matmul writes whole rows only, so an adapter of one of them
// computes its (R, n) delta apart and adds it into its columns; the backward gathers its
// columns of the stacked gradient. Dimensions: R rows (B·T), ld the stacked row width.
// Grid-stride loops, so any size fits the 65535-workgroup limit (src/kernels/grid.ts).

struct Params { n: u32, rows: u32, ld: u32, col0: u32, s: f32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<storage, read_write> x: array<f32>;
@group(0) @binding(1) var<uniform> ps: Params;

@compute @workgroup_size(256)
fn lora_scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  for (var i = gid.x; i < ps.n; i += stride) { x[i] = ps.s * x[i]; }
}

@group(0) @binding(0) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read> d: array<f32>;
@group(0) @binding(2) var<uniform> pa: Params;

@compute @workgroup_size(256)
fn lora_add_cols(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  let total = pa.rows * pa.n;
  for (var i = gid.x; i < total; i += stride) {
    let r = i / pa.n;
    let j = i - r * pa.n;
    let k = r * pa.ld + pa.col0 + j;
    y[k] = y[k] + d[i];
  }
}

@group(0) @binding(0) var<storage, read_write> g: array<f32>;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<uniform> pg: Params;

@compute @workgroup_size(256)
fn lora_gather_cols(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  let total = pg.rows * pg.n;
  for (var i = gid.x; i < total; i += stride) {
    let r = i / pg.n;
    let j = i - r * pg.n;
    g[i] = src[r * pg.ld + pg.col0 + j];
  }
}
