// The runs slice: the comparison (its settings snapshot), each run's status and metrics, the
// per-pair table, the pass in progress, and the controls (start, cancel, pause, resume, stop).
// Fed by engine events. A new Start moves the previous comparison into the runs history
// (./history.ts), which the runs table lists and the charts can overlay (chartRuns).
import type { StateCreator } from 'zustand';
import type { AdapterInfo, EngineEvent, RunSpec, TrainSettings } from '../worker/protocol';
import type { AppState } from './index';
import { reduceEvents, type EventState, type RunView } from './events';
import { engine } from './workers';
import { cardDataProblem, cardFromSaved, dataKind, cardProblems, cardSettingsProblems, comparisonProblems, resumedSpecs, objectiveOf, RUN_COLORS, runLabels, type MethodCard } from './presets';
import { settingsProblems } from './settings';
import { dataFileName, type DataSource } from './data';
import { sameModel, type ModelRef } from './model';
import { saveSoon } from './persist';
import { archive, historyKey, runSettingsText, type HistoryEntry, type SavedHistory } from './history';
import { effectiveSettings, sameAdapter } from './adapter';
import { hubCommitCheck } from './model-commit';

export interface SessionView {
  id: string;
  settings: TrainSettings;
  cards: MethodCard[];
  data: DataSource;
  modelRef: ModelRef;
  /** A Hub model: the commit of the snapshot it ran on (ModelInfo.commit; ./model-commit.ts). Absent otherwise, and in older saves. */
  modelCommit?: string;
  /** The imported PEFT adapter every run started from (the Model tab's); absent: none. */
  adapter?: AdapterInfo | null;
  startedAt: number;
  /** The engine worker holds this session (false after a reload until it is resumed). */
  live: boolean;
}

export interface RunsSlice extends Omit<EventState, 'gpu'> {
  session: SessionView | null;
  startError: string | null;
  startComparison(): Promise<void>;
  /** Cancels a comparison that is still starting; the page is back to where Start was pressed. */
  cancelStart(): Promise<void>;
  pauseRun(id?: string): Promise<void>;
  resumeRun(id?: string): Promise<void>;
  stopRun(id?: string): Promise<void>;
  applyEvents(events: EngineEvent[]): void;
  /** Earlier comparisons, newest first (at most HISTORY_LIMIT, kept in IndexedDB). */
  history: HistoryEntry[];
  /** Keys (historyKey) of the history runs drawn on the charts. */
  shownHistory: string[];
  /** Draws a history run on the charts, or stops drawing it. */
  showHistoryRun(key: string, shown: boolean): void;
  /** Deletes a history run (its comparison goes when its last run does). */
  deleteHistoryRun(key: string): void;
}

/**
 * What the charts draw: the current comparison's runs plus the history runs ticked in the runs
 * table, each with a unique id, a colour and a label naming the settings that differ among them.
 */
export { chartRuns } from './history';

export type SavedSession = Pick<RunsSlice, 'session' | 'runs' | 'pairs' | 'trainPairs' | 'evalPairs'>;

export function runSpecs(cards: readonly MethodCard[]): RunSpec[] {
  const labels = runLabels(cards);
  return cards.map((c, i) => ({ id: c.id, label: labels[i], objective: objectiveOf(c) }));
}

function saveHistory(get: () => AppState): void {
  saveSoon('history', () => ({ entries: get().history, shown: get().shownHistory }) satisfies SavedHistory, 50);
}

function saveSession(get: () => AppState): void {
  saveSoon('session', () => {
    const { session, runs, pairs, trainPairs, evalPairs } = get();
    return { session: session && { ...session, live: false }, runs, pairs, trainPairs, evalPairs } satisfies SavedSession;
  });
}

