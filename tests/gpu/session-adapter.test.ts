// An imported PEFT adapter on the page (the Model tab's "Adapter folder (PEFT)", issue 15): the
// worker's Session given the folder's files trains exactly as the CLI's `train --lora-adapter DIR`
// on the same model, data and seed (LoRA on: the adapter continues, the base with the adapters off
// is DPO's reference, so step 1's rewards are not 0), and with LoRA off starts from the adapter
// merged in, as the CLI's `train --model` of the merged folder. The TRL export follows: LoRA on, the
// adapter folder beside model/, train.py's LoraConfig as peft_config and the folder's tensors
// loaded into the trainer's adapters (set_peft_model_state_dict);
// LoRA off, the merged weights as model/. Tiny GPT-2 (SwiftShader is slow).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu';
import type { GpuContext } from '../../src/engine/gpu';
import { main } from '../../src/cli/main';
import { loadModelArg } from '../../src/cli/model-load';
import { loadPeftAdapter } from '../../src/export/peft';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import { memorySnapshotStore } from '../../src/train/training-run';
import { Session } from '../../src/worker/session';
import { trlFiles } from '../../src/worker/exports';
import { exportedFolder as folder } from '../helpers/export-folder';
import type { AdapterSource, EngineEvent, RunSpec, SessionSpec, TrainSettings } from '../../src/worker/protocol';
import type { Metrics } from '../../src/train/trainer';

let gpu: GpuContext;
const dir = mkdtempSync(join(tmpdir(), 'prefplay-session-adapter-'));
const model = join(dir, 'base');
const pairs = join(dir, 'pairs.jsonl');
const first = join(dir, 'first');
const SEED = 7;
const PAIRS = [
  { prompt: '2+3=', chosen: '5', rejected: '6' },
  { prompt: '1+1=', chosen: '2', rejected: '3' },
  { prompt: '4+4=', chosen: '8', rejected: '9' },
  { prompt: 'Le chat est', chosen: ' noir', rejected: ' table' },
];
const DPO: RunSpec = { id: 'dpo', label: 'DPO', objective: { method: 'dpo', beta: 0.1 } };
const common = ['--method', 'dpo', '--beta', '0.1', '--steps', '1', '--batch-size', '2', '--lr', '1e-2', '--seed', String(SEED), '--quiet'];
const settings: TrainSettings = { ...DEFAULT_SETTINGS, steps: 1, batchSize: 2, lr: 1e-2, seed: SEED, evalFraction: 0, evalEvery: 0, checkpointEvery: 1, sampleEvery: 0 };
// the timing metrics differ from run to run
const TIMING = ['tokens_per_second', 'elapsed', 'time', 'seconds'];
const trainRow = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).filter(([k]) => !TIMING.some((t) => k.includes(t))));

beforeAll(async () => {
  gpu = await testGpu();
  writeFileSync(pairs, PAIRS.map((p) => JSON.stringify(p)).join('\n') + '\n');
  expect(await main(['init', '--preset', 'tiny', '--seed', '3', '--out', model])).toBe(0);
  // an adapter with B ≠ 0: two LoRA updates from PEFT's init, written as DIR/adapter/ (and merged as DIR/model/)
  expect(await main(['train', '--model', model, '--pairs', pairs, '--method', 'dpo', '--lora-r', '4', '--lora-alpha', '16', '--steps', '2', '--batch-size', '2', '--lr', '2e-2', '--seed', '1', '--quiet', '--out', first])).toBe(0);
}, 300_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The adapter folder as the page's store hands it to the worker: Blobs by file name. */
function source(folder: string): AdapterSource {
  return { name: 'adapter', files: Object.fromEntries(['adapter_config.json', 'adapter_model.safetensors'].map((f) => [f, new Blob([readFileSync(join(folder, f))])])) };
}

/** A DPO comparison run to its end (settings.steps updates). */
async function session(over: Partial<TrainSettings>, adapter: AdapterSource) {
  const base = await loadModelArg(model);
  const events: EngineEvent[] = [];
  const s = new Session({ sessionId: 's', runs: [DPO], settings: { ...settings, ...over }, data: { file: new Blob([readFileSync(pairs)]), name: 'pairs.jsonl', format: 'auto' }, adapter, resume: false }, base, {
    gpu: async () => gpu,
    emit: (ev) => events.push(ev),
    store: () => memorySnapshotStore(),
  });
  await s.start();
  await settle(s, () => s.runs.every((r) => r.final));
  expect(s.runs.map((r) => [r.status, r.step, r.message])).toEqual([['done', over.steps ?? settings.steps, undefined]]);
  const rows = events.filter((e): e is Extract<EngineEvent, { type: 'metrics' }> => e.type === 'metrics').flatMap((e) => e.rows);
  return { s, rows };
}

/** Waits for `until`, then for the session's loop to let go of the runs (it checks for pauses between updates). */
async function settle(s: Session, until: () => boolean): Promise<void> {
  for (let i = 0; i < 6000 && !until(); i++) await new Promise((r) => setTimeout(r, 10));
  for (let i = 0; i < 6000 && (s as unknown as { looping: boolean }).looping; i++) await new Promise((r) => setTimeout(r, 10));
}

function cliRows(out: string): Metrics[] {
  return readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Metrics);
}

