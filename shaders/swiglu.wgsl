// SwiGLU family (Hugging Face LlamaMLP / Qwen2MLP, hidden_act "silu"), elementwise between the
// fused gate/up projection and down_proj. Dimensions: N rows (B·T), I intermediate size.
// Layout: gate_up (N, 2I) is the output of one fused projection whose weight stacks gate_proj
// over up_proj: row n holds gate (I) then up (I), gate[n,j] = gate_up[n·2I + j],
// up[n,j] = gate_up[n·2I + I + j].
//   swiglu_forward   h (N,I) = silu(gate)·up,  silu(g) = g·σ(g)
//   swiglu_backward  dgate_up (N,2I) = [dgate, dup] (written, not accumulated), same layout:
//                    dgate = dh·up·σ(g)·(1 + g·(1 − σ(g))),  dup = dh·silu(g)
// σ is built from e = exp(−|g|) ∈ (0, 1], which never overflows (exp of a large argument is not
// guaranteed to give inf in WGSL), and 1 − σ is formed without cancellation.
// Grid-stride loops over the N·I elements of h.

struct Params { N: u32, I: u32, _p0: u32, _p1: u32 }

// (σ(g), 1 − σ(g)).
fn sigmoid_parts(g: f32) -> vec2f {
  let e = exp(-abs(g));
  let d = 1.0 + e;
  if (g >= 0.0) { return vec2f(1.0 / d, e / d); }
  return vec2f(e / d, 1.0 / d);
}

@group(0) @binding(0) var<storage, read_write> h: array<f32>;
@group(0) @binding(1) var<storage, read> gate_up: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(256)
fn swiglu_forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  let n = p.N * p.I;
  for (var k = gid.x; k < n; k += stride) {
    let row = k / p.I;
    let a = k + row * p.I; // row·2I + j
    let g = gate_up[a];
    h[k] = g * sigmoid_parts(g).x * gate_up[a + p.I];
  }
}

@group(0) @binding(0) var<storage, read_write> dgate_up: array<f32>;
@group(0) @binding(1) var<storage, read> dh: array<f32>;
@group(0) @binding(2) var<storage, read> bgate_up: array<f32>;
@group(0) @binding(3) var<uniform> pb: Params;

@compute @workgroup_size(256)
fn swiglu_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let stride = nwg.x * 256u;
  let n = pb.N * pb.I;
  for (var k = gid.x; k < n; k += stride) {
    let row = k / pb.I;
    let a = k + row * pb.I;
    let g = bgate_up[a];
    let u = bgate_up[a + pb.I];
    let s = sigmoid_parts(g);
    let d = dh[k];
    dgate_up[a] = d * u * s.x * (1.0 + g * s.y);
    dgate_up[a + pb.I] = d * g * s.x;
  }
}
