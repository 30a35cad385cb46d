// Launchers for shaders/decode.wgsl: the kernels a key/value-cached generation adds to the
// training ones (src/model/decode.ts runs them). Dimensions: B sequences, C channels, V vocabulary,
// NH query heads, NKV key/value heads, HS head size, QC = NH·HS, KC = NKV·HS, W = QC + 2·KC, S cache
// slots per sequence, N tokens generated at most, Tq rows per sequence of a prefill.
// Prompts start at slot 0 and slot = position (right-padded, as training batches). `ctl` (u32) holds
// s, the column being generated; at step s ≥ 1 sequence b feeds tokens (B,N) [b, s−1] at position
// lengths[b] + s − 1. Nothing here is step-specific on the host: every step binds the same views.
import type { Rows, View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { strideGroups } from './grid';
import { isCpuAdapter, rowWorkgroup } from './plan';
import { matmulTiled } from './matmul';
import { checkDims, checkRowParts, checkView } from './check';
import { MAX_HEAD_SIZE } from './attention';
import { ropeInvFreq, ROPE_MAX_HEAD_SIZE } from './rope';

/**
 * out (B,C) = wte[tokens[b, s−1]] + wpe[lengths[b] + s − 1] (wpe null: no positions, the Llama
 * family). wte: a view or row parts (one dispatch per part, as encoderForward).
 */
export function decodeEmbed(enc: StepEncoder, out: View, wte: Rows, wpe: View | null, tokens: View, lengths: View, ctl: View, B: number, C: number, N: number): void {
  checkDims('decodeEmbed', { B, C, N });
  checkView('decodeEmbed', out, B * C);
  checkView('decodeEmbed', tokens, B * N);
  checkView('decodeEmbed', lengths, B);
  checkView('decodeEmbed', ctl, 1);
  const { parts, rows: V } = checkRowParts('decodeEmbed', wte, C);
  const constants = wpe ? undefined : { HAS_WPE: false };
  for (const p of parts) {
    enc.dispatch({ shader: 'decode', entryPoint: 'decode_embed', constants }, [out, p.view, wpe ?? p.view, tokens, lengths, ctl], params(B, C, V, p.row0, p.rows, N, 0, 0), [strideGroups(B * C)]);
  }
}

/**
 * qkv (B,W): the NH query heads and NKV key heads (the first (NH+NKV)·HS columns of each row)
 * rotated in place at position lengths[b] + s − 1 — shaders/rope.wgsl's rotation, bitwise.
 */
export function decodeRope(enc: StepEncoder, qkv: View, lengths: View, ctl: View, B: number, NH: number, NKV: number, HS: number, theta: number): void {
  checkDims('decodeRope', { B, NH, NKV, HS });
  if (HS % 2 !== 0 || HS > ROPE_MAX_HEAD_SIZE) throw new Error(`decodeRope: head size ${HS} must be even and at most ${ROPE_MAX_HEAD_SIZE}`);
  const W = (NH + 2 * NKV) * HS;
  checkView('decodeRope', qkv, B * W);
  checkView('decodeRope', lengths, B);
  const words = new Uint32Array(8 + ROPE_MAX_HEAD_SIZE / 2);
  const n = B * (NH + NKV) * (HS / 2);
  words.set([n, NH + NKV, HS / 2, W]);
  new Float32Array(words.buffer).set(ropeInvFreq(HS, theta), 8);
  enc.dispatch({ shader: 'decode', entryPoint: 'decode_rope' }, [qkv, lengths, ctl], words, [strideGroups(n)]);
}

/**
 * cache (B,S,2·KC) ← the k|v columns of qkv (B·Tq,W). decode false (a prefill of Tq rows per
 * sequence): row t of sequence b goes to slot t, for t < lengths[b]. decode true (Tq = 1): slot
 * lengths[b] + s − 1.
 */
export function decodeKvStore(enc: StepEncoder, cache: View, qkv: View, lengths: View, ctl: View, B: number, Tq: number, S: number, NH: number, NKV: number, HS: number, decode: boolean): void {
  checkDims('decodeKvStore', { B, Tq, S, NH, NKV, HS });
  if (decode && Tq !== 1) throw new Error(`decodeKvStore: a decode step stores one row per sequence, got Tq = ${Tq}`);
  const QC = NH * HS;
  const KC2 = 2 * NKV * HS;
  checkView('decodeKvStore', cache, B * S * KC2);
  checkView('decodeKvStore', qkv, B * Tq * (QC + KC2));
  checkView('decodeKvStore', lengths, B);
  enc.dispatch({ shader: 'decode', entryPoint: 'decode_kv_store' }, [cache, qkv, lengths, ctl], params(B * Tq, Tq, S, KC2, QC, QC + KC2, Number(decode), 0), [strideGroups(B * Tq * KC2)]);
}

/**
 * out (B,NH·HS) = for each query head h: softmax over slots t < lengths[b] + s of
 * (q_h·k_t/√HS), times v_t, with key/value head h/(NH/NKV). q: the first NH·HS columns of qkv
 * (B,W) (after RoPE); cache (B,S,2·KC) as decodeKvStore wrote it. scores (B·NH·S) scratch.
 */
export function decodeAttention(enc: StepEncoder, out: View, scores: View, qkv: View, cache: View, lengths: View, ctl: View, B: number, S: number, NH: number, NKV: number, HS: number): void {
  checkDims('decodeAttention', { B, S, NH, NKV, HS });
  if (NH % NKV !== 0) throw new Error(`decodeAttention: NH = ${NH} is not a multiple of NKV = ${NKV}`);
  if (HS % 4 !== 0 || HS > MAX_HEAD_SIZE) throw new Error(`decodeAttention: head size ${HS} must be a multiple of 4 and at most ${MAX_HEAD_SIZE}`);
  const W = (NH + 2 * NKV) * HS;
  checkView('decodeAttention', out, B * NH * HS);
  checkView('decodeAttention', scores, B * NH * S);
  checkView('decodeAttention', qkv, B * W);
  checkView('decodeAttention', cache, B * S * 2 * NKV * HS);
  checkView('decodeAttention', lengths, B);
  const AWG = rowWorkgroup(enc.gpu.adapter, 64);
  enc.dispatch({ shader: 'decode', entryPoint: 'decode_attention', constants: { AWG } }, [out, scores, qkv, cache, lengths, ctl], params(B, NH, NKV, HS, S, W, 0, 0), [NH, B]);
}

/** out (B,C) = x (B·Tq,C) at row b·Tq + lengths[b] − 1: each prompt's last position. */
export function decodeGather(enc: StepEncoder, out: View, x: View, lengths: View, B: number, Tq: number, C: number): void {
  checkDims('decodeGather', { B, Tq, C });
  checkView('decodeGather', out, B * C);
  checkView('decodeGather', x, B * Tq * C);
  checkView('decodeGather', lengths, B);
  enc.dispatch({ shader: 'decode', entryPoint: 'decode_gather' }, [out, x, lengths], params(B, Tq, C, 0), [strideGroups(B * C)]);
}

/** logits (B,V) columns [row0, row0 + rows) = block (B,rows): one LM-head part's product. */
export function decodePlace(enc: StepEncoder, logits: View, block: View, B: number, V: number, row0: number, rows: number): void {
  checkDims('decodePlace', { B, V, rows });
  if (row0 + rows > V) throw new Error(`decodePlace: columns [${row0}, ${row0 + rows}) exceed V = ${V}`);
  checkView('decodePlace', logits, B * V);
  checkView('decodePlace', block, B * rows);
  enc.dispatch({ shader: 'decode', entryPoint: 'decode_place' }, [logits, block], params(B, V, row0, rows), [strideGroups(B * rows)]);
}

/** ctl[0] += 1: the next column. */
export function decodeAdvance(enc: StepEncoder, ctl: View): void {
  checkView('decodeAdvance', ctl, 1);
  enc.dispatch({ shader: 'decode', entryPoint: 'decode_advance' }, [ctl], null, [1]);
}

/** Most rows decodeProduct gives the matrix-vector kernels (their private accumulators). */
export const MATVEC_MAX_ROWS = 8;

/**
 * A decode step's product out (M,N) = x (M,K) · op(W) [+ bias]: W (K,N) (Conv1D) or, transB,
 * (N,K) (nn.Linear, the LM head). On CPU adapters with M ≤ MATVEC_MAX_ROWS and aligned shapes the
 * matrix-vector kernels (each weight read once for every row); otherwise matmulTiled.
 */
export function decodeProduct(enc: StepEncoder, out: View, x: View, w: View, bias: View | null, M: number, N: number, K: number, transB: boolean): void {
  checkDims('decodeProduct', { M, N, K });
  checkView('decodeProduct', out, M * N);
  checkView('decodeProduct', x, M * K);
  checkView('decodeProduct', w, N * K);
  if (bias) checkView('decodeProduct', bias, N);
  const aligned = K % 4 === 0 && (transB || N % 4 === 0) && x.offset % 16 === 0 && w.offset % 16 === 0;
  if (!isCpuAdapter(enc.gpu.adapter) || M > MATVEC_MAX_ROWS || !aligned) {
    matmulTiled(enc, out, x, w, bias, M, N, K, { TRANS_B: transB });
    return;
  }
  const entryPoint = transB ? 'decode_matvec_nt' : 'decode_matvec_nn';
  enc.dispatch({ shader: 'decode', entryPoint, constants: { MV_HAS_BIAS: bias !== null } }, [out, x, w, bias ?? x], params(M, N, K, 0), [Math.ceil(N / 4 / 64)]);
}
