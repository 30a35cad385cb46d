// The page's RLHF preset (SFT → Reward model → PPO) with the shared LoRA settings, through the
// worker's Session in Node on real WebGPU: every stage trains adapters (the Reward model's carry
// its score head, PEFT's modules_to_save), PPO starts at its reference (objective/kl = 0 at step
// 1), and the reward model PPO is handed is the merged one: the trained score head in place of
// the seeded one, the adapters merged into the trunk, and bitwise what the Reward model run's last
// snapshot merges to (the path a later stage takes when the GPU state was freed); its PEFT export
// is a SEQ_CLS adapter.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { randomByteModel, arithmeticPairsFile } from '../helpers/session-fixtures';
import type { GpuContext } from '../../src/engine/gpu';
import { paramSpec, presetConfig, type GPTConfig } from '../../src/model/config';
import { rewardConfig, toRewardModel } from '../../src/model/reward';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import { memorySnapshotStore, type SnapshotStore } from '../../src/train/training-run';
import type { Metrics } from '../../src/train/trainer';
import { Session } from '../../src/worker/session';
import { snapshotWeights } from '../../src/worker/saved-weights';
import { peftAdapterFiles } from '../../src/export/peft';
import type { EngineEvent, TrainSettings } from '../../src/worker/protocol';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 64 };
const base = randomByteModel(config, 7);
const file = arithmeticPairsFile(6, 3);
const LORA = { r: 4, alpha: 8 };
const settings: TrainSettings = { ...DEFAULT_SETTINGS, steps: 2, batchSize: 2, lr: 1e-2, evalFraction: 0, checkpointEvery: 1, sampleEvery: 0, lora: LORA };

describe('Session: the RLHF preset with LoRA', () => {
  it('SFT, Reward model and PPO train adapters; PPO scores with the merged reward model', async () => {
    const rows = new Map<string, Metrics[]>();
    const stores = new Map<string, ReturnType<typeof memorySnapshotStore>>();
    const session = new Session(
      {
        sessionId: 's',
        runs: [
          { id: 'sft', label: 'SFT', objective: { method: 'sft' } },
          { id: 'reward', label: 'Reward model', objective: { method: 'reward' } },
          { id: 'ppo', label: 'PPO', objective: { method: 'ppo', maxNewTokens: 4, numPpoEpochs: 1 } },
        ],
        settings,
        data: { file, name: 'arith.jsonl', format: 'auto' },
        resume: false,
      },
      base,
      {
        gpu: async () => gpu,
        emit: (ev: EngineEvent) => {
          if (ev.type === 'metrics') rows.set(ev.runId, [...(rows.get(ev.runId) ?? []), ...ev.rows]);
        },
        store: (_s, runId): SnapshotStore => {
          if (!stores.has(runId)) stores.set(runId, memorySnapshotStore());
          return stores.get(runId)!;
        },
      },
    );
    await session.start();
    for (let i = 0; i < 6000 && !session.runs.every((r) => r.final); i++) await new Promise((r) => setTimeout(r, 10));
    expect(session.runs.map((r) => [r.spec.id, r.status, r.step, r.message])).toEqual([
      ['sft', 'done', 2, undefined],
      ['reward', 'done', 2, undefined],
      ['ppo', 'done', 2, undefined],
    ]);
    for (const r of session.runs) expect(r.cfg.lora, r.spec.id).toEqual(LORA);
    expect(rows.get('ppo')!.filter((m) => 'objective/kl' in m)[0]['objective/kl']).toBe(0);
    expect(rows.get('reward')!.map((m) => m.step)).toEqual([1, 2]);

    // the reward model stage's weights, as PPO got them: merged, with the trained score head
    const reward = session.runs.find((r) => r.spec.id === 'reward')!;
    const adapters = (await reward.training!.adapterWeights())!;
    expect(adapters.has('score.weight')).toBe(true);
    const rm = await session.finalWeights(reward);
    expect(rm.config).toEqual(rewardConfig(config));
    expect([...rm.params.keys()].sort()).toEqual(paramSpec(rewardConfig(config)).map((s) => s.name).sort());
    expect(Array.from(rm.params.get('score.weight')!)).toEqual(Array.from(adapters.get('score.weight')!));
    const seeded = toRewardModel(base, settings.seed).params.get('score.weight')!;
    expect(Array.from(rm.params.get('score.weight')!)).not.toEqual(Array.from(seeded)); // it trained
    expect(Array.from(rm.params.get('h.0.attn.c_attn.weight')!)).not.toEqual(Array.from(base.params.get('h.0.attn.c_attn.weight')!)); // adapters merged
    expect(Array.from(rm.params.get('wte.weight')!)).toEqual(Array.from(base.params.get('wte.weight')!)); // no adapter: the base's
    // a freed run's stage input (its last snapshot, adapters and head only) merges to the same weights, bitwise
    const snap = stores.get('reward')!.last!;
    expect([...snap.params.keys()].sort()).toEqual([...adapters.keys()].sort());
    const fromSnap = snapshotWeights(base, 'reward', snap, reward.cfg);
    for (const [k, v] of rm.params) expect(Buffer.from(fromSnap.get(k)!.buffer).equals(Buffer.from(v.buffer)), k).toBe(true);
    expect(fromSnap.size).toBe(rm.params.size);
    // its PEFT export: a sequence-classification adapter with the head saved
    const cfgJson = JSON.parse(new TextDecoder().decode(peftAdapterFiles(base.config, LORA, adapters, null).get('adapter_config.json')!)) as Record<string, unknown>;
    expect(cfgJson).toMatchObject({ task_type: 'SEQ_CLS', modules_to_save: ['classifier', 'score'] });
    await session.dispose();
  });
});
