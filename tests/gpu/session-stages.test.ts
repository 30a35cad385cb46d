// The worker's Session with RLHF's stages when the user or the device gets in the way, in Node on
// real WebGPU: PPO waits for SFT and the Reward model (tests/gpu/session-rlhf.test.ts for the
// plain case). A device loss after both ended frees their weights: PPO starts from their last
// snapshots, with the same rows as without the loss, and its TRL export takes them from there too. Pause all, then Stop the Reward model: PPO
// starts (the loop had ended). Stop on PPO while it starts (awaiting its inputs, in its reference
// pass, or in its rebuild after a device loss) leaves it stopped, not trained, not failed. Resumed
// after a reload, runs that had ended (RunSpec.ended) stay so instead of training on.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { randomByteModel, arithmeticPairsFile } from '../helpers/session-fixtures';
import { exportedFolder } from '../helpers/export-folder';
import type { GpuContext } from '../../src/engine/gpu';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import { memorySnapshotStore, type SnapshotStore } from '../../src/train/training-run';
import type { Metrics } from '../../src/train/trainer';
import { Session } from '../../src/worker/session';
import { trlFiles } from '../../src/worker/exports';
import type { EngineEvent, RunSpec, TrainSettings } from '../../src/worker/protocol';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 64 };
const base = randomByteModel(config, 7);
const file = arithmeticPairsFile(8, 3);
const settings: TrainSettings = { ...DEFAULT_SETTINGS, steps: 2, batchSize: 4, lr: 1e-3, evalFraction: 0.25, evalEvery: 0, checkpointEvery: 1, sampleEvery: 0 };
const RUNS: RunSpec[] = [
  { id: 'sft', label: 'SFT', objective: { method: 'sft' } },
  { id: 'reward', label: 'Reward model', objective: { method: 'reward' } },
  { id: 'ppo', label: 'PPO', objective: { method: 'ppo', maxNewTokens: 4, numPpoEpochs: 1 } },
];

type RunEvent = Extract<EngineEvent, { type: 'run' }>;

/** A session whose snapshot stores outlive it (`stores`, by run id: a reload's IndexedDB); `on` sees every event first. */
function open(on: (ev: EngineEvent, s: Session) => void, o: { runs?: RunSpec[]; resume?: boolean; stores?: Map<string, SnapshotStore>; gpu?: () => Promise<GpuContext> } = {}) {
  const stores = o.stores ?? new Map<string, SnapshotStore>();
  const events: EngineEvent[] = [];
  const session: Session = new Session({ sessionId: 's', runs: o.runs ?? RUNS, settings, data: { file, name: 'arith.jsonl', format: 'auto' }, resume: o.resume ?? false }, base, {
    gpu: o.gpu ?? (async () => gpu),
    emit: (ev) => {
      events.push(ev);
      on(ev, session);
    },
    store: (_s, id) => {
      if (!stores.has(id)) stores.set(id, memorySnapshotStore());
      return stores.get(id)!;
    },
  });
  const rows = (id: string) => events.filter((e): e is Extract<EngineEvent, { type: 'metrics' }> => e.type === 'metrics' && e.runId === id).flatMap((e) => e.rows);
  return { session, stores, events, rows };
}

const wait = async (s: Session, until: () => boolean) => {
  for (let i = 0; i < 6000 && !until(); i++) await new Promise((r) => setTimeout(r, 10));
  // the loop checks for pauses between updates: wait for it to let go of the runs
  for (let i = 0; i < 6000 && (s as unknown as { looping: boolean }).looping; i++) await new Promise((r) => setTimeout(r, 10));
};
/** A started session whose device is lost (pauseAll, as the worker on GPUDevice.lost: every run's GPU state freed, the finished ones' too) once SFT and the Reward model have ended. */
async function lostAfterStages() {
  let lost = false;
  const o = open((ev, s) => {
    if (!lost && ev.type === 'run' && s.runs[0].final && s.runs[1].final) {
      lost = true;
      s.pauseAll('device-lost', 'The GPU device was lost.');
    }
  });
  await o.session.start();
  await wait(o.session, () => lost);
  return o;
}
// tokens_per_second and PPO's eps (episodes per second) are timings
const timeless = (rows: Metrics[]) => rows.map(({ tokens_per_second: _t, eps: _e, ...m }) => m);
const state = (s: Session) => s.runs.map((r) => [r.spec.id, r.status, r.step]);
const isDone = (ev: EngineEvent, id: string): ev is RunEvent => ev.type === 'run' && ev.runId === id && (ev.status === 'done' || ev.status === 'stopped');

