// TrainingRun, the one driver behind the CLI, the worker and tests, on real WebGPU: the CLI's
// metrics.jsonl is exactly what a TrainingRun reports for the same config and file; the eval and
// snapshot cadence; resuming from the last snapshot redoes the same updates; pairs and unpaired
// (KTO) data alike; the NaN guard names the update and the file lines. Tiny models only.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu';
import { randomPairs, randomParams } from '../helpers/random-model';
import type { GpuContext } from '../../src/engine/gpu';
import { main } from '../../src/cli/main';
import { loadModelArg } from '../../src/cli/model-load';
import { sequenceConfig } from '../../src/model/family';
import { loadExamplesFile } from '../../src/cli/pairs-load';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { TRAIN_DEFAULTS, ConfigError, type TrainConfig } from '../../src/train/config';
import { TrainingError, type Metrics } from '../../src/train/trainer';
import type { UnpairedIds } from '../../src/train/kto-trainer';
import { memorySnapshotStore, TrainingRun, type RunStatus } from '../../src/train/training-run';
import { PassCancelled, type PassProgress } from '../../src/train/progress';
import { trackBuffers } from '../helpers/track-buffers';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const dir = mkdtempSync(join(tmpdir(), 'prefplay-run-'));
const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 32 };
const base = { config, params: randomParams(config, new Rng(3), { scale: 0.2, biasScale: 0.2, lnSpread: 0.1 }) };
const pairs = randomPairs(new Rng(4), 6, config.eosTokenId).map((p) => ({ ...p, line: p.index + 1 }));

/** Rows without the wall-clock metric, which is the only one that may differ between two runs. */
const timeless = (rows: Metrics[]) => rows.map(({ tokens_per_second: _tps, ...m }) => m);

const cfg = (over: Partial<TrainConfig> = {}): TrainConfig => ({ ...TRAIN_DEFAULTS, objective: { method: 'dpo', beta: 0.1 }, steps: 5, batchSize: 2, lr: 1e-3, evalFraction: 0.34, evalEvery: 2, ...over });

