// The tracked pairs on the page (README.md, "Diagnostics"): the start point with each token's
// text, then per run the sums at every tracked step and the per-token log-probs of the latest one.
// Pure helpers of the events reducer (./events.ts), tested in tests/unit/store/track.test.ts.
import type { SumsPoint } from '../train/displacement';
import type { TrackPoint } from '../train/pair-track';
import type { TrackStart } from '../worker/protocol';

export interface TrackRunView {
  /** Sums at every tracked step, in step order. */
  points: SumsPoint[];
  /** The latest point with its per-token log-probs. */
  latest: TrackPoint | null;
}

export interface TrackView extends TrackStart {
  /** Data indices of the tracked pairs (the first rows of the per-pair table). */
  indices: number[];
  runs: Record<string, TrackRunView>;
}

/** The start of a comparison; a resumed one (same tracked pairs) keeps the runs' points so far. */
export function startTrack(start: TrackStart, indices: number[], prev: TrackView | undefined): TrackView {
  const same = prev && prev.indices.length === indices.length && prev.indices.every((x, i) => x === indices[i]);
  return { ...start, indices, runs: same ? prev.runs : {} };
}

/** A run's new point (one at a step it already has replaces it). */
export function addTrack(t: TrackView, runId: string, point: TrackPoint): TrackView {
  const prev = t.runs[runId]?.points ?? [];
  const sums: SumsPoint = { step: point.step, chosen: point.chosen, rejected: point.rejected };
  const points = [...prev.filter((p) => p.step < point.step), sums];
  return { ...t, runs: { ...t.runs, [runId]: { points, latest: point } } };
}

/** A run went back to `step`: its later points are void. */
export function rewindTrack(t: TrackView, runId: string, step: number): TrackView {
  const r = t.runs[runId];
  if (!r) return t;
  const points = r.points.filter((p) => p.step <= step);
  return { ...t, runs: { ...t.runs, [runId]: { points, latest: r.latest && r.latest.step <= step ? r.latest : null } } };
}
