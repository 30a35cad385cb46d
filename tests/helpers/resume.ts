// A GRPO TrainingRun resumed from a snapshot must continue exactly as the uninterrupted run.
import { expect } from 'vitest';
import type { GpuContext } from '../../src/engine/gpu';
import type { Metrics } from '../../src/train/trainer';
import { memorySnapshotStore, TrainingRun, type TrainingRunOptions } from '../../src/train/training-run';

/**
 * Runs `opts` (config.steps = `at` + 1 updates) whole, then again with a snapshot every `at`
 * updates, stopped after update `at` and resumed from that snapshot for the last update: the
 * samples events, that update's metrics (tokens_per_second aside) and `weights` of the run at the
 * end (the full weights, or the adapters) must equal the whole run's. Returns the whole run's rows.
 */
export async function expectGrpoResumeExact(
  gpu: GpuContext,
  opts: Omit<TrainingRunOptions, 'store' | 'checkpointEvery' | 'events'>,
  at: number,
  weights: (run: TrainingRun) => Promise<Map<string, Float32Array> | null>,
): Promise<Metrics[]> {
  expect(opts.config.steps).toBe(at + 1);
  const collect = () => {
    const samples: unknown[] = [];
    return { samples, events: { samples: (r: unknown[]) => samples.push(r) } };
  };
  const a = collect();
  const whole = new TrainingRun({ ...opts, events: a.events });
  await whole.start(gpu);
  await whole.run();
  const want = (await weights(whole))!;
  whole.release();

  const store = memorySnapshotStore();
  const b = collect();
  const first = new TrainingRun({ ...opts, store, checkpointEvery: at, events: b.events });
  await first.start(gpu);
  for (let k = 0; k < at; k++) await first.advance();
  first.release();
  expect(store.last?.step).toBe(at);
  const second = new TrainingRun({ ...opts, store, checkpointEvery: at, events: b.events });
  expect(await second.start(gpu, { resume: true })).toBeDefined();
  const [row] = await second.advance();
  expect(b.samples).toEqual(a.samples);
  const { tokens_per_second: _a, ...got } = row;
  const { tokens_per_second: _b, ...wantRow } = whole.rows[at];
  expect(got).toEqual(wantRow);
  const after = (await weights(second))!;
  for (const [k, v] of want) expect(Array.from(after.get(k)!), k).toEqual(Array.from(v));
  second.release();
  return whole.rows;
}
