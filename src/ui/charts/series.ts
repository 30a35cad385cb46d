// Chart series from run metrics (docs/design.md): which metric each panel plots under its options
// (per-token or summed log-probs, loss as logged, divided by the first step or per run), smoothing
// (debiased EMA, as TensorBoard) on train curves, downsampling to a bounded number of points, hidden
// and highlighted runs, one marker shape per run, and the raw values for data tables.
import type { Metrics } from '../../worker/protocol';
import type { RunView } from '../../store/events';
import type { LogpScale, LossView, PanelOptions } from '../../store/chart-view';
import { KL_ZERO } from '../../store/kl-note';
import { runMethod } from '../../store/presets';
import { createObjective, defaultValues, methodDescriptor, type MethodDescriptor } from '../../train/objectives';

export interface SeriesDef {
  key: string;
  label: string;
  dashed?: boolean;
  /**
   * The same quantity under another method's name, tried in order when a run does not log `key`
   * (the reward model's `accuracy` in the reward-accuracy chart).
   */
  alt?: ReadonlyArray<{ key: string; label: string }>;
}

export type PanelControl = 'scale' | 'loss' | 'log';

export interface ChartDef {
  id: string;
  title: string;
  series: SeriesDef[];
  /** Held-out (eval_) points exist for this metric. */
  eval: boolean;
  domain?: [number, number];
  /** The y axis title, with its unit. */
  yLabel: string;
  /** One or two sentences: what to look for. */
  hint: string;
  /** Where the numbers come from. */
  note?: string;
  /** Options the panel offers. */
  controls: PanelControl[];
  /** Each run's values divided by its first training value. */
  normalise?: boolean;
  /** One small chart per run. */
  perRun?: boolean;
  /** A log y axis (used only when every plotted value is positive). */
  log?: boolean;
  /** Left out when no run logs its metric (PPO's metrics). */
  hideEmpty?: boolean;
  /**
   * The methods that log this chart's metrics (default: every method). Runs of other methods are
   * left out of it, so a name two methods share with other meanings (KTO's kl, GRPO's kl) never
   * mixes, and the chart is shown only when a charted run's method logs it (visibleCharts).
   */
  methods?: (d: MethodDescriptor) => boolean;
}

/** Methods that train the LM head on pairs or labelled examples (DPO, ORPO, …, SFT, KTO): the log-prob charts. */
export const OFFLINE_LM = (d: MethodDescriptor): boolean => d.data !== 'prompts' && d.head !== 'score';
/** The reward model (a score head): accuracy and margin of its rewards. */
export const SCORE_HEAD = (d: MethodDescriptor): boolean => d.head === 'score';
const metricNames = new Map<string, readonly string[]>();
/** The metrics a method's objective logs (with its default options). */
function logs(d: MethodDescriptor, key: string): boolean {
  if (!metricNames.has(d.name)) metricNames.set(d.name, createObjective({ method: d.name, ...defaultValues(d.name) }).metricNames);
  return metricNames.get(d.name)!.includes(key);
}
/** Online methods rewarded by functions (GRPO, RLOO): reward, kl, completion lengths. */
export const ONLINE = (d: MethodDescriptor): boolean => d.data === 'prompts' && logs(d, 'reward');
/** PPO (TRL's objective/* and loss/* metrics). */
export const PPO = (d: MethodDescriptor): boolean => logs(d, 'objective/scores');

/** Whether the chart plots `run` (its method logs the chart's metrics; a run of unknown method: yes). */
export function chartPlotsRun(def: ChartDef, run: Pick<RunView, 'id' | 'method'>): boolean {
  if (!def.methods) return true;
  const m = runMethod(run);
  return m === null || def.methods(methodDescriptor(m));
}

/**
 * The charts to show for these runs: a chart with a method filter when one of the runs is of such
 * a method (before its first metrics arrive, so the first screen does not jump), any chart when a
 * run logged its metrics; a hideEmpty chart only once a run logged them.
 */
