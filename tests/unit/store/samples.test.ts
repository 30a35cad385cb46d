// Samples over time and length on the page: the reducer's updates, the step × run table, the
// length curves and the length-growth note; KTO's kl note; the setting in the validator and the URL.
import { describe, expect, it } from 'vitest';
import { addSamples, lengthGrowthNote, lengthRows, meanTokens, repeats, rewindSamples, samplesTable, LENGTH_KEYS } from '../../../src/store/samples';
import { klNote } from '../../../src/store/kl-note';
import { reduceEvents, type EventState, type RunView } from '../../../src/store/events';
import { decodeConfig, encodeConfig } from '../../../src/store/url';
import { DEFAULT_SETTINGS, settingsProblems } from '../../../src/store/settings';
import { isSampleStep, type SamplesAtStep } from '../../../src/onnx/timed-samples';

const at = (step: number, tokens: number[], completions = tokens.map((n) => Array.from({ length: n }, (_, i) => String.fromCharCode(97 + i)).join('')), data = { chosen: 6, rejected: 3 }): SamplesAtStep => ({
  step,
  prompts: tokens.map((_, i) => `p${i}`),
  judge: { name: 'reference', description: 'closer to chosen' },
  completions,
  tokens,
  scores: tokens.map(() => 1),
  reasons: tokens.map(() => 'ok'),
  data,
});

