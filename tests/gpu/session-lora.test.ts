// LoRA from the page's settings through the engine worker's Session (Node, real WebGPU): the
// shared settings' lora / baseDtype / checkpointActivations reach every run, an absent base
// dtype becomes the checkpoint's own, DPO starts at its reference (the base with the adapters
// off: rewards 0 at step 1), the pair table's starting point is the runs' own model, a snapshot
// holds the adapters only, and the export's merged model (adapters over the base as the run
// stored it) is bitwise the live run's weights; the PEFT folder names the loaded model. A GRPO
// card with the LoRA settings trains its adapters with the base as the reference (kl = 0 at step
// 1), never moves the base, snapshots the adapters only and exports a PEFT adapter folder.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { randomByteModel } from '../helpers/session-fixtures';
import type { GpuContext } from '../../src/engine/gpu';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import type { LoadedCheckpoint } from '../../src/model/checkpoint';
import { llamaPresetConfig } from '../../src/model/llama-config';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import { memorySnapshotStore, type SnapshotStore } from '../../src/train/training-run';
import type { Metrics } from '../../src/train/trainer';
import { Session } from '../../src/worker/session';
import { adapterFiles, mergedWeights, trlFiles } from '../../src/worker/exports';
import type { LoadedModel } from '../../src/model/family-checkpoint';
import type { EngineEvent, ModelInfo, RunSpec, TrainSettings } from '../../src/worker/protocol';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 48 };
const base = randomByteModel(config, 5);
const rng = new Rng(3);
const file = new Blob([
  Array.from({ length: 6 }, () => {
    const a = 1 + rng.int(9), b = 1 + rng.int(9);
    return JSON.stringify({ prompt: `${a}+${b}=`, chosen: String(a + b), rejected: String(a + b + 1) });
  }).join('\n') + '\n',
]);
const RUNS: RunSpec[] = [
  { id: 'dpo', label: 'DPO', objective: { method: 'dpo', beta: 0.1 } },
  { id: 'orpo', label: 'ORPO', objective: { method: 'orpo', beta: 0.1 } as RunSpec['objective'] },
];
const LORA = { r: 4, alpha: 8 };

async function run(over: Partial<TrainSettings>, runs: RunSpec[] = RUNS, start: LoadedCheckpoint = base) {
  const stores = new Map<string, ReturnType<typeof memorySnapshotStore>>();
  const rows = new Map<string, Metrics[]>();
  const events: EngineEvent[] = [];
  const settings: TrainSettings = { ...DEFAULT_SETTINGS, steps: 2, batchSize: 2, lr: 1e-2, evalFraction: 0, checkpointEvery: 1, ...over };
  const session = new Session({ sessionId: 's', runs, settings, data: { file, name: 'arith.jsonl', format: 'auto' }, resume: false }, start, {
    gpu: async () => gpu,
    emit: (ev) => {
      events.push(ev);
      if (ev.type === 'metrics') rows.set(ev.runId, [...(rows.get(ev.runId) ?? []), ...ev.rows]);
    },
    store: (_s, runId): SnapshotStore => {
      if (!stores.has(runId)) stores.set(runId, memorySnapshotStore());
      return stores.get(runId)!;
    },
  });
  await session.start();
  for (let i = 0; i < 6000 && !session.runs.every((r) => r.final); i++) await new Promise((r) => setTimeout(r, 10));
  return { session, rows, stores, events };
}

