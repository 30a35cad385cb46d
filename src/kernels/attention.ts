// Launchers for shaders/attention.wgsl: causal grouped-query self-attention (GPT2Attention;
// LlamaAttention / Qwen2Attention after RoPE), flash style — the (B,NH,T,T) scores are never
// stored, only one log-sum-exp per query row.
// Dimensions: B batch, T time, NH query heads, NKV key/value heads (NH % NKV == 0), HS head size
// (a multiple of 4, ≤ MAX_HEAD_SIZE; need not be the model width over NH).
// qkv (B,T,(NH+2·NKV)·HS) holds per token [q (NH·HS) | k (NKV·HS) | v (NKV·HS)]; GPT-2's c_attn
// output (B,T,3C) is NKV = NH, HS = C/NH. out (B,T,NH·HS) is the output projection's input;
// lse and delta (B,NH,T) per-row statistics; lengths (B, u32) each right-padded sequence's length.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { isCpuAdapter, rowWorkgroup } from './plan';
import { attentionCpuShaderName, attentionCpuSource, CPU_ATTENTION_MAX_HS } from './attention-cpu';
import type { KernelSpec } from '../engine/pipelines';
import { checkDims, checkView } from './check';

/** Largest head size the kernels hold in their private row arrays (MAX_H4 vec4s in the shader). */
export const MAX_HEAD_SIZE = 128;

const WG = 64;

function checkAttentionDims(name: string, B: number, T: number, NH: number, NKV: number, HS: number): void {
  checkDims(name, { B, T, NH, NKV, HS });
  if (NH % NKV !== 0) throw new Error(`${name}: NH=${NH} is not a multiple of NKV=${NKV}`);
  if (HS % 4 !== 0 || HS > MAX_HEAD_SIZE) throw new Error(`${name}: head size HS = ${HS} must be a multiple of 4 and at most ${MAX_HEAD_SIZE}`);
}

/** Elements of each per-row statistic (lse, delta): (B,NH,T). */
export function attentionRowStatsSize(B: number, T: number, NH: number): number {
  return B * NH * T;
}

/** Channels of one token's packed projection [q | k | v]: (NH + 2·NKV)·HS (3C for GPT-2). */
export function attentionQkvWidth(NH: number, NKV: number, HS: number): number {
  return (NH + 2 * NKV) * HS;
}

const cpuSources = new Map<string, string>();
let subgroupsAllowed = true;

/** Tests: keep the CPU form off its `_sg` kernels (false) so the plain generated ones run too; null restores the default. */
export function allowAttentionSubgroups(on: boolean | null): void {
  subgroupsAllowed = on ?? true;
}

/**
 * The kernel `entryPoint`: on CPU adapters with HS ≤ CPU_ATTENTION_MAX_HS the form generated
 * for this head size (src/kernels/attention-cpu.ts: loops over the head written out), with 4-lane
 * subgroups its `_sg` entry points (a block's 4 keys or query rows loaded once per subgroup and
 * broadcast; 4-row workgroups); else shaders/attention.wgsl.
 */
function attentionSpec(enc: StepEncoder, entryPoint: string, HS: number, constants: { WG: number }): KernelSpec {
  const { adapter, features } = enc.gpu;
  if (!isCpuAdapter(adapter) || HS > CPU_ATTENTION_MAX_HS) return { shader: 'attention', entryPoint, constants };
  // the _sg kernels' 4-invocation workgroup must be one whole subgroup (as matmulPlanFor asks)
  const sg = subgroupsAllowed && features.has('subgroups') && adapter.subgroupMinSize >= 4 && constants.WG === 4;
  const shader = attentionCpuShaderName(HS, sg);
  let source = cpuSources.get(shader);
  if (source === undefined) cpuSources.set(shader, (source = attentionCpuSource(HS, sg)));
  return { shader, source, entryPoint: sg ? `${entryPoint}_sg` : entryPoint, constants };
}

function grid(enc: StepEncoder, T: number, heads: number, B: number): { constants: { WG: number }; groups: [number, number, number] } {
  // CPU adapters: 4 rows a workgroup (one SIMD group); GPUs: 64
  const wg = rowWorkgroup(enc.gpu.adapter, WG);
  return { constants: { WG: wg }, groups: [Math.ceil(T / wg), heads, B] };
}

/**
 * out (B,T,NH·HS) = per query head h: softmax_{t2 ≤ t}(q_t·k_t2 / sqrt(HS)) · v over key/value head
 * floor(h/(NH/NKV)), heads concatenated; lse (B,NH,T) = log Σ_{t2 ≤ t} exp(q_t·k_t2 / sqrt(HS)).
 * Rows t ≥ lengths[b] get out = 0, lse = 0.
 */
export function attentionForward(enc: StepEncoder, out: View, lse: View, qkv: View, lengths: View, B: number, T: number, NH: number, NKV: number, HS: number): void {
  checkAttentionDims('attentionForward', B, T, NH, NKV, HS);
  checkView('attentionForward', out, B * T * NH * HS);
  checkView('attentionForward', lse, attentionRowStatsSize(B, T, NH));
  checkView('attentionForward', qkv, B * T * attentionQkvWidth(NH, NKV, HS));
  checkView('attentionForward', lengths, B);
  const { constants, groups } = grid(enc, T, NH, B);
  enc.dispatch(attentionSpec(enc, 'attention_forward', HS, constants), [out, lse, qkv, lengths], params(B, T, NH, NKV, HS), groups);
}

/**
 * dqkv (B,T,(NH+2·NKV)·HS) = gradient of sum(out · dout) with respect to qkv (written, 0 on padded
 * rows), from the forward's out and lse; each key/value head's dk, dv sum over its NH/NKV query
 * heads. delta (B,NH,T) is scratch (dout·out per row); its contents on entry do not matter.
 */
export function attentionBackward(enc: StepEncoder, dqkv: View, delta: View, dout: View, out: View, qkv: View, lse: View, lengths: View, B: number, T: number, NH: number, NKV: number, HS: number): void {
  checkAttentionDims('attentionBackward', B, T, NH, NKV, HS);
  const rows = attentionRowStatsSize(B, T, NH);
  const qkvSize = B * T * attentionQkvWidth(NH, NKV, HS);
  checkView('attentionBackward', dqkv, qkvSize);
  checkView('attentionBackward', delta, rows);
  checkView('attentionBackward', dout, B * T * NH * HS);
  checkView('attentionBackward', out, B * T * NH * HS);
  checkView('attentionBackward', qkv, qkvSize);
  checkView('attentionBackward', lse, rows);
  checkView('attentionBackward', lengths, B);
  const p = params(B, T, NH, NKV, HS);
  const q = grid(enc, T, NH, B);
  enc.dispatch(attentionSpec(enc, 'attention_backward_dq', HS, q.constants), [dqkv, delta, dout, out, qkv, lse, lengths], p, q.groups);
  const kv = grid(enc, T, NKV, B);
  enc.dispatch(attentionSpec(enc, 'attention_backward_dkv', HS, kv.constants), [dqkv, dout, qkv, lse, delta, lengths], p, kv.groups);
}
