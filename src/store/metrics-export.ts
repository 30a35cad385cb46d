// Metrics as files: JSON Lines (one object per row, TRL names plus `run`) and CSV (one column
// per metric, a row per run and step; eval rows carry eval_ columns). `run` is the run's label
// (the settings that tell it apart); the last column, `settings`, is its method and shared
// settings in full, in the URL's words (`runs=dpo:sigmoid:0.1 lr=0.0005 steps=60 …`).
import type { RunView } from './events';

type Row = Record<string, unknown>;

function rows(runs: readonly RunView[]): Row[] {
  return runs.flatMap((r) =>
    [...r.train, ...r.eval].sort((a, b) => a.step - b.step).map((m) => ({ run: r.label, ...m, ...(r.settings !== undefined ? { settings: r.settings } : {}) })),
  );
}

export function metricsJsonl(runs: readonly RunView[]): string {
  return rows(runs).map((m) => JSON.stringify(m) + '\n').join('');
}

export function metricsCsv(runs: readonly RunView[]): string {
  const all = rows(runs);
  const metrics = [...new Set(all.flatMap((m) => Object.keys(m)).filter((k) => k !== 'run' && k !== 'step' && k !== 'settings'))];
  const keys = ['run', 'step', ...metrics, ...(all.some((m) => 'settings' in m) ? ['settings'] : [])];
  const cell = (v: unknown) => (v === undefined ? '' : typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  return [keys.join(','), ...all.map((m) => keys.map((k) => cell(m[k])).join(','))].join('\n') + '\n';
}
