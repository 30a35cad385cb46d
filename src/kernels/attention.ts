// Launchers for shaders/attention.wgsl: causal multi-head self-attention (GPT2Attention), flash
// style — the (B,NH,T,T) scores are never stored, only one log-sum-exp per query row.
// Dimensions: B batch, T time, C channels, NH heads, HS = C/NH head size (a multiple of 4, ≤ MAX_HEAD_SIZE).
// qkv (B,T,3C) is c_attn's output (q, k, v side by side); out (B,T,C) is c_proj's input;
// lse and delta (B,NH,T) per-row statistics; lengths (B, u32) each right-padded sequence's length.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { rowWorkgroup } from './plan';
import { checkDims, checkView } from './check';

/** Largest head size the kernels hold in their private row arrays (MAX_H4 vec4s in the shader). */
export const MAX_HEAD_SIZE = 128;

const WG = 64;


function checkAttentionDims(name: string, B: number, T: number, C: number, NH: number): void {
  checkDims(name, { B, T, C, NH });
  if (C % NH !== 0) throw new Error(`${name}: C=${C} is not a multiple of NH=${NH}`);
  const HS = C / NH;
  if (HS % 4 !== 0 || HS > MAX_HEAD_SIZE) throw new Error(`${name}: head size C/NH = ${HS} must be a multiple of 4 and at most ${MAX_HEAD_SIZE}`);
}

/** Elements of each per-row statistic (lse, delta): (B,NH,T). */
export function attentionRowStatsSize(B: number, T: number, NH: number): number {
  return B * NH * T;
}

function grid(enc: StepEncoder, T: number, NH: number, B: number): { constants: { WG: number }; groups: [number, number, number] } {
  // CPU adapters: 4 rows a workgroup (one SIMD group); GPUs: 64
  const wg = rowWorkgroup(enc.gpu.adapter, WG);
  return { constants: { WG: wg }, groups: [Math.ceil(T / wg), NH, B] };
}

/**
 * out (B,T,C) = per head softmax_{t2 ≤ t}(q_t·k_t2 / sqrt(HS)) · v, heads concatenated;
 * lse (B,NH,T) = log Σ_{t2 ≤ t} exp(q_t·k_t2 / sqrt(HS)). Rows t ≥ lengths[b] get out = 0, lse = 0.
 */
export function attentionForward(enc: StepEncoder, out: View, lse: View, qkv: View, lengths: View, B: number, T: number, C: number, NH: number): void {
  checkAttentionDims('attentionForward', B, T, C, NH);
  checkView('attentionForward', out, B * T * C);
  checkView('attentionForward', lse, attentionRowStatsSize(B, T, NH));
  checkView('attentionForward', qkv, B * T * 3 * C);
  checkView('attentionForward', lengths, B);
  const { constants, groups } = grid(enc, T, NH, B);
  enc.dispatch({ shader: 'attention', entryPoint: 'attention_forward', constants }, [out, lse, qkv, lengths], params(B, T, C, NH), groups);
}

/**
 * dqkv (B,T,3C) = gradient of sum(out · dout) with respect to qkv (written, 0 on padded rows),
 * from the forward's out and lse. delta (B,NH,T) is scratch (dout·out per row); its contents on
 * entry do not matter.
 */
export function attentionBackward(enc: StepEncoder, dqkv: View, delta: View, dout: View, out: View, qkv: View, lse: View, lengths: View, B: number, T: number, C: number, NH: number): void {
  checkAttentionDims('attentionBackward', B, T, C, NH);
  const rows = attentionRowStatsSize(B, T, NH);
  checkView('attentionBackward', dqkv, B * T * 3 * C);
  checkView('attentionBackward', delta, rows);
  checkView('attentionBackward', dout, B * T * C);
  checkView('attentionBackward', out, B * T * C);
  checkView('attentionBackward', qkv, B * T * 3 * C);
  checkView('attentionBackward', lse, rows);
  checkView('attentionBackward', lengths, B);
  const { constants, groups } = grid(enc, T, NH, B);
  const p = params(B, T, C, NH);
  enc.dispatch({ shader: 'attention', entryPoint: 'attention_backward_dq', constants }, [dqkv, delta, dout, out, qkv, lse, lengths], p, groups);
  enc.dispatch({ shader: 'attention', entryPoint: 'attention_backward_dkv', constants }, [dqkv, dout, qkv, lse, delta, lengths], p, groups);
}