function expectSameRow(page: Metrics, cli: Metrics): void {
  const [p, c] = [trainRow(page), trainRow(cli)];
  expect(Object.keys(p).sort()).toEqual(Object.keys(c).sort());
  for (const [k, v] of Object.entries(c)) expect(p[k] as number, k).toBeCloseTo(v as number, 6);
}

const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

describe('Session with an imported PEFT adapter', () => {
  it('LoRA on: continues the adapter exactly as the CLI’s train --lora-adapter (same step 1, same adapters after it); the reference is the base', async () => {
    const out = join(dir, 'cli-lora');
    expect(await main(['train', '--model', model, '--pairs', pairs, '--lora-adapter', join(first, 'adapter'), ...common, '--out', out])).toBe(0);
    const cli = cliRows(out);
    // the page sends the adapter's r, lora_alpha and targets (src/store/adapter.ts effectiveSettings)
    const { s, rows } = await session({ lora: { r: 4, alpha: 16, targets: ['c_attn', 'c_fc', 'c_proj'] } }, source(join(first, 'adapter')));
    expect(s.runs[0].cfg.lora).toEqual({ r: 4, alpha: 16, targets: ['c_attn', 'c_fc', 'c_proj'] });
    expect(rows.map((m) => m.step)).toEqual([1]);
    expectSameRow(rows[0], cli[0]);
    // policy = base + adapter, reference = base (adapters off): the adapter shows in step 1's rewards
    expect(rows[0]['rewards/chosen']).not.toBe(0);
    expect(rows[0]['rewards/margins']).not.toBe(0);
    // the adapters after the update: the CLI's DIR/adapter/
    const read = (folder: string) => (name: string) => Promise.resolve(new Uint8Array(readFileSync(join(folder, name))));
    const want = await loadPeftAdapter(read(join(out, 'adapter')), s.base.config);
    const got = (await s.runs[0].training!.adapterWeights())!;
    expect([...got.keys()].sort()).toEqual([...want.adapters.keys()].sort());
    for (const [k, w] of want.adapters) expect(maxDiff(got.get(k)!, w), k).toBeLessThan(1e-6);
    // and they moved from the imported ones
    const before = await loadPeftAdapter(read(join(first, 'adapter')), s.base.config);
    expect([...before.adapters].some(([k, w]) => maxDiff(got.get(k)!, w) > 0)).toBe(true);
    // LoRA with samples off needs no merged copy of the weights: none was made
    expect((s as unknown as { merged: unknown }).merged).toBeNull();
    // the TRL export continues the adapter: model/ is the base, adapter/ the imported folder as
    // picked, and train.py passes the run's LoraConfig (the adapter's r and targets, lora_dropout 0)
    // as peft_config, then loads adapter/'s tensors into the trainer's PEFT model: the reference is
    // the base with the adapters off, as here (a PeftModel handed over would get a "ref" copy)
    const trl = await trlFiles(s, 'dpo');
    for (const f of ['adapter_config.json', 'adapter_model.safetensors']) expect(Buffer.from(trl.get(`adapter/${f}`) as Uint8Array).equals(readFileSync(join(first, 'adapter', f))), f).toBe(true);
    const script = trl.get('train.py') as string;
    expect(script).toContain('from peft import LoraConfig, set_peft_model_state_dict\n');
    expect(script).toMatch(/peft_config = LoraConfig\(\n {4}r=4,\n {4}lora_alpha=16\.0,\n {4}target_modules=\["c_attn", "c_fc", "c_proj"\],\n {4}lora_dropout=0\.0,\n/);
    expect(script).toContain('    peft_config=peft_config,\n)\n# LoRA continuing the imported adapter adapter/');
    expect(script).toContain('\nloaded = set_peft_model_state_dict(trainer.model, load_file("adapter/adapter_model.safetensors"))\n');
    expect(script).not.toMatch(/PeftModel\.from_pretrained|is_trainable/);
    expect(trl.get('README.txt')).toContain('adapter/          the imported PEFT adapter the LoRA run continued');
    const exported = await folder(trl, 'model');
    for (const [k, w] of s.base.params) expect(maxDiff(exported.params.get(k)!, w), k).toBe(0);
    await s.dispose();
  }, 300_000);

  it('LoRA off: full fine-tuning starts from the adapter merged in (the CLI’s train --model on the merged folder); its reference is that too', async () => {
    const out = join(dir, 'cli-full');
    expect(await main(['train', '--model', join(first, 'model'), '--pairs', pairs, ...common, '--out', out])).toBe(0);
    const cli = cliRows(out);
    const { s, rows } = await session({ lora: null }, source(join(first, 'adapter')));
    expect(s.runs[0].cfg.lora).toBeNull();
    expectSameRow(rows[0], cli[0]);
    expect(rows[0]['rewards/chosen']).toBe(0);
    // "Before training" is the merged model
    const merged = (await loadModelArg(join(first, 'model'))).params;
    const start = await s.startWeights();
    for (const [k, w] of merged) expect(maxDiff(start.get(k)!, w), k).toBe(0);
    // the TRL export of full fine-tuning: model/ is the merged start, no adapter/, no PEFT
    const trl = await trlFiles(s, 'dpo');
    expect([...trl.keys()].filter((k) => k.startsWith('adapter/'))).toEqual([]);
    expect(trl.get('train.py')).not.toMatch(/peft|Peft|LoraConfig/);
    const exported = await folder(trl, 'model');
    for (const [k, w] of merged) expect(maxDiff(exported.params.get(k)!, w), k).toBeLessThan(1e-6);
    // one merged copy: the run's base is the very map "Before training" reads
    expect((s.runs[0].training as unknown as { o: { base: { params: unknown } } }).o.base.params).toBe(start);
    expect(await s.startWeights()).toBe(start);
    await s.dispose();
  }, 300_000);

  it('LoRA on, paused after update 1 and reloaded (resume: true, the same adapter): update 2 and the adapters after it are the uninterrupted run’s, from the snapshot’s adapters, not the imported ones', async () => {
    const lora = { r: 4, alpha: 16, targets: ['c_attn', 'c_fc', 'c_proj'] };
    const over = { lora, steps: 2 };
    const whole = await session(over, source(join(first, 'adapter')));
    expect(whole.rows.map((m) => m.step)).toEqual([1, 2]);
    const want = (await whole.s.runs[0].training!.adapterWeights())!;
    await whole.s.dispose();

    // the same comparison paused once update 1's row is out (its snapshot follows: checkpointEvery
    // 1), then the page closes; the reload sends the same spec with resume: true
    const store = memorySnapshotStore();
    const spec: SessionSpec = { sessionId: 's3', runs: [DPO], settings: { ...settings, ...over }, data: { file: new Blob([readFileSync(pairs)]), name: 'pairs.jsonl', format: 'auto' }, adapter: source(join(first, 'adapter')), resume: false };
    const paused: Session = new Session(spec, await loadModelArg(model), {
      gpu: async () => gpu,
      emit: (ev) => {
        if (ev.type === 'metrics' && ev.rows[0].step === 1) paused.pause();
      },
      store: () => store,
    });
    await paused.start();
    await settle(paused, () => paused.runs[0].status === 'paused');
    expect(paused.runs.map((r) => [r.status, r.step])).toEqual([['paused', 1]]);
    expect(store.last?.step).toBe(1);
    // the snapshot holds the adapters after update 1: they moved from the imported ones
    const imported = (await paused.importedAdapter())!.adapters;
    expect([...imported].some(([k, w]) => maxDiff(store.last!.params.get(k)!, w) > 0)).toBe(true);
    await paused.dispose();

    const events: EngineEvent[] = [];
    const resumed = new Session({ ...spec, resume: true }, await loadModelArg(model), { gpu: async () => gpu, emit: (ev) => events.push(ev), store: () => store });
    await resumed.start();
    await settle(resumed, () => resumed.runs.every((r) => r.final));
    expect(resumed.runs.map((r) => [r.status, r.step, r.message])).toEqual([['done', 2, undefined]]);
    // the page's rows: the snapshot's update 1 (after a rewind to 0), then update 2 trained here
    expect(events.filter((e) => e.type === 'rewind')).toEqual([{ type: 'rewind', runId: 'dpo', step: 0, resumedAt: 1 }]);
    const rows = events.filter((e): e is Extract<EngineEvent, { type: 'metrics' }> => e.type === 'metrics').flatMap((e) => e.rows);
    expect(rows.map((m) => m.step)).toEqual([1, 2]);
    expect(rows.map(trainRow)).toEqual(whole.rows.map(trainRow));
    const got = (await resumed.runs[0].training!.adapterWeights())!;
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, w] of want) expect(Array.from(got.get(k)!), k).toEqual(Array.from(w));
    await resumed.dispose();
  }, 300_000);

  it('refuses LoRA settings of another rank than the adapter’s, naming both', async () => {
    const base = await loadModelArg(model);
    const s = new Session({ sessionId: 's2', runs: [DPO], settings: { ...settings, lora: { r: 8, alpha: 16 } }, data: { file: new Blob([readFileSync(pairs)]), name: 'pairs.jsonl', format: 'auto' }, adapter: source(join(first, 'adapter')), resume: false }, base, {
      gpu: async () => gpu,
      emit: () => undefined,
      store: () => memorySnapshotStore(),
    });
    await expect(s.start()).rejects.toThrow("LoRA rank r 8 differs from the imported adapter's r 4: LoRA runs continue the imported adapter adapter");
    await s.dispose();
  });
});
