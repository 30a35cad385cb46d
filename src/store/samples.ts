// Samples over time and length (README.md), as pure functions of the runs' samples: the reducer's
// updates, the step × run table, the length curves (mean tokens of the greedy samples, and the
// data's chosen − rejected length gap) and the note when a run's samples grow steadily longer.
import type { SamplesAtStep } from '../onnx/timed-samples';
import type { Metrics, RolloutsAtStep } from '../worker/protocol';

/** `at` in step order, replacing an entry of the same step (a resumed run samples step 0 again). */
export function addSamples(list: readonly SamplesAtStep[] | undefined, at: SamplesAtStep): SamplesAtStep[] {
  return [...(list ?? []).filter((s) => s.step !== at.step), at].sort((a, b) => a.step - b.step);
}

/** The run went back to step `step`: samples after it are void. */
export function rewindSamples(list: readonly SamplesAtStep[] | undefined, step: number): { samples?: SamplesAtStep[] } {
  return list ? { samples: list.filter((s) => s.step <= step) } : {};
}

/** An online run's completions of one update, in step order (a redone update replaces its entry). */
export function addRollouts(list: readonly RolloutsAtStep[] | undefined, at: RolloutsAtStep): RolloutsAtStep[] {
  return [...(list ?? []).filter((s) => s.step !== at.step), at].sort((a, b) => a.step - b.step);
}

/** The run went back to step `step` (updates done): completions of later updates are void. */
export function rewindRollouts(list: readonly RolloutsAtStep[] | undefined, step: number): { rollouts?: RolloutsAtStep[] } {
  return list ? { rollouts: list.filter((s) => s.step <= step) } : {};
}

/** One row of the samples-over-steps table of an online run. */
export interface RolloutRow {
  step: number;
  /** First row of its step (the step cell spans the step's rows). */
  first: boolean;
  /** Rows of its step. */
  span: number;
  prompt: string;
  completion: string;
  tokens: number;
  reward: number;
  reason: string;
  /** GRPO/RLOO's advantage of the completion; null for PPO (per-token advantages). */
  advantage: number | null;
  /** The reward is a judge's verdict in [0, 1] (coloured right/wrong), or a reward model's score. */
  judged: boolean;
}

/** The table's rows, newest update first (so the latest generations are on top). */
export function rolloutRows(list: readonly RolloutsAtStep[] | undefined): RolloutRow[] {
  return [...(list ?? [])]
    .sort((a, b) => b.step - a.step)
    .flatMap((at) => at.completions.map((completion, i) => ({ step: at.step, first: i === 0, span: at.completions.length, prompt: at.prompts[i], completion, tokens: at.tokens[i], reward: at.reward[i], reason: at.reasons[i], advantage: at.advantages?.[i] ?? null, judged: at.scale === 'judge' })));
}

/** A reward as the table shows it: integers as they are, else to 2 decimals (1, 0, 0.50), small scores to 2 significant digits. */
export const rewardText = (r: number): string => (Number.isInteger(r) ? String(r) : Math.abs(r) >= 0.01 ? r.toFixed(2) : r.toPrecision(2));

export const meanTokens = (s: SamplesAtStep): number => (s.tokens.length ? s.tokens.reduce((a, b) => a + b, 0) / s.tokens.length : 0);
export const meanScore = (s: SamplesAtStep): number => (s.scores.length ? s.scores.reduce((a, b) => a + b, 0) / s.scores.length : 0);

export interface SampleRun {
  id: string;
  label: string;
  samples?: SamplesAtStep[];
}

/** Rows of the step × run table: every step any run sampled, with each run's samples there. */
export function samplesTable(runs: readonly SampleRun[]): Array<{ step: number; cells: Array<SamplesAtStep | undefined> }> {
  const steps = [...new Set(runs.flatMap((r) => (r.samples ?? []).map((s) => s.step)))].sort((a, b) => a - b);
  return steps.map((step) => ({ step, cells: runs.map((r) => r.samples?.find((s) => s.step === step)) }));
}

/** Series keys of the Length chart (src/ui/charts/LengthChart.tsx). */
export const LENGTH_KEYS = { samples: 'samples/length', gap: 'data/length_gap' } as const;

/** A run's length curves as metrics rows: mean sample tokens, and the data's chosen − rejected mean length. */
export function lengthRows(samples: readonly SamplesAtStep[] | undefined): Metrics[] {
  return (samples ?? []).map((s) => ({ step: s.step, [LENGTH_KEYS.samples]: meanTokens(s), [LENGTH_KEYS.gap]: s.data.chosen - s.data.rejected }));
}

/** A completion that repeats a piece of 3+ characters three times in a row. */
export const repeats = (text: string): boolean => /(.{3,}?)\1{2,}/su.test(text);

const tokensText = (x: number) => `${Number(x.toFixed(1))} token${x === 1 ? '' : 's'}`;

/**
 * A note when a run's greedy samples grow steadily longer: at least four sample steps, at most one
 * in four of the step-to-step changes a decrease, and the last at least 3 tokens and 25 % above the
 * first. Null otherwise.
 */
export function lengthGrowthNote(label: string, samples: readonly SamplesAtStep[] | undefined, limit?: number): string | null {
  const pts = (samples ?? []).map((s) => ({ step: s.step, len: meanTokens(s) }));
  if (pts.length < 4) return null;
  const first = pts[0];
  const last = pts[pts.length - 1];
  let drops = 0;
  for (let i = 1; i < pts.length; i++) if (pts[i].len < pts[i - 1].len) drops++;
  if (drops > Math.floor((pts.length - 1) / 4)) return null;
  if (!(last.len - first.len >= 3 && last.len >= 1.25 * first.len)) return null;
  const lastSet = samples![samples!.length - 1];
  const capped = limit !== undefined && lastSet.tokens.some((t) => t >= limit);
  const repeating = lastSet.completions.some(repeats);
  const gap = lastSet.data.chosen - lastSet.data.rejected;
  const why = Math.abs(gap) >= 0.5 ? ` In this data the chosen answers are ${gap > 0 ? 'longer' : 'shorter'} than the rejected ones by ${tokensText(Math.abs(gap))} on average${gap > 0 ? ', so a method that rewards the chosen side can reward length itself' : ''}.` : '';
  const also = [capped && `some now run to the ${limit}-token limit`, repeating && 'some repeat themselves'].filter(Boolean).join(' and ');
  return `${label}: its greedy samples grew from ${tokensText(first.len)} to ${tokensText(last.len)} (mean over the prompts) between steps ${first.step} and ${last.step}${also ? `, and ${also}` : ''}: a sign of length exploitation.${why} A length-normalised method (SimPO, DPO sigmoid_norm, ORPO's per-token averages), a lower learning rate or an NLL term usually keeps length in check.`;
}
