// A prompt-only file on the page (issue 16: "prompts … or prompt-only rows {"prompt": …}"): the
// worker's Session trains GRPO on it, in Node on real WebGPU, with the built-in model, and its
// updates equal the CLI's `train --method grpo --pairs FILE` on the same file and settings: same
// prompts, same seeded train/eval split, same generations, so the same metrics rows. A DPO run on
// the same file is refused, naming what it needs.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu';
import type { GpuContext } from '../../src/engine/gpu';
import { main } from '../../src/cli/main';
import { loadModelArg } from '../../src/cli/model-load';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import { memorySnapshotStore } from '../../src/train/training-run';
import { Session } from '../../src/worker/session';
import { trlFiles } from '../../src/worker/exports';
import type { EngineEvent, TrainSettings } from '../../src/worker/protocol';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

// 8 usable prompts (strings and a message list) and one bad row, skipped by both; the built-in
// model answers some of them right at step 1, so the update has a loss and a gradient
const TEXT =
  [
    '{"prompt": "Q: What is 4+1?\\nA: "}',
    '{"prompt": "Q: What is 2+3?\\nA: ", "id": 2}',
    '{"prompt": 9}',
    '{"prompt": "Q: What is 1+1?\\nA: "}',
    '{"prompt": "Q: What is 3+3?\\nA: "}',
    '{"prompt": [{"role": "user", "content": "What is 2*2?"}]}',
    '{"prompt": "Q: What is 5+5?\\nA: "}',
    '{"prompt": "Q: What is 1+2?\\nA: "}',
    '{"prompt": "Q: What is 9+0?\\nA: "}',
  ].join('\n') + '\n';

const objective = { method: 'grpo' as const, reward: 'judge:arithmetic', numGenerations: 4, maxNewTokens: 4, temperature: 1 };
const settings: TrainSettings = { ...DEFAULT_SETTINGS, steps: 2, batchSize: 2, lr: 1e-3, seed: 5, evalFraction: 0.3, evalEvery: 0, checkpointEvery: 2, sampleEvery: 0 };
const cliArgs = ['--method', 'grpo', '--reward', 'judge:arithmetic', '--num-generations', '4', '--max-new-tokens', '4', '--temperature', '1', '--steps', '2', '--batch-size', '2', '--lr', '1e-3', '--seed', '5', '--eval-fraction', '0.3', '--quiet'];

// the metrics of an update (the timing ones differ from run to run)
const TIMING = ['tokens_per_second', 'elapsed', 'time', 'step_time', 'seconds'];
const trainRow = (m: Record<string, unknown>) => Object.fromEntries(Object.entries(m).filter(([k]) => !TIMING.some((t) => k.includes(t))));

describe('Session: GRPO on a prompt-only file', () => {
  it('equals the CLI’s train --method grpo on the same file: same split, same first updates', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-session-prompts-'));
    try {
      const path = join(dir, 'prompts.jsonl');
      await writeFile(path, TEXT);
      expect(await main(['train', '--model', 'builtin', '--pairs', path, ...cliArgs, '--out', join(dir, 'cli')])).toBe(0);
      const cliRows = (await readFile(join(dir, 'cli', 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      const run = JSON.parse(await readFile(join(dir, 'cli', 'run.json'), 'utf8')) as Record<string, unknown>;
      expect(run).toMatchObject({ prompts_from: 'prompts', train_prompts: 6, eval_prompts: 2 });

      const base = await loadModelArg('builtin');
      const events: EngineEvent[] = [];
      const session = new Session(
        { sessionId: 's', runs: [{ id: 'grpo', label: 'GRPO', objective }], settings, data: { file: new Blob([TEXT]), name: 'prompts.jsonl', format: 'auto' }, resume: false },
        base,
        { gpu: async () => gpu, emit: (ev) => events.push(ev), store: () => memorySnapshotStore() },
      );
      await session.start();
      for (let i = 0; i < 6000 && !session.runs.every((r) => r.final); i++) await new Promise((r) => setTimeout(r, 10));
      expect(session.runs.map((r) => [r.status, r.step, r.message])).toEqual([['done', 2, undefined]]);
      const training = events.find((e): e is Extract<EngineEvent, { type: 'session' }> => e.type === 'session' && e.phase === 'training');
      expect(training).toMatchObject({ trainPairs: 6, evalPairs: 2, message: '1 runs on 6 training prompts (2 held out)' });
      const rows = events.filter((e): e is Extract<EngineEvent, { type: 'metrics' }> => e.type === 'metrics' && e.runId === 'grpo').flatMap((e) => e.rows);
      const page = rows.filter((m) => 'reward' in m && !('eval_reward' in m));
      const cli = cliRows.filter((m) => 'reward' in m && !('eval_reward' in m));
      expect(page.map((m) => m.step)).toEqual([1, 2]);
      expect(cli.map((m) => m.step)).toEqual([1, 2]);
      expect(page[0].kl).toBe(0);
      // a real update: some completions judged right, so a loss and a gradient to compare
      expect(page[0].reward).toBeGreaterThan(0);
      expect(page[0].grad_norm).toBeGreaterThan(0);
      for (let k = 0; k < 2; k++) {
        const [p, c] = [trainRow(page[k]), trainRow(cli[k])];
        expect(Object.keys(p).sort()).toEqual(Object.keys(c).sort());
        // same prompts, split and seeds: the same completions, rewards and lengths exactly; the
        // loss, entropy and gradient norm from the same GPU kernels
        for (const key of ['reward', 'reward_std', 'rewards/arithmetic/mean', 'frac_reward_zero_std', 'completions/mean_length', 'completions/min_length', 'completions/max_length', 'completions/clipped_ratio', 'num_tokens', 'learning_rate']) expect(p[key], `step ${k + 1} ${key}`).toBe(c[key]);
        for (const key of ['loss', 'kl', 'entropy', 'grad_norm', 'clip_ratio/region_mean']) expect(p[key] as number, `step ${k + 1} ${key}`).toBeCloseTo(c[key] as number, 6);
      }
      // the run's TRL export holds the CLI export-trl's prompts, split the same way
      expect(await main(['export-trl', '--run', join(dir, 'cli'), '--out', join(dir, 'trl')])).toBe(0);
      const files = await trlFiles(session, 'grpo');
      expect(files.get('data.jsonl')).toBe(await readFile(join(dir, 'trl', 'data.jsonl'), 'utf8'));
      expect(files.get('eval.jsonl')).toBe(await readFile(join(dir, 'trl', 'eval.jsonl'), 'utf8'));
      expect((files.get('data.jsonl') as string).trim().split('\n')).toHaveLength(6);
      await session.dispose();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a DPO run on prompts, naming what it needs', async () => {
    const base = await loadModelArg('builtin');
    const session = new Session(
      { sessionId: 's2', runs: [{ id: 'dpo', label: 'DPO', objective: { method: 'dpo' } }], settings, data: { file: new Blob([TEXT]), name: 'prompts.jsonl', format: 'auto' }, resume: false },
      base,
      { gpu: async () => gpu, emit: () => undefined, store: () => memorySnapshotStore() },
    );
    await expect(session.start()).rejects.toThrow('DPO trains on preference pairs; prompts.jsonl holds prompts only ({"prompt": …}): GRPO and RLOO cards train on them');
    await session.dispose();
  });
});
