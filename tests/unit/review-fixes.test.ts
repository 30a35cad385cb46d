// Regression tests for the review of the registry, validator and cards: each case failed before
// its fix (see the commit that added this file).
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { trainConfigProblems, validateTrainConfig, TRAIN_DEFAULTS } from '../../src/train/config';
import { parseRunToken } from '../../src/train/objectives';
import { objectiveFromFlags } from '../../src/cli/method-flags';
import { cardFromSaved, cardKey, cardProblems, newCard, withValues } from '../../src/store/presets';
import { decodeConfig } from '../../src/store/url';

afterEach(() => vi.restoreAllMocks());

describe('review fixes', () => {
  it('a choice that takes one value refuses a list instead of keeping its first item', () => {
    expect(() => objectiveFromFlags({ method: 'kto', 'loss-type': 'kto,apo_zero_unpaired' })).toThrow(/--loss-type: takes one value, got "kto,apo_zero_unpaired"/);
    expect(() => parseRunToken('kto:0.1:1:1:kto/apo_zero_unpaired')).toThrow(/takes one value/);
    expect(objectiveFromFlags({ method: 'dpo', 'loss-type': 'sigmoid,ipo' }).lossType).toEqual(['sigmoid', 'ipo']);
  });

  it('changing a card\'s loss type drops loss weights that belonged to the old types', () => {
    const combined = newCard('dpo', { lossType: ['sigmoid', 'ipo'], lossWeights: [1, 0.5] });
    expect(cardProblems(combined)).toEqual([]);
    const changed = withValues(combined, { lossType: 'hinge' });
    expect(changed.values.lossWeights).toBeUndefined();
    expect(cardProblems(changed)).toEqual([]);
    expect(withValues(combined, { beta: 0.2 }).values.lossWeights).toEqual([1, 0.5]);
  });

  it('card ids never contain "/" (they name download files and store keys)', () => {
    expect(cardKey(newCard('dpo', { lossType: ['sigmoid', 'ipo'], lossWeights: [1, 0.5] }))).toBe('dpo-sigmoid-ipo-0.1-0-0.05-1-0.5');
  });

  it('a saved card with an old loss-type name comes back under the current one', () => {
    expect(cardFromSaved({ id: 'x', method: 'dpo', values: { lossType: 'aot_pair', beta: 0.1 } })!.values.lossType).toBe('aot_unpaired');
  });

  it('the URL says when it carries a whole configuration (runs=), which the page reads over the defaults', () => {
    expect(decodeConfig('?runs=dpo:sigmoid:0.1&opt=sgd').hasRuns).toBe(true);
    expect(decodeConfig('?lr=0.001').hasRuns).toBeUndefined();
  });

  it('typo bounds apply to input, not to a run that already happened', () => {
    const old = { ...TRAIN_DEFAULTS, objective: { method: 'dpo' as const }, evalFraction: 0.6, steps: 2_000_000 };
    expect(trainConfigProblems(old).map((p) => p.field).sort()).toEqual(['evalFraction', 'steps']);
    expect(() => validateTrainConfig(old)).not.toThrow();
    expect(() => validateTrainConfig({ ...old, evalFraction: 1 })).toThrow(/evalFraction must be in \[0, 1\)/);
  });

  it('export-trl takes an old run.json whose settings the form would now refuse', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-review-'));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      expect(await main(['init', '--preset', 'tiny', '--seed', '3', '--out', join(dir, 'm')])).toBe(0);
      await writeFile(join(dir, 'p.jsonl'), Array.from({ length: 6 }, (_, i) => JSON.stringify({ prompt: `q${i}`, chosen: `a${i}`, rejected: `b${i}` })).join('\n') + '\n');
      const config = { ...TRAIN_DEFAULTS, objective: { method: 'orpo', beta: 0.1 }, evalFraction: 0.6, steps: 2_000_000 };
      await writeFile(join(dir, 'run.json'), JSON.stringify({ model: join(dir, 'm'), pairs: join(dir, 'p.jsonl'), config, max_length: 32, max_prompt_length: 8 }));
      expect(await main(['export-trl', '--run', dir, '--out', join(dir, 'trl')])).toBe(0);
      expect(await readFile(join(dir, 'trl', 'train.py'), 'utf8')).toContain('    max_steps=2000000,');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('train refuses a max prompt length that leaves no completion token, as the page does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-review-'));
    vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await main(['init', '--preset', 'tiny', '--seed', '3', '--out', join(dir, 'm')])).toBe(0);
      const train = (...a: string[]) => main(['train', '--model', join(dir, 'm'), '--pairs', 'tests/fixtures/data/standard.jsonl', '--out', join(dir, 'o'), ...a]);
      await expect(train('--max-length', '32', '--max-prompt-length', '32')).rejects.toThrow(/--max-prompt-length must be < the max length \(32\)/);
      await expect(train('--max-length', '100')).rejects.toThrow(/--max-length must be ≤ the model's n_positions \(64\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
