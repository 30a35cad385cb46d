// Launchers for shaders/logprob.wgsl: LM-head log-probs with the head tied to wte (V,C),
// computed chunk by chunk over the vocabulary so the (N,V) logits are never stored.
// Dimensions: N rows (tokens), C channels, V vocabulary, B sequences, T time.
// The head may be row parts (src/engine/arena.ts: a head larger than one storage binding is split
// by rows): chunks then run part by part, in vocabulary order, never straddling two parts.
import type { Rows, View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { matmulTiled } from './matmul';
import { isCpuAdapter, rowWorkgroup } from './plan';
import { checkDims, checkRowParts, checkView } from './check';

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

/**
 * Each chunk [v0, v0+W) of the vocabulary, W ≤ chunk, part by part: `rows` is the chunk's W·C
 * window of its part (starting k·chunk rows into it, so its offset stays 256-byte aligned).
 */
function chunks(head: Rows, C: number, V: number, chunk: number): Array<{ v0: number; W: number; first: boolean; last: boolean; rows: View }> {
  const out = [];
  const { parts } = checkRowParts('lm head', head, C);
  for (const p of parts) {
    for (let r = 0; r < p.rows && p.row0 + r < V; r += chunk) {
      const v0 = p.row0 + r;
      const W = Math.min(chunk, p.rows - r, V - v0);
      // A width that is not a multiple of 4 (the vocabulary's last chunk: GPT-2's 50257, the byte
      // vocabulary's 257) would send the backward's products with K or M = W to the scalar
      // matmul; its last W % 4 rows become a chunk of their own where the split keeps the
      // sub-view 256-byte aligned, so the rest takes the vec4 kernels (docs/perf.md §19).
      const W4 = W - (W % 4);
      const split = W4 > 0 && W4 < W && (W4 * C * 4) % 256 === 0 ? W4 : W;
      for (const [o, w] of split < W ? [[0, split], [split, W - split]] : [[0, W]]) {
        out.push({ v0: v0 + o, W: w, first: v0 + o === 0, last: v0 + o + w >= V, rows: sub(p.view, (r + o) * C, w * C, [w, C], `rows${v0 + o}`) });
      }
    }
  }
  return out;
}

function checkShapes(name: string, hidden: View, wte: Rows, targets: View, scratch: View, N: number, C: number, V: number, chunk: number): void {
  checkChunk(name, chunk);
  checkDims(name, { N, C, V });
  // the forward keeps the running argmax as an f32, exact for indices below 2^24
  if (V > 2 ** 24) throw new Error(`${name}: V = ${V} exceeds 2^24`);
  checkView(name, hidden, N * C);
  const { rows } = checkRowParts(name, wte, C);
  if (rows < V) throw new Error(`${name}: the head holds ${rows} rows of ${C}, needs V = ${V}`);
  checkView(name, targets, N);
  checkView(name, scratch, lmHeadScratchSize(N, chunk));
}

/**
 * hidden (N,C), wte (V,C), targets (N) u32 -> logp (N) = logit[target] − logsumexp,
 * lse (N) = logsumexp (kept for the backward), meanLogit (N) = mean_v logit,
 * entropy (N) = −Σ_v p_v log p_v of the softmax, correct (N) = 1 where argmax_v logit = target
 * (the first maximum on a tie, as torch.argmax), else 0. IGNORE rows get logp 0 and correct 0.
 * scratch holds lmHeadScratchSize(N, chunk) elements. wte: a view or row parts covering [0, V).
 */
export function logprobForward(enc: StepEncoder, logp: View, lse: View, meanLogit: View, entropy: View, correct: View, hidden: View, wte: Rows, targets: View, scratch: View, N: number, C: number, V: number, chunk: number): void {
  checkShapes('logprobForward', hidden, wte, targets, scratch, N, C, V, chunk);
  for (const v of [logp, lse, meanLogit, entropy, correct]) checkView('logprobForward', v, N);
  const state = sub(scratch, alignElems(N * chunk), STATE * N, [N, STATE], 'state');
  for (const { v0, W, first, last, rows } of chunks(wte, C, V, chunk)) {
    const logits = sub(scratch, 0, N * W, [N, W], 'logits');
    matmulTiled(enc, logits, hidden, rows, null, N, W, C, { TRANS_B: true });
    const bindings = [logp, lse, meanLogit, entropy, correct, state, logits, targets];
    const u = params(N, W, v0, V, Number(first), Number(last), 0, 0);
    // CPU adapters: an invocation per row, no barriers (docs/perf.md §21)
    if (isCpuAdapter(enc.gpu.adapter)) enc.dispatch({ shader: 'logprob', entryPoint: 'logprob_forward_chunk_rows' }, bindings, u, [Math.min(Math.ceil(N / 4), MAX_DISPATCH_GROUPS)]);
    else enc.dispatch({ shader: 'logprob', entryPoint: 'logprob_forward_chunk', constants: { WG: rowWorkgroup(enc.gpu.adapter, 256) } }, bindings, u, [Math.min(N, MAX_DISPATCH_GROUPS)]);
  }
}

/**
 * coef (N) = dL/dlogp -> dhidden (N,C) written (=), dwte (V,C) accumulated (+=, the tied
 * embedding's gradient). lse (N) from logprobForward. IGNORE rows contribute nothing.
 * wte and dwte: views, or row parts of the same rows.
 */
export function logprobBackward(enc: StepEncoder, dhidden: View, dwte: Rows | null, coef: View, hidden: View, wte: Rows, targets: View, lse: View, scratch: View, N: number, C: number, V: number, chunk: number): void {
  checkShapes('logprobBackward', hidden, wte, targets, scratch, N, C, V, chunk);
  checkView('logprobBackward', dhidden, N * C);
  // dwte null: a frozen head (LoRA's base), only dhidden
  if (dwte) {
    const { rows: dRows } = checkRowParts('logprobBackward', dwte, C);
    if (dRows < V) throw new Error(`logprobBackward: dwte holds ${dRows} rows of ${C}, needs V = ${V}`);
  }
  checkView('logprobBackward', coef, N);
  checkView('logprobBackward', lse, N);
  const grads = dwte ? chunks(dwte, C, V, chunk) : null;
  for (const [i, { v0, W, first, rows: wteRows }] of chunks(wte, C, V, chunk).entries()) {
    const g = grads?.[i];
    if (grads && (!g || g.v0 !== v0 || g.W !== W)) throw new Error(`logprobBackward: dwte is split into other row parts than wte (at row ${v0})`);
    const dlogits = sub(scratch, 0, N * W, [N, W], 'logits');
    matmulTiled(enc, dlogits, hidden, wteRows, null, N, W, C, { TRANS_B: true });
    const u = params(N, W, v0, V, 0, 0, 0, 0);
    // CPU adapters: an invocation per row, all W columns (bitwise the same values)
    if (isCpuAdapter(enc.gpu.adapter)) enc.dispatch({ shader: 'logprob', entryPoint: 'logprob_backward_chunk_rows' }, [dlogits, coef, targets, lse], u, [Math.min(Math.ceil(N / 4), MAX_DISPATCH_GROUPS)]);
    else enc.dispatch({ shader: 'logprob', entryPoint: 'logprob_backward_chunk' }, [dlogits, coef, targets, lse], u, [Math.ceil(W / 64), Math.min(N, MAX_DISPATCH_GROUPS)]);
    matmulTiled(enc, dhidden, dlogits, wteRows, null, N, C, W, { ACCUMULATE: !first });
    if (g) matmulTiled(enc, g.rows, dlogits, hidden, null, W, C, N, { TRANS_A: true, ACCUMULATE: true });
  }
}

/** values, weights (B,T) -> out (B): out[b] = Σ_t values[b,t]·weights[b,t] (e.g. per-sequence log-prob sums). */
export function sequenceSums(enc: StepEncoder, out: View, values: View, weights: View, B: number, T: number): void {
  checkView('sequenceSums', out, B);
  checkView('sequenceSums', values, B * T);
  checkView('sequenceSums', weights, B * T);
  enc.dispatch({ shader: 'logprob', entryPoint: 'sequence_sums', constants: { WG: rowWorkgroup(enc.gpu.adapter, 256) } }, [out, values, weights], params(B, T, 0, 0), [Math.min(B, MAX_DISPATCH_GROUPS)]);
}
