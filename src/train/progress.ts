// Progress of a pass over a whole data set (reference log-probs, an eval pass, the page's per-pair
// table, the CLI's `logps`), reported between batches, and its cancellation: the pass checks a
// cancel flag between batches and throws PassCancelled. Pure: the CLI prints it on stderr, the
// worker sends it to the page (a progress bar in the runs area with the same numbers).

export type PassPhase = 'reference' | 'eval' | 'table' | 'logps';

/** `done` of `total` examples of one pass (pairs, or unpaired examples for KTO). */
export interface PassProgress {
  phase: PassPhase;
  done: number;
  total: number;
  unit: 'pairs' | 'examples';
}

/** A progress report with the time spent since the pass began and an estimate of what is left. */
export interface TimedProgress extends PassProgress {
  seconds: number;
  /** null until a batch is done. */
  etaSeconds: number | null;
}

/** What a pass reports to and asks of its driver, between batches. */
export interface PassHooks {
  progress?(p: { done: number; total: number }): void;
  /** true: stop at the next batch (the pass throws PassCancelled). */
  cancelled?(): boolean;
}

export class PassCancelled extends Error {
  override name = 'PassCancelled';
  constructor(message = 'cancelled') {
    super(message);
  }
}

/** Throws PassCancelled when the hooks ask for it. */
export function checkCancelled(hooks: PassHooks | undefined): void {
  if (hooks?.cancelled?.()) throw new PassCancelled();
}

/** The hooks of a part of a pass that covers examples [offset, offset + n) of `total` (only the first part starts the pass). */
export function subPass(hooks: PassHooks | undefined, offset: number, total: number): PassHooks | undefined {
  if (!hooks) return undefined;
  const progress = hooks.progress;
  return { cancelled: hooks.cancelled, progress: progress && ((p) => (offset > 0 && p.done === 0 ? undefined : progress({ done: offset + p.done, total }))) };
}

const PHASE_NAMES: Record<PassPhase, string> = { reference: 'reference log-probs', eval: 'eval pass', table: 'per-pair table', logps: 'log-probs' };

export function phaseName(phase: PassPhase): string {
  return PHASE_NAMES[phase];
}

/** 65 → "65 s", 125 → "2 min 5 s", 7300 → "2 h 2 min". */
export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

/** "2,048 / 10,000 pairs (20 %), 14 s, ~55 s left" (the phase name is the caller's). */
export function progressText(p: TimedProgress): string {
  const pct = p.total ? Math.floor((100 * p.done) / p.total) : 100;
  const left = p.etaSeconds !== null && p.done < p.total ? `, ~${formatSeconds(p.etaSeconds)} left` : '';
  return `${p.done.toLocaleString('en-US')} / ${p.total.toLocaleString('en-US')} ${p.unit} (${pct} %), ${formatSeconds(p.seconds)}${left}`;
}

/**
 * Times the passes it is told about and hands on at most one report per `everyMs` from the start
 * of a pass, and its last one when an earlier one went out, when the pass took `everyMs` or more,
 * or when its phase is in `endAlways`. A report with done 0 starts a pass.
 */
export class ProgressClock {
  private t0 = 0;
  private last = 0;
  private sent = false;
  private key = '';

  constructor(
    private everyMs: number,
    private out: (p: TimedProgress) => void,
    private endAlways: readonly PassPhase[] = [],
    private now: () => number = () => performance.now(),
  ) {}

  report(p: PassProgress): void {
    const t = this.now();
    const key = `${p.phase}:${p.total}`;
    if (p.done === 0 || key !== this.key) {
      this.key = key;
      this.t0 = t;
      this.last = t;
      this.sent = false;
      if (p.done === 0) return;
    }
    const end = p.done >= p.total;
    if (end ? !this.sent && t - this.t0 < this.everyMs && !this.endAlways.includes(p.phase) : t - this.last < this.everyMs) return;
    this.last = t;
    this.sent = !end;
    const seconds = (t - this.t0) / 1000;
    this.out({ ...p, seconds, etaSeconds: p.done > 0 ? (seconds * (p.total - p.done)) / p.done : null });
  }
}
