// Runs history (README.md, "The page"): finished or stopped comparisons are kept in IndexedDB,
// at most HISTORY_LIMIT of them (the oldest goes first), so a new Start no longer throws the
// last one away. The runs table lists the current comparison and the history, names every run by
// the settings that differ across the runs it is shown with, and the charts draw the current runs
// plus the history runs the user ticked (`chartRuns`). Pure functions, except the memo.
import type { AdapterInfo, Metrics, TrainSettings } from '../worker/protocol';
import type { RunView } from './events';
import type { DataSource } from './data';
import type { ModelRef } from './model';
import { cardFromSaved, cardOptions, methodLabel, objectiveOf, RUN_COLORS, runLabels, type MethodCard } from './presets';
import { encodeConfig, loraToken } from './url';
import { repoOf } from './model-commit';
import type { LoraConfig } from '../model/lora';
import { runToken } from '../train/objectives';

/** Comparisons kept in IndexedDB; the oldest is dropped first. */
export const HISTORY_LIMIT = 20;
/** Metric rows kept per archived run (train and eval each): evenly spaced, the last always kept. */
export const HISTORY_ROWS = 2000;

export interface HistoryRun {
  /** The run's id within its comparison (its card's id). */
  id: string;
  label: string;
  status: RunView['status'];
  step: number;
  total: number;
  message?: string;
  train: Metrics[];
  eval: Metrics[];
}

/** One archived comparison: what it ran with, and its runs' metric rows. */
export interface HistoryEntry {
  /** The comparison's session id. */
  id: string;
  startedAt: number;
  settings: TrainSettings;
  cards: MethodCard[];
  data: DataSource;
  modelRef: ModelRef;
  /** A Hub model's commit the runs read (a branch moves on); null: not a Hub model; absent: saved before commits were kept. */
  modelCommit?: string | null;
  /** The imported PEFT adapter the runs started from (what the Model tab showed); null: none; absent: saved before adapters were kept. */
  adapter?: AdapterInfo | null;
  runs: HistoryRun[];
}

export interface SavedHistory {
  entries: HistoryEntry[];
  /** Keys (historyKey) of the history runs ticked for the charts. */
  shown: string[];
}

/** The comparison being archived: the runs slice's session and runs. */
export interface ComparisonSnapshot {
  id: string;
  startedAt: number;
  settings: TrainSettings;
  cards: MethodCard[];
  data: DataSource;
  modelRef: ModelRef;
  modelCommit?: string;
  adapter?: AdapterInfo | null;
}

export const historyKey = (entryId: string, runId: string) => `${entryId}/${runId}`;

function thin(rows: readonly Metrics[], max: number): Metrics[] {
  if (rows.length <= max) return [...rows];
  const stride = Math.ceil(rows.length / max);
  const out = rows.filter((_, i) => i % stride === 0);
  if (out.at(-1) !== rows.at(-1)) out.push(rows.at(-1)!);
  return out;
}

/**
 * History with `session`'s runs added as the newest entry (replacing an entry of the same id),
 * bounded to `limit` entries. A comparison with no metric row yet is not kept. Runs still
 * going are kept as stopped: their resume snapshots belong to the comparison being replaced.
 */
export function archive(history: readonly HistoryEntry[], session: ComparisonSnapshot | null, runs: readonly RunView[], limit = HISTORY_LIMIT): HistoryEntry[] {
  if (!session || !runs.some((r) => r.train.length || r.eval.length)) return [...history];
  const entry: HistoryEntry = {
    id: session.id,
    startedAt: session.startedAt,
    settings: session.settings,
    cards: session.cards,
    data: session.data,
    modelRef: session.modelRef,
    // written even when absent (null), so a missing key means an entry saved before they were kept
    modelCommit: session.modelCommit ?? null,
    adapter: session.adapter ?? null,
    runs: runs.map((r) => ({
      id: r.id,
      label: r.label,
      status: ['done', 'failed', 'stopped'].includes(r.status) ? r.status : 'stopped',
      step: r.step,
      total: r.total,
      ...(r.message ? { message: r.message } : {}),
      train: thin(r.train, HISTORY_ROWS),
      eval: thin(r.eval, HISTORY_ROWS),
    })),
  };
  return [entry, ...history.filter((e) => e.id !== session.id)].slice(0, Math.max(0, limit));
}

/** History as saved by this or an older page: cards re-read, runs without a known card dropped. */
export function restoredHistory(saved: SavedHistory): { history: HistoryEntry[]; shownHistory: string[] } {
  const history = (saved.entries ?? [])
    .map((e) => {
      const cards = (e.cards ?? []).map(cardFromSaved).filter((c): c is MethodCard => c !== null);
      return { ...e, cards, runs: (e.runs ?? []).filter((r) => cards.some((c) => c.id === r.id)) };
    })
    .filter((e) => e.runs.length)
    .slice(0, HISTORY_LIMIT);
  const keys = new Set(history.flatMap((e) => e.runs.map((r) => historyKey(e.id, r.id))));
  const shownHistory = (saved.shown ?? []).filter((k) => keys.has(k));
  return { history, shownHistory };
}

