// Engine events -> runs state: metrics split into train and eval rows, a rewind drops the rows
// after the checkpoint, pair tables and notices land where the page reads them.
import { describe, it, expect } from 'vitest';
import { reduceEvents, type EventState } from '../../../src/store/events';

const empty = (): EventState => ({
  runs: [
    { id: 'a', label: 'DPO', color: '#000', status: 'queued', step: 0, total: 4, checkpointStep: 0, train: [], eval: [] },
    { id: 'b', label: 'ORPO', color: '#111', status: 'queued', step: 0, total: 4, checkpointStep: 0, train: [], eval: [] },
  ],
  pairs: null,
  phase: 'idle',
  phaseMessage: '',
  trainPairs: null,
  evalPairs: null,
  gpuNotice: null,
  gpu: { state: 'checking' },
});

describe('reduceEvents', () => {
  it('appends train and eval rows per run and keeps other runs untouched', () => {
    const s0 = empty();
    const s1 = reduceEvents(s0, [
      { type: 'metrics', runId: 'a', rows: [{ loss: 1, step: 1 }, { eval_loss: 2, step: 1, epoch: 0.5 }] },
      { type: 'metrics', runId: 'a', rows: [{ loss: 0.5, step: 2 }] },
      { type: 'run', runId: 'a', status: 'running', step: 2, total: 4, checkpointStep: 0, tokensPerSecond: 10, etaSeconds: 3 },
    ]);
    expect(s1.runs[0].train.map((m) => m.step)).toEqual([1, 2]);
    expect(s1.runs[0].eval).toEqual([{ eval_loss: 2, step: 1, epoch: 0.5 }]);
    expect(s1.runs[0]).toMatchObject({ status: 'running', step: 2, tokensPerSecond: 10, etaSeconds: 3 });
    expect(s1.runs[1]).toBe(s0.runs[1]);
    expect(s0.runs[0].train).toEqual([]);
  });

  it('rewinds to a checkpoint', () => {
    const s1 = reduceEvents(empty(), [{ type: 'metrics', runId: 'b', rows: [1, 2, 3, 4].flatMap((step): Array<Record<string, number>> => [{ loss: step, step }, { eval_loss: step, step }]) }]);
    const s2 = reduceEvents(s1, [{ type: 'rewind', runId: 'b', step: 2 }]);
    expect(s2.runs[1].train.map((m) => m.step)).toEqual([1, 2]);
    expect(s2.runs[1].eval.map((m) => m.step)).toEqual([1, 2]);
    expect(s2.runs[1].step).toBe(2);
  });

  it('records the session phase, pair tables, the GPU status and engine notices', () => {
    const s = reduceEvents(empty(), [
      { type: 'session', phase: 'training', message: '2 runs', trainPairs: 8, evalPairs: 2 },
      { type: 'pairs-start', pairs: [{ index: 0, line: 1, prompt: 'p', chosen: 'c', rejected: 'r' }], chosen: [-1], rejected: [-2] },
      { type: 'pairs-run', runId: 'a', step: 4, chosen: [-0.5], rejected: [-3] },
      { type: 'notice', cause: 'device-lost', message: 'lost' },
      { type: 'gpu', status: { state: 'lost', reason: 'destroyed' } },
    ]);
    expect(s).toMatchObject({ phase: 'training', phaseMessage: '2 runs', trainPairs: 8, evalPairs: 2, gpuNotice: { cause: 'device-lost', message: 'lost' }, gpu: { state: 'lost' } });
    expect(s.pairs!.runs.a).toEqual({ step: 4, chosen: [-0.5], rejected: [-3] });
    expect(reduceEvents(s, [{ type: 'notice', cause: null, message: null }]).gpuNotice).toBeNull();
  });

  it('returns the same state when nothing changed', () => {
    const s = empty();
    expect(reduceEvents(s, [])).toBe(s);
  });
});