describe('samples over time', () => {
  it('isSampleStep: step 0, every N, and the last', () => {
    expect([0, 1, 2, 3, 4, 5].filter((s) => isSampleStep(s, 2, 5))).toEqual([0, 2, 4, 5]);
    expect(isSampleStep(0, 0, 5)).toBe(false);
  });

  it('keeps samples in step order, replaces a step, and drops those after a rewind', () => {
    let list = addSamples(undefined, at(2, [3]));
    list = addSamples(list, at(0, [1]));
    list = addSamples(list, at(2, [4]));
    expect(list.map((s) => [s.step, s.tokens[0]])).toEqual([[0, 1], [2, 4]]);
    expect(rewindSamples(list, 0).samples!.map((s) => s.step)).toEqual([0]);
    expect(rewindSamples(undefined, 0)).toEqual({});
  });

  it('a step × run table over every sampled step', () => {
    const rows = samplesTable([
      { id: 'a', label: 'DPO', samples: [at(0, [1]), at(2, [2])] },
      { id: 'b', label: 'KTO', samples: [at(0, [1]), at(4, [5])] },
    ]);
    expect(rows.map((r) => [r.step, r.cells.map((c) => c?.tokens[0] ?? null)])).toEqual([
      [0, [1, 1]],
      [2, [2, null]],
      [4, [null, 5]],
    ]);
  });

  it('length curves: mean sample tokens and the data’s chosen − rejected gap', () => {
    expect(meanTokens(at(0, [2, 4]))).toBe(3);
    expect(lengthRows([at(0, [2, 4]), at(2, [6, 6])])).toEqual([
      { step: 0, [LENGTH_KEYS.samples]: 3, [LENGTH_KEYS.gap]: 3 },
      { step: 2, [LENGTH_KEYS.samples]: 6, [LENGTH_KEYS.gap]: 3 },
    ]);
  });

  it('notes steady growth only', () => {
    const grow = [at(0, [4, 4]), at(2, [5, 6]), at(4, [8, 8]), at(6, [12, 40], ['a b', 'hi hi hi hi '])];
    const note = lengthGrowthNote('DPO', grow, 40)!;
    expect(note).toMatch(/^DPO: its greedy samples grew from 4 tokens to 26 tokens \(mean over the prompts\) between steps 0 and 6, and some now run to the 40-token limit and some repeat themselves: a sign of length exploitation\./);
    expect(note).toMatch(/chosen answers are longer than the rejected ones by 3 tokens on average/);
    // too few points, a drop in the middle, or too little growth: no note
    expect(lengthGrowthNote('DPO', grow.slice(0, 3), 40)).toBeNull();
    expect(lengthGrowthNote('DPO', [at(0, [4]), at(2, [9]), at(4, [5]), at(6, [8]), at(8, [6])], 40)).toBeNull();
    expect(lengthGrowthNote('DPO', [at(0, [10]), at(2, [11]), at(4, [11]), at(6, [12])], 40)).toBeNull();
    // one drop in five changes is still steady
    expect(lengthGrowthNote('ORPO', [at(0, [4]), at(2, [6]), at(4, [5]), at(6, [8]), at(8, [9]), at(10, [12])])).toMatch(/^ORPO: .* from 4 tokens to 12 tokens/);
    expect(repeats('ok')).toBe(false);
    expect(repeats('abcabcabc')).toBe(true);
  });

  it('the reducer keeps samples and the NaN report on the run; a rewind to a snapshot keeps its samples', () => {
    const run: RunView = { id: 'a', label: 'DPO', color: '#000', status: 'running', step: 4, total: 6, checkpointStep: 0, train: [], eval: [] };
    const s0: EventState = { runs: [run], pairs: null, phase: 'training', phaseMessage: '', trainPairs: 1, evalPairs: 0, gpuNotice: null, gpu: { state: 'checking' } };
    let s = reduceEvents(s0, [
      { type: 'samples', runId: 'a', at: at(0, [1]) },
      { type: 'samples', runId: 'a', at: at(2, [2]) },
      { type: 'samples', runId: 'a', at: at(4, [3]) },
    ]);
    expect(s.runs[0].samples!.map((x) => x.step)).toEqual([0, 2, 4]);
    s = reduceEvents(s, [{ type: 'rewind', runId: 'a', step: 0, resumedAt: 2 }]);
    expect(s.runs[0].samples!.map((x) => x.step)).toEqual([0, 2]);
    s = reduceEvents(s, [{ type: 'nan-report', runId: 'a', report: { step: 3, method: 'orpo', quantity: 'loss', message: 'm', explanation: ['e'], examples: [] } }]);
    expect(s.runs[0].nan?.step).toBe(3);
  });

  it('Samples every: a setting the validator checks and the URL carries', () => {
    expect(settingsProblems({ ...DEFAULT_SETTINGS, sampleEvery: -1 })).toEqual(['Samples every must be a whole number ≥ 0, got -1']);
    const q = encodeConfig([], { ...DEFAULT_SETTINGS, sampleEvery: 5 }, null);
    expect(q).toMatch(/&samples=5/);
    expect(decodeConfig(q).settings?.sampleEvery).toBe(5);
    expect(encodeConfig([], DEFAULT_SETTINGS, null)).not.toMatch(/samples=/);
    const { sampleEvery: _, ...old } = DEFAULT_SETTINGS; // settings saved before the key existed
    expect(encodeConfig([], old, null)).not.toMatch(/samples=/);
    expect(decodeConfig('?samples=2.5').problems).toEqual(['samples: Samples every must be a whole number ≥ 0, got 2.5']);
  });
});

describe('KTO kl note', () => {
  const rows = (kl: number[]) => kl.map((v, i) => ({ step: i + 1, kl: v, loss: 0.5 }));
  it('says why kl is 0', () => {
    expect(klNote('DPO', [{ step: 1, loss: 1 }])).toBeNull();
    expect(klNote('KTO', rows([0]))).toMatch(/0 at step 1, as it must be: the policy still equals the reference/);
    expect(klNote('KTO', rows([0, 0, 0]))).toMatch(/0 at all 3 steps\. The clamp max\(0, ·\) holds it there/);
    expect(klNote('KTO', rows([0, 0.2]))).toBeNull();
    expect(klNote('KTO', rows([0, 0.2]), { lossType: 'apo_zero_unpaired' })).toMatch(/no KL term/);
    expect(klNote('KTO', rows([0.3]), { batchSize: 1 })).toMatch(/batch size 1 .* TRL refuses batch size 1/);
  });
});
