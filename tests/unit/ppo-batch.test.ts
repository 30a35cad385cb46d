// PPO whitens its advantages over the batch's response tokens (TRL masked_whiten): a batch of one
// prompt can leave a single token mid-run. The one validator refuses batch size 1 for PPO, naming
// the field (the CLI's flag, the card's and Start's words), and the TRL export says when TRL's own
// whiten_rewards assert (local_mini_batch_size >= 8) would stop its script.
import { describe, it, expect } from 'vitest';
import { main } from '../../src/cli/main';
import { UsageError } from '../../src/cli/command';
import { TRAIN_DEFAULTS, trainConfigProblems, type TrainConfig } from '../../src/train/config';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import { cardSettingsProblems, newCard } from '../../src/store/presets';
import { trlTrainerSpec, type TrlRun } from '../../src/export/trl-script';
import type { ObjectiveSpec } from '../../src/train/objectives';

describe('PPO batch size', () => {
  it('the validator refuses PPO with batch size 1, naming the field; other methods and batch 2 pass', () => {
    const ppo = (batchSize: number) => trainConfigProblems({ ...TRAIN_DEFAULTS, batchSize, objective: { method: 'ppo' } });
    expect(ppo(1)).toEqual([{ field: 'batchSize', message: "batchSize must be ≥ 2 for PPO: it whitens the advantages over the batch's responses (TRL's masked_whiten needs at least 2 tokens), got 1" }]);
    expect(ppo(2)).toEqual([]);
    expect(trainConfigProblems({ ...TRAIN_DEFAULTS, batchSize: 1, objective: { method: 'grpo' } })).toEqual([]);
    // the engine's check ('run' level) too: a session or TrainingRun refuses it before training
    expect(trainConfigProblems({ ...TRAIN_DEFAULTS, batchSize: 1, objective: { method: 'ppo' } }, 'run').map((p) => p.field)).toEqual(['batchSize']);
  });

  it('the card and Start say it in the form\'s words; the shared settings alone are fine', () => {
    const s = { ...DEFAULT_SETTINGS, batchSize: 1 };
    expect(cardSettingsProblems(newCard('ppo'), s)).toEqual(["Batch size must be ≥ 2 for PPO: it whitens the advantages over the batch's responses (TRL's masked_whiten needs at least 2 tokens), got 1"]);
    expect(cardSettingsProblems(newCard('ppo'), { ...s, batchSize: 2 })).toEqual([]);
    expect(cardSettingsProblems(newCard('dpo'), s)).toEqual([]);
    // a problem of the shared settings is the settings form's, not repeated on every card
    expect(cardSettingsProblems(newCard('ppo'), { ...s, batchSize: 2, lr: 5 })).toEqual([]);
  });

  it('the CLI names --batch-size before reading any file', async () => {
    const train = main(['train', '--model', 'builtin', '--pairs', 'tests/fixtures/data/standard.jsonl', '--out', '/nonexistent/out', '--method', 'ppo', '--reward-model', '/nonexistent/rm', '--batch-size', '1']);
    await expect(train).rejects.toThrow(/^--batch-size must be ≥ 2 for PPO: it whitens the advantages/);
    await expect(main(['train', '--model', 'builtin', '--pairs', 'tests/fixtures/data/standard.jsonl', '--out', '/nonexistent/out', '--method', 'ppo', '--reward-model', '/nonexistent/rm', '--batch-size', '1'])).rejects.toBeInstanceOf(UsageError);
  });
});

describe('PPO TRL export: whiten_rewards and TRL\'s mini-batch assert', () => {
  const run = (objective: ObjectiveSpec, over: Partial<TrainConfig> = {}): TrlRun => ({ config: { ...TRAIN_DEFAULTS, objective, ...over }, maxLength: 64, maxPromptLength: 24, trainPrompts: 100, rewardModel: 'reward_model' });
  const note = (r: TrlRun) => trlTrainerSpec(r).notes.find((n) => n.startsWith('whiten_rewards=True'));

  it('notes the assert when whiten_rewards is on and a mini-batch holds fewer than 8 prompts', () => {
    expect(note(run({ method: 'ppo', whitenRewards: true }, { batchSize: 4 }))).toBe('whiten_rewards=True: TRL asserts local_mini_batch_size >= 8 ("Per-rank minibatch size 4 is insufficient for whitening"; here 4 prompts / 1 mini-batch = 4), so this script stops before training. Raise the batch size to 8 or more (PrefPlay whitens any batch with 2 or more response tokens), or turn whiten_rewards off in both.');
    expect(note(run({ method: 'ppo', whitenRewards: true, numMiniBatches: 2 }, { batchSize: 8 }))).toMatch(/size 4 is insufficient.*here 8 prompts \/ 2 mini-batches = 4\).*Raise the batch size to 16 or more/);
    expect(note(run({ method: 'ppo', whitenRewards: true }, { batchSize: 8 }))).toBeUndefined();
    expect(note(run({ method: 'ppo', whitenRewards: false }, { batchSize: 4 }))).toBeUndefined();
    expect(note(run({ method: 'ppo' }, { batchSize: 4 }))).toBeUndefined(); // TRL's default: off
  });
});
