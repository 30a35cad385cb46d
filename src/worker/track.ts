// The diagnostics' data in the worker (README.md, "Diagnostics"): the per-pair table's start pass,
// which also reads back each token's log-prob of the tracked pairs and the final hidden states
// (CHES of every table pair), and each run's tracked points between updates (src/train/pair-track.ts).
import type { TrainableModel } from '../model/family';
import type { Tokenizer } from '../tokenizer/types';
import type { PairIds } from '../train/pairs';
import type { RunnerPool } from '../train/runners';
import type { PassHooks } from '../train/progress';
import { pairPass } from '../train/pair-pass';
import { isTrackStep, trackEvery, trackPoint, trackRun, TRACKED_PAIRS, type TrackPoint } from '../train/pair-track';
import { averages, pairMeta, tokenPieces } from './pair-table';
import type { EngineEvent } from './protocol';
import type { Run } from './run';

/** The 'pairs-start' event: the table pairs under the starting weights, with the tracked pairs' tokens and every pair's CHES. */
export async function startEvent(model: TrainableModel, runners: RunnerPool, table: readonly PairIds[], steps: number, batchSize: number, tok: Tokenizer, hooks?: PassHooks): Promise<EngineEvent> {
  const r = await pairPass(model, runners, table, batchSize, { tokens: true, ches: true }, hooks);
  const tracked = table.slice(0, TRACKED_PAIRS);
  const pieces = { chosen: tracked.map((p) => tokenPieces(p.chosenIds, tok)), rejected: tracked.map((p) => tokenPieces(p.rejectedIds, tok)) };
  return { type: 'pairs-start', pairs: pairMeta(table, tok), ...averages(r), track: { every: trackEvery(steps), start: trackPoint(0, r, tracked.length), pieces }, ches: r.ches };
}

/** Each run's tracked points: after the updates that are due, and where a run ends (done or stopped). */
export class Tracker {
  private last = new Map<string, number>();
  readonly every: number;

  constructor(
    private pairs: readonly PairIds[],
    private steps: number,
    private emit: (ev: EngineEvent) => void,
  ) {
    this.every = trackEvery(steps);
  }

  private async point(r: Run): Promise<TrackPoint | null> {
    const t = r.training;
    if (!t?.live || t.kind !== 'pairs' || !this.pairs.length || this.last.get(r.spec.id) === t.step) return null;
    const point = await trackRun(t, this.pairs);
    this.last.set(r.spec.id, t.step);
    this.emit({ type: 'pairs-track', runId: r.spec.id, point });
    return point;
  }

  /** After an update of `r`: a point when one is due. */
  async afterStep(r: Run): Promise<void> {
    if (isTrackStep(r.step, this.steps, this.every)) await this.point(r);
  }

  /** Where a run ends: a point at its last step unless it has one. */
  async atEnd(r: Run): Promise<void> {
    if (r.step > 0) await this.point(r);
  }
}
