// The worker's Session with RLHF's stages (issue 16 on the page), in Node on real WebGPU: SFT, a
// reward model, PPO and GRPO rewarded by the reward model, on one pairs file. PPO and GRPO wait,
// queued and saying for what, until SFT and the reward model are done; then PPO starts from SFT's
// final weights (its reference: objective/kl = 0 at step 1) and both score with the reward
// model (GRPO logs it as rewards/reward/mean); the samples-over-steps rows carry the rewards the
// updates trained on (their mean is the logged reward, objective/scores).
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { randomByteModel, arithmeticPairsFile } from '../helpers/session-fixtures';
import type { GpuContext } from '../../src/engine/gpu';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import { memorySnapshotStore } from '../../src/train/training-run';
import { Session } from '../../src/worker/session';
import type { EngineEvent, TrainSettings } from '../../src/worker/protocol';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 64 };
const base = randomByteModel(config, 7);
const file = arithmeticPairsFile(8, 3);
const settings: TrainSettings = { ...DEFAULT_SETTINGS, steps: 2, batchSize: 4, lr: 1e-3, evalFraction: 0.25, evalEvery: 2, checkpointEvery: 2, sampleEvery: 0 };

describe('Session: RLHF stages', () => {
  it('PPO and GRPO wait for SFT and the reward model, then train from SFT and score with the reward model', async () => {
    const events: EngineEvent[] = [];
    const session = new Session(
      {
        sessionId: 's',
        runs: [
          { id: 'sft', label: 'SFT', objective: { method: 'sft' } },
          { id: 'reward', label: 'Reward model', objective: { method: 'reward' } },
          { id: 'ppo', label: 'PPO', objective: { method: 'ppo', maxNewTokens: 6, numPpoEpochs: 1 } },
          { id: 'grpo-reward-model', label: 'GRPO', objective: { method: 'grpo', reward: 'reward-model', numGenerations: 2, maxNewTokens: 4 } },
        ],
        settings,
        data: { file, name: 'arith.jsonl', format: 'auto' },
        resume: false,
      },
      base,
      { gpu: async () => gpu, emit: (ev) => events.push(ev), store: () => memorySnapshotStore() },
    );
    await session.start();
    for (let i = 0; i < 6000 && !session.runs.every((r) => r.final); i++) await new Promise((r) => setTimeout(r, 10));
    expect(session.runs.map((r) => [r.spec.id, r.status, r.step, r.message])).toEqual([
      ['sft', 'done', 2, undefined],
      ['reward', 'done', 2, undefined],
      ['ppo', 'done', 2, undefined],
      ['grpo-reward-model', 'done', 2, undefined],
    ]);
    const runEvents = events.filter((e): e is Extract<EngineEvent, { type: 'run' }> => e.type === 'run');
    expect(runEvents.find((e) => e.runId === 'ppo')).toMatchObject({ status: 'queued', message: 'Waits for SFT and Reward model to finish: it starts from SFT’s final weights and scores its completions with Reward model’s.' });
    expect(runEvents.find((e) => e.runId === 'grpo-reward-model')?.message).toBe('Waits for Reward model to finish: it scores its completions with Reward model’s.');
    // neither later stage trains before both earlier ones are done
    const metricsAt = (id: string) => events.findIndex((e) => e.type === 'metrics' && e.runId === id);
    const doneAt = (id: string) => events.findIndex((e) => e.type === 'run' && e.runId === id && e.status === 'done');
    for (const later of ['ppo', 'grpo-reward-model']) for (const first of ['sft', 'reward']) expect(metricsAt(later)).toBeGreaterThan(doneAt(first));
    const rows = (id: string) => events.filter((e): e is Extract<EngineEvent, { type: 'metrics' }> => e.type === 'metrics' && e.runId === id).flatMap((e) => e.rows);
    const ppo = rows('ppo').filter((m) => 'objective/kl' in m);
    expect(ppo.map((m) => m.step)).toEqual([1, 2]);
    expect(ppo[0]['objective/kl']).toBe(0); // the reference is PPO's start: SFT's final weights
    // GRPO's reward function is the reward model, named by its run's id
    const grpo = rows('grpo-reward-model').filter((m) => 'reward' in m);
    expect(grpo.map((m) => m.step)).toEqual([1, 2]);
    expect(grpo[0]).toHaveProperty('rewards/reward/mean');
    expect(grpo[0].kl).toBe(0);

    // the samples-over-steps rows are what the update trained on: PPO's 4 responses, whose mean
    // score is the logged objective/scores; the first 4 of GRPO's 4 prompts × 2 completions
    const rollouts = events.filter((e): e is Extract<EngineEvent, { type: 'rollouts' }> => e.type === 'rollouts');
    const mean = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / xs.length;
    for (const id of ['ppo', 'grpo-reward-model']) {
      const mine = rollouts.filter((e) => e.runId === id).map((e) => e.at);
      expect(mine.map((a) => a.step)).toEqual([1, 2]);
      for (const at of mine) {
        expect(at.scale).toBe('model');
        expect(at.rewards.map((r) => r.name)).toEqual(['reward']);
        expect([at.reward.length, at.total]).toEqual(id === 'ppo' ? [4, 4] : [4, 8]);
        if (id === 'ppo') expect(Math.abs(mean(at.reward) - ppo[at.step - 1]['objective/scores'])).toBeLessThan(1e-9);
        else expect(at.advantages).toHaveLength(4);
      }
    }
    expect(rows('reward').filter((m) => 'accuracy' in m).map((m) => m.step)).toEqual([1, 2]);
    await session.dispose();
  });
});
