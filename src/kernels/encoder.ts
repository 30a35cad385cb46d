// Launchers for shaders/encoder.wgsl: token + position embedding.
// Dimensions: B batch, T time, C channels, V vocab, P positions (wpe rows, ≥ T).
// wte (and dwte) may be row parts (src/engine/arena.ts: an embedding larger than one storage
// binding is split by rows): one dispatch per part, each touching only the ids in its rows.
import type { GpuContext } from '../engine/gpu';
import { createView, type Rows, type View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { STRIDED_MAX_GROUPS, strideGroups } from './grid';
import { checkRowParts, checkView } from './check';


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
  /** The distinct ids on the host (ascending): which buckets fall in each row part of wte. */
  hostIds: Uint32Array;
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
    hostIds: b.ids,
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
 * wte: a view (V = its whole rows) or row parts covering [0, V). wpe null: no position table
 * (Llama family), out = wte[inp].
 */
export function encoderForward(enc: StepEncoder, out: View, inp: View, wte: Rows, wpe: View | null, B: number, T: number, C: number): void {
  checkView('encoderForward', out, B * T * C);
  checkView('encoderForward', inp, B * T);
  const { parts, rows: V } = checkRowParts('encoderForward', wte, C);
  if (V < 1) throw new Error(`encoderForward: wte holds no row of ${C} elements`);
  if (wpe) checkView('encoderForward', wpe, T * C);
  // without positions wte is bound in wpe's slot too (both read-only) and never read there
  const constants = wpe ? undefined : { HAS_WPE: false };
  for (const p of parts) {
    enc.dispatch({ shader: 'encoder', entryPoint: 'encoder_forward', constants }, [out, inp, p.view, wpe ?? p.view], params(B, T, C, V, p.row0, p.rows, 0, 0), [strideGroups(B * T * C)]);
  }
}

/**
 * dwte (V,C) += Σ over each id's positions of dout; dwpe (T,C) += Σ_b dout (b,t) unless null. Both
 * accumulate. dwte: a view or row parts covering [0, V); each part gets one dispatch over the
 * buckets of its ids.
 */
export function encoderBackward(enc: StepEncoder, dwte: Rows, dwpe: View | null, dout: View, buckets: EncoderBuckets, B: number, T: number, C: number): void {
  if (buckets.B !== B || buckets.T !== T) {
    throw new Error(`encoderBackward: buckets were built for B=${buckets.B} T=${buckets.T}, called with B=${B} T=${T}`);
  }
  const { parts, rows } = checkRowParts('encoderBackward', dwte, C);
  if (rows < buckets.V) throw new Error(`encoderBackward: dwte holds ${rows} rows of ${C}, the buckets were built for V = ${buckets.V}`);
  if (dwpe) checkView('encoderBackward', dwpe, T * C);
  checkView('encoderBackward', dout, B * T * C);
  const ids = buckets.hostIds;
  let u0 = 0;
  for (const p of parts) {
    let u1 = u0;
    while (u1 < ids.length && ids[u1] < p.row0 + p.rows) u1++;
    if (u1 > u0) {
      enc.dispatch(
        { shader: 'encoder', entryPoint: 'encoder_backward_wte' },
        [p.view, dout, buckets.ids, buckets.offsets, buckets.positions],
        params(B, T, C, u1, p.row0, p.rows, u0, 0),
        [Math.ceil(C / 64), Math.min(u1 - u0, STRIDED_MAX_GROUPS)],
      );
    }
    u0 = u1;
  }
  if (dwpe) enc.dispatch({ shader: 'encoder', entryPoint: 'encoder_backward_wpe' }, [dwpe, dout], params(B, T, C, 0, 0, 0, 0, 0), [strideGroups(T * C)]);
}
