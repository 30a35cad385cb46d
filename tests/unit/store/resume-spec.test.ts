// A comparison resumed after a page reload (src/store/runs.ts revive, src/store/presets.ts resumedSpecs): the engine gets each run's
// ended status from the page (RunSpec.ended), so a run the user stopped, a finished run and a
// failed one stay so (tests/gpu/session-stages.test.ts: the engine keeps them); runs that were
// going (paused by the reload) train on.
import { describe, it, expect } from 'vitest';
import { newCard, resumedSpecs } from '../../../src/store/presets';
import type { RunStatus } from '../../../src/worker/protocol';

describe('resumedSpecs', () => {
  it('carries done, stopped and failed; paused and queued runs carry nothing', () => {
    const cards = [newCard('sft', {}, 'sft'), newCard('reward', {}, 'reward'), newCard('ppo', {}, 'ppo'), newCard('dpo', {}, 'dpo'), newCard('orpo', {}, 'orpo')];
    const specs0 = cards.map((c) => ({ id: c.id, label: c.id, objective: { method: c.method } }));
    const runs: { id: string; status: RunStatus }[] = [
      { id: 'sft', status: 'done' },
      { id: 'reward', status: 'stopped' },
      { id: 'ppo', status: 'paused' },
      { id: 'dpo', status: 'failed' },
      { id: 'orpo', status: 'queued' },
    ];
    const specs = resumedSpecs(specs0, runs);
    expect(specs.map((s) => [s.id, s.ended])).toEqual([['sft', 'done'], ['reward', 'stopped'], ['ppo', undefined], ['dpo', 'failed'], ['orpo', undefined]]);
    expect(specs.map((s) => 'ended' in s)).toEqual([true, true, false, true, false]);
    // otherwise the specs of a new Start
    expect(specs.map(({ ended: _e, ...s }) => s)).toEqual(specs0);
  });
});
