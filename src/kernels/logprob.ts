// Launchers for shaders/logprob.wgsl: LM-head log-probs with the head tied to wte (V,C),
// computed chunk by chunk over the vocabulary so the (N,V) logits are never stored.
// Dimensions: N rows (tokens), C channels, V vocabulary, B sequences, T time.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { matmulTiled } from './matmul';
import { rowWorkgroup } from './plan';
import { checkDims, checkView } from './check';

/** Chunks are multiples of 64 rows of wte so each sub-view's byte offset v0·C·4 is 256-byte aligned. */
export const CHUNK_ALIGN = 64;
/** WebGPU's guaranteed maxComputeWorkgroupsPerDimension: one workgroup per row, rows beyond it loop. */
const MAX_DISPATCH_GROUPS = 65535;


function checkChunk(name: string, chunk: number): void {
  if (!Number.isInteger(chunk) || chunk <= 0 || chunk % CHUNK_ALIGN !== 0) {
    throw new Error(`${name}: chunk ${chunk} must be a positive multiple of ${CHUNK_ALIGN} (wte sub-views must stay 256-byte aligned)`);
  }
}

function alignElems(n: number): number {
  return Math.ceil(n / CHUNK_ALIGN) * CHUNK_ALIGN;
}

/** Floats of forward state kept per row between chunks (see shaders/logprob.wgsl). */
const STATE = 6;

/** Elements of scratch the forward and backward need: chunk logits (N,chunk), then forward state (N,6). */
export function lmHeadScratchSize(N: number, chunk: number): number {
  return alignElems(N * chunk) + STATE * N;
}

/** A window of `length` elements starting `start` elements into v; start·4 must keep the offset aligned. */
function sub(v: View, start: number, length: number, shape: readonly number[], name: string): View {
  return { buffer: v.buffer, offset: v.offset + start * 4, size: length * 4, length, name: `${v.name}.${name}`, shape };
}

/** Each chunk [v0, v0+W) of the vocabulary, W ≤ chunk. */
function chunks(V: number, chunk: number): Array<{ v0: number; W: number; first: boolean; last: boolean }> {
  const out = [];
  for (let v0 = 0; v0 < V; v0 += chunk) out.push({ v0, W: Math.min(chunk, V - v0), first: v0 === 0, last: v0 + chunk >= V });
  return out;
}

function checkShapes(name: string, hidden: View, wte: View, targets: View, scratch: View, N: number, C: number, V: number, chunk: number): void {
  checkChunk(name, chunk);
  checkDims(name, { N, C, V });
  // the forward keeps the running argmax as an f32, exact for indices below 2^24
  if (V > 2 ** 24) throw new Error(`${name}: V = ${V} exceeds 2^24`);
  checkView(name, hidden, N * C);
  checkView(name, wte, V * C);
  checkView(name, targets, N);
  checkView(name, scratch, lmHeadScratchSize(N, chunk));
}

/**
 * hidden (N,C), wte (V,C), targets (N) u32 -> logp (N) = logit[target] − logsumexp,
 * lse (N) = logsumexp (kept for the backward), meanLogit (N) = mean_v logit,
 * entropy (N) = −Σ_v p_v log p_v of the softmax, correct (N) = 1 where argmax_v logit = target
 * (the first maximum on a tie, as torch.argmax), else 0. IGNORE rows get logp 0 and correct 0.
 * scratch holds lmHeadScratchSize(N, chunk) elements.
 */
export function logprobForward(enc: StepEncoder, logp: View, lse: View, meanLogit: View, entropy: View, correct: View, hidden: View, wte: View, targets: View, scratch: View, N: number, C: number, V: number, chunk: number): void {
  checkShapes('logprobForward', hidden, wte, targets, scratch, N, C, V, chunk);
  for (const v of [logp, lse, meanLogit, entropy, correct]) checkView('logprobForward', v, N);
  const state = sub(scratch, alignElems(N * chunk), STATE * N, [N, STATE], 'state');
  for (const { v0, W, first, last } of chunks(V, chunk)) {
    const logits = sub(scratch, 0, N * W, [N, W], 'logits');
    matmulTiled(enc, logits, hidden, sub(wte, v0 * C, W * C, [W, C], `rows${v0}`), null, N, W, C, { TRANS_B: true });
    enc.dispatch({ shader: 'logprob', entryPoint: 'logprob_forward_chunk', constants: { WG: rowWorkgroup(enc.gpu.adapter, 256) } }, [logp, lse, meanLogit, entropy, correct, state, logits, targets], params(N, W, v0, V, Number(first), Number(last), 0, 0), [Math.min(N, MAX_DISPATCH_GROUPS)]);
  }
}

/**
 * coef (N) = dL/dlogp -> dhidden (N,C) written (=), dwte (V,C) accumulated (+=, the tied
 * embedding's gradient). lse (N) from logprobForward. IGNORE rows contribute nothing.
 */
export function logprobBackward(enc: StepEncoder, dhidden: View, dwte: View, coef: View, hidden: View, wte: View, targets: View, lse: View, scratch: View, N: number, C: number, V: number, chunk: number): void {
  checkShapes('logprobBackward', hidden, wte, targets, scratch, N, C, V, chunk);
  checkView('logprobBackward', dhidden, N * C);
  checkView('logprobBackward', dwte, V * C);
  checkView('logprobBackward', coef, N);
  checkView('logprobBackward', lse, N);
  for (const { v0, W, first } of chunks(V, chunk)) {
    const dlogits = sub(scratch, 0, N * W, [N, W], 'logits');
    const wteRows = sub(wte, v0 * C, W * C, [W, C], `rows${v0}`);
    matmulTiled(enc, dlogits, hidden, wteRows, null, N, W, C, { TRANS_B: true });
    enc.dispatch({ shader: 'logprob', entryPoint: 'logprob_backward_chunk' }, [dlogits, coef, targets, lse], params(N, W, v0, V, 0, 0, 0, 0), [Math.ceil(W / 64), Math.min(N, MAX_DISPATCH_GROUPS)]);
    matmulTiled(enc, dhidden, dlogits, wteRows, null, N, C, W, { ACCUMULATE: !first });
    matmulTiled(enc, sub(dwte, v0 * C, W * C, [W, C], `rows${v0}`), dlogits, hidden, null, W, C, N, { TRANS_A: true, ACCUMULATE: true });
  }
}

/** values, weights (B,T) -> out (B): out[b] = Σ_t values[b,t]·weights[b,t] (e.g. per-sequence log-prob sums). */
export function sequenceSums(enc: StepEncoder, out: View, values: View, weights: View, B: number, T: number): void {
  checkView('sequenceSums', out, B);
  checkView('sequenceSums', values, B * T);
  checkView('sequenceSums', weights, B * T);
  enc.dispatch({ shader: 'logprob', entryPoint: 'sequence_sums', constants: { WG: rowWorkgroup(enc.gpu.adapter, 256) } }, [out, values, weights], params(B, T, 0, 0), [Math.min(B, MAX_DISPATCH_GROUPS)]);
}
