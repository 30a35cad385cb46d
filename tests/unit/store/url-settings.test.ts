// Junk in a link or a form field is refused by the one validator (src/train/config.ts), said in
// words naming the key or the field, and never stored: the saved or default value stays.
import { describe, it, expect } from 'vitest';
import { createStore } from 'zustand/vanilla';
import { applyUrlSettings, decodeConfig, encodeConfig } from '../../../src/store/url';
import { applySettings, DEFAULT_SETTINGS, settingsProblems } from '../../../src/store/settings';
import { createConfigSlice, type ConfigSlice } from '../../../src/store/config';
import { CONFIG_LIMITS, decimalNumber, trainConfigProblems } from '../../../src/train/config';
import type { AppState } from '../../../src/store/index';

describe('the validator bounds values that can only be mistakes', () => {
  const problems = (patch: object) => trainConfigProblems({ ...DEFAULT_SETTINGS, ...patch }).map((p) => p.message);

  it('caps steps, batch size, gradient accumulation, intervals, seed, lr and eps', () => {
    expect(CONFIG_LIMITS).toMatchObject({ steps: 1_000_000, batchSize: 4096, lr: 1, seed: 2 ** 32 - 1 });
    expect(problems({ steps: 1_000_000, batchSize: 4096, lr: 1, seed: 2 ** 32 - 1 })).toEqual([]);
    expect(problems({ steps: 1e20 })).toEqual(['steps must be ≤ 1000000 (a day of updates at the fastest rates here), got 100000000000000000000']);
    expect(problems({ steps: -1 })).toEqual(['steps must be a whole number ≥ 1, got -1']);
    expect(problems({ batchSize: 99999 })[0]).toMatch(/^batchSize must be ≤ 4096 .*got 99999$/);
    expect(problems({ gradAccum: 1e6 })[0]).toMatch(/^gradAccum must be ≤ 4096/);
    expect(problems({ warmupSteps: 2e6, evalEvery: 2e6, checkpointEvery: 2e6 }).map((m) => m.split(' ')[0])).toEqual(['warmupSteps', 'evalEvery', 'checkpointEvery']);
    expect(problems({ seed: 2 ** 32 })[0]).toMatch(/^seed must be ≤ 4294967295/);
    expect(problems({ lr: 1e99 })).toEqual(['lr must be ≤ 1 (Adam moves every weight by about lr per update), got 1e+99']);
    expect(problems({ eps: 2 })[0]).toMatch(/^eps must be ≤ 1/);
  });

  it('weight decay that erases the weights, an eval split with nothing left to train on', () => {
    expect(problems({ lr: 0.5, weightDecay: 2 })[0]).toMatch(/^weightDecay must be < 1 \/ lr \(2\)/);
    expect(problems({ lr: 0.5, weightDecay: 1.9 })).toEqual([]);
    expect(problems({ evalFraction: 0.99 })).toEqual(['evalFraction must be between 0 and 0.5, got 0.99']);
    expect(problems({ evalFraction: 0.5 })).toEqual([]);
    expect(problems({ evalFraction: 0.5, examples: 1 })).toEqual(['evalFraction must leave at least one of the 1 examples for training, got 0.5']);
    expect(problems({ evalFraction: 0.5, examples: 2 })).toEqual([]); // the split keeps one to train on
    expect(problems({ evalFraction: 0.4, examples: 1 })).toEqual([]); // rounds to no eval pair
  });

  it('max length: ≤ n_positions when the model is known, a bound for any model otherwise', () => {
    expect(problems({ maxLength: 1e9 })[0]).toMatch(/^maxLength must be ≤ 65536 .*got 1000000000$/);
    expect(problems({ maxLength: 200, nPositions: 128 })).toEqual(["maxLength must be ≤ the model's n_positions (128), got 200"]);
    expect(problems({ maxLength: 4096, nPositions: 100_000 })).toEqual([]);
    expect(problems({ maxLength: 64, maxPromptLength: 64 })[0]).toMatch(/^maxPromptLength must be < the max length \(64\)/);
    expect(problems({ maxPromptLength: 128, nPositions: 128 })[0]).toMatch(/^maxPromptLength must be < the model's n_positions \(128\)/);
    expect(problems({ maxPromptLength: 1e9 })[0]).toMatch(/^maxPromptLength must be ≤ 65535/);
  });

  it('decimal numbers only', () => {
    expect(['1', '-1', '+2.5', '.5', '5.', '5e-4', '1E3', ' 7 '].map(decimalNumber)).toEqual([1, -1, 2.5, 0.5, 5, 5e-4, 1000, 7]);
    expect(['0x10', '0b1', '0o7', '', ' ', 'Infinity', '1e999', '1_000', '1,5', 'e5', '--1'].map(decimalNumber)).toEqual(Array(11).fill(null));
  });
});

describe('URL settings', () => {
  it('refuses junk by key, keeps the rest, and encodes no junk back', () => {
    const r = decodeConfig('?lr=1e99&bs=99999&eval=0.99&maxlen=1e9&steps=-1&seed=7');
    expect(r.settings).toEqual({ seed: 7 });
    expect(r.problems).toEqual([
      'steps: Steps must be a whole number ≥ 1, got -1',
      'bs: Batch size must be ≤ 4096 (pairs per micro-batch; use gradient accumulation for more), got 99999',
      'lr: Learning rate must be ≤ 1 (Adam moves every weight by about lr per update), got 1e+99',
      'eval: Eval fraction must be between 0 and 0.5, got 0.99',
      'maxlen: Max length must be ≤ 65536 (longer than any model takes), got 1000000000',
    ]);
    const q = encodeConfig([], { ...DEFAULT_SETTINGS, ...r.settings }, null);
    expect(q).toBe(`?runs=&lr=0.0005&steps=${DEFAULT_SETTINGS.steps}&bs=4&seed=7&eval=0.1`);
  });

  it('a bad run token is reported at decode, and the saved or default cards stay', () => {
    const r = decodeConfig('?runs=orpo:-5&steps=2');
    expect(r.cards).toBeUndefined();
    expect(r.settings).toEqual({ steps: 2 });
    expect(r.problems).toEqual(['runs: "orpo:-5": orpo: option beta must be > 0, got -5']);
  });

  it('hex, empty and non-numeric values are not numbers; a bad maxlen keeps the saved one', () => {
    expect(decodeConfig('?lr=0x10&steps=&maxlen=abc&maxprompt=0b11').problems).toEqual(['lr: "0x10" is not a number', 'steps: "" is not a number', 'maxlen: "abc" is not a number', 'maxprompt: "0b11" is not a number']);
    expect(decodeConfig('?maxlen=abc').settings).toBeUndefined();
    expect(decodeConfig('?maxlen=48&maxprompt=16').settings).toEqual({ maxLength: 48, maxPromptLength: 16 });
  });

  it('over the saved settings: a refused value keeps the saved one; a clash is refused on the URL side', () => {
    const saved = { ...DEFAULT_SETTINGS, batchSize: 8, weightDecay: 0.1 };
    const r = applyUrlSettings(saved, { batchSize: 99999, steps: 5, optimizer: 'sgd' });
    expect([r.settings.batchSize, r.settings.steps, r.settings.optimizer, r.settings.weightDecay]).toEqual([8, 5, 'adamw', 0.1]);
    expect(r.problems).toEqual([expect.stringMatching(/^bs: Batch size must be ≤ 4096/), 'opt: Weight decay applies to adamw only: SGD here has no weight decay (got 0.1)']);
    expect(settingsProblems(r.settings)).toEqual([]);
    const lengths = applyUrlSettings(DEFAULT_SETTINGS, { maxLength: 500 }, { nPositions: 128 });
    expect([lengths.settings.maxLength, lengths.problems]).toEqual([null, ["maxlen: Max length must be ≤ the model's n_positions (128), got 500"]]);
  });

  it('junk saved by an older page falls back to the defaults', () => {
    const { settings, refused } = applySettings(DEFAULT_SETTINGS, { batchSize: 99999, lr: 1e99, steps: 30, maxLength: 1e9, schedule: 'weekly' as never });
    expect(settings).toEqual({ ...DEFAULT_SETTINGS, steps: 30 });
    expect(refused.map((r) => r.key).sort()).toEqual(['batchSize', 'lr', 'maxLength', 'schedule']);
  });
});

describe('the store never holds an invalid setting', () => {
  function store(nPositions?: number, accepted?: number) {
    const inspected: number[] = [];
    const s = createStore<AppState>()((set, get, api) => ({
      ...createConfigSlice(set, get, api),
      model: { info: nPositions ? { nPositions } : null },
      data: { result: accepted === undefined ? null : { report: { accepted } } },
      inspectData: async () => void inspected.push(get().settings.maxLength ?? 0),
    }) as unknown as AppState);
    return { s, inspected, update: (p: Parameters<ConfigSlice['updateSettings']>[0]) => s.getState().updateSettings(p) };
  }

  it('keeps the last valid value and returns the refusal in the form’s words', () => {
    const { s, update } = store();
    expect(update({ batchSize: 16 })).toEqual([]);
    expect(update({ batchSize: 99999 })).toEqual([{ key: 'batchSize', message: expect.stringMatching(/^Batch size must be ≤ 4096/) }]);
    expect(update({ steps: -1, seed: 3 }).map((r) => r.key)).toEqual(['steps']);
    expect(s.getState().settings).toEqual({ ...DEFAULT_SETTINGS, batchSize: 16, seed: 3 });
  });

  it('checks the max length against the loaded model, and the eval split against the data', () => {
    const { s, update, inspected } = store(128, 1);
    expect(update({ maxLength: 500 })).toEqual([{ key: 'maxLength', message: "Max length must be ≤ the model's n_positions (128), got 500" }]);
    expect(inspected).toEqual([]);
    expect(update({ maxLength: 100 })).toEqual([]);
    expect(inspected).toEqual([100]);
    expect(update({ evalFraction: 0.5 })[0].message).toBe('Eval fraction must leave at least one of the 1 examples for training, got 0.5');
    expect(s.getState().settings).toMatchObject({ maxLength: 100, evalFraction: DEFAULT_SETTINGS.evalFraction });
  });
});