export function visibleCharts(defs: readonly ChartDef[], runs: readonly RunView[]): ChartDef[] {
  return defs.filter((def) => {
    const plotted = runs.filter((r) => chartPlotsRun(def, r));
    const logged = plotted.some((r) => def.series.some((s) => [s.key, ...(s.alt ?? []).map((a) => a.key)].some((k) => has(r.train, k) || (def.eval && has(r.eval, `eval_${k}`)))));
    if (def.hideEmpty) return logged;
    return logged || (plotted.length > 0 && (!def.methods || plotted.some((r) => runMethod(r) !== null)));
  });
}

export const X_LABEL = 'step (updates)';
export const DEFAULT_SCALE: LogpScale = 'avg';
export const DEFAULT_LOSS_VIEW: LossView = 'raw';

const LOGPS_KEYS: Record<LogpScale, { chosen: string; rejected: string; margin: string; unit: string }> = {
  avg: { chosen: 'logps_avg/chosen', rejected: 'logps_avg/rejected', margin: 'margins_avg', unit: 'nats/token' },
  sum: { chosen: 'logps_sum/chosen', rejected: 'logps_sum/rejected', margin: 'margins_sum', unit: 'nats per answer (sum)' },
};

/** The panels under their options (absent options: per-token log-probs, loss as logged, linear axes). */
export function chartDefs(panels: Readonly<Record<string, PanelOptions>> = {}): ChartDef[] {
  const scale = (id: string) => panels[id]?.scale ?? DEFAULT_SCALE;
  const lossView = panels.loss?.loss ?? DEFAULT_LOSS_VIEW;
  const lp = LOGPS_KEYS[scale('logps')];
  const mg = LOGPS_KEYS[scale('margins')];
  return [
    {
      id: 'loss',
      title: 'Loss',
      series: [{ key: 'loss', label: lossView === 'normalised' ? 'loss ÷ first' : 'loss' }],
      eval: true,
      yLabel: lossView === 'normalised' ? 'loss ÷ first-step loss' : 'loss (each method’s own)',
      hint: 'Each method’s loss has its own scale (IPO’s is a squared error, ORPO’s includes its NLL term, the reward model’s is −log σ of its reward gap, GRPO’s sits near 0 because its advantages average to 0 in each group), so compare shapes, not heights: divide by the first step or give each run its own chart. A falling loss says the method meets its own objective, not that the answers got better.',
      controls: ['loss', 'log'],
      normalise: lossView === 'normalised',
      perRun: lossView === 'per-run',
      log: panels.loss?.log ?? false,
    },
    {
      id: 'reward',
      title: 'Reward: judge score of the completions',
      series: [{ key: 'reward', label: 'reward' }],
      eval: true,
      yLabel: 'mean reward (judge, 0–1)',
      hint: 'Online runs (GRPO, RLOO): the mean reward of the completions they sampled at each update, as the judge on their card scores them (1: right, 0: wrong). Dotted: held-out prompts. A rising line means the policy learned what the judge rewards; offline methods never see the judge.',
      note: 'TRL’s reward: the weighted sum of the reward functions, averaged over the update’s prompts × G completions.',
      controls: [],
      methods: ONLINE,
    },
    {
      id: 'kl-ref',
      title: 'KL to the reference (kl)',
      series: [{ key: 'kl', label: 'kl' }],
      eval: false,
      yLabel: 'nats/token',
      hint: 'How far an online run’s policy drifted from the starting weights on its own completions: 0 at step 1, growing as it learns. β on the card pulls it back. Compare with the reward: reward bought with a large KL often means the policy found a trick the judge misses.',
      note: 'TRL’s kl, per completion token: GRPO’s k3 estimator e^(ref−logp) − (ref − logp) − 1; RLOO’s log π_old − log π_ref under the sampling policy.',
      controls: [],
      methods: ONLINE,
    },
    {
      id: 'logps',
      title: 'Log-probs: chosen vs rejected',
      series: [
        { key: lp.chosen, label: 'chosen' },
        { key: lp.rejected, label: 'rejected', dashed: true },
      ],
      eval: true,
      yLabel: lp.unit,
      hint: 'Look for the chosen line pulling above the rejected one. With DPO both often fall while the gap widens, since DPO only optimises the margin; ORPO’s NLL term tends to lift the chosen answer.',
      note: scale('logps') === 'avg' ? 'Mean per-token log-prob A = S/|y| of each answer (logps_avg/*), the same for every method.' : 'Mean summed log-prob S of each answer (logps_sum/*): longer answers sit lower.',
      controls: ['scale'],
      methods: OFFLINE_LM,
    },
    {
      id: 'log-odds',
      title: 'Log-odds: chosen vs rejected',
      series: [
        { key: 'log_odds/chosen', label: 'chosen' },
        { key: 'log_odds/rejected', label: 'rejected', dashed: true },
      ],
      eval: true,
      yLabel: 'log-odds (nats)',
      hint: 'What to look for: DPO’s log-odds of both answers usually fall while ORPO’s rise. DPO only optimises the margin between them; ORPO’s NLL term lifts the chosen answer.',
      note: 'Mean of A − log(1 − e^A), the log-odds of the per-token probability e^A: one scale for every method.',
      controls: [],
      methods: OFFLINE_LM,
    },
    {
      id: 'margins',
      title: 'Margins: chosen − rejected',
      series: [{ key: mg.margin, label: 'margin' }],
      eval: true,
      yLabel: mg.unit,
      hint: 'The policy’s own log-prob gap between the answers, the same for every method: a rising line means the model separates chosen from rejected more. Above zero, it prefers the chosen answer.',
      note: `${mg.margin}: mean of ${scale('margins') === 'avg' ? 'A_w − A_l' : 'S_w − S_l'}, no β and no reference. TRL’s β-scaled rewards/margins (against the reference for DPO) are in the metrics export.`,
      controls: ['scale'],
      methods: OFFLINE_LM,
    },
    {
      id: 'accuracy',
      title: 'Reward accuracy',
      series: [{ key: 'rewards/accuracies', label: 'accuracy', alt: [{ key: 'accuracy', label: 'accuracy' }] }],
      eval: true,
      domain: [0, 1],
      yLabel: 'fraction of pairs',
      hint: 'Share of the batch’s pairs whose chosen answer the method’s own reward ranks higher (DPO: against the reference; ORPO and SimPO: by A; the reward model: by its score head). It moves in steps of 1/batch size, so runs often overlap: each run has its own marker. Dotted: held-out pairs — for the reward model, its accuracy on pairs it never trained on.',
      note: 'TRL’s rewards/accuracies; the reward model’s is RewardTrainer’s accuracy (eval_accuracy held out).',
      controls: [],
      methods: (d) => OFFLINE_LM(d) || SCORE_HEAD(d),
    },
    {
      id: 'rm-margin',
      title: 'Reward model: r(chosen) − r(rejected)',
      series: [{ key: 'margin', label: 'margin' }],
      eval: true,
      yLabel: 'reward units',
      hint: 'The reward model’s mean score gap between the chosen and the rejected answer. Above 0 it ranks the chosen answer higher on average; the Bradley–Terry loss keeps pushing the gap up, and a held-out (dotted) gap that stalls while the training gap climbs is overfitting.',
      note: 'TRL RewardTrainer’s margin: mean of r_c − r_r, the score head read at the last token of prompt + answer.',
      controls: [],
      methods: SCORE_HEAD,
    },
    {
      id: 'nll',
      title: 'NLL',
      series: [{ key: 'nll_loss', label: 'NLL' }],
      eval: true,
      yLabel: 'nats/token',
      hint: 'Cross-entropy of the chosen answers, the SFT term of ORPO (and of CPO/SimPO when α > 0); DPO has none. It should fall; a rise means the preference term is pushing the chosen answer down too.',
      controls: [],
      methods: OFFLINE_LM,
    },
    {
      id: 'completion-length',
      title: 'Completion length',
      series: [{ key: 'completions/mean_length', label: 'mean length' }],
      eval: true,
      yLabel: 'tokens',
      hint: 'Mean length of the completions an online run (GRPO, RLOO, PPO) sampled at each update (end-of-text included, up to the card’s max new tokens). A run that learns to stop early, or to ramble to the limit, shows it here first.',
      note: 'TRL’s completions/mean_length; completions/clipped_ratio (cut at the limit) is in the metrics export.',
      controls: [],
      methods: (d) => logs(d, 'completions/mean_length'),
    },
    {
      id: 'ppo-score',
      title: 'PPO: reward-model score',
      series: [
        { key: 'objective/scores', label: 'score' },
        { key: 'objective/rlhf_reward', label: 'score − KL penalty', dashed: true },
      ],
      eval: false,
      yLabel: 'reward-model units',
      hint: 'PPO’s completions scored by its reward model (solid), and that score with the KL penalty to the reference added (dashed, what PPO maximises). The reward model’s units are its own, not the judge’s 0–1.',
      note: 'TRL PPOTrainer’s objective/scores and objective/rlhf_reward.',
      controls: [],
      methods: PPO,
    },
    {
      id: 'ppo-kl',
      title: 'PPO: KL to the reference (objective/kl)',
      series: [{ key: 'objective/kl', label: 'objective/kl' }],
      eval: false,
      yLabel: 'nats per completion',
      hint: 'PPO’s drift from the reference, summed over each completion’s tokens (k1: log π − log π_ref); 0 at step 1. It is a sum, not the per-token kl of GRPO and RLOO.',
      controls: [],
      methods: PPO,
    },
    {
      id: 'value-loss',
      title: 'PPO: value loss',
      series: [{ key: 'loss/value_avg', label: 'value loss' }],
      eval: false,
      yLabel: 'squared error (½·clipped)',
      hint: 'How well PPO’s value model predicts the returns; it should fall as the critic catches up. A value loss that climbs while the score rises means the advantages are noisy.',
      note: 'TRL PPOTrainer’s loss/value_avg.',
      controls: [],
      methods: PPO,
    },
    {
      id: 'grad-norm',
      title: 'Grad norm',
      series: [{ key: 'grad_norm', label: 'grad norm' }],
      eval: false,
      yLabel: 'L2 norm',
      hint: 'Global gradient norm before clipping. Look for spikes, and for a steady climb, which can come before the loss blows up.',
      controls: ['log'],
      log: panels['grad-norm']?.log ?? false,
    },
    {
      id: 'tokens',
      title: 'Tokens per second',
      series: [{ key: 'tokens_per_second', label: 'tokens/s' }],
      eval: false,
      yLabel: 'tokens/s',
      hint: 'Training throughput of each run (prompt and completion tokens). Runs take turns on one GPU, so compare runs with each other; a drop usually means longer batches.',
      controls: [],
    },
    {
      id: 'kl',
      title: 'KTO: KL estimate (kl)',
      series: [{ key: 'kl', label: 'kl' }],
      eval: true,
      yLabel: 'nats per answer',
      hint: KL_ZERO,
      note: 'TRL’s kl: max(0, mean of S_θ(y′|x) − S_ref(y′|x)) over the batch’s mismatched pairs, no gradient.',
      controls: [],
      methods: (d) => d.data === 'unpaired',
    },
  ];
}