describe('LoRA through the Session', () => {
  it('trains DPO vs ORPO with adapters over a bf16 base; exports the merged model and the PEFT folder', async () => {
    const full = await run({ steps: 1 });
    const { session, rows, stores, events } = await run({ lora: LORA, baseDtype: 'bf16', checkpointActivations: true });
    expect(session.runs.map((r) => [r.status, r.step])).toEqual([['done', 2], ['done', 2]]);
    expect(session.runs.map((r) => [r.cfg.lora, r.cfg.baseDtype, r.cfg.checkpointActivations])).toEqual([[LORA, 'bf16', true], [LORA, 'bf16', true]]);
    const dpo = rows.get('dpo')!;
    // B = 0: the adapted policy is the reference (the base with the adapters off), exactly
    expect([dpo[0]['rewards/chosen'], dpo[0]['rewards/rejected'], dpo[0]['rewards/margins']]).toEqual([0, 0, 0]);
    expect(dpo[1]['rewards/margins']).not.toBe(0);
    for (const r of ['dpo', 'orpo']) for (const m of rows.get(r)!) for (const [k, v] of Object.entries(m)) expect(Number.isFinite(v), `${r} ${k}`).toBe(true);
    // the pair table's start: the bf16-rounded base, so not the f32 model's numbers
    const start = (evs: EngineEvent[]) => evs.find((e) => e.type === 'pairs-start') as Extract<EngineEvent, { type: 'pairs-start' }>;
    expect(start(events).chosen).not.toEqual(start(full.events).chosen);
    // snapshots hold the adapters only; merged over the base rounded as the run stored it, they are the live run's weights
    for (const r of session.runs) {
      const snap = stores.get(r.spec.id)!.last!;
      expect([...snap.params.keys()].every((k) => /\.lora_[AB]\.weight$/.test(k))).toBe(true);
      const live = await r.training!.weights();
      const merged = mergedWeights(base as LoadedModel, LORA, 'bf16', snap.params);
      expect([...merged.keys()].sort()).toEqual([...live.keys()].sort());
      for (const [k, w] of live) expect(merged.get(k), k).toEqual(w);
    }
    const info = { name: 'my-gpt2', kind: 'files' } as ModelInfo;
    const files = adapterFiles(base as LoadedModel, info, LORA, (await session.runs[0].training!.adapterWeights())!);
    expect(JSON.parse(new TextDecoder().decode(files.get('adapter_config.json')))).toMatchObject({ r: 4, lora_alpha: 8, base_model_name_or_path: 'my-gpt2', fan_in_fan_out: true });
    // the TRL experiment passes the same LoraConfig (TRL's peft_config path)
    const script = String((await trlFiles(session, 'dpo')).get('train.py'));
    expect(script).toMatch(/peft_config = LoraConfig\(\n\s+r=4,\n\s+lora_alpha=8\.0,/);
    expect(script).toMatch(/peft_config=peft_config,/);
    await session.dispose();
    await full.session.dispose();
  });

  it('GRPO with LoRA: the base is the reference (kl = 0 at step 1) and never moves; snapshots and the PEFT export hold the adapters', async () => {
    // a model that answers with one digit, uniformly: the judge's rewards vary within a group, so the adapters get a gradient
    const u = Float32Array.from({ length: config.nEmbd }, () => 0.3 * rng.normal());
    const params = new Map([...base.params].map(([k, w]) => [k, Float32Array.from(w)]));
    for (let d = 48; d < 58; d++) params.get('wte.weight')!.set(u, d * config.nEmbd); // '0' … '9'
    params.set('ln_f.bias', Float32Array.from(u, (x) => 4 * x));
    const digits = { ...base, params } as LoadedCheckpoint;
    const grpo: RunSpec = { id: 'grpo', label: 'GRPO', objective: { method: 'grpo', reward: 'judge:arithmetic', numGenerations: 4, maxNewTokens: 1 } };
    const { session, rows, stores } = await run({ lora: LORA, lr: 0.05, batchSize: 4 }, [grpo], digits);
    const r = session.runs[0];
    expect([r.status, r.step, r.message]).toEqual(['done', 2, undefined]);
    expect([r.cfg.lora, r.cfg.baseDtype]).toEqual([LORA, 'f32']);
    const train = rows.get('grpo')!.filter((m) => 'kl' in m);
    expect(train.map((m) => m.step)).toEqual([1, 2]);
    // B = 0 at the start: the policy is its reference (the base with the adapters off), exactly
    expect(train[0].kl).toBe(0);
    for (const m of train) for (const [k, v] of Object.entries(m)) expect(Number.isFinite(v), k).toBe(true);
    // the frozen base is the loaded model's weights, bitwise, after two updates
    const model = r.training!.model!;
    expect(model.lora).not.toBeNull();
    const frozen = await model.download();
    for (const [k, w] of params) expect(frozen.get(k), k).toEqual(w);
    expect(train.some((m) => m.frac_reward_zero_std < 1)).toBe(true);
    // the adapters moved (B left 0), and the snapshot holds them only
    const adapters = (await r.training!.adapterWeights())!;
    expect([...adapters].some(([k, w]) => k.endsWith('.lora_B.weight') && w.some((x) => x !== 0))).toBe(true);
    const snap = stores.get('grpo')!.last!;
    expect(snap.step).toBe(2);
    expect([...snap.params.keys()].every((k) => /\.lora_[AB]\.weight$/.test(k))).toBe(true);
    // the PEFT adapter folder of the run
    const files = adapterFiles(digits as LoadedModel, { name: 'my-gpt2', kind: 'files' } as ModelInfo, LORA, adapters);
    expect(JSON.parse(new TextDecoder().decode(files.get('adapter_config.json')))).toMatchObject({ r: 4, lora_alpha: 8, base_model_name_or_path: 'my-gpt2', peft_type: 'LORA' });
    const st = files.get('adapter_model.safetensors')!;
    const header = JSON.parse(new TextDecoder().decode(st.subarray(8, 8 + Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true))))) as Record<string, { shape: number[] }>;
    expect(header['base_model.model.transformer.h.0.attn.c_attn.lora_A.weight'].shape).toEqual([4, config.nEmbd]);
    expect(header['base_model.model.transformer.h.0.attn.c_attn.lora_B.weight'].shape).toEqual([3 * config.nEmbd, 4]);
    // the TRL experiment passes the same LoraConfig to GRPOTrainer
    expect(String((await trlFiles(session, 'grpo')).get('train.py'))).toMatch(/peft_config = LoraConfig\(\n\s+r=4,\n\s+lora_alpha=8\.0,/);
    await session.dispose();
  });

  it('an absent base dtype is the checkpoint’s own: f32 for GPT-2, bf16 for a bfloat16 Llama folder', () => {
    const spec = (settings: TrainSettings) => ({ sessionId: 's', runs: RUNS.slice(0, 1), settings, data: { file, name: 'a.jsonl', format: 'auto' as const }, resume: false });
    const deps = { gpu: async () => gpu, emit: () => undefined, store: () => memorySnapshotStore() };
    expect(new Session(spec({ ...DEFAULT_SETTINGS, lora: LORA }), base, deps).runs[0].cfg.baseDtype).toBe('f32');
    const llama = { ...base, config: { ...llamaPresetConfig('llama-tiny'), torchDtype: 'bfloat16' } } as unknown as LoadedCheckpoint;
    expect(new Session(spec({ ...DEFAULT_SETTINGS, lora: LORA }), llama, deps).runs[0].cfg.baseDtype).toBe('bf16');
    // full fine-tuning keeps none
    expect(new Session(spec(DEFAULT_SETTINGS), llama, deps).runs[0].cfg.baseDtype).toBeUndefined();
  });
});
