// Forward-only per-pair log-prob sums: the `logps` command and the reference model's S_ref.
import { StepEncoder } from '../engine/encoder';
import type { SequenceStats } from '../model/gpt';
import type { TrainableModel } from '../model/family';
import type { HostBatch } from '../model/batch';
import { pairBatch, type PairIds } from './pairs';
import { RunnerPool } from './runners';
import { checkCancelled, type PassHooks } from './progress';

export interface PairLogps {
  /** (N) S(y_w), S(y_l): sums over completion tokens. */
  chosen: Float64Array;
  rejected: Float64Array;
  /** (N) completion lengths as trained on. */
  chosenLen: Int32Array;
  rejectedLen: Int32Array;
}

/** One forward pass of a batch of pairs; returns the batch and its per-sequence sums. */
export async function forwardPairs(model: TrainableModel, runners: RunnerPool, pairs: readonly PairIds[], nllIncludesPrompt: boolean) {
  const batch: HostBatch = pairBatch(pairs, model.seq, nllIncludesPrompt);
  const runner = runners.get(batch.B, batch.T);
  runner.setBatch(batch);
  const enc = new StepEncoder(model.gpu, 'forward');
  runner.forward(enc);
  enc.submit();
  const stats: SequenceStats = await runner.readStats();
  return { batch, stats, runner };
}

/**
 * Sums of every pair, `batchSize` pairs per forward pass. Between batches it reports progress and
 * stops (PassCancelled) when the hooks ask for it.
 */
export async function pairLogps(model: TrainableModel, runners: RunnerPool, pairs: readonly PairIds[], batchSize: number, hooks?: PassHooks): Promise<PairLogps> {
  const n = pairs.length;
  const out: PairLogps = { chosen: new Float64Array(n), rejected: new Float64Array(n), chosenLen: new Int32Array(n), rejectedLen: new Int32Array(n) };
  hooks?.progress?.({ done: 0, total: n });
  for (let i = 0; i < n; i += batchSize) {
    checkCancelled(hooks);
    const part = pairs.slice(i, i + batchSize);
    const { stats, batch } = await forwardPairs(model, runners, part, false);
    const k = part.length;
    for (let j = 0; j < k; j++) {
      out.chosen[i + j] = stats.logp[j];
      out.rejected[i + j] = stats.logp[k + j];
      out.chosenLen[i + j] = batch.completionLens[j];
      out.rejectedLen[i + j] = batch.completionLens[k + j];
    }
    hooks?.progress?.({ done: i + k, total: n });
  }
  return out;
}
