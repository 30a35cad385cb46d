// The engine worker's Session in Node, on real WebGPU, with an in-memory snapshot store instead
// of IndexedDB: a user pause and resume, a lost device (the pause-for-device-loss path, then
// resume rebuilding every run from its last snapshot) and the NaN stop. Each interrupted
// comparison must end with exactly the rows of an uninterrupted one (the page's view: metrics
// events with rewinds applied), as the e2e reliability test checks in a browser.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { randomByteModel } from '../helpers/session-fixtures';
import type { GpuContext } from '../../src/engine/gpu';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import type { LoadedCheckpoint } from '../../src/model/checkpoint';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import { memorySnapshotStore, type SnapshotStore } from '../../src/train/training-run';
import type { Metrics } from '../../src/train/trainer';
import { Session } from '../../src/worker/session';
import { PassCancelled } from '../../src/train/progress';
import { trackBuffers } from '../helpers/track-buffers';
import type { EngineEvent, RunSpec, TrainSettings } from '../../src/worker/protocol';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 48 };
const base = randomByteModel(config, 21);
const rng = new Rng(8);
const file = new Blob([
  Array.from({ length: 8 }, () => {
    const a = 1 + rng.int(9), b = 1 + rng.int(9);
    return JSON.stringify({ prompt: `${a}+${b}=`, chosen: String(a + b), rejected: String(a + b + 1) });
  }).join('\n') + '\n',
]);
const settings: TrainSettings = { ...DEFAULT_SETTINGS, steps: 4, batchSize: 2, lr: 1e-3, evalFraction: 0.25, evalEvery: 2, checkpointEvery: 2 };
const RUNS: RunSpec[] = [
  { id: 'dpo', label: 'DPO', objective: { method: 'dpo', beta: 0.1 } },
  { id: 'ipo', label: 'IPO', objective: { method: 'dpo', beta: 0.1, lossType: ['ipo'] } as RunSpec['objective'] },
];

/** A session whose events build the page's view of every run's rows (rewinds applied). */
function open(onEvent: (ev: EngineEvent, s: Session) => void = () => {}, over: Partial<TrainSettings> = {}, runs = RUNS, model: LoadedCheckpoint = base, data = file) {
  const stores = new Map<string, ReturnType<typeof memorySnapshotStore>>();
  const rows = new Map<string, Metrics[]>();
  const events: EngineEvent[] = [];
  const session: Session = new Session({ sessionId: 's', runs, settings: { ...settings, ...over }, data: { file: data, name: 'arith.jsonl', format: 'auto' }, resume: false }, model, {
    gpu: async () => gpu,
    progressMs: 0, // every batch's report
    emit: (ev) => {
      events.push(ev);
      if (ev.type === 'metrics') rows.set(ev.runId, [...(rows.get(ev.runId) ?? []), ...ev.rows]);
      if (ev.type === 'rewind') rows.set(ev.runId, (rows.get(ev.runId) ?? []).filter((m) => m.step <= ev.step));
      onEvent(ev, session);
    },
    store: (_s, runId): SnapshotStore => {
      if (!stores.has(runId)) stores.set(runId, memorySnapshotStore());
      return stores.get(runId)!;
    },
  });
  return { session, stores, rows, events };
}

const idle = async (s: Session, until: () => boolean) => {
  for (let i = 0; i < 6000 && !until(); i++) await new Promise((r) => setTimeout(r, 10));
  // the loop checks for pauses between updates: wait for it to let go of the runs
  for (let i = 0; i < 6000 && (s as unknown as { looping: boolean }).looping; i++) await new Promise((r) => setTimeout(r, 10));
};

const timeless = (rows: Metrics[] | undefined) => (rows ?? []).map(({ tokens_per_second: _t, ...m }) => m);

