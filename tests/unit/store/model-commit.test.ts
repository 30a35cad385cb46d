// A saved comparison's Hub model against the model loaded now (src/store/model-commit.ts, used by
// Resume in src/store/runs.ts and by src/ui/saved-session.ts): the same repository at the commit
// the comparison ran on passes whatever the ref says; another commit (the branch moved on, or
// another one pinned) is refused naming both commits and the pinned id that loads the old one;
// anything else is left to the refs' comparison.
import { describe, expect, it, vi } from 'vitest';
import { create } from 'zustand';
import { hubCommitCheck } from '../../../src/store/model-commit';
import { createRunsSlice, type SessionView } from '../../../src/store/runs';
import { savedSessionSpec } from '../../../src/ui/saved-session';
import type { AppState } from '../../../src/store';

// the store's modules read the build's asset list (vite.config.ts), which a unit test has not
vi.mock('virtual:prefplay-assets', () => ({ default: { datasets: [], builtinModel: [] } }));

const A = 'a1b2c3d4e5f6'.padEnd(40, '0');
const B = 'b'.repeat(40);
const hub = (id: string) => ({ kind: 'hub' as const, id });

describe('hubCommitCheck', () => {
  it('the branch moved to another commit: refused, naming both commits and ORG/NAME@COMMIT', () => {
    const r = hubCommitCheck({ modelRef: hub('org/m'), modelCommit: A }, { ref: hub('org/m'), info: { commit: B } });
    expect(r).toEqual({
      moved: `this comparison ran on org/m at commit a1b2c3d4e5f6, and the model loaded now is at commit bbbbbbbbbbbb (its revision main moved on since): its runs would go on from other base weights. Load org/m@${A} (Model tab), the model pinned at the commit it ran on`,
    });
    // Resume's message (src/store/runs.ts revive) ends with the other way out
    expect(`${(r as { moved: string }).moved}, or start a new comparison`).toMatch(/^this comparison ran on org\/m at commit a1b2c3d4e5f6, .* Load org\/m@a1b2c3d4e5f60{28} \(Model tab\), the model pinned at the commit it ran on, or start a new comparison$/);
    // another commit pinned: the same refusal, without saying a revision moved
    const pinned = hubCommitCheck({ modelRef: hub('org/m@v1'), modelCommit: A }, { ref: hub(`org/m@${B}`), info: { commit: B } });
    expect(pinned).toEqual({ moved: expect.stringMatching(/^this comparison ran on org\/m at commit a1b2c3d4e5f6, and the model loaded now is at commit bbbbbbbbbbbb: its runs/) });
  });

  it('the commit it ran on: the same weights, through the branch or pinned', () => {
    expect(hubCommitCheck({ modelRef: hub('org/m'), modelCommit: A }, { ref: hub('org/m'), info: { commit: A } })).toBe('same');
    expect(hubCommitCheck({ modelRef: hub('org/m'), modelCommit: A }, { ref: hub(`org/m@${A}`), info: { commit: A } })).toBe('same');
    expect(hubCommitCheck({ modelRef: hub('org/m@dev'), modelCommit: A }, { ref: hub('hf:org/m'), info: { commit: A } })).toBe('same');
  });

  it('leaves other cases to the refs: no commit saved (older saves), another repository, not a Hub model', () => {
    expect(hubCommitCheck({ modelRef: hub('org/m') }, { ref: hub('org/m'), info: { commit: B } })).toBeNull();
    expect(hubCommitCheck({ modelRef: hub('org/m'), modelCommit: A }, { ref: hub('org/other'), info: { commit: B } })).toBeNull();
    expect(hubCommitCheck({ modelRef: hub('org/m'), modelCommit: A }, { ref: { kind: 'builtin' }, info: {} })).toBeNull();
    expect(hubCommitCheck({ modelRef: { kind: 'builtin' } }, { ref: { kind: 'builtin' }, info: {} })).toBeNull();
    expect(hubCommitCheck({ modelRef: hub('org/m'), modelCommit: A }, { ref: hub('org/m'), info: null })).toBeNull();
  });
});

describe('Resume and the saved comparison refuse a Hub model at another commit', () => {
  const session = (commit?: string): SessionView =>
    ({ id: 's1', settings: {}, cards: [], data: { name: 'pairs.jsonl', size: 3 }, modelRef: hub('org/m'), ...(commit ? { modelCommit: commit } : {}), startedAt: 0, live: false }) as unknown as SessionView;
  const state = (saved: SessionView, ref: ReturnType<typeof hub>, commit: string) => ({
    session: saved,
    model: { ref, status: 'ready' as const, info: { commit } as AppState['model']['info'], error: null },
    data: { blob: new Blob(['abc']), source: { kind: 'upload', name: 'pairs.jsonl', size: 3 }, format: 'auto' },
    adapter: { status: 'idle', info: null, source: null, error: null },
  });
  const moved = `this comparison ran on org/m at commit a1b2c3d4e5f6, and the model loaded now is at commit bbbbbbbbbbbb (its revision main moved on since): its runs would go on from other base weights. Load org/m@${A} (Model tab), the model pinned at the commit it ran on`;

  it('savedSessionSpec (samples, exports after a reload)', () => {
    const s = (ref: ReturnType<typeof hub>, commit: string, saved = session(A)) => savedSessionSpec(state(saved, ref, commit) as unknown as Parameters<typeof savedSessionSpec>[0]);
    expect(() => s(hub('org/m'), B)).toThrow(moved);
    expect(s(hub('org/m'), A)).toMatchObject({ sessionId: 's1', resume: true });
    expect(s(hub(`org/m@${A}`), A)).toMatchObject({ sessionId: 's1', resume: true });
    // a comparison saved before commits were recorded: the refs decide, as before
    expect(s(hub('org/m'), B, session())).toMatchObject({ sessionId: 's1' });
    expect(() => s(hub(`org/m@${A}`), A, session())).toThrow(/^the model changed since this comparison ran/);
  });

  it('Resume after a reload says why and what to do', async () => {
    const store = create<AppState>()((set, get, api) => ({ ...createRunsSlice(set, get, api), ...state(session(A), hub('org/m'), B) }) as unknown as AppState);
    await store.getState().resumeRun();
    expect(store.getState()).toMatchObject({ phase: 'error', phaseMessage: `${moved}, or start a new comparison` });
    expect(store.getState().session?.live).toBe(false);
  });
});
