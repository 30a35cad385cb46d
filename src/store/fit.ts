// Will the comparison fit the GPU? Before Start, the page compares the memory every run needs
// (memoryEstimate: the engine's own size tables) with a budget, and offers the settings that
// bring it under: bf16 AdamW moments, f16 activations, micro-batches of one pair with gradient
// accumulation (same effective batch), a shorter max length. Browsers do not tell a page how much
// GPU memory there is, so the budget is the user's (or a stated default), while the per-buffer
// limits the adapter does report are checked exactly.
import { resolveLengths } from '../data/tokenize';
import type { ModelConfig } from '../model/family';
import type { TrainSettings } from '../worker/protocol';
import { memoryEstimate, type MemoryEstimate } from './memory';

/** Assumed when the user has not said how much GPU memory there is: a common laptop GPU share. */
export const DEFAULT_BUDGET_BYTES = 4 * 1024 ** 3;

/** What a comparison of `runs` runs needs with `s`. */
export function comparisonMemory(c: ModelConfig, nPositions: number, s: TrainSettings, runs: number): MemoryEstimate & { total: number; seqLen: number } {
  const seqLen = s.maxLength ?? resolveLengths(nPositions).maxLength;
  const est = memoryEstimate(c, s.batchSize, seqLen, s.optimizer, s.momentsDtype, s.activationsDtype);
  return { ...est, total: runs * est.perRun, seqLen };
}

export interface FitStep {
  /** What the button says, e.g. "bf16 AdamW moments". */
  label: string;
  patch: Partial<TrainSettings>;
  /** The comparison's bytes once this step and the ones before it are applied. */
  total: number;
}

export interface FitAdvice {
  total: number;
  perRun: number;
  budget: number;
  fits: boolean;
  /** Cumulative steps, cheapest in accuracy first, up to the first that fits (all of them when none does). */
  steps: FitStep[];
  /** Whether applying every step fits. */
  reachable: boolean;
}

/**
 * The settings changes that bring `runs` runs under `budget` bytes, in the order they cost least:
 * storage precision first (the arithmetic stays f32), then micro-batches (same gradient, more
 * time), then a shorter max length (answers cut: the only one that changes what is learned).
 */
export function fitAdvice(c: ModelConfig, nPositions: number, s: TrainSettings, runs: number, budget: number): FitAdvice {
  const now = comparisonMemory(c, nPositions, s, runs);
  const advice: FitAdvice = { total: now.total, perRun: now.perRun, budget, fits: now.total <= budget, steps: [], reachable: now.total <= budget };
  if (advice.fits) return advice;
  let cur: TrainSettings = { ...s };
  const candidates: Array<{ label: string; patch: () => Partial<TrainSettings> | null }> = [
    { label: 'bf16 AdamW moments', patch: () => (cur.optimizer === 'adamw' && cur.momentsDtype !== 'bf16' ? { momentsDtype: 'bf16' } : null) },
    { label: 'f16 activations', patch: () => (cur.activationsDtype !== 'f16' ? { activationsDtype: 'f16' } : null) },
    { label: 'micro-batches of one pair', patch: () => (cur.batchSize > 1 ? { batchSize: 1, gradAccum: cur.batchSize * cur.gradAccum } : null) },
  ];
  for (const T of [512, 256, 128]) candidates.push({ label: `max length ${T}`, patch: () => (now.seqLen > T && (cur.maxLength ?? now.seqLen) > T ? { maxLength: T, maxPromptLength: cur.maxPromptLength !== null ? Math.min(cur.maxPromptLength, T / 2) : null } : null) });
  for (const cand of candidates) {
    const patch = cand.patch();
    if (!patch) continue;
    cur = { ...cur, ...patch };
    const total = comparisonMemory(c, nPositions, cur, runs).total;
    advice.steps.push({ label: cand.label, patch, total });
    if (total <= budget) {
      advice.reachable = true;
      break;
    }
  }
  return advice;
}

/** All steps' patches merged: what "apply all" sets. */
export function mergedPatch(steps: readonly FitStep[]): Partial<TrainSettings> {
  return Object.assign({}, ...steps.map((st) => st.patch)) as Partial<TrainSettings>;
}