/** The panels with default options. */
export const CHARTS: ChartDef[] = chartDefs();

/** Marker shapes, one per run (by its position among the charted runs), so overlapping lines stay apart. */
export const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'cross', 'triangle-down', 'star', 'plus'] as const;
export type Marker = (typeof MARKERS)[number];

/** SVG path of a marker of half-size r centred at (x, y). */
export function markerPath(shape: Marker, x: number, y: number, r: number): string {
  const p = (pts: Array<[number, number]>) => 'M' + pts.map(([a, b]) => `${(x + a * r).toFixed(2)},${(y + b * r).toFixed(2)}`).join('L') + 'Z';
  switch (shape) {
    case 'circle':
      return `M${x - r},${y}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0Z`;
    case 'square':
      return p([[-0.85, -0.85], [0.85, -0.85], [0.85, 0.85], [-0.85, 0.85]]);
    case 'triangle':
      return p([[0, -1.1], [1, 0.75], [-1, 0.75]]);
    case 'triangle-down':
      return p([[0, 1.1], [1, -0.75], [-1, -0.75]]);
    case 'diamond':
      return p([[0, -1.15], [1, 0], [0, 1.15], [-1, 0]]);
    case 'cross':
      return p([[-1, -0.6], [-0.6, -1], [0, -0.4], [0.6, -1], [1, -0.6], [0.4, 0], [1, 0.6], [0.6, 1], [0, 0.4], [-0.6, 1], [-1, 0.6], [-0.4, 0]]);
    case 'plus':
      return p([[-0.3, -1], [0.3, -1], [0.3, -0.3], [1, -0.3], [1, 0.3], [0.3, 0.3], [0.3, 1], [-0.3, 1], [-0.3, 0.3], [-1, 0.3], [-1, -0.3], [-0.3, -0.3]]);
    case 'star': {
      const pts: Array<[number, number]> = [];
      for (let k = 0; k < 10; k++) {
        const a = -Math.PI / 2 + (k * Math.PI) / 5;
        const rr = k % 2 ? 0.5 : 1.15;
        pts.push([rr * Math.cos(a), rr * Math.sin(a)]);
      }
      return p(pts);
    }
  }
}

