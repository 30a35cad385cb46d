// Progress of a pass over the whole data set: the text the CLI prints and the page shows, the
// clock that throttles reports (at most one per interval, the last one when it matters), and the
// reducer that turns progress events into the page's progress bar.
import { describe, it, expect } from 'vitest';
import { checkCancelled, PassCancelled, ProgressClock, progressText, subPass, type TimedProgress } from '../../src/train/progress';
import { reduceEvents, type EventState } from '../../src/store/events';

describe('pass progress', () => {
  it('reads "2,048 / 10,000 pairs (20 %), 14 s, ~55 s left"', () => {
    expect(progressText({ phase: 'reference', unit: 'pairs', done: 2048, total: 10_000, seconds: 14.2, etaSeconds: 55.3 })).toBe('2,048 / 10,000 pairs (20 %), 14 s, ~55 s left');
    expect(progressText({ phase: 'eval', unit: 'examples', done: 10, total: 10, seconds: 125, etaSeconds: 0 })).toBe('10 / 10 examples (100 %), 2 min 5 s');
    expect(progressText({ phase: 'logps', unit: 'pairs', done: 1, total: 1_000_000, seconds: 0.4, etaSeconds: 400_000 })).toBe('1 / 1,000,000 pairs (0 %), 0 s, ~111 h 7 min left');
  });

  it('hands on at most one report per interval, and the last one after an earlier one or a long pass', () => {
    let t = 0;
    const got: TimedProgress[] = [];
    const clock = new ProgressClock(1000, (p) => got.push(p), [], () => t);
    const pass = (total: number, step: number, msPerBatch: number) => {
      for (let done = 0; done <= total; done += step) {
        clock.report({ phase: 'reference', unit: 'pairs', done, total });
        t += msPerBatch;
      }
    };
    pass(100, 10, 250); // 2.5 s: reports at 1 s and 2 s, then the last
    expect(got.map((p) => [p.done, p.seconds])).toEqual([[40, 1], [80, 2], [100, 2.5]]);
    expect(got[0].etaSeconds).toBeCloseTo(1.5);
    got.length = 0;
    pass(100, 50, 10); // a short pass says nothing
    expect(got).toEqual([]);
    const always = new ProgressClock(1000, (p) => got.push(p), ['reference'], () => t);
    for (const done of [0, 50, 100]) always.report({ phase: 'reference', unit: 'pairs', done, total: 100 });
    expect(got.map((p) => p.done)).toEqual([100]);
  });

  it('a sub-pass reports within the whole pass; a cancel flag stops between batches', () => {
    const seen: number[] = [];
    let stop = false;
    const hooks = { progress: (p: { done: number; total: number }) => seen.push(p.done, p.total), cancelled: () => stop };
    subPass(hooks, 8, 10)!.progress!({ done: 2, total: 2 });
    expect(seen).toEqual([10, 10]);
    expect(() => checkCancelled(hooks)).not.toThrow();
    stop = true;
    expect(() => checkCancelled(subPass(hooks, 0, 10))).toThrow(PassCancelled);
  });

  it('the page shows the pass in progress and hides it at its end, on idle, or when no runs are left', () => {
    const s0: EventState = {
      runs: [{ id: 'a', label: 'DPO', color: '#000', status: 'queued', step: 0, total: 4, checkpointStep: 0, train: [], eval: [] }],
      pairs: null,
      phase: 'reference',
      phaseMessage: '',
      trainPairs: null,
      evalPairs: null,
      gpuNotice: null,
      gpu: { state: 'checking' },
    };
    const p = { phase: 'reference' as const, unit: 'pairs' as const, done: 2, total: 8, seconds: 1, etaSeconds: 3 };
    const s1 = reduceEvents(s0, [{ type: 'progress', progress: p }]);
    expect(s1.progress).toEqual({ ...p, runId: undefined });
    expect(reduceEvents(s1, [{ type: 'progress', runId: 'a', progress: { ...p, done: 8 } }]).progress).toBeNull();
    expect(reduceEvents(s1, [{ type: 'session', phase: 'idle', message: 'Cancelled' }]).progress).toBeNull();
    expect(reduceEvents({ ...s0, runs: [] }, [{ type: 'progress', progress: p }]).progress).toBeUndefined();
  });
});
