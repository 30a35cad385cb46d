// f16-operand causal grouped-query attention, forward, with f32 accumulation (docs/perf.md,
// "f16 arithmetic"): shaders/attention.wgsl's attention_forward with qkv read as IEEE half.
// Dimensions and layouts as src/kernels/attention.ts: qkv (B,T,(NH+2·NKV)·HS) packed f16, four
// values per 8-byte quad (shaders/convert.wgsl's pack_f16 writes it); out (B,T,NH·HS) f32;
// lse (B,NH,T) f32 = log Σ_{s ≤ t} exp(q_t·k_s / sqrt(HS)); lengths (B) u32, rows t ≥ lengths[b]
// get out = 0, lse = 0. One invocation per query row holds the row's q in f16 (half the private
// memory of the f32 kernel's) and an f32 accumulator; scores are f32 dot products of widened
// f16 values (exact products), scaled by 1/sqrt(HS) after the sum; the online softmax, exp, the
// probabilities and Σ p·v stay f32. The output is f32 so the f32 backward
// (src/kernels/attention.ts attentionBackward) and the output projection read it as they do now.
// Written once for both variants of src/kernels/f16-variant.ts. No backward here: the f32
// backward recomputes probabilities from q, k and lse, and runs on the f32 qkv.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { attentionQkvWidth, attentionRowStatsSize, MAX_HEAD_SIZE } from './attention';
import { checkDims, checkView } from './check';
import { checkF16Variant, f16Prelude, f16QuadWords, f16VariantFor, type F16Variant } from './f16-variant';
import { F16UnavailableError, rowWorkgroup } from './plan';

const WG = 64;

const BODY = /* wgsl */ `
struct Params { B: u32, T: u32, NH: u32, NKV: u32, HS: u32 }

// Query rows per workgroup; no barriers, so it only sets the dispatch granularity.
override WG: u32 = 64u;
const MAX_H4 = ${MAX_HEAD_SIZE / 4}u;
const NEG_BIG = -3.0e38; // below any score; WGSL has no -inf literal
const LANES = vec4u(0u, 1u, 2u, 3u);

@group(0) @binding(0) var<storage, read_write> out_f: array<vec4f>;
@group(0) @binding(1) var<storage, read_write> lse_f: array<f32>;
@group(0) @binding(2) var<storage, read> qkv_f: array<st4>;
@group(0) @binding(3) var<storage, read> lengths_f: array<u32>;
@group(0) @binding(4) var<uniform> pf: Params;

// Quad i of qkv, widened.
fn qkv4(i: u32) -> vec4f { return wid4(ld4(qkv_f[i])); }

// Dispatch (ceil(T/WG), NH, B).
@compute @workgroup_size(WG)
fn attention_f16_forward(@builtin(global_invocation_id) gid: vec3u) {
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
  var q: array<h4, MAX_H4>;
  var acc: array<vec4f, MAX_H4>;
  let qo = (b * T + t) * R4 + h * H4;
  for (var d = 0u; d < H4; d++) { q[d] = ld4(qkv_f[qo + d]); acc[d] = vec4f(0.0); }
  // online softmax over keys 4 at a time: m the running max, l = Σ exp(score − m), acc = Σ exp(score − m) v
  var m = NEG_BIG;
  var l = 0.0;
  for (var s0 = 0u; s0 <= t; s0 += 4u) {
    let valid = s0 + LANES <= vec4u(t);
    let ks = (b * T + min(s0 + LANES, vec4u(t))) * R4 + kvo; // masked keys read key t
    var sc = vec4f(0.0);
    for (var d = 0u; d < H4; d++) {
      let qd = wid4(q[d]);
      sc += vec4f(dot(qd, qkv4(ks.x + d)), dot(qd, qkv4(ks.y + d)), dot(qd, qkv4(ks.z + d)), dot(qd, qkv4(ks.w + d)));
    }
    sc = select(vec4f(NEG_BIG), sc * scale, valid);
    let mn = max(m, max(max(sc.x, sc.y), max(sc.z, sc.w)));
    let corr = exp(m - mn);
    let p = select(vec4f(0.0), exp(sc - mn), valid);
    l = l * corr + p.x + p.y + p.z + p.w;
    m = mn;
    let vs = ks + KW4;
    for (var d = 0u; d < H4; d++) {
      acc[d] = acc[d] * corr + p.x * qkv4(vs.x + d) + p.y * qkv4(vs.y + d) + p.z * qkv4(vs.z + d) + p.w * qkv4(vs.w + d);
    }
  }
  let inv = 1.0 / l;
  for (var d = 0u; d < H4; d++) { out_f[o + d] = acc[d] * inv; }
  lse_f[row] = m + log(l);
}
`;

const sources = new Map<F16Variant, string>();

/** The WGSL of the f16 attention forward in `variant`. */
export function attentionF16Source(variant: F16Variant): string {
  let s = sources.get(variant);
  if (s === undefined) {
    s = f16Prelude(variant) + BODY;
    sources.set(variant, s);
  }
  return s;
}

/**
 * out (B,T,NH·HS) f32, lse (B,NH,T) f32 = causal grouped-query attention of qkv (packed f16, at
 * least ⌈n/4⌉·2 u32 words for n = B·T·(NH+2·NKV)·HS). `variant` defaults to the plan's (native
 * where the device has `shader-f16`, else an F16UnavailableError).
 */
export function attentionF16Forward(enc: StepEncoder, out: View, lse: View, qkv: View, lengths: View, B: number, T: number, NH: number, NKV: number, HS: number, variant?: F16Variant): void {
  const v = variant ?? f16VariantFor(enc.gpu.features);
  if (v === null) throw new F16UnavailableError(enc.gpu.adapter);
  checkF16Variant('attentionF16Forward', enc.gpu.features, v);
  checkDims('attentionF16Forward', { B, T, NH, NKV, HS });
  if (NH % NKV !== 0) throw new Error(`attentionF16Forward: NH=${NH} is not a multiple of NKV=${NKV}`);
  if (HS % 4 !== 0 || HS > MAX_HEAD_SIZE) throw new Error(`attentionF16Forward: head size HS = ${HS} must be a multiple of 4 and at most ${MAX_HEAD_SIZE}`);
  checkView('attentionF16Forward', out, B * T * NH * HS);
  checkView('attentionF16Forward', lse, attentionRowStatsSize(B, T, NH));
  checkView('attentionF16Forward', qkv, f16QuadWords(B * T * attentionQkvWidth(NH, NKV, HS)), 'words');
  checkView('attentionF16Forward', lengths, B);
  // CPU adapters: 4 rows a workgroup (one SIMD group); GPUs: 64 (as src/kernels/attention.ts)
  const wg = rowWorkgroup(enc.gpu.adapter, WG);
  enc.dispatch({ shader: `attention_f16.${v}`, source: attentionF16Source(v), entryPoint: 'attention_f16_forward', constants: { WG: wg } }, [out, lse, qkv, lengths], params(B, T, NH, NKV, HS), [Math.ceil(T / wg), NH, B]);
}