export const createRunsSlice: StateCreator<AppState, [], [], RunsSlice> = (set, get) => {
  const fail = (message: string) => set({ phase: 'error', phaseMessage: message });
  const call = async (f: () => Promise<void>) => {
    try {
      await f();
    } catch (e) {
      fail((e as Error).message);
    }
  };

  /** After a reload: the worker has no session; restart it from the checkpoints in IndexedDB. */
  const revive = async () => {
    const { session, model, data } = get();
    if (!session) throw new Error('there is no comparison to resume');
    // a Hub model: its commit decides (the branch may have moved on; ORG/NAME@COMMIT is the same weights)
    const commit = model.status === 'ready' ? hubCommitCheck(session, model) : null;
    if (commit !== null && commit !== 'same') throw new Error(`${commit.moved}, or start a new comparison`);
    if ((commit !== 'same' && !sameModel(session.modelRef, model.ref)) || model.status !== 'ready') throw new Error('the model changed since this comparison ran (or is still loading): load the same model, or start a new comparison');
    if (!data.blob || !data.source || data.source.name !== session.data.name || data.source.size !== session.data.size) throw new Error(`the data changed since this comparison ran: load ${session.data.name} again, or start a new comparison`);
    const adapter = get().adapter;
    if (adapter.status === 'loading') throw new Error('the imported adapter is still being read (Model tab): resume once it is shown');
    if (!sameAdapter(session.adapter, adapter.info)) throw new Error(session.adapter ? `the imported adapter changed since this comparison ran: import ${session.adapter.name} again (Model tab), or start a new comparison` : 'an adapter was imported since this comparison ran: remove it (Model tab), or start a new comparison');
    set({ session: { ...session, live: true } });
    const outcome = await engine().start({ sessionId: session.id, runs: resumedSpecs(runSpecs(session.cards), get().runs), settings: session.settings, data: { file: data.blob, name: dataFileName(data.source), format: data.format }, ...(adapter.source ? { adapter: adapter.source } : {}), resume: true });
    if (outcome === 'cancelled') {
      // the runs stay as they were: paused, resumable from their checkpoints
      const runs = get().runs.map((r) => (['queued', 'preparing', 'running'].includes(r.status) ? { ...r, status: 'paused' as const, etaSeconds: undefined } : r));
      set({ session: { ...session, live: false }, runs, progress: null, phase: 'idle', phaseMessage: 'Cancelled: press Resume to try again.' });
      saveSession(get);
    }
  };

  return {
    session: null,
    runs: [],
    pairs: null,
    phase: 'idle',
    phaseMessage: '',
    trainPairs: null,
    evalPairs: null,
    gpuNotice: null,
    startError: null,
    history: [],
    shownHistory: [],
    showHistoryRun(key, shown) {
      const now = get().shownHistory;
      if (now.includes(key) === shown) return;
      set({ shownHistory: shown ? [...now, key] : now.filter((k) => k !== key) });
      saveHistory(get);
    },
    deleteHistoryRun(key) {
      const history = get()
        .history.map((e) => ({ ...e, runs: e.runs.filter((r) => historyKey(e.id, r.id) !== key) }))
        .filter((e) => e.runs.length);
      set({ history, shownHistory: get().shownHistory.filter((k) => k !== key) });
      saveHistory(get);
    },
    async startComparison() {
      const s = get();
      // an imported adapter: LoRA runs continue it with its r, lora_alpha and target modules (what is checked and sent)
      const settings = effectiveSettings(s.settings, s.adapter.info);
      const problems = settingsProblems(settings, { nPositions: s.model.info?.nPositions, examples: s.data.result?.report.accepted });
      if (!s.cards.length) problems.push('Add at least one method.');
      const labels = runLabels(s.cards);
      s.cards.forEach((c, i) => problems.push(...[...cardProblems(c), ...cardSettingsProblems(c, settings)].map((p) => `${labels[i]}: ${p}.`)));
      problems.push(...comparisonProblems(s.cards));
      // unpaired (KTO) data trains KTO cards only (KTO also takes pairs, split as TRL does); prompt-only
      // data trains the online cards that need no Reward model run
      const kind = dataKind(s.data.result);
      s.cards.forEach((c, i) => {
        const p = cardDataProblem(c, kind);
        if (p) problems.push(`${labels[i]} ${p}.`);
      });
      if (s.model.status !== 'ready') problems.push(s.model.status === 'loading' ? 'The model is still loading.' : 'Load a model first (Model panel).');
      if (!s.data.blob || !s.data.source || s.data.status !== 'ready') problems.push(s.data.status === 'reading' ? 'The data file is still being read.' : 'Choose preference pairs first (Data panel): upload a file or pick a built-in set.');
      else if (!s.data.result?.report.accepted) problems.push(`The data file has no accepted ${s.data.result?.kind === 'prompts' ? 'prompts' : 'rows'}: see the validation report.`);
      if (s.gpu.state !== 'ready') problems.push('Training needs WebGPU, which this browser does not provide (see the GPU panel).');
      if (s.adapter.status === 'loading') problems.push('The adapter is still being read (Model tab).');
      if (problems.length) return set({ startError: problems.join(' ') });
      const specs = runSpecs(s.cards);
      const adapter = s.adapter.info ? s.adapter : null;
      const session: SessionView = { id: crypto.randomUUID(), settings, cards: s.cards, data: s.data.source!, modelRef: s.model.ref!, ...(s.model.info?.commit ? { modelCommit: s.model.info.commit } : {}), ...(adapter ? { adapter: adapter.info } : {}), startedAt: Date.now(), live: true };
      const runs: RunView[] = specs.map((r, i) => ({
        id: r.id,
        method: r.objective.method,
        label: r.label,
        color: RUN_COLORS[i % RUN_COLORS.length],
        status: 'queued',
        step: 0,
        total: s.settings.steps,
        checkpointStep: 0,
        train: [],
        eval: [],
        settings: runSettingsText(s.cards[i], settings, s.data.source!.name),
      }));
      // the comparison being replaced stays in the history
      const history = archive(s.history, s.session, s.runs);
      const keep = new Set(history.flatMap((e) => e.runs.map((r) => historyKey(e.id, r.id))));
      set({ history, shownHistory: s.shownHistory.filter((k) => keep.has(k)) });
      saveHistory(get);
      set({ session, runs, pairs: null, progress: null, startError: null, gpuNotice: null, phase: 'loading-data', phaseMessage: 'Starting…', trainPairs: null, evalPairs: null });
      saveSession(get);
      await call(async () => {
        const outcome = await engine().start({ sessionId: session.id, runs: specs, settings, data: { file: s.data.blob!, name: dataFileName(s.data.source!), format: s.data.format }, ...(adapter?.source ? { adapter: adapter.source } : {}), resume: false });
        if (outcome === 'cancelled' && get().session?.id === session.id) {
          set({ session: null, runs: [], pairs: null, progress: null, phase: 'idle', phaseMessage: 'Cancelled before training began: change the settings or the data and press Start again.', trainPairs: null, evalPairs: null });
          saveSession(get);
        }
      });
    },
    async cancelStart() {
      if (get().session?.live) await call(() => engine().cancel());
    },
    async pauseRun(id) {
      if (get().session?.live) await call(() => engine().pause(id));
    },
    async resumeRun(id) {
      await call(async () => {
        if (get().session?.live) await engine().resume(id);
        else await revive();
      });
    },
    async stopRun(id) {
      const s = get();
      if (s.session?.live) return call(() => engine().stop(id));
      set({ runs: s.runs.map((r) => (id === undefined || r.id === id) && !['done', 'failed'].includes(r.status) ? { ...r, status: 'stopped', etaSeconds: undefined } : r) });
      saveSession(get);
    },
    applyEvents(events) {
      const s = get();
      const next = reduceEvents(s, events);
      if (next === s) return;
      set(next);
      saveSession(get);
    },
  };
};

/** Runs that were going when the page closed come back paused, resumable from their checkpoint. */
export function interrupted(saved: SavedSession): SavedSession {
  const session = saved.session && { ...saved.session, cards: saved.session.cards.map(cardFromSaved).filter((c): c is MethodCard => c !== null) };
  return {
    ...saved,
    session,
    runs: saved.runs.map((r): RunView =>
      ['queued', 'preparing', 'running'].includes(r.status) || (r.status === 'paused' && !r.message)
        ? { ...r, status: 'paused', etaSeconds: undefined, message: `Interrupted at step ${r.step} by a page reload. Resume continues from the checkpoint at step ${r.checkpointStep}.` }
        : { ...r, etaSeconds: undefined },
    ).map((r): RunView => {
      // runs saved before runs carried their settings get them from the comparison
      const card = session?.cards.find((c) => c.id === r.id);
      return r.settings === undefined && card && session ? { ...r, settings: runSettingsText(card, session.settings, session.data.name) } : r;
    }),
  };
}
