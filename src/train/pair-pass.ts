// One forward pass over pairs that reads back, besides the per-sequence sums (pairLogps), what the
// diagnostics need (README.md, "Diagnostics"): the log-prob of every completion token, and the
// final hidden states for CHES (./ches.ts). The page's tracked pairs, the per-pair table's start,
// the CLI's `logps --per-token --ches` and `train`'s pairs.jsonl all come from here.
import type { TrainableModel, ModelRunner } from '../model/family';
import { readF32 } from '../engine/readback';
import type { PairIds } from './pairs';
import { forwardPairs, type PairLogps } from './logps';
import type { RunnerPool } from './runners';
import { checkCancelled, type PassHooks } from './progress';
import { batchChes, type Ches } from './ches';

export interface PairPassOptions {
  /** Read back each completion token's log-prob. */
  tokens?: boolean;
  /** Read back the final hidden states and score CHES. */
  ches?: boolean;
}

export interface PairPass extends PairLogps {
  /** (N) log-probs of each completion token, in order (|y| values), when asked for. */
  chosenTokens?: Float32Array[];
  rejectedTokens?: Float32Array[];
  /** (N) CHES of each pair under these weights, when asked for. */
  ches?: Ches[];
}

/**
 * The final hidden states (B,T,C) of the runner's last forward: the output of the final norm,
 * which both families keep as the activation `lnf` (GPT-2's ln_f, the Llama family's model.norm).
 */
export async function readFinalHidden(model: TrainableModel, runner: ModelRunner): Promise<{ hidden: Float32Array; C: number }> {
  const view = runner.acts.get('lnf');
  const C = view.length / (runner.B * runner.T);
  if (!Number.isInteger(C)) throw new Error(`lnf holds ${view.length} values, not (${runner.B}, ${runner.T}, C)`);
  return { hidden: await readF32(model.gpu.device, view), C };
}

/** Values of `logp` (B,T) at sequence b's positions where `mask` is 1, in order. */
function maskedRow(logp: Float32Array, mask: Float32Array, b: number, T: number): Float32Array {
  const out: number[] = [];
  for (let t = 0; t < T; t++) if (mask[b * T + t]) out.push(logp[b * T + t]);
  return Float32Array.from(out);
}

/** Sums (and, as asked, per-token log-probs and CHES) of every pair, `batchSize` pairs per forward. */
export async function pairPass(model: TrainableModel, runners: RunnerPool, pairs: readonly PairIds[], batchSize: number, opts: PairPassOptions = {}, hooks?: PassHooks): Promise<PairPass> {
  const n = pairs.length;
  const out: PairPass = { chosen: new Float64Array(n), rejected: new Float64Array(n), chosenLen: new Int32Array(n), rejectedLen: new Int32Array(n) };
  if (opts.tokens) [out.chosenTokens, out.rejectedTokens] = [[], []];
  if (opts.ches) out.ches = [];
  hooks?.progress?.({ done: 0, total: n });
  for (let i = 0; i < n; i += batchSize) {
    checkCancelled(hooks);
    const part = pairs.slice(i, i + batchSize);
    const { stats, batch, runner } = await forwardPairs(model, runners, part, false);
    const k = part.length;
    for (let j = 0; j < k; j++) {
      out.chosen[i + j] = stats.logp[j];
      out.rejected[i + j] = stats.logp[k + j];
      out.chosenLen[i + j] = batch.completionLens[j];
      out.rejectedLen[i + j] = batch.completionLens[k + j];
    }
    if (opts.tokens) {
      const logp = await runner.readTokenLogps();
      for (let j = 0; j < k; j++) {
        out.chosenTokens!.push(maskedRow(logp, batch.completionMask, j, batch.T));
        out.rejectedTokens!.push(maskedRow(logp, batch.completionMask, k + j, batch.T));
      }
    }
    if (opts.ches) {
      const { hidden, C } = await readFinalHidden(model, runner);
      out.ches!.push(...batchChes(hidden, batch, C));
    }
    hooks?.progress?.({ done: i + k, total: n });
  }
  return out;
}
