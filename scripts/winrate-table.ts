// The pure half of scripts/winrate.ts: the pairwise win rate of a trained model against the start
// model on the same held-out prompts (same decoding), and the Markdown table of the README.

/** One model's judged samples: the judge's score per (prompt, seed), in the same order for every model. */
export type Scores = readonly number[];

export interface Judged {
  /** Mean judge score (the fraction answered right, for the arithmetic judge). */
  rate: number;
  n: number;
}

export function judged(scores: Scores): Judged {
  if (!scores.length) throw new Error('judged: no samples');
  return { rate: scores.reduce((a, b) => a + b, 0) / scores.length, n: scores.length };
}

/**
 * Win rate of `after` against `before`, sample by sample: 1 when its score is higher, ½ on a tie,
 * 0 when lower, averaged (0.5: no better and no worse than the start).
 */
export function pairwiseWinRate(after: Scores, before: Scores): number {
  if (after.length !== before.length || !after.length) throw new Error(`pairwiseWinRate: ${after.length} samples against ${before.length}: judge both models on the same prompts`);
  let w = 0;
  for (let i = 0; i < after.length; i++) w += after[i] > before[i] ? 1 : after[i] === before[i] ? 0.5 : 0;
  return w / after.length;
}

export interface Row {
  method: string;
  updates: number;
  /** null when the method could not run (then `note` says why). */
  after: Judged | null;
  winRate: number | null;
  /** Seconds of training (every stage, for a chain). */
  wallSeconds: number | null;
  note?: string;
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

function seconds(s: number): string {
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  return `${m} min ${Math.round(s - 60 * m)} s`;
}

/** The README's table: before (the start model) and after each method, the win rate against the start, the wall time. */
export function winRateTable(before: Judged, rows: readonly Row[]): string {
  const lines = [
    '| method | updates | judged correct, before | judged correct, after | win rate vs start | wall time |',
    '|---|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const after = r.after ? `${pct(r.after.rate)} (${Math.round(r.after.rate * r.after.n)}/${r.after.n})` : '—';
    const win = r.winRate === null ? '—' : pct(r.winRate);
    const wall = r.wallSeconds === null ? '—' : seconds(r.wallSeconds);
    lines.push(`| ${r.method}${r.note ? ` (${r.note})` : ''} | ${r.updates} | ${pct(before.rate)} (${Math.round(before.rate * before.n)}/${before.n}) | ${after} | ${win} | ${wall} |`);
  }
  return lines.join('\n') + '\n';
}