export interface LineDef {
  dataKey: string;
  name: string;
  runId: string;
  color: string;
  dashed: boolean;
  eval: boolean;
  marker: Marker;
  /** Which of every `markerStride` points carries the run's marker, as a fraction 0 ≤ phase < 1 (staggered per run). */
  markerPhase: number;
  /** Another run is highlighted: draw this one faint. */
  dim: boolean;
  highlight: boolean;
  /** This solid line coincides with others': drawn in stripes, slot `index` of `count`, so each colour shows. */
  stripe?: { index: number; count: number };
}

export interface LegendRun {
  id: string;
  label: string;
  color: string;
  marker: Marker;
}

export interface ChartData {
  lines: LineDef[];
  /** Downsampled, smoothed points by step. */
  points: Array<Record<string, number>>;
  /** Every step with raw values (the data table). */
  table: Array<Record<string, number>>;
  /** Runs drawn in this chart, in order (the legend). */
  runs: LegendRun[];
  /** [min, max] of the plotted values; null when there are none. */
  extent: [number, number] | null;
  /** Groups of run labels whose curves are identical (drawn on top of each other). */
  overlaps: string[][];
  /** Runs left out of this chart, with the reason. */
  skipped: string[];
}

export interface ViewOptions {
  /** Run ids left out. */
  hidden?: readonly string[];
  /** Run drawn on top, the others dimmed. */
  highlight?: string | null;
  /** Every charted run's id in order: fixes each run's marker whatever is hidden (default: `runs`). */
  order?: readonly string[];
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

/** The series as `run` logs it: `key`, else the first alternative name it logs (train or eval). */
function seriesFor(s: SeriesDef, run: RunView, withEval: boolean): SeriesDef {
  if (!s.alt || has(run.train, s.key) || (withEval && has(run.eval, `eval_${s.key}`))) return s;
  const a = s.alt.find((x) => has(run.train, x.key) || (withEval && has(run.eval, `eval_${x.key}`)));
  return a ? { ...s, key: a.key, label: a.label } : s;
}

/** The first finite training value of `key`, or null. */
function firstValue(run: RunView, key: string): number | null {
  for (const m of run.train) if (typeof m[key] === 'number' && Number.isFinite(m[key])) return m[key];
  return null;
}

/** Same numbers to nine significant digits. */
const same = (a: number, b: number) => a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));

