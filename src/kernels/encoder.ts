// Launchers for shaders/encoder.wgsl: token + position embedding.
// Dimensions: B batch, T time, C channels, V vocab, P positions (wpe rows, ≥ T).
import type { GpuContext } from '../engine/gpu';
import { createView, type View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { STRIDED_MAX_GROUPS, strideGroups } from './grid';
import { checkView } from './check';


/** Positions b·T+t grouped by token id (CSR): bucket u holds positions[offsets[u] .. offsets[u+1]) of ids[u]. */
export interface TokenBuckets {
  /** Distinct token ids, ascending (U). */
  ids: Uint32Array;
  /** U + 1 offsets into positions. */
  offsets: Uint32Array;
  /** B·T flat positions, ascending within each bucket. */
  positions: Uint32Array;
}

/** The GPU copy of a batch's TokenBuckets, for encoderBackward. */
export interface EncoderBuckets {
  ids: View;
  offsets: View;
  positions: View;
  /** U, the number of distinct token ids. */
  used: number;
  B: number;
  T: number;
  V: number;
  destroy(): void;
}

/** Group the batch's flat positions by token id with a counting sort; throws on an id outside [0, V). */
export function bucketTokens(tokens: ArrayLike<number>, B: number, T: number, V: number): TokenBuckets {
  for (const [k, v] of Object.entries({ B, T, V })) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`bucketTokens: ${k} must be a positive integer, got ${v}`);
  }
  const n = B * T;
  if (tokens.length !== n) throw new Error(`bucketTokens: got ${tokens.length} tokens, B·T = ${B}·${T} needs ${n}`);
  const count = new Uint32Array(V);
  for (let i = 0; i < n; i++) {
    const id = tokens[i];
    if (!Number.isInteger(id) || id < 0 || id >= V) {
      throw new Error(`bucketTokens: token at b=${Math.floor(i / T)} t=${i % T} is ${id}, not an integer in [0, ${V})`);
    }
    count[id]++;
  }
  const ids: number[] = [];
  for (let v = 0; v < V; v++) if (count[v] > 0) ids.push(v);
  const offsets = new Uint32Array(ids.length + 1);
  const start = new Uint32Array(V); // next free slot of each id's bucket
  ids.forEach((v, u) => {
    offsets[u + 1] = offsets[u] + count[v];
    start[v] = offsets[u];
  });
  const positions = new Uint32Array(n);
  for (let i = 0; i < n; i++) positions[start[tokens[i]]++] = i;
  return { ids: Uint32Array.from(ids), offsets, positions };
}

/** Bucket a batch's token ids on the host and upload them for encoderBackward; destroy() when done. */
export function prepareEncoderBackward(gpu: GpuContext, tokens: ArrayLike<number>, B: number, T: number, V: number): EncoderBuckets {
  const b = bucketTokens(tokens, B, T, V);
  const d = gpu.device;
  const ids = createView(d, 'encoder.bucket_ids', [b.ids.length], b.ids);
  const offsets = createView(d, 'encoder.bucket_offsets', [b.offsets.length], b.offsets);
  const positions = createView(d, 'encoder.bucket_positions', [b.positions.length], b.positions);
  return {
    ids,
    offsets,
    positions,
    used: b.ids.length,
    B,
    T,
    V,
    destroy() {
      ids.buffer.destroy();
      offsets.buffer.destroy();
      positions.buffer.destroy();
    },
  };
}

/**
 * out (B,T,C) = wte (V,C)[inp (B,T)] + wpe (P,C)[t]; inp is u32 token ids; an id ≥ V yields NaN.
 * wpe null: no position table (Llama family), out = wte[inp].
 */
export function encoderForward(enc: StepEncoder, out: View, inp: View, wte: View, wpe: View | null, B: number, T: number, C: number): void {
  checkView('encoderForward', out, B * T * C);
  checkView('encoderForward', inp, B * T);
  checkView('encoderForward', wte, C);
  if (wpe) checkView('encoderForward', wpe, T * C);
  const V = Math.floor(wte.length / C);
  // without positions wte is bound in wpe's slot too (both read-only) and never read there
  const constants = wpe ? undefined : { HAS_WPE: false };
  enc.dispatch({ shader: 'encoder', entryPoint: 'encoder_forward', constants }, [out, inp, wte, wpe ?? wte], params(B, T, C, V), [strideGroups(B * T * C)]);
}

/** dwte (V,C) += Σ over each id's positions of dout; dwpe (T,C) += Σ_b dout (b,t) unless null. Both accumulate. */
export function encoderBackward(enc: StepEncoder, dwte: View, dwpe: View | null, dout: View, buckets: EncoderBuckets, B: number, T: number, C: number): void {
  if (buckets.B !== B || buckets.T !== T) {
    throw new Error(`encoderBackward: buckets were built for B=${buckets.B} T=${buckets.T}, called with B=${B} T=${T}`);
  }
  checkView('encoderBackward', dwte, buckets.V * C);
  if (dwpe) checkView('encoderBackward', dwpe, T * C);
  checkView('encoderBackward', dout, B * T * C);
  enc.dispatch(
    { shader: 'encoder', entryPoint: 'encoder_backward_wte' },
    [dwte, dout, buckets.ids, buckets.offsets, buckets.positions],
    params(B, T, C, buckets.used),
    [Math.ceil(C / 64), Math.min(buckets.used, STRIDED_MAX_GROUPS)],
  );
  if (dwpe) enc.dispatch({ shader: 'encoder', entryPoint: 'encoder_backward_wpe' }, [dwpe, dout], params(B, T, C, 0), [strideGroups(T * C)]);
}