/** One row of the runs table: a run of the current comparison or of the history. */
export interface TableRun {
  key: string;
  current: boolean;
  /** 1-based, oldest comparison first (the current one last). */
  comparison: number;
  startedAt: number;
  card: MethodCard;
  settings: TrainSettings;
  data: DataSource;
  modelRef: ModelRef;
  /** As HistoryEntry's: undefined = not known (an entry saved before they were kept). */
  modelCommit?: string | null;
  adapter?: AdapterInfo | null;
  run: HistoryRun | RunView;
}

/** The runs table's rows: the current comparison first, then the history, newest first. */
export function tableRuns(history: readonly HistoryEntry[], session: ComparisonSnapshot | null, runs: readonly RunView[]): TableRun[] {
  const entries = history.filter((e) => e.id !== session?.id);
  const n = entries.length + (session && runs.length ? 1 : 0);
  const out: TableRun[] = [];
  if (session && runs.length) {
    for (const r of runs) {
      const card = session.cards.find((c) => c.id === r.id);
      if (card) out.push({ key: r.id, current: true, comparison: n, startedAt: session.startedAt, card, settings: session.settings, data: session.data, modelRef: session.modelRef, modelCommit: session.modelCommit ?? null, adapter: session.adapter ?? null, run: r });
    }
  }
  entries.forEach((e, i) => {
    for (const r of e.runs) {
      const card = e.cards.find((c) => c.id === r.id);
      if (card) out.push({ key: historyKey(e.id, r.id), current: false, comparison: entries.length - i, startedAt: e.startedAt, card, settings: e.settings, data: e.data, modelRef: e.modelRef, modelCommit: e.modelCommit, adapter: e.adapter, run: r });
    }
  });
  return out;
}

/** Shared settings that can tell comparisons apart, in the order labels name them. */
export const SETTING_NAMES: ReadonlyArray<[keyof TrainSettings, string]> = [
  ['lr', 'lr'],
  ['steps', 'steps'],
  ['batchSize', 'bs'],
  ['gradAccum', 'ga'],
  ['seed', 'seed'],
  ['evalFraction', 'eval'],
  ['schedule', 'sched'],
  ['warmupSteps', 'warmup'],
  ['optimizer', 'opt'],
  ['weightDecay', 'wd'],
  ['maxGradNorm', 'clip'],
  ['maxLength', 'maxlen'],
  ['maxPromptLength', 'maxprompt'],
  ['momentsDtype', 'moments'],
  ['activationsDtype', 'acts'],
  ['lora', 'lora'],
  ['baseDtype', 'base'],
  ['checkpointActivations', 'ckptacts'],
];

export const modelName = (m: ModelRef): string => (m.kind === 'builtin' ? 'built-in' : m.kind === 'fresh' ? `random ${m.preset} seed ${m.seed}` : m.kind === 'hub' ? m.id : m.name);

// lora: R:ALPHA[:TARGETS] as the URL writes it, or off (full fine-tuning)
const settingText = (v: unknown, k?: keyof TrainSettings) => (k === 'lora' && v == null ? 'off' : v === null || v === undefined ? 'default' : typeof v === 'object' ? loraToken(v as LoraConfig) : String(v));

// A Hub model's commit tells apart runs of one branch before and after it moved (the repository
// at the commit: `org/m`, `org/m@main` and `org/m@<sha>` at one commit are one model); an
// adapter's name (with its hash when two of one name differ) the comparisons that started from
// different adapters. What an older entry did not record (undefined) shows as `?` and never makes
// a difference on its own.
type Source = Pick<TableRun, 'modelRef' | 'modelCommit' | 'adapter'>;
const UNKNOWN = '?';
function modelKey(x: Source): { name: string; commit: string | null | undefined } {
  const repo = repoOf(x.modelRef);
  return repo && x.modelCommit ? { name: repo.repo, commit: x.modelCommit } : { name: modelName(x.modelRef), commit: x.modelRef.kind === 'hub' ? x.modelCommit : null };
}
function modelColumn(items: readonly Source[]): [string, string[], boolean] {
  const keys = items.map(modelKey);
  const names = new Set(keys.map((k) => k.name));
  const commits = new Set(keys.map((k) => k.commit).filter((c): c is string => typeof c === 'string'));
  return ['model', keys.map((k) => (k.commit ? `${k.name}@${k.commit.slice(0, 7)}` : k.name)), names.size > 1 || commits.size > 1];
}
function adapterColumn(items: readonly Source[]): [string, string[], boolean] {
  const hashes = new Map<string, Set<string>>();
  for (const x of items) if (x.adapter) hashes.set(x.adapter.name, (hashes.get(x.adapter.name) ?? new Set()).add(x.adapter.hash));
  const text = (a: AdapterInfo | null | undefined) => (a === undefined ? UNKNOWN : a === null ? 'none' : hashes.get(a.name)!.size > 1 ? `${a.name}#${a.hash.slice(0, 6)}` : a.name);
  const values = items.map((x) => text(x.adapter));
  return ['adapter', values, new Set(values.filter((v) => v !== UNKNOWN)).size > 1];
}