/** Groups of run ids whose raw values agree at every step (at least two values). */
function overlapping(runs: readonly LegendRun[], lines: readonly LineDef[], table: ReadonlyArray<Record<string, number>>): string[][] {
  const cols = (id: string) => lines.filter((l) => l.runId === id).map((l) => l.dataKey.slice(id.length));
  const equal = (a: string, b: string) => {
    const ca = cols(a);
    if (ca.join() !== cols(b).join() || !ca.length) return false;
    let n = 0;
    for (const row of table) {
      for (const c of ca) {
        const x = row[a + c];
        const y = row[b + c];
        if (x === undefined && y === undefined) continue;
        if (x === undefined || y === undefined || !same(x, y)) return false;
        n++;
      }
    }
    return n >= 2;
  };
  const groups: string[][] = [];
  const done = new Set<string>();
  for (const r of runs) {
    if (done.has(r.id)) continue;
    const g = runs.filter((o) => o.id === r.id || (!done.has(o.id) && equal(r.id, o.id)));
    g.forEach((o) => done.add(o.id));
    if (g.length > 1) groups.push(g.map((o) => o.id));
  }
  return groups;
}

export function chartData(def: ChartDef, runs: readonly RunView[], smoothing: number, maxPoints = 300, view: ViewOptions = {}): ChartData {
  const order = view.order ?? runs.map((r) => r.id);
  const hidden = new Set(view.hidden ?? []);
  const shown = runs.filter((r) => !hidden.has(r.id));
  const highlight = view.highlight && shown.some((r) => r.id === view.highlight) ? view.highlight : null;
  const lines: LineDef[] = [];
  const legend: LegendRun[] = [];
  const skipped: string[] = [];
  const points = new Map<number, Record<string, number>>();
  const table = new Map<number, Record<string, number>>();
  for (const run of shown) {
    if (!chartPlotsRun(def, run)) continue;
    const k = Math.max(0, order.indexOf(run.id));
    const marker = MARKERS[k % MARKERS.length];
    const markerPhase = shown.length > 1 ? shown.indexOf(run) / shown.length : 0;
    let scale = 1;
    if (def.normalise) {
      const first = firstValue(run, seriesFor(def.series[0], run, false).key);
      if (first === null) continue;
      if (first === 0) {
        skipped.push(`${run.label}: its first value is 0, nothing to divide by`);
        continue;
      }
      scale = 1 / first;
    }
    const line = (key: string, s: SeriesDef, isEval: boolean): LineDef => ({
      dataKey: key,
      name: `${run.label} · ${isEval ? 'eval ' : ''}${s.label}`,
      runId: run.id,
      color: run.color,
      dashed: Boolean(s.dashed),
      eval: isEval,
      marker,
      markerPhase,
      dim: highlight !== null && highlight !== run.id,
      highlight: highlight === run.id,
    });
    let drawn = false;
    for (const s0 of def.series) {
      const s = seriesFor(s0, run, def.eval);
      if (has(run.train, s.key)) {
        const key = `${run.id}|${s.key}`;
        lines.push(line(key, s, false));
        const rows = run.train.filter((m) => typeof m[s.key] === 'number');
        const sm = smooth(rows.map((m) => m[s.key] * scale), smoothing);
        for (const i of downsample(rows.length, maxPoints)) put(points, rows[i].step, key, sm[i]);
        for (const m of rows) put(table, m.step, key, m[s.key] * scale);
        drawn = true;
      }
      const ek = `eval_${s.key}`;
      if (def.eval && has(run.eval, ek)) {
        const key = `${run.id}|${ek}`;
        lines.push(line(key, s, true));
        for (const m of run.eval) {
          if (typeof m[ek] !== 'number') continue;
          put(points, m.step, key, m[ek] * scale);
          put(table, m.step, key, m[ek] * scale);
        }
        drawn = true;
      }
    }
    if (drawn) legend.push({ id: run.id, label: run.label, color: run.color, marker });
  }
  // the highlighted run is drawn last, on top
  lines.sort((a, b) => Number(a.highlight) - Number(b.highlight));
  const byStep = (a: Record<string, number>, b: Record<string, number>) => a.step - b.step;
  const tableRows = [...table.values()].sort(byStep);
  const pointRows = [...points.values()].sort(byStep);
  let extent: [number, number] | null = null;
  for (const row of pointRows) {
    for (const l of lines) {
      const v = row[l.dataKey];
      if (v === undefined || !Number.isFinite(v)) continue;
      extent = extent ? [Math.min(extent[0], v), Math.max(extent[1], v)] : [v, v];
    }
  }
  const groups = overlapping(legend, lines, tableRows);
  for (const g of groups) {
    for (const l of lines) {
      const index = g.indexOf(l.runId);
      if (index >= 0 && !l.eval && !l.dashed) l.stripe = { index, count: g.length };
    }
  }
  const label = (id: string) => legend.find((r) => r.id === id)!.label;
  return { lines, points: pointRows, table: tableRows, runs: legend, extent, overlaps: groups.map((g) => g.map(label)), skipped };
}

