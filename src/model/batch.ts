// A batch as the engine sees it: B right-padded token sequences of length ≤ T, with per-
// position targets (the next token, or IGNORE) and per-position weights that select which
// log-probs feed which per-sequence sums. Built on the host; uploaded once per batch.
import { IGNORE_TARGET } from './constants';

export interface SequenceSpec {
  /** prompt ids followed by completion ids — exactly what the model reads. */
  ids: readonly number[];
  /** Number of prompt tokens; completion tokens are ids[promptLen..]. */
  promptLen: number;
  /** Whether the NLL term (ORPO/CPO/SFT) covers the prompt tokens too (TRL's default for ORPO). */
  nllIncludesPrompt?: boolean;
}

export interface HostBatch {
  B: number;
  T: number;
  /** (B,T) token ids, padding filled with `padId`. */
  tokens: Uint32Array;
  /** (B,T) next-token targets; IGNORE_TARGET at the last real position and at padding. */
  targets: Uint32Array;
  /** (B) real lengths. */
  lengths: Uint32Array;
  /** (B,T) 1 where position t predicts a completion token (t+1 ≥ promptLen), else 0. */
  completionMask: Float32Array;
  /** (B,T) 1 where position t predicts a token that the NLL term covers. */
  nllMask: Float32Array;
  /** Completion token count per sequence (|y|). */
  completionLens: number[];
  /** NLL token count per sequence. */
  nllLens: number[];
}

export function buildBatch(seqs: readonly SequenceSpec[], padId: number, maxT?: number): HostBatch {
  if (seqs.length === 0) throw new Error('buildBatch: no sequences');
  const B = seqs.length;
  const T = maxT ?? Math.max(...seqs.map((s) => s.ids.length));
  const tokens = new Uint32Array(B * T).fill(padId);
  const targets = new Uint32Array(B * T).fill(IGNORE_TARGET);
  const lengths = new Uint32Array(B);
  const completionMask = new Float32Array(B * T);
  const nllMask = new Float32Array(B * T);
  const completionLens: number[] = [];
  const nllLens: number[] = [];
  seqs.forEach((s, b) => {
    const n = s.ids.length;
    if (n < 2) throw new Error(`sequence ${b}: needs at least 2 tokens (got ${n})`);
    if (n > T) throw new Error(`sequence ${b}: ${n} tokens exceed the batch length ${T}`);
    if (s.promptLen < 1 || s.promptLen >= n) throw new Error(`sequence ${b}: prompt length ${s.promptLen} must be in [1, ${n - 1}] so at least one completion token is predicted`);
    lengths[b] = n;
    let comp = 0;
    let nll = 0;
    for (let t = 0; t < n; t++) {
      tokens[b * T + t] = s.ids[t];
      if (t + 1 < n) {
        targets[b * T + t] = s.ids[t + 1];
        const isCompletion = t + 1 >= s.promptLen;
        if (isCompletion) {
          completionMask[b * T + t] = 1;
          comp++;
        }
        if (isCompletion || s.nllIncludesPrompt) {
          nllMask[b * T + t] = 1;
          nll++;
        }
      }
    }
    completionLens.push(comp);
    nllLens.push(nll);
  });
  return { B, T, tokens, targets, lengths, completionMask, nllMask, completionLens, nllLens };
}