/** The shared settings (and data, model, imported adapter) whose values differ among `items`: [name, value of each]. */
export function differingSettings(items: readonly Pick<TableRun, 'settings' | 'data' | 'modelRef' | 'modelCommit' | 'adapter'>[]): Array<[string, string[]]> {
  const cols: Array<[string, string[]]> = SETTING_NAMES.map(([k, name]) => [name, items.map((x) => settingText(x.settings[k], k))]);
  cols.push(['data', items.map((x) => x.data.name)]);
  const differ = cols.filter(([, vs]) => new Set(vs).size > 1);
  for (const [name, vs, differs] of [modelColumn(items), adapterColumn(items)]) if (differs) differ.push([name, vs]);
  return differ;
}

/**
 * Names that tell `items` apart: the method, its options that differ (runLabels, across
 * comparisons), then each shared setting that differs (`lr=0.0001`); runs identical in all of
 * these get their comparison's number (`ORPO #2`).
 */
export function crossLabels(items: readonly Pick<TableRun, 'card' | 'settings' | 'data' | 'modelRef' | 'modelCommit' | 'adapter' | 'comparison'>[]): string[] {
  const base = runLabels(items.map((x) => x.card));
  const diff = differingSettings(items);
  const labels = base.map((l, i) => [l, ...diff.map(([name, vs]) => `${name}=${vs[i]}`)].join(' '));
  const count = new Map<string, number>();
  for (const l of labels) count.set(l, (count.get(l) ?? 0) + 1);
  return labels.map((l, i) => (count.get(l)! > 1 ? `${l} #${items[i].comparison}` : l));
}

/** A run's card and shared settings in the URL's words: `runs=dpo:sigmoid:0.1 lr=0.0005 steps=60 …`. */
export function runSettingsText(card: MethodCard, settings: TrainSettings, data: string | null): string {
  return encodeConfig([card], settings, data).slice(1).split('&').map(decodeURIComponent).join(' ');
}

/** A card with every option it shows: `DPO sigmoid β=0.1`, `ORPO λ=0.1`. */
export function fullCardLabel(c: MethodCard): string {
  const parts = cardOptions(c).flatMap((o) => {
    const v = c.values[o.key];
    if (o.kind === 'boolean') return v === o.default ? [] : [`${o.label}=${String(v)}`];
    const text = Array.isArray(v) ? v.join('+') : String(v);
    return [o.kind === 'choice' ? text : `${o.label}=${text}`];
  });
  return [methodLabel(c.method), ...parts].join(' ');
}

/** The run token of a card, `dpo:sigmoid:0.1`. */
export const cardToken = (c: MethodCard) => runToken(objectiveOf(c));

/** Final value of `key` in a run's rows (the last row that has it). */
export function finalValue(rows: readonly Metrics[], key: string): number | undefined {
  for (let i = rows.length - 1; i >= 0; i--) if (typeof rows[i][key] === 'number') return rows[i][key];
  return undefined;
}

interface ChartInputs {
  runs: RunView[];
  history: HistoryEntry[];
  shownHistory: string[];
  session: ComparisonSnapshot | null;
}

/**
 * The runs the charts draw: the current comparison's runs, then the ticked history runs, each
 * with a unique id, a colour, and a label naming what differs among exactly these runs. With
 * nothing ticked this is the current runs as they are.
 */
export function chartRunsOf({ runs, history, shownHistory, session }: ChartInputs): RunView[] {
  const all = tableRuns(history, session, runs);
  const ticked = all.filter((t) => !t.current && shownHistory.includes(t.key));
  if (!ticked.length) return runs;
  const current = all.filter((t) => t.current);
  const items = [...current, ...ticked];
  const labels = crossLabels(items);
  const used = new Set(runs.map((r) => r.color));
  const free = [...RUN_COLORS.filter((c) => !used.has(c)), ...RUN_COLORS];
  const out = runs.map((r) => {
    const i = current.findIndex((t) => t.run === r);
    return i < 0 ? r : { ...r, label: labels[i] };
  });
  ticked.forEach((t, k) => {
    const h = t.run as HistoryRun;
    out.push({ id: t.key, method: t.card.method, label: labels[current.length + k], color: free[k % free.length], status: h.status, step: h.step, total: h.total, checkpointStep: h.step, train: h.train, eval: h.eval, settings: runSettingsText(t.card, t.settings, t.data.name) });
  });
  return out;
}

let memo: { inputs: ChartInputs; out: RunView[] } | null = null;

/** chartRunsOf, memoised on its inputs so it can be a zustand selector (`useApp(chartRuns)`). */
export function chartRuns(s: ChartInputs): RunView[] {
  const m = memo;
  if (m && m.inputs.runs === s.runs && m.inputs.history === s.history && m.inputs.shownHistory === s.shownHistory && m.inputs.session === s.session) return m.out;
  const out = chartRunsOf(s);
  memo = { inputs: { runs: s.runs, history: s.history, shownHistory: s.shownHistory, session: s.session }, out };
  return out;
}