/** Whether the panel draws a log y axis: asked for, and every plotted value positive. */
export function logAxis(def: ChartDef, data: ChartData): boolean {
  return Boolean(def.log && data.extent && data.extent[0] > 0);
}

/** Every `markerStride` points a run draws its marker: about eight per line, and at least one slot per run so overlapping runs alternate. */
export function markerStride(nPoints: number, nRuns = 1): number {
  return Math.max(1, nRuns, Math.floor(nPoints / 8));
}

/** Round tick values covering [min, max] (about `count` of them), for a linear axis. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) {
    const d = Math.abs(min) * 0.1 || 1;
    min -= d;
    max += d;
  }
  const raw = (max - min) / Math.max(1, count - 1);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => st >= raw) ?? 10 * mag;
  const lo = Math.floor(min / step + 1e-9) * step;
  const hi = Math.ceil(max / step - 1e-9) * step;
  const out: number[] = [];
  for (let v = lo; v <= hi + step * 1e-6; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Whether point `index` carries the marker of a line with `phase` (eval points always do). */
export function hasMarker(line: LineDef, index: number, stride: number): boolean {
  if (line.eval) return true;
  return index % stride === Math.floor(line.markerPhase * stride);
}

/** The plotted row nearest to `step`, and each line's value there. */
export function valuesAt(data: ChartData, step: number): { step: number; values: Array<{ line: LineDef; value: number }> } | null {
  const rows = data.points;
  if (!rows.length) return null;
  let lo = 0;
  let hi = rows.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid].step < step) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(rows[lo - 1].step - step) <= Math.abs(rows[lo].step - step)) lo--;
  const row = rows[lo];
  const values = data.lines.filter((l) => typeof row[l.dataKey] === 'number').map((line) => ({ line, value: row[line.dataKey] }));
  return { step: row.step, values };
}

/** Each line's last plotted value (lines at different steps: each its own), at the latest step among them. */
export function latestValues(data: ChartData): { step: number; values: Array<{ line: LineDef; value: number }> } | null {
  const values: Array<{ line: LineDef; value: number }> = [];
  let step = -Infinity;
  for (const line of data.lines) {
    for (let i = data.points.length - 1; i >= 0; i--) {
      const v = data.points[i][line.dataKey];
      if (typeof v === 'number') {
        values.push({ line, value: v });
        step = Math.max(step, data.points[i].step);
        break;
      }
    }
  }
  return values.length ? { step, values } : null;
}

/** Six significant digits: enough to compare with the CLI's metrics.jsonl at 1e-5 relative. */
export function formatValue(v: number | undefined): string {
  if (v === undefined) return '';
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-4 && a < 1e6 ? String(Number(v.toPrecision(6))) : v.toExponential(5);
}
