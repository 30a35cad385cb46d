// `train`'s DIR/pairs.jsonl (README.md, "Diagnostics"): the tracked pairs (the first N training
// pairs) under the starting weights (step 0, with each pair's CHES) and every few updates after,
// one JSON line per pair and point: summed and per-token log-probs of both answers. The page's
// likelihood-displacement, distribution and per-token views are computed from the same numbers.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { PairIds } from '../train/pairs';
import type { TrainingRun } from '../train/training-run';
import { pairPass } from '../train/pair-pass';
import { isTrackStep, trackPoint, trackRun, type TrackPoint } from '../train/pair-track';
import type { Ches } from '../train/ches';

/** One line of pairs.jsonl per tracked pair of a point. */
export function pairLines(point: TrackPoint, pairs: readonly PairIds[], ches?: readonly Ches[]): string[] {
  return pairs.map((p, i) =>
    JSON.stringify({
      step: point.step,
      index: p.index,
      line: p.line ?? null,
      chosen_logps: point.chosen[i],
      rejected_logps: point.rejected[i],
      chosen_length: point.chosenTokens[i].length,
      rejected_length: point.rejectedTokens[i].length,
      chosen_token_logps: point.chosenTokens[i],
      rejected_token_logps: point.rejectedTokens[i],
      ...(ches ? { ches: ches[i].ches, ches_normalized: ches[i].normalized } : {}),
    }),
  );
}

export class PairsLog {
  private file: WriteStream;
  private last = -1;

  constructor(
    path: string,
    private pairs: readonly PairIds[],
    private steps: number,
    private every: number,
  ) {
    this.file = createWriteStream(path);
  }

  private write(point: TrackPoint, ches?: readonly Ches[]): void {
    for (const l of pairLines(point, this.pairs, ches)) this.file.write(l + '\n');
    this.last = point.step;
  }

  /** Step 0: the starting weights, with CHES (call after run.start(), before any update). */
  async start(run: TrainingRun): Promise<void> {
    if (!run.model || !run.trainer || !this.pairs.length) return;
    const r = await pairPass(run.model, run.trainer.runners, this.pairs, run.cfg.batchSize, { tokens: true, ches: true });
    this.write(trackPoint(run.step, r), r.ches);
  }

  /** After an update: a point when one is due (every `every` updates and the last). */
  async after(run: TrainingRun): Promise<void> {
    if (!this.pairs.length || run.step === this.last || !isTrackStep(run.step, this.steps, this.every)) return;
    this.write(await trackRun(run, this.pairs));
  }

  close(): Promise<void> {
    return new Promise((res, rej) => this.file.end((e?: Error | null) => (e ? rej(e) : res())));
  }
}
