// What the diagnostics views draw, from the tracked pairs (src/store/track.ts) through the float64
// functions of src/train/displacement.ts: chart points with bands as [low, high] ranges, the
// per-token strips, and the sentences that appear when a pattern shows.
import { displacementRows, displaced, pairDeltas, quantileSorted, type DisplacementRow, type PairLens, type Scale } from '../../train/displacement';
import type { TrackPoint } from '../../train/pair-track';
import type { TrackView } from '../../store/track';

export type { Scale };

export const UNITS: Record<Scale, string> = { avg: 'nats/token', sum: 'nats per answer' };

export function trackLens(t: TrackView): PairLens {
  return { chosen: t.start.chosenTokens.map((x) => x.length), rejected: t.start.rejectedTokens.map((x) => x.length) };
}

/** A run's displacement rows (step 0 first), or [] before its first point. */
export function runRows(t: TrackView, runId: string, scale: Scale): DisplacementRow[] {
  const r = t.runs[runId];
  return r?.points.length ? displacementRows(t.start, r.points, trackLens(t), scale) : [];
}

export type Point = Record<string, number | [number, number]>;

/** [min, max] over the points' values other than `step` (bands included); null when there are none. */
export function extentOf(points: readonly Point[], skip: readonly string[] = ['step']): [number, number] | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of points) {
    for (const [k, v] of Object.entries(p)) {
      if (skip.includes(k)) continue;
      for (const x of Array.isArray(v) ? v : [v]) {
        if (!Number.isFinite(x)) continue;
        lo = Math.min(lo, x);
        hi = Math.max(hi, x);
      }
    }
  }
  return lo <= hi ? [lo, hi] : null;
}

/** Chart points of the displacement view: means, 10–90 % bands, and each pair's changes when asked. */
export function displacementPoints(t: TrackView, runId: string, scale: Scale, eachPair: boolean): Point[] {
  const rows = runRows(t, runId, scale);
  const points = [t.start, ...(t.runs[runId]?.points ?? []).filter((p) => p.step > 0)];
  const lens = trackLens(t);
  return rows.map((r, k) => {
    const p: Point = { step: r.step, chosen: r.chosen.mean, rejected: r.rejected.mean, margin: r.margin.mean, chosenBand: [r.chosen.p10, r.chosen.p90], rejectedBand: [r.rejected.p10, r.rejected.p90] };
    if (eachPair) {
      const d = pairDeltas(t.start, points[k], lens, scale);
      d.chosen.forEach((v, i) => (p[`c${i}`] = v));
      d.rejected.forEach((v, i) => (p[`r${i}`] = v));
    }
    return p;
  });
}

/** Chart points of the distribution view: margin-gained median, 25–75 and 10–90 % bands, and the share of pairs above zero. */
export function distributionPoints(rows: readonly DisplacementRow[]): Point[] {
  return rows.map((r) => ({ step: r.step, median: r.margin.p50, inner: [r.margin.p25, r.margin.p75], outer: [r.margin.p10, r.margin.p90], accuracy: r.accuracy }));
}

/** What the notes need to know of a run's method (from its descriptor and objective, never its name). */
export interface MethodTraits {
  /** Rewards are changes against a reference (DPO and its loss types); otherwise β times the average log-prob itself (ORPO, SimPO, CPO), negative by construction. */
  reference: boolean;
  /** The loss has an NLL term on the chosen answer (ORPO; CPO and SimPO with α > 0). */
  nll: boolean;
}

/** The sentences under a run's displacement chart. */
export function displacementNotes(rows: readonly DisplacementRow[], label: string, { reference, nll }: MethodTraits): string[] {
  const notes: string[] = [];
  if (displaced(rows)) {
    const help = nll ? 'Its NLL term was not enough to hold the chosen answer up here: a larger NLL weight, a lower learning rate or a larger β help.' : 'Only the margin is optimised; a larger β, a lower learning rate or an NLL term (ORPO, CPO, SimPO’s α) help keep the chosen answer up.';
    notes.push(`${label}: the chosen and the rejected answers both lost log-prob while the margin grew — likelihood displacement. ${help}`);
  }
  const last = rows[rows.length - 1];
  if (!last || last.step === 0) return notes;
  if (reference && last.chosen.mean < 0) notes.push(`${label}: the chosen answers’ log-prob is below the start, so rewards/chosen = β·(log π − log π_ref) is negative. That is not a broken model: a reward is a change against the reference, and the loss only asks the chosen reward to beat the rejected one.`);
  if (!reference) notes.push(`${label}: its rewards/chosen and rewards/rejected are β × the average log-prob of each answer, so they are always negative; what moves is the gap between them. The change since the start is drawn here.`);
  return notes;
}

export interface TokenCell {
  text: string;
  /** Current log-prob; null before the run's first point. */
  now: number | null;
  start: number;
  /** now − start (0 before the first point). */
  delta: number;
}

/** One answer's strip: each token's text, start and current log-prob. */
export function strip(t: TrackView, latest: TrackPoint | null, pair: number, side: 'chosen' | 'rejected'): TokenCell[] {
  const start = side === 'chosen' ? t.start.chosenTokens[pair] : t.start.rejectedTokens[pair];
  const now = latest ? (side === 'chosen' ? latest.chosenTokens[pair] : latest.rejectedTokens[pair]) : null;
  const pieces = t.pieces[side][pair] ?? [];
  return start.map((s, i) => ({ text: pieces[i] ?? '', start: s, now: now ? now[i] : null, delta: now ? now[i] - s : 0 }));
}

/** Background of a token whose log-prob moved by `delta` on a ±`limit` scale: green up, red down. */
export function deltaColor(delta: number, limit: number): string {
  const a = Math.min(1, Math.abs(delta) / Math.max(limit, 1e-9)) * 0.85;
  return delta >= 0 ? `rgba(22, 163, 74, ${a.toFixed(3)})` : `rgba(220, 38, 38, ${a.toFixed(3)})`;
}

/** The colour scale's end: the 90th percentile of |Δ| over the strips (one token far out does not wash out the rest), at least 0.05 nats. */
export function deltaLimit(strips: ReadonlyArray<readonly TokenCell[]>): number {
  const all = strips.flatMap((s) => s.map((c) => Math.abs(c.delta))).sort((a, b) => a - b);
  return Math.max(0.05, all.length ? quantileSorted(all, 0.9) : 0);
}
