// Benchmark instrument: the adapter's arithmetic ceiling. Each invocation runs `iters` rounds of
// 8 independent vec4 FMA chains held in registers (no memory traffic inside the loop):
//   x_{i+1} = x_i·m + a  per lane, 8·4·2 = 64 flops per round; out (n) = Σ of the final chains,
// so the work cannot be optimised away. src/bench/peak.ts times it; tests/gpu/peak.test.ts
// checks the arithmetic against float64.

struct Params { n: u32, iters: u32, m: f32, a: f32 }

@group(0) @binding(0) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(64)
fn peak_fma(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.n) { return; }
  let m = vec4f(p.m);
  let a = vec4f(p.a);
  let s = f32(i % 16u) * 0.0625;
  var x0 = vec4f(s); var x1 = vec4f(s + 0.125); var x2 = vec4f(s + 0.25); var x3 = vec4f(s + 0.375);
  var x4 = vec4f(s + 0.5); var x5 = vec4f(s + 0.625); var x6 = vec4f(s + 0.75); var x7 = vec4f(s + 0.875);
  for (var k = 0u; k < p.iters; k++) {
    x0 = fma(x0, m, a); x1 = fma(x1, m, a); x2 = fma(x2, m, a); x3 = fma(x3, m, a);
    x4 = fma(x4, m, a); x5 = fma(x5, m, a); x6 = fma(x6, m, a); x7 = fma(x7, m, a);
  }
  let t = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;
  out[i] = t.x + t.y + t.z + t.w;
}
