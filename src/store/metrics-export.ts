// Metrics as files: JSON Lines (one object per row, TRL names plus `run`) and CSV (one column
// per metric, a row per run and step; eval rows carry eval_ columns).
import type { RunView } from './events';

export function metricsJsonl(runs: readonly RunView[]): string {
  return runs.flatMap((r) => [...r.train, ...r.eval].sort((a, b) => a.step - b.step).map((m) => JSON.stringify({ run: r.label, ...m }) + '\n')).join('');
}

export function metricsCsv(runs: readonly RunView[]): string {
  const rows = runs.flatMap((r) => [...r.train, ...r.eval].sort((a, b) => a.step - b.step).map((m) => ({ run: r.label, ...m })));
  const keys = ['run', 'step', ...new Set(rows.flatMap((m) => Object.keys(m)).filter((k) => k !== 'run' && k !== 'step'))];
  const cell = (v: unknown) => (v === undefined ? '' : typeof v === 'string' && /[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : String(v));
  return [keys.join(','), ...rows.map((m) => keys.map((k) => cell((m as Record<string, unknown>)[k])).join(','))].join('\n') + '\n';
}