describe('TrainingRun', () => {
  it('CLI train writes exactly the rows a TrainingRun reports for the same config and file', async () => {
    const model = join(dir, 'tiny');
    expect(await main(['init', '--preset', 'tiny', '--seed', '7', '--out', model])).toBe(0);
    const file = join(dir, 'pairs.jsonl');
    const rng = new Rng(11);
    const rows = Array.from({ length: 8 }, () => {
      const a = 1 + rng.int(9), b = 1 + rng.int(9);
      return { prompt: `${a}+${b}=`, chosen: String(a + b), rejected: String(a + b + 1) };
    });
    writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const out = join(dir, 'cli-run');
    expect(await main(['train', '--model', model, '--pairs', file, '--method', 'dpo', '--steps', '3', '--batch-size', '2', '--eval-fraction', '0.25', '--eval-every', '2', '--out', out, '--quiet'])).toBe(0);
    const cli = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Metrics);
    expect(cli.map((m) => m.step)).toEqual([1, 2, 2, 3, 3]);

    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    const ckpt = await loadModelArg(model);
    const data = await loadExamplesFile(file, ckpt.tokenizer, sequenceConfig(ckpt.config).nPositions);
    const got: Metrics[] = [];
    const tr = new TrainingRun({ base: ckpt, data: { kind: 'pairs', items: data.pairs }, config: run.config, events: { metrics: (r) => got.push(...r) } });
    expect([tr.train.length, tr.evalSet.length]).toEqual([run.train_pairs, run.eval_pairs]);
    await tr.start(gpu);
    await tr.run();
    tr.release();
    expect(timeless(got)).toEqual(timeless(cli));
  });

  it('evaluates every evalEvery updates and after the last; snapshots every checkpointEvery and at the end; resume redoes the same updates', async () => {
    const store = memorySnapshotStore();
    const statuses: RunStatus[] = [];
    const all: Metrics[] = [];
    const a = new TrainingRun({ base, data: { kind: 'pairs', items: pairs }, config: cfg(), checkpointEvery: 2, store, events: { metrics: (r) => all.push(...r), status: (s) => statuses.push(s) } });
    expect([a.train.length, a.evalSet.length]).toEqual([4, 2]);
    await a.start(gpu);
    expect(statuses).toEqual([{ kind: 'reference' }]);
    const saved: number[] = [];
    while (!a.done) {
      const rows = await a.advance();
      expect(rows[0].step).toBe(a.step);
      if (store.last && !saved.includes(store.last.step)) saved.push(store.last.step);
    }
    expect(all.map((m) => [m.step, 'eval_loss' in m])).toEqual([[1, false], [2, false], [2, true], [3, false], [4, false], [4, true], [5, false], [5, true]]);
    expect(saved).toEqual([2, 4, 5]);
    expect(statuses.filter((s) => s.kind === 'snapshot').map((s) => (s as { step: number }).step)).toEqual([2, 4, 5]);
    expect(a.checkpointStep).toBe(5);
    await expect(a.advance()).rejects.toThrow(/the run is done/);
    a.release();

    // a second run rebuilt from a snapshot at step 4 (as after a lost device) redoes update 5 bit for bit
    const at4 = memorySnapshotStore();
    const b = new TrainingRun({ base, data: { kind: 'pairs', items: pairs }, config: cfg(), checkpointEvery: 4, store: at4 });
    await b.start(gpu);
    while (b.step < 4) await b.advance();
    b.release();
    expect(b.live).toBe(false);
    const snap = await b.start(gpu, { resume: true });
    expect(snap?.step).toBe(4);
    expect(b.rows.map((m) => m.step)).toEqual([1, 2, 2, 3, 4, 4]);
    const redone = await b.advance();
    expect(timeless(redone)).toEqual(timeless(all.slice(-2)));
    expect(timeless(b.rows)).toEqual(timeless(all));
    b.release();
  });

  it('trains unpaired (KTO) data; a shared reference skips the reference pass', async () => {
    const rng = new Rng(5);
    const ids = (k: number) => Array.from({ length: k }, () => rng.int(256));
    const xs: UnpairedIds[] = Array.from({ length: 6 }, (_, i) => ({ promptIds: ids(3), completionIds: [...ids(2 + (i % 3)), config.eosTokenId], label: i % 2 === 0, index: i, line: i + 1 }));
    const c = cfg({ objective: { method: 'kto', beta: 0.1 }, steps: 2, evalEvery: 0 });
    const statuses: RunStatus[] = [];
    const a = new TrainingRun({ base, data: { kind: 'unpaired', items: xs }, config: c, events: { status: (s) => statuses.push(s) } });
    await a.start(gpu);
    await a.run();
    expect(a.rows.map((m) => m.step)).toEqual([1, 2, 2]);
    expect(Number.isFinite(a.rows[0].kl)).toBe(true);
    const b = new TrainingRun({ base, data: { kind: 'unpaired', items: xs }, config: c, events: { status: (s) => statuses.push(s) } });
    await b.start(gpu, { reference: a.reference });
    expect(statuses).toEqual([{ kind: 'reference' }]);
    await b.run();
    expect(timeless(b.rows)).toEqual(timeless(a.rows));
    a.release();
    b.release();
  });

  it('the NaN guard names the update, the data indices and the file lines; a bad config names its field', async () => {
    // LayerNorm gains near f32's largest value: the logits overflow and the log-probs are not finite
    const blown = { config, params: new Map([...base.params, ['ln_f.weight', new Float32Array(config.nEmbd).fill(3e38)]]) };
    const r = new TrainingRun({ base: blown, data: { kind: 'pairs', items: pairs }, config: cfg({ objective: { method: 'orpo', beta: 0.1 }, evalFraction: 0 }) });
    await r.start(gpu);
    let err: unknown;
    try {
      await r.run();
    } catch (e) {
      err = e;
    }
    r.release();
    expect(err).toBeInstanceOf(TrainingError);
    const e = err as TrainingError;
    expect(e.message).toMatch(/^non-finite .* at step \d \(file lines? [\d, ]+\): lower the learning rate or check these rows$/);
    expect(e.step).toBe(r.step + 1);
    expect(e.lines).toEqual(e.pairs.map((i) => i + 1));
    expect(e.message).toContain(`(file line${e.lines.length > 1 ? 's' : ''} ${[...e.lines].sort((x, y) => x - y).join(', ')})`);
    expect(() => new TrainingRun({ base, data: { kind: 'pairs', items: pairs }, config: cfg({ lr: -1 }) })).toThrow(ConfigError);
    expect(() => new TrainingRun({ base, data: { kind: 'pairs', items: pairs }, config: cfg({ lr: -1 }) })).toThrow('lr must be > 0, got -1');
    expect(() => new TrainingRun({ base, data: { kind: 'pairs', items: pairs.slice(0, 1) }, config: cfg({ evalFraction: 0.5 }) })).toThrow(/no training pairs left/);
  });

  it('reports the reference pass (train then eval examples as one pass) and eval passes batch by batch', async () => {
    const seen: PassProgress[] = [];
    const r = new TrainingRun({ base, data: { kind: 'pairs', items: pairs }, config: cfg({ steps: 2, evalEvery: 0 }), events: { progress: (p) => seen.push(p) } });
    await r.start(gpu);
    // 4 train + 2 eval pairs, 2 per batch
    expect(seen.map((p) => [p.phase, p.done, p.total, p.unit])).toEqual([['reference', 0, 6, 'pairs'], ['reference', 2, 6, 'pairs'], ['reference', 4, 6, 'pairs'], ['reference', 6, 6, 'pairs']]);
    seen.length = 0;
    await r.run();
    expect(seen.map((p) => [p.phase, p.done, p.total])).toEqual([['eval', 0, 2], ['eval', 2, 2]]);
    r.release();
  });

  it('cancel() stops the reference pass between batches and frees the GPU state; a cancelled eval pass leaves its row out', async () => {
    const many = randomPairs(new Rng(12), 40, config.eosTokenId).map((p) => ({ ...p, line: p.index + 1 }));
    const seen: PassProgress[] = [];
    const track = trackBuffers(gpu.device);
    let r: TrainingRun | null = null;
    try {
      r = new TrainingRun({ base, data: { kind: 'pairs', items: many }, config: cfg({ evalFraction: 0.25 }), events: { progress: (p) => (seen.push(p), p.done >= 4 && r!.cancel()) } });
      await expect(r.start(gpu)).rejects.toThrow(PassCancelled);
    } finally {
      track.restore();
    }
    expect(seen.map((p) => p.done)).toEqual([0, 2, 4]); // no batch after the one that cancelled
    expect(r.live).toBe(false);
    expect(r.model).toBeNull();
    expect(r.reference).toBeNull();
    expect(track.made()).toBeGreaterThan(0);
    expect(track.alive()).toEqual([]);

    // stopping a run during an eval pass: that update keeps its train row, without the eval row
    const e = new TrainingRun({ base, data: { kind: 'pairs', items: many }, config: cfg({ steps: 3, evalEvery: 1, evalFraction: 0.25 }), events: { progress: (p) => p.phase === 'eval' && p.done >= 2 && e.step === 0 && e.cancel() } });
    expect(e.cancelled).toBe(false);
    await e.start(gpu);
    const rows = await e.advance();
    expect(e.cancelled).toBe(true);
    expect(rows.map((m) => [m.step, 'eval_loss' in m])).toEqual([[1, false]]);
    e.release();
  });
});
