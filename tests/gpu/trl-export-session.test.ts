// The page's TRL export of RLHF's later stages (src/worker/exports.ts trlFiles), in Node on real
// WebGPU: a comparison of SFT, a reward model, PPO and GRPO rewarded by the judge and the reward
// model trains one update each; PPO's export holds SFT's final weights as model/ and the reward
// run's as reward_model/ (a GPT2ForSequenceClassification folder), GRPO's the loaded model and the
// reward model, each train.py naming them, and data.jsonl the prompts of the pairs. After a reload
// (a Session built from the saved spec that never starts, as the worker's sessionFor does) the
// exports are the same files: the stages' links come from the PPO and GRPO runs' own snapshots,
// the weights from the SFT and reward runs' final snapshots.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { randomByteModel } from '../helpers/session-fixtures';
import { exportedFolder as folder } from '../helpers/export-folder';
import type { GpuContext } from '../../src/engine/gpu';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import { memorySnapshotStore } from '../../src/train/training-run';
import { Session } from '../../src/worker/session';
import { trlFiles } from '../../src/worker/exports';
import type { SessionSpec, TrainSettings } from '../../src/worker/protocol';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 64 };
const base = randomByteModel(config, 5);
const prompts = Array.from({ length: 4 }, (_, i) => `${i + 1}+${i + 2}=`);
const file = new Blob([prompts.map((p, i) => JSON.stringify({ prompt: p, chosen: String(2 * i + 3), rejected: `${2 * i + 4}?` })).join('\n') + '\n']);
const settings: TrainSettings = { ...DEFAULT_SETTINGS, steps: 1, batchSize: 2, lr: 1e-3, evalFraction: 0, evalEvery: 0, checkpointEvery: 1, sampleEvery: 0 };

describe('page export of RLHF stages', () => {
  it('PPO: model/ is SFT\'s final weights, reward_model/ the reward run\'s; GRPO: the judge and the reward model in reward_funcs', async () => {
    // the worker's IndexedDB: one snapshot store per run, kept across the reload
    const stores = new Map<string, ReturnType<typeof memorySnapshotStore>>();
    const store = (_s: string, runId: string) => {
      if (!stores.has(runId)) stores.set(runId, memorySnapshotStore());
      return stores.get(runId)!;
    };
    const spec: SessionSpec = {
      sessionId: 't',
      runs: [
        { id: 'sft', label: 'SFT', objective: { method: 'sft' } },
        { id: 'reward', label: 'Reward model', objective: { method: 'reward' } },
        { id: 'ppo', label: 'PPO', objective: { method: 'ppo', maxNewTokens: 4, numPpoEpochs: 1 } },
        { id: 'grpo', label: 'GRPO', objective: { method: 'grpo', reward: ['judge:arithmetic', 'reward-model'], numGenerations: 2, maxNewTokens: 4 } },
      ],
      settings,
      data: { file, name: 'arith.jsonl', format: 'auto' },
      resume: false,
    };
    const session = new Session(spec, base, { gpu: async () => gpu, emit: () => {}, store });
    await session.start();
    for (let i = 0; i < 6000 && !session.runs.every((r) => r.final); i++) await new Promise((r) => setTimeout(r, 10));
    expect(session.runs.map((r) => [r.spec.id, r.status])).toEqual([['sft', 'done'], ['reward', 'done'], ['ppo', 'done'], ['grpo', 'done']]);
    const run = (id: string) => session.runs.find((r) => r.spec.id === id)!;
    const sftWeights = await run('sft').training!.weights();
    const rewardWeights = await run('reward').training!.weights();
    // SFT moved the weights, so model/ = SFT's final weights is not the loaded model again
    expect([...sftWeights].some(([name, w]) => w.some((x, i) => x !== base.params.get(name)![i]))).toBe(true);

    const ppo = await trlFiles(session, 'ppo');
    expect(ppo.get('train.py')).toContain('from trl.experimental.ppo import PPOConfig, PPOTrainer');
    expect(ppo.get('train.py')).toContain('REWARD_MODEL = "reward_model"');
    expect(ppo.get('data.jsonl')).toBe(prompts.map((p) => JSON.stringify({ prompt: p }) + '\n').join(''));
    const start = await folder(ppo, 'model');
    for (const [name, w] of sftWeights) expect(Array.from(start.params.get(name)!), name).toEqual(Array.from(w));
    const rm = await folder(ppo, 'reward_model');
    expect(rm.config.scoreHead).toBe(true);
    for (const [name, w] of rewardWeights) expect(Array.from(rm.params.get(name)!), name).toEqual(Array.from(w));

    const grpo = await trlFiles(session, 'grpo');
    expect(grpo.get('train.py')).toContain('    reward_funcs=[arithmetic, REWARD_MODEL],');
    expect(grpo.get('train.py')).toContain('PrefPlay logged rewards/reward/mean');
    expect(grpo.get('rewards.py')).toMatch(/^def arithmetic\(/m);
    const grpoStart = await folder(grpo, 'model');
    for (const [name, w] of base.params) expect(Array.from(grpoStart.params.get(name)!), name).toEqual(Array.from(w));
    expect((await folder(grpo, 'reward_model')).config.scoreHead).toBe(true);
    await session.dispose();

    // after a reload: the stage links saved with the PPO and GRPO snapshots; the same files
    expect(stores.get('ppo')!.last!.stage).toEqual({ policy: 'sft', reward: 'reward' });
    expect(stores.get('grpo')!.last!.stage).toEqual({ policy: null, reward: 'reward' });
    expect(stores.get('sft')!.last!.stage).toBeUndefined();
    const reloaded = new Session({ ...spec, resume: true }, base, { gpu: async () => gpu, emit: () => {}, store });
    expect(reloaded.runs.every((r) => !r.live && r.stage === null)).toBe(true);
    expect(await trlFiles(reloaded, 'ppo')).toEqual(ppo);
    expect(await trlFiles(reloaded, 'grpo')).toEqual(grpo);
    // a stage whose snapshot is gone cannot say what it started from: a clear message, not a script without its reward model
    stores.delete('ppo');
    await expect(trlFiles(reloaded, 'ppo')).rejects.toThrow(/PPO's TRL export needs the runs it started from and scored with, and no checkpoint of it was saved/);
    await reloaded.dispose();
  });
});
