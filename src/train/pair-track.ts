// Tracked pairs (README.md, "Diagnostics"): a fixed set of training pairs — the first
// TRACKED_PAIRS of the split, the first rows of the per-pair table — scored under a run's weights
// every few updates: each answer's summed log-prob S and the log-prob of every completion token.
// Their change since the starting weights is the likelihood-displacement view, their margins the
// distribution view, their tokens the per-token view; the CLI's `train` writes the same points to
// DIR/pairs.jsonl. A point costs one forward pass over the tracked pairs (no backward), through
// the trainer's own runners, so it adds no GPU memory and computes what the updates compute.
import type { PairIds } from './pairs';
import type { TrainingRun } from './training-run';
import { pairPass, type PairPass } from './pair-pass';

/** Pairs tracked per run: enough for 10–90 % bands, one forward pass of a few batches. */
export const TRACKED_PAIRS = 32;
/** At most about this many tracked points per run (the cadence grows with the step count). */
export const TRACK_POINTS = 50;

/** Score the tracked pairs every N updates: 1 up to TRACK_POINTS updates, then ⌈steps / TRACK_POINTS⌉. */
export function trackEvery(steps: number): number {
  return Math.max(1, Math.ceil(steps / TRACK_POINTS));
}

/** Whether update `step` (1-based) gets a tracked point: every `every` updates and the last. */
export function isTrackStep(step: number, steps: number, every: number): boolean {
  return every > 0 && step > 0 && (step % every === 0 || step === steps);
}

/** The tracked pairs' scores under one set of weights (plain arrays: a worker message, a JSON line). */
export interface TrackPoint {
  /** Updates done (0: the starting weights). */
  step: number;
  /** (K) S(y_w), S(y_l): summed log-probs of each answer's completion tokens. */
  chosen: number[];
  rejected: number[];
  /** (K) log-prob of each completion token of each answer (|y| values). */
  chosenTokens: number[][];
  rejectedTokens: number[][];
}

/** A pass with tokens as a point. */
export function trackPoint(step: number, r: PairPass, k = r.chosen.length): TrackPoint {
  if (!r.chosenTokens || !r.rejectedTokens) throw new Error('trackPoint: the pass read no per-token log-probs');
  return {
    step,
    chosen: Array.from(r.chosen.subarray(0, k)),
    rejected: Array.from(r.rejected.subarray(0, k)),
    chosenTokens: r.chosenTokens.slice(0, k).map((t) => Array.from(t)),
    rejectedTokens: r.rejectedTokens.slice(0, k).map((t) => Array.from(t)),
  };
}

/** The tracked pairs of a training set. */
export function trackedPairs(train: readonly PairIds[], count = TRACKED_PAIRS): PairIds[] {
  return train.slice(0, count);
}

/** The tracked pairs under a live run's current weights (between updates, never during one). */
export async function trackRun(run: TrainingRun, pairs: readonly PairIds[]): Promise<TrackPoint> {
  const { model, trainer } = run;
  if (!model || !trainer) throw new Error('the run has no GPU state: call start()');
  const r = await pairPass(model, trainer.runners, pairs, run.cfg.batchSize, { tokens: true });
  return trackPoint(run.step, r);
}
