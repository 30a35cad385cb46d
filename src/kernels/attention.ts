// Launchers for shaders/attention.wgsl: causal multi-head self-attention (GPT2Attention).
// Dimensions: B batch, T time, C channels, NH heads, HS = C/NH head size.
// qkv (B,T,3C) is c_attn's output (q, k, v side by side); out (B,T,C) is c_proj's input;
// att (B,NH,T,T) the softmax probabilities; lengths (B, u32) each right-padded sequence's length.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { rowWorkgroup } from './plan';

const WG = 64;

function check(name: string, v: View, n: number): void {
  if (v.length < n) throw new Error(`${name}: ${v.name} holds ${v.length} elements, needs ${n}`);
}

function checkDims(name: string, B: number, T: number, C: number, NH: number): void {
  for (const [k, v] of Object.entries({ B, T, C, NH })) {
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${name}: ${k}=${v} must be a positive integer`);
  }
  if (C % NH !== 0) throw new Error(`${name}: C=${C} is not a multiple of NH=${NH}`);
}

/** Elements of the scratch attentionBackward needs: dpreatt (B,NH,T,T). */
export function attentionScratchSize(B: number, T: number, NH: number): number {
  return B * NH * T * T;
}

/**
 * out (B,T,C) = per head softmax_{t2 ≤ t}(q_t·k_t2 / sqrt(HS)) · v, heads concatenated;
 * att (B,NH,T,T) the probabilities (zeros above the diagonal). Rows t ≥ lengths[b] get out = 0, att = 0.
 */
export function attentionForward(enc: StepEncoder, out: View, att: View, qkv: View, lengths: View, B: number, T: number, C: number, NH: number): void {
  checkDims('attentionForward', B, T, C, NH);
  check('attentionForward', out, B * T * C);
  check('attentionForward', att, B * NH * T * T);
  check('attentionForward', qkv, B * T * 3 * C);
  check('attentionForward', lengths, B);
  const p = params(B, T, C, NH);
  enc.dispatch({ shader: 'attention', entryPoint: 'attention_softmax_forward', constants: { WG: rowWorkgroup(enc.gpu.adapter, WG) } }, [att, qkv, lengths], p, [T, NH, B]);
  if ((C / NH) % 4 === 0) enc.dispatch({ shader: 'attention', entryPoint: 'attention_forward4' }, [out, att, qkv, lengths], p, [Math.ceil(C / 4 / WG), T, B]);
  else enc.dispatch({ shader: 'attention', entryPoint: 'attention_forward' }, [out, att, qkv, lengths], p, [Math.ceil(C / WG), T, B]);
}

/**
 * dqkv (B,T,3C) = gradient of sum(out · dout) with respect to qkv (written, 0 on padded rows).
 * scratch holds dpreatt: at least attentionScratchSize(B, T, NH) elements; its contents on entry do not matter.
 */
export function attentionBackward(enc: StepEncoder, dqkv: View, dout: View, scratch: View, qkv: View, att: View, lengths: View, B: number, T: number, C: number, NH: number): void {
  checkDims('attentionBackward', B, T, C, NH);
  check('attentionBackward', dqkv, B * T * 3 * C);
  check('attentionBackward', dout, B * T * C);
  check('attentionBackward', scratch, attentionScratchSize(B, T, NH));
  check('attentionBackward', qkv, B * T * 3 * C);
  check('attentionBackward', att, B * NH * T * T);
  check('attentionBackward', lengths, B);
  const p = params(B, T, C, NH);
  enc.dispatch({ shader: 'attention', entryPoint: 'attention_backward_rows', constants: { WG: rowWorkgroup(enc.gpu.adapter, WG) } }, [scratch, dout, qkv, att, lengths], p, [T, NH, B]);
  // vec4 form when a head's channels split into groups of 4 (every GPT-2 size)
  if ((C / NH) % 4 === 0) enc.dispatch({ shader: 'attention', entryPoint: 'attention_backward_qkv4' }, [dqkv, dout, scratch, qkv, att, lengths], p, [Math.ceil((3 * C) / 4 / WG), T, B]);
  else enc.dispatch({ shader: 'attention', entryPoint: 'attention_backward_qkv' }, [dqkv, dout, scratch, qkv, att, lengths], p, [Math.ceil((3 * C) / WG), T, B]);
}
