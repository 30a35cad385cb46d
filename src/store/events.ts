// Engine events -> the runs slice's state, as a pure function (tested in tests/unit).
import type { EngineEvent, GpuStatus, Metrics, PairMeta, PauseCause, RolloutsAtStep, RunStatus, TimedProgress } from '../worker/protocol';
import type { Ches } from '../train/ches';
import { addTrack, rewindTrack, startTrack, type TrackView } from './track';
import { addRollouts, addSamples, rewindRollouts, rewindSamples } from './samples';
import type { SamplesAtStep } from '../onnx/timed-samples';
import type { NanReport } from '../train/objectives/nan-explain';
import type { Method } from '../train/objectives';

export interface RunView {
  id: string;
  /** The card's method (absent in runs saved before it was recorded: runMethod reads the id). */
  method?: Method;
  label: string;
  color: string;
  status: RunStatus;
  step: number;
  total: number;
  message?: string;
  tokensPerSecond?: number;
  etaSeconds?: number;
  checkpointStep: number;
  /** One row per update (TRL names). */
  train: Metrics[];
  /** eval_ rows with step and epoch. */
  eval: Metrics[];
  /** The run's card and shared settings in the URL's words (runSettingsText), for exports. */
  settings?: string;
  /** Samples over time (Samples every N), in step order. */
  samples?: SamplesAtStep[];
  /** Online runs: completions they sampled and trained on, with their rewards, in step order. */
  rollouts?: RolloutsAtStep[];
  /** Why the NaN guard stopped the run. */
  nan?: NanReport;
}

export interface PairsView {
  meta: PairMeta[];
  start: { chosen: number[]; rejected: number[] };
  runs: Record<string, { step: number; chosen: number[]; rejected: number[] }>;
  /** The tracked pairs (diagnostics: displacement, distributions, per-token view). */
  track?: TrackView;
  /** CHES of each pair under the starting weights (pair difficulty). */
  ches?: Ches[];
}

/** A pass over the whole data set in progress: the comparison's (no runId) or a run's eval pass. */
export interface PassView extends TimedProgress {
  runId?: string;
}

export interface EventState {
  runs: RunView[];
  pairs: PairsView | null;
  phase: 'loading-data' | 'reference' | 'training' | 'idle' | 'error';
  phaseMessage: string;
  trainPairs: number | null;
  evalPairs: number | null;
  gpuNotice: { cause: PauseCause; message: string } | null;
  gpu: GpuStatus | { state: 'checking' };
  /** The pass in progress (absent or null: none). */
  progress?: PassView | null;
}

export const isEvalRow = (row: Metrics) => Object.keys(row).some((k) => k.startsWith('eval_'));

export function reduceEvents(s: EventState, events: readonly EngineEvent[]): EventState {
  let runs = s.runs;
  const patchRun = (id: string, f: (r: RunView) => RunView) => {
    runs = runs.map((r) => (r.id === id ? f(r) : r));
  };
  let out: EventState = s;
  for (const ev of events) {
    switch (ev.type) {
      case 'session':
        out = { ...out, phase: ev.phase, phaseMessage: ev.message, trainPairs: ev.trainPairs ?? out.trainPairs, evalPairs: ev.evalPairs ?? out.evalPairs };
        if (ev.phase === 'idle' || ev.phase === 'error' || ev.phase === 'training') out = { ...out, progress: null };
        break;
      case 'progress':
        // (late reports of a cancelled comparison find no runs)
        if (runs.length) out = { ...out, progress: ev.progress.done < ev.progress.total ? { ...ev.progress, runId: ev.runId } : null };
        break;
      case 'run':
        patchRun(ev.runId, (r) => ({ ...r, status: ev.status, step: ev.step, total: ev.total, message: ev.message, tokensPerSecond: ev.tokensPerSecond, etaSeconds: ev.etaSeconds, checkpointStep: ev.checkpointStep ?? r.checkpointStep }));
        break;
      case 'metrics':
        patchRun(ev.runId, (r) => {
          const train = ev.rows.filter((m) => !isEvalRow(m));
          const evals = ev.rows.filter(isEvalRow);
          return { ...r, train: train.length ? [...r.train, ...train] : r.train, eval: evals.length ? [...r.eval, ...evals] : r.eval };
        });
        break;
      case 'rewind':
        patchRun(ev.runId, (r) => ({ ...r, step: ev.step, train: r.train.filter((m) => m.step <= ev.step), eval: r.eval.filter((m) => m.step <= ev.step), ...rewindSamples(r.samples, ev.resumedAt ?? ev.step), ...rewindRollouts(r.rollouts, ev.resumedAt ?? ev.step) }));
        if (out.pairs?.track) out = { ...out, pairs: { ...out.pairs, track: rewindTrack(out.pairs.track, ev.runId, ev.resumedAt ?? ev.step) } };
        break;
      case 'pairs-start':
        if (runs.length) {
          const track = ev.track && startTrack(ev.track, ev.pairs.slice(0, ev.track.start.chosen.length).map((p) => p.index), out.pairs?.track);
          out = { ...out, pairs: { meta: ev.pairs, start: { chosen: ev.chosen, rejected: ev.rejected }, runs: {}, track, ches: ev.ches } };
        }
        break;
      case 'pairs-track':
        if (out.pairs?.track) out = { ...out, pairs: { ...out.pairs, track: addTrack(out.pairs.track, ev.runId, ev.point) } };
        break;
      case 'samples':
        patchRun(ev.runId, (r) => ({ ...r, samples: addSamples(r.samples, ev.at) }));
        break;
      case 'rollouts':
        patchRun(ev.runId, (r) => ({ ...r, rollouts: addRollouts(r.rollouts, ev.at) }));
        break;
      case 'nan-report':
        patchRun(ev.runId, (r) => ({ ...r, nan: ev.report }));
        break;
      case 'pairs-run':
        if (out.pairs) out = { ...out, pairs: { ...out.pairs, runs: { ...out.pairs.runs, [ev.runId]: { step: ev.step, chosen: ev.chosen, rejected: ev.rejected } } } };
        break;
      case 'gpu':
        out = { ...out, gpu: ev.status };
        break;
      case 'notice':
        out = { ...out, gpuNotice: ev.cause && ev.message ? { cause: ev.cause, message: ev.message } : null };
        break;
    }
  }
  return runs === s.runs && out === s ? s : { ...out, runs };
}
