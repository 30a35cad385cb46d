// Chart series from run metrics (docs/design.md): smoothing (debiased EMA, as TensorBoard) on train
// curves, downsampling to a bounded number of points, and the raw values for data tables.
import type { Metrics } from '../../worker/protocol';
import type { RunView } from '../../store/events';

export interface SeriesDef {
  key: string;
  label: string;
  dashed?: boolean;
}

export interface ChartDef {
  id: string;
  title: string;
  series: SeriesDef[];
  note?: string;
  /** Held-out (eval_) points exist for this metric. */
  eval: boolean;
  domain?: [number, number];
}

export const CHARTS: ChartDef[] = [
  { id: 'loss', title: 'Loss', series: [{ key: 'loss', label: 'loss' }], eval: true },
  { id: 'logps', title: 'Log-probs: chosen vs rejected', series: [{ key: 'logps/chosen', label: 'chosen' }, { key: 'logps/rejected', label: 'rejected', dashed: true }], eval: true, note: 'As TRL logs them: sums S for DPO and CPO, per-token averages A for ORPO and SimPO.' },
  { id: 'log-odds', title: 'Log-odds: chosen vs rejected', series: [{ key: 'log_odds/chosen', label: 'chosen' }, { key: 'log_odds/rejected', label: 'rejected', dashed: true }], eval: true, note: 'Mean of A − log(1 − e^A): one scale for every method.' },
  { id: 'margins', title: 'Reward margins', series: [{ key: 'rewards/margins', label: 'margin' }], eval: true, note: 'DPO: β(r_w − r_l) with r = S − S_ref; ORPO: λ(A_w − A_l).' },
  { id: 'accuracy', title: 'Reward accuracy', series: [{ key: 'rewards/accuracies', label: 'accuracy' }], eval: true, domain: [0, 1] },
  { id: 'nll', title: 'NLL', series: [{ key: 'nll_loss', label: 'NLL' }], eval: true, note: 'The SFT term of ORPO (and of CPO/SimPO when α > 0); DPO has none.' },
  { id: 'grad-norm', title: 'Grad norm', series: [{ key: 'grad_norm', label: 'grad norm' }], eval: false, note: 'Before clipping.' },
  { id: 'tokens', title: 'Tokens per second', series: [{ key: 'tokens_per_second', label: 'tokens/s' }], eval: false },
];

export interface LineDef {
  dataKey: string;
  name: string;
  color: string;
  dashed: boolean;
  eval: boolean;
}

export interface ChartData {
  lines: LineDef[];
  /** Downsampled, smoothed points by step. */
  points: Array<Record<string, number>>;
  /** Every step with raw values (the data table). */
  table: Array<Record<string, number>>;
}

/** Debiased exponential moving average; weight 0 returns the input. */
export function smooth(values: readonly number[], weight: number): number[] {
  if (weight <= 0) return [...values];
  let v = 0;
  let k = 0;
  return values.map((x) => {
    if (!Number.isFinite(x)) return x;
    k++;
    v = weight * v + (1 - weight) * x;
    return v / (1 - weight ** k);
  });
}

/** Indices to keep: every stride-th and the last. */
export function downsample(n: number, maxPoints: number): number[] {
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const stride = Math.ceil(n / maxPoints);
  const out: number[] = [];
  for (let i = 0; i < n; i += stride) out.push(i);
  if (out.at(-1) !== n - 1) out.push(n - 1);
  return out;
}

function put(rows: Map<number, Record<string, number>>, step: number, key: string, v: number): void {
  let r = rows.get(step);
  if (!r) rows.set(step, (r = { step }));
  r[key] = v;
}

const has = (rows: readonly Metrics[], key: string) => rows.some((m) => typeof m[key] === 'number');

export function chartData(def: ChartDef, runs: readonly RunView[], smoothing: number, maxPoints = 300): ChartData {
  const lines: LineDef[] = [];
  const points = new Map<number, Record<string, number>>();
  const table = new Map<number, Record<string, number>>();
  for (const run of runs) {
    for (const s of def.series) {
      if (has(run.train, s.key)) {
        const key = `${run.id}|${s.key}`;
        lines.push({ dataKey: key, name: `${run.label} · ${s.label}`, color: run.color, dashed: Boolean(s.dashed), eval: false });
        const rows = run.train.filter((m) => typeof m[s.key] === 'number');
        const sm = smooth(rows.map((m) => m[s.key]), smoothing);
        for (const i of downsample(rows.length, maxPoints)) put(points, rows[i].step, key, sm[i]);
        for (const m of rows) put(table, m.step, key, m[s.key]);
      }
      const ek = `eval_${s.key}`;
      if (def.eval && has(run.eval, ek)) {
        const key = `${run.id}|${ek}`;
        lines.push({ dataKey: key, name: `${run.label} · eval ${s.label}`, color: run.color, dashed: Boolean(s.dashed), eval: true });
        for (const m of run.eval) {
          if (typeof m[ek] !== 'number') continue;
          put(points, m.step, key, m[ek]);
          put(table, m.step, key, m[ek]);
        }
      }
    }
  }
  const byStep = (a: Record<string, number>, b: Record<string, number>) => a.step - b.step;
  return { lines, points: [...points.values()].sort(byStep), table: [...table.values()].sort(byStep) };
}

/** Six significant digits: enough to compare with the CLI's metrics.jsonl at 1e-5 relative. */
export function formatValue(v: number | undefined): string {
  if (v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-4 && a < 1e6 ? String(Number(v.toPrecision(6))) : v.toExponential(5);
}
