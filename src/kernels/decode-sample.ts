// Launcher for shaders/decode-sample.wgsl: one token per row sampled from logits (B,V) on the GPU
// with src/train/rl/sampling.ts's semantics (temperature → top-k → top-p, one draw of the seeded
// mulberry32 stream per row and step) or greedily; nothing but the chosen ids and two log-probs
// per row is written. Dimensions: B rows, V vocabulary, N output columns.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { rowWorkgroup } from './plan';
import { checkDims, checkView } from './check';

export interface GpuSampling {
  /** 0 = greedy (the first argmax); otherwise > 0, logits are divided by it. */
  temperature: number;
  /** Keep the k largest scores (ties at the k-th survive); 0 = off. */
  topK?: number;
  /** Nucleus mass in [0, 1]; 1 = off. */
  topP?: number;
  /** Ids that finish a row (it then writes `pad`); at most MAX_STOP_IDS. */
  stopIds?: readonly number[];
  pad?: number;
}

/** Stop ids the stop buffer holds. */
export const MAX_STOP_IDS = 64;

function u32(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`sampleRows: ${name} ${v} must be an integer in [0, 2^32)`);
}

/** Checks a sampling spec; throws naming the field. */
export function checkGpuSampling(o: GpuSampling): void {
  if (!(Number.isFinite(o.temperature) && o.temperature >= 0)) throw new Error(`sampling: temperature ${o.temperature} must be a finite number ≥ 0 (0 = greedy)`);
  const topK = o.topK ?? 0;
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`sampling: topK ${topK} must be an integer ≥ 0 (0 = off)`);
  const topP = o.topP ?? 1;
  if (!(topP >= 0 && topP <= 1)) throw new Error(`sampling: topP ${topP} must be in [0, 1]`);
  u32('pad', o.pad ?? 0);
  const stops = o.stopIds ?? [];
  if (stops.length > MAX_STOP_IDS) throw new Error(`sampling: at most ${MAX_STOP_IDS} stop ids, got ${stops.length}`);
  stops.forEach((id) => u32('stop id', id));
}

/** ctl's words: the column s, the stream's seed (mulberry32 as src/util/rng.ts), and draw0 — column s, row b uses draw draw0 + s·B + b. */
export function samplerCtl(s: number, seed: number, draw0: number): Uint32Array {
  u32('column', s);
  u32('seed', seed);
  u32('draw0', draw0);
  return Uint32Array.from([s, seed, draw0, 0]);
}

/**
 * Column s = ctl[0] of tokens, logp, wlogp (B,N) and done (B) from logits (B,V): rows already done
 * write `pad` and 0; the others sample (or take the argmax), write the token, logp = log softmax(
 * logits / T)[token] (T = 1 when greedy) and wlogp = its log-probability under the warped
 * distribution (0 when greedy), and become done on a stop id. probs (B,V) is scratch; afterwards it
 * holds exp(s − max) for the kept entries and −1 for those top-k or top-p dropped. stopIds: a u32
 * view of at least max(1, #stop ids) elements holding them.
 */
export function sampleRows(enc: StepEncoder, tokens: View, logp: View, wlogp: View, done: View, probs: View, logits: View, stopIds: View, ctl: View, B: number, V: number, N: number, o: GpuSampling): void {
  checkDims('sampleRows', { B, V, N });
  checkGpuSampling(o);
  for (const v of [tokens, logp, wlogp]) checkView('sampleRows', v, B * N);
  checkView('sampleRows', done, B);
  checkView('sampleRows', probs, B * V);
  checkView('sampleRows', logits, B * V);
  const nStop = o.stopIds?.length ?? 0;
  checkView('sampleRows', stopIds, Math.max(1, nStop));
  checkView('sampleRows', ctl, 3);
  const greedy = o.temperature === 0;
  const topK = o.topK ?? 0;
  const topP = o.topP ?? 1;
  const u = params(B, V, N, Number(greedy), greedy ? 0 : topK, nStop, o.pad ?? 0, Number(!greedy && topP < 1), { f: greedy ? 1 : o.temperature }, { f: topP }, 0, 0);
  const WG = rowWorkgroup(enc.gpu.adapter, 256);
  enc.dispatch({ shader: 'decode-sample', entryPoint: 'sample_rows', constants: { WG } }, [tokens, logp, wlogp, done, probs, logits, stopIds, ctl], u, [B]);
}