describe('Session: RLHF stages under pauses, stops and reloads', () => {
  let baseline: Metrics[] = [];

  it('baseline: PPO trains after SFT and the Reward model', async () => {
    const { session, rows } = open(() => {});
    await session.start();
    await wait(session, () => session.runs.every((r) => r.final));
    expect(state(session)).toEqual([['sft', 'done', 2], ['reward', 'done', 2], ['ppo', 'done', 2]]);
    baseline = rows('ppo');
    expect(baseline.map((m) => m.step)).toEqual([1, 2, 2]); // the updates, and the eval after the last
    await session.dispose();
  });

  it('a device loss after SFT and the Reward model ended: PPO starts from their snapshots, the same rows as without the loss', async () => {
    const { session, events, rows } = await lostAfterStages();
    expect(session.runs.map((r) => [r.spec.id, r.status, r.live])).toEqual([['sft', 'done', false], ['reward', 'done', false], ['ppo', 'queued', false]]);
    await session.resume();
    await wait(session, () => session.runs.every((r) => r.final));
    expect(session.runs.map((r) => [r.spec.id, r.status, r.step, r.message])).toEqual([['sft', 'done', 2, undefined], ['reward', 'done', 2, undefined], ['ppo', 'done', 2, undefined]]);
    // bit for bit the rows of PPO started from the weights on the GPU: the snapshots are SFT's and the reward model's final weights
    expect(timeless(rows('ppo'))).toEqual(timeless(baseline));
    expect(events.filter((e): e is RunEvent => e.type === 'run' && e.runId === 'ppo').map((e) => e.status)).not.toContain('failed');
    await session.dispose();
  });

  it('a device loss after SFT and the Reward model ended: PPO\'s TRL export takes their weights from their snapshots', async () => {
    const { session, stores } = await lostAfterStages();
    expect(session.runs.map((r) => [r.spec.id, r.live, r.stage !== null])).toEqual([['sft', false, false], ['reward', false, false], ['ppo', false, true]]);
    const files = await trlFiles(session, 'ppo');
    // model/ is SFT's last snapshot (its final step), reward_model/ the Reward model's (a score head)
    const sft = (await stores.get('sft')!.load())!;
    const rm = (await stores.get('reward')!.load())!;
    expect([sft.step, rm.step]).toEqual([2, 2]);
    const start = await exportedFolder(files, 'model');
    for (const [name, w] of sft.params) expect(Array.from(start.params.get(name)!), name).toEqual(Array.from(w));
    const reward = await exportedFolder(files, 'reward_model');
    expect(reward.config.scoreHead).toBe(true);
    for (const [name, w] of rm.params) expect(Array.from(reward.params.get(name)!), name).toEqual(Array.from(w));
    await session.dispose();
  });

  it('with no snapshot to fall back on, PPO fails saying why', async () => {
    const { session, stores } = await lostAfterStages();
    stores.set('reward', memorySnapshotStore()); // as a model over 50M parameters: nothing saved
    await session.resume();
    await wait(session, () => session.runs.every((r) => r.final));
    const ppo = session.runs[2];
    expect([ppo.status, ppo.message]).toEqual(['failed', 'PPO did not start: Reward model, whose weights it needs, is no longer on the GPU (a lost device or an out-of-memory pause freed it) and has no saved checkpoint (checkpoints are kept for models up to 50M parameters).']);
    await session.dispose();
  });

  it('Pause all, then Stop the Reward model while PPO waits: PPO starts from its weights then', async () => {
    let paused = false;
    const { session, rows } = open((ev, s) => {
      if (!paused && isDone(ev, 'sft')) {
        paused = true;
        s.pause(); // the Reward model is between its updates 1 and 2
      }
    });
    await session.start();
    await wait(session, () => paused);
    expect(state(session)).toEqual([['sft', 'done', 2], ['reward', 'paused', 1], ['ppo', 'queued', 0]]);
    await session.stop('reward');
    await wait(session, () => session.runs.every((r) => r.final));
    expect(state(session)).toEqual([['sft', 'done', 2], ['reward', 'stopped', 1], ['ppo', 'done', 2]]);
    expect(rows('ppo').filter((m) => 'objective/kl' in m).map((m) => m.step)).toEqual([1, 2]);
    await session.dispose();
  });

  it('Stop on PPO while it awaits its inputs: it stays stopped and never trains', async () => {
    let armed = false;
    let stopped = false;
    const { session, rows, events } = open(
      (ev) => {
        if (isDone(ev, 'reward')) armed = true;
      },
      {
        // the stage's first wait (startStage): the user presses Stop on it meanwhile
        gpu: async () => {
          if (armed && !stopped) {
            stopped = true;
            await session.stop('ppo');
          }
          return gpu;
        },
      },
    );
    await session.start();
    await wait(session, () => session.runs.every((r) => r.final));
    expect(stopped).toBe(true);
    expect(state(session)).toEqual([['sft', 'done', 2], ['reward', 'done', 2], ['ppo', 'stopped', 0]]);
    expect(events.filter((e): e is RunEvent => e.type === 'run' && e.runId === 'ppo').map((e) => e.status)).toEqual(['queued', 'stopped']);
    expect(rows('ppo')).toEqual([]);
    await session.dispose();
  });

  it('Stop on PPO during its reference pass: stopped, not failed', async () => {
    const { session, rows } = open((ev, s) => {
      if (ev.type === 'run' && ev.runId === 'ppo' && ev.status === 'preparing') void s.stop('ppo');
    });
    await session.start();
    await wait(session, () => session.runs.every((r) => r.final));
    expect(session.runs.map((r) => [r.spec.id, r.status, r.step, r.message])).toEqual([['sft', 'done', 2, undefined], ['reward', 'done', 2, undefined], ['ppo', 'stopped', 0, undefined]]);
    expect(session.runs[2].live).toBe(false);
    expect(rows('ppo')).toEqual([]);
    await session.dispose();
  });

  it('Stop on PPO while Resume rebuilds it after a device loss: stopped, and the resume goes on', async () => {
    let lost = false;
    let stopOnLoad = false;
    const stores = new Map<string, SnapshotStore>();
    const ppoStore = memorySnapshotStore();
    // PPO's snapshot load, inside its rebuild (recover): the user presses Stop on it then
    stores.set('ppo', {
      load: async () => {
        if (stopOnLoad) {
          stopOnLoad = false;
          await session.stop('ppo');
        }
        return ppoStore.load();
      },
      save: (snap) => ppoStore.save(snap),
    });
    const { session } = open(
      (ev, s) => {
        if (!lost && ev.type === 'metrics' && ev.runId === 'ppo' && ev.rows[0].step === 1) {
          lost = true;
          s.pauseAll('device-lost', 'The GPU device was lost.');
        }
      },
      { stores },
    );
    await session.start();
    await wait(session, () => lost);
    stopOnLoad = true;
    await session.resume(); // no PassCancelled out of it
    await wait(session, () => session.runs.every((r) => r.final));
    expect(stopOnLoad).toBe(false);
    expect(session.runs.map((r) => [r.spec.id, r.status, r.live])).toEqual([['sft', 'done', false], ['reward', 'done', false], ['ppo', 'stopped', false]]);
    await session.dispose();
  });

  it('resumed after a reload, runs that had ended stay so: a stopped Reward model does not train on, nor PPO against it', async () => {
    // before the reload: the Reward model stopped after update 1, PPO (from it) stopped after update 1
    const first = open((ev, s) => {
      if (ev.type === 'metrics' && (ev.runId === 'reward' || ev.runId === 'ppo') && ev.rows[0].step === 1) void s.stop(ev.runId);
    });
    await first.session.start();
    await wait(first.session, () => first.session.runs.every((r) => r.final));
    expect(state(first.session)).toEqual([['sft', 'done', 2], ['reward', 'stopped', 1], ['ppo', 'stopped', 1]]);
    await first.session.dispose();

    // the page's statuses in the resume spec (src/store/runs.ts resumedSpecs)
    const ended: Record<string, RunSpec['ended']> = { sft: 'done', reward: 'stopped', ppo: 'stopped' };
    const { session, rows, events } = open(() => {}, { runs: RUNS.map((r) => ({ ...r, ended: ended[r.id] })), resume: true, stores: first.stores });
    await session.start();
    await wait(session, () => session.runs.every((r) => r.final && (!r.stage || r.training !== null)));
    expect(state(session)).toEqual([['sft', 'done', 2], ['reward', 'stopped', 1], ['ppo', 'stopped', 1]]);
    // no update after the reload: the rows are the snapshots' (restored), none newer
    for (const id of ['reward', 'ppo']) expect(Math.max(...rows(id).map((m) => m.step)), id).toBe(1);
    expect(events.filter((e): e is RunEvent => e.type === 'run').map((e) => e.status)).not.toContain('running');
    await session.dispose();
  });

  it('a resumed run that had not ended trains on; one that had failed stays failed', async () => {
    const runs = RUNS.slice(0, 1);
    const first = open(
      (ev, s) => {
        if (ev.type === 'metrics' && ev.runId === 'sft' && ev.rows[0].step === 1) s.pauseAll('device-lost', 'lost'); // the page closed mid-run
      },
      { runs },
    );
    await first.session.start();
    await wait(first.session, () => first.session.runs[0].status === 'paused');
    await first.session.dispose();
    const { session } = open(() => {}, { runs, resume: true, stores: first.stores });
    await session.start();
    await wait(session, () => session.runs.every((r) => r.final));
    expect(state(session)).toEqual([['sft', 'done', 2]]);
    await session.dispose();

    // the same run had failed before the reload: it stays failed, unbuilt, and the page keeps its message and rows
    const failed = open(() => {}, { runs: runs.map((r) => ({ ...r, ended: 'failed' as const })), resume: true, stores: first.stores });
    await failed.session.start();
    await wait(failed.session, () => true);
    expect(failed.session.runs.map((r) => [r.status, r.live])).toEqual([['failed', false]]);
    expect(failed.events.filter((e) => e.type === 'run' || e.type === 'metrics' || e.type === 'rewind')).toEqual([]);
    await failed.session.dispose();
  });
});
