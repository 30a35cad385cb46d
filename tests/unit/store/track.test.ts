// Tracked pairs in the page's state (src/store/track.ts through reduceEvents): the start with its
// token texts and CHES, each run's points in step order with the latest per-token values, a rewind
// dropping later points, a resumed comparison keeping the points so far, a new one starting clean.
import { describe, it, expect } from 'vitest';
import { reduceEvents, type EventState } from '../../../src/store/events';
import type { TrackPoint } from '../../../src/train/pair-track';
import type { EngineEvent } from '../../../src/worker/protocol';

const state = (): EventState => ({
  runs: [{ id: 'a', label: 'DPO', color: '#000', status: 'running', step: 0, total: 4, checkpointStep: 0, train: [], eval: [] }],
  pairs: null,
  phase: 'training',
  phaseMessage: '',
  trainPairs: null,
  evalPairs: null,
  gpuNotice: null,
  gpu: { state: 'checking' },
});

const point = (step: number, d: number): TrackPoint => ({ step, chosen: [-3 + d, -4 + d], rejected: [-5, -6], chosenTokens: [[-1 + d, -2], [-4 + d]], rejectedTokens: [[-5], [-3, -3]] });
const meta = (index: number) => ({ index, line: index + 1, prompt: 'p', chosen: 'c', rejected: 'r' });
const start = (indices = [0, 1, 2]): EngineEvent => ({
  type: 'pairs-start',
  pairs: indices.map(meta),
  chosen: [-1, -2, -3],
  rejected: [-2, -3, -4],
  track: { every: 2, start: point(0, 0), pieces: { chosen: [['a', 'b'], ['c']], rejected: [['d'], ['e', 'f']] } },
  ches: [{ ches: 1, normalized: 0.5 }, { ches: -1, normalized: -0.5 }, { ches: 0, normalized: 0 }],
});

describe('tracked pairs in the reducer', () => {
  it('keeps the start, adds points in step order, and a rewind drops later points and the latest tokens', () => {
    let s = reduceEvents(state(), [start(), { type: 'pairs-track', runId: 'a', point: point(2, -0.1) }, { type: 'pairs-track', runId: 'a', point: point(4, -0.2) }]);
    const t = s.pairs!.track!;
    expect(t.indices).toEqual([0, 1]);
    expect(t.every).toBe(2);
    expect(s.pairs!.ches![0]).toEqual({ ches: 1, normalized: 0.5 });
    expect(t.runs.a.points.map((p) => p.step)).toEqual([2, 4]);
    expect(t.runs.a.latest!.chosenTokens[0][0]).toBeCloseTo(-1.2, 12);
    s = reduceEvents(s, [{ type: 'rewind', runId: 'a', step: 2 }]);
    expect(s.pairs!.track!.runs.a.points.map((p) => p.step)).toEqual([2]);
    expect(s.pairs!.track!.runs.a.latest).toBeNull();
    // a point again at a step it has replaces it
    s = reduceEvents(s, [{ type: 'pairs-track', runId: 'a', point: point(2, -0.5) }, { type: 'pairs-track', runId: 'a', point: point(4, -0.6) }]);
    expect(s.pairs!.track!.runs.a.points.map((p) => [p.step, p.chosen[0]])).toEqual([[2, -3.5], [4, -3.6]]);
  });

  it('a resumed comparison (same pairs) keeps the points; other pairs start clean', () => {
    const s = reduceEvents(state(), [start(), { type: 'pairs-track', runId: 'a', point: point(2, -0.1) }]);
    expect(reduceEvents(s, [start()]).pairs!.track!.runs.a.points).toHaveLength(1);
    expect(reduceEvents(s, [start([5, 6, 7])]).pairs!.track!.runs).toEqual({});
  });
});