describe('Session (worker) with an in-memory store', () => {
  let baseline: Map<string, Metrics[]>;

  it('an uninterrupted comparison: every run done, one reference for both, snapshots at 2 and 4', async () => {
    const { session, rows, stores, events } = open();
    await session.start();
    await idle(session, () => session.runs.every((r) => r.final));
    expect(session.runs.map((r) => [r.status, r.step])).toEqual([['done', 4], ['done', 4]]);
    expect(rows.get('dpo')!.map((m) => m.step)).toEqual([1, 2, 2, 3, 4, 4]);
    expect(stores.get('dpo')!.last!.step).toBe(4);
    expect(stores.get('dpo')!.saves).toBe(2);
    // both runs read the same reference sums (computed once)
    expect(session.runs[1].training!.reference).toBe(session.runs[0].training!.reference);
    expect(events.filter((e) => e.type === 'pairs-run')).toHaveLength(2);
    baseline = rows;
    await session.dispose();
  });

  it('pause and resume by the user: the same rows as without the pause', async () => {
    let paused = false;
    const { session, rows } = open((ev, s) => {
      if (!paused && ev.type === 'metrics' && ev.runId === 'ipo' && ev.rows[0].step === 1) {
        paused = true;
        s.pause();
      }
    });
    await session.start();
    await idle(session, () => paused);
    expect(session.runs.map((r) => [r.status, r.step])).toEqual([['paused', 1], ['paused', 1]]);
    await session.resume();
    await idle(session, () => session.runs.every((r) => r.final));
    for (const id of ['dpo', 'ipo']) expect(timeless(rows.get(id)), id).toEqual(timeless(baseline.get(id)));
    await session.dispose();
  });

  it('a lost device pauses every run; resume rebuilds each from its last snapshot and redoes the lost updates', async () => {
    let lost = false;
    const { session, rows, events } = open((ev, s) => {
      // dpo has done update 3, its snapshot is at 2; ipo is at 2 (its snapshot too)
      if (!lost && ev.type === 'metrics' && ev.runId === 'dpo' && ev.rows[0].step === 3) {
        lost = true;
        s.pauseAll('device-lost', 'The GPU device was lost.');
      }
    });
    await session.start();
    await idle(session, () => lost);
    expect(session.runs.map((r) => [r.status, r.live, r.checkpointStep])).toEqual([['paused', false, 2], ['paused', false, 2]]);
    expect(rows.get('dpo')!.at(-1)!.step).toBe(3); // the page saw update 3 before the loss
    expect(events).toContainEqual({ type: 'notice', cause: 'device-lost', message: 'The GPU device was lost.' });
    await session.resume();
    expect(session.runs.map((r) => r.message)).toEqual(['Resumed from the checkpoint at step 2.', 'Resumed from the checkpoint at step 2.']);
    expect(events).toContainEqual({ type: 'rewind', runId: 'dpo', step: 0, resumedAt: 2 }); // rows come back from the snapshot; samples up to step 2 stay
    await idle(session, () => session.runs.every((r) => r.final));
    for (const id of ['dpo', 'ipo']) expect(timeless(rows.get(id)), id).toEqual(timeless(baseline.get(id)));
    expect(events).toContainEqual({ type: 'notice', cause: null, message: null });
    await session.dispose();
  });

  it('a loss that becomes NaN stops that run, naming the step and the file lines of its pairs', async () => {
    // LayerNorm gains near f32's largest value: the logits overflow and the log-probs are not finite
    const blown = { ...base, params: new Map([...base.params, ['ln_f.weight', new Float32Array(config.nEmbd).fill(3e38)]]) } as LoadedCheckpoint;
    const { session } = open(() => {}, { evalFraction: 0, steps: 6 }, [RUNS[0]], blown);
    await session.start();
    await idle(session, () => session.runs.every((r) => r.final));
    const [r] = session.runs;
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/^DPO stopped at step 1: non-finite .* \(file lines? [\d, ]+\): lower the learning rate or check these rows\.$/);
    await session.dispose();
  });

  it('reports the table and reference passes; cancel() stops the reference pass, frees the GPU state, and a new comparison starts', async () => {
    const many = new Blob([Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: `${i}+1=`, chosen: String(i + 1), rejected: String(i + 2) })).join('\n') + '\n']);
    const track = trackBuffers(gpu.device);
    let cancelled: boolean | null = null;
    const { session, events } = open((ev, s) => {
      if (cancelled === null && ev.type === 'progress' && ev.progress.phase === 'reference' && ev.progress.done >= 4) cancelled = s.cancel();
    }, { evalFraction: 0.25 }, RUNS, base, many);
    try {
      await expect(session.start()).rejects.toThrow(PassCancelled);
    } finally {
      track.restore();
    }
    expect(cancelled).toBe(true);
    const progress = events.flatMap((e) => (e.type === 'progress' ? [[e.progress.phase, e.progress.done, e.progress.total]] : []));
    // the per-pair table (the 30 training pairs), then the reference pass over 30 + 10 pairs until the cancel
    expect(progress).toEqual([...[2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30].map((d) => ['table', d, 30]), ['reference', 2, 40], ['reference', 4, 40]]);
    const last = events.filter((e) => e.type === 'progress').at(-1) as Extract<EngineEvent, { type: 'progress' }>;
    expect(last.progress.seconds).toBeGreaterThanOrEqual(0);
    expect(last.progress.etaSeconds).not.toBeNull();
    expect(events.some((e) => e.type === 'session' && e.phase === 'training')).toBe(false);
    await session.dispose();
    expect(session.runs.every((r) => !r.live)).toBe(true);
    expect(track.made()).toBeGreaterThan(0);
    expect(track.alive()).toEqual([]);
    expect(session.cancel()).toBe(false); // over: nothing left to cancel

    // the user changes a setting and starts again
    const again = open(() => {}, { steps: 2, evalFraction: 0.25 }, [RUNS[0]], base, many);
    await again.session.start();
    await idle(again.session, () => again.session.runs.every((r) => r.final));
    expect(again.session.runs.map((r) => [r.status, r.step])).toEqual([['done', 2]]);
    await again.session.dispose();
  });

  it('Stop during the reference pass is kept: the stopped run never trains, the other one does', async () => {
    let stopped = false;
    const { session } = open((ev, s) => {
      if (!stopped && ev.type === 'progress' && ev.progress.phase === 'reference') {
        stopped = true;
        void s.stop('dpo');
      }
    });
    await session.start();
    await idle(session, () => session.runs.every((r) => r.final));
    expect(stopped).toBe(true);
    expect(session.runs.map((r) => [r.spec.id, r.status, r.step])).toEqual([['dpo', 'stopped', 0], ['ipo', 'done', 4]]);
    await session.dispose();
  });

  it('refuses bad settings up front, naming the field', () => {
    expect(() => open(() => {}, { lr: 0 })).toThrow('lr must be > 0, got 0');
  });
});
