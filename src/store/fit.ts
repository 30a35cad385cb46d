// Will the comparison fit the GPU? Before Start, the page compares the memory every run needs
// (runMemoryEstimate per card: the engine's own size tables; an online run's reference, generation
// cache, reward and value models included) with a budget, and offers the settings that
// bring it under: bf16 AdamW moments, f16 activations, micro-batches of one pair with gradient
// accumulation (same effective batch), activation checkpointing, LoRA adapters over a bf16 base
// (the first offer for models of 100M parameters and more), a shorter max length. Browsers do not tell a page how much
// GPU memory there is, so the budget is the user's (or a stated default), while the per-buffer
// limits the adapter does report are checked exactly.
import { resolveLengths } from '../data/tokenize';
import { CHECKPOINT_DEFAULT_PARAMS, modelParamCount, type ModelConfig } from '../model/family';
import type { BaseDtype, LoraConfig } from '../model/lora';
import type { TrainSettings } from '../worker/protocol';
import { memoryEstimate, runMemoryEstimate, settingsMemoryOptions, type MemoryEstimate, type MemoryOptions } from './memory';
import { createObjective, type ObjectiveSpec } from '../train/objectives';
import { DEFAULT_LORA } from './settings';

/** Assumed when the user has not said how much GPU memory there is: a common laptop GPU share. */
export const DEFAULT_BUDGET_BYTES = 4 * 1024 ** 3;

/**
 * What a comparison needs with `s` (LoRA, base dtype and checkpointing as the runs resolve them:
 * settingsMemoryOptions): `runs` pair-method runs, or one run per objective (the cards' methods
 * and options: runMemoryEstimate, so an online run counts its reference, generation cache, reward
 * and value models). The total is the sum of the runs' estimates (every run's GPU state stays
 * while the comparison runs); the spread fields are the first run's.
 */
export function comparisonMemory(c: ModelConfig, nPositions: number, s: TrainSettings, runs: number | readonly ObjectiveSpec[], checkpointDtype?: BaseDtype): MemoryEstimate & { total: number; seqLen: number; perRuns: number[] } {
  const seqLen = s.maxLength ?? resolveLengths(nPositions).maxLength;
  const opts = settingsMemoryOptions(c, s, checkpointDtype);
  const est = memoryEstimate(c, s.batchSize, seqLen, s.optimizer, s.momentsDtype, s.activationsDtype, opts);
  const perRuns = typeof runs === 'number' ? Array.from({ length: runs }, () => est.perRun) : runs.map((o) => objectiveMemory(c, s, o, opts) ?? est.perRun);
  const first = typeof runs === 'number' || !runs.length ? est : { ...est, perRun: perRuns[0] };
  return { ...first, total: perRuns.reduce((a, b) => a + b, 0), seqLen, perRuns };
}

/** One run's bytes (runMemoryEstimate), or null when its options are invalid (the card says why; the pair estimate stands in). */
function objectiveMemory(c: ModelConfig, s: TrainSettings, o: ObjectiveSpec, opts: MemoryOptions): number | null {
  try {
    return runMemoryEstimate(c, s, o, opts).perRun;
  } catch {
    return null;
  }
}

/** Whether a run generates (GRPO, RLOO, PPO): its batch counts prompts and its gradAccum splits the completions. */
function isOnline(o: ObjectiveSpec): boolean {
  try {
    const k = createObjective(o).kind;
    return k === 'online' || k === 'ppo';
  } catch {
    return false;
  }
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
  /** The first run's bytes. */
  perRun: number;
  /** Every run's bytes (they differ when the methods do: an online run holds more). */
  perRuns: number[];
  budget: number;
  fits: boolean;
  /** Cumulative steps, cheapest in accuracy first, up to the first that fits (all of them when none does). */
  steps: FitStep[];
  /** Whether applying every step fits. */
  reachable: boolean;
}

/**
 * The settings changes that bring the comparison's runs (comparisonMemory) under `budget` bytes,
 * in the order they cost least: storage precision first (the arithmetic stays f32), then micro-batches and activation
 * checkpointing (same gradient, more time), then LoRA adapters of rank 8 over a bf16 base with
 * checkpointing (TRL's PEFT path: fewer weights train), then a shorter max length (answers cut).
 * From 100M parameters LoRA comes first, as TRL users fit such models: the gradients and AdamW
 * moments of every parameter (12 bytes each with f32 moments) are what no other step reduces, and
 * LoRA drops them and halves the base.
 *
 * `imported`: the LoRA config turning LoRA on gives when an adapter is imported (its r, lora_alpha
 * and targets replace the form's: src/store/adapter.ts effectiveLora), named in the step and
 * counted in its estimate; the step's patch stays the form's (DEFAULT_LORA, as the LoRA checkbox).
 */
export function fitAdvice(c: ModelConfig, nPositions: number, s: TrainSettings, runs: number | readonly ObjectiveSpec[], budget: number, imported: LoraConfig | null = null): FitAdvice {
  const now = comparisonMemory(c, nPositions, s, runs);
  const advice: FitAdvice = { total: now.total, perRun: now.perRun, perRuns: now.perRuns, budget, fits: now.total <= budget, steps: [], reachable: now.total <= budget };
  if (advice.fits) return advice;
  let cur: TrainSettings = { ...s };
  const checkpointing = () => settingsMemoryOptions(c, cur).checkpoint;
  const lora = {
    label: imported ? `LoRA continuing the imported adapter (r=${imported.r}, bf16 base, activation checkpointing)` : `LoRA r=${DEFAULT_LORA.r} (bf16 base, activation checkpointing)`,
    patch: (): Partial<TrainSettings> | null => {
      const o = settingsMemoryOptions(c, cur);
      const patch: Partial<TrainSettings> = {};
      if (!o.lora) patch.lora = { ...DEFAULT_LORA }; // (also in place of targets this model lacks)
      if (o.baseDtype === 'f32') patch.baseDtype = 'bf16';
      if (!o.checkpoint) patch.checkpointActivations = true;
      return Object.keys(patch).length ? patch : null;
    },
  };
  const large = modelParamCount(c) >= CHECKPOINT_DEFAULT_PARAMS;
  const online = typeof runs !== 'number' && runs.some(isOnline);
  const candidates: Array<{ label: string; patch: () => Partial<TrainSettings> | null }> = [
    ...(large ? [lora] : []),
    { label: 'bf16 AdamW moments', patch: () => (cur.optimizer === 'adamw' && cur.momentsDtype !== 'bf16' ? { momentsDtype: 'bf16' } : null) },
    { label: 'f16 activations', patch: () => (cur.activationsDtype !== 'f16' ? { activationsDtype: 'f16' } : null) },
    // (not with online runs: their gradAccum must divide each update's completions)
    { label: 'micro-batches of one pair', patch: () => (cur.batchSize > 1 && !online ? { batchSize: 1, gradAccum: cur.batchSize * cur.gradAccum } : null) },
    { label: 'activation checkpointing', patch: () => (!checkpointing() ? { checkpointActivations: true } : null) },
    ...(large ? [] : [lora]),
  ];
  for (const T of [512, 256, 128]) candidates.push({ label: `max length ${T}`, patch: () => (now.seqLen > T && (cur.maxLength ?? now.seqLen) > T ? { maxLength: T, maxPromptLength: cur.maxPromptLength !== null ? Math.min(cur.maxPromptLength, T / 2) : null } : null) });
  let last = now.total;
  for (const cand of candidates) {
    const patch = cand.patch();
    if (!patch) continue;
    // what the runs would use: an imported adapter's LoRA config in place of the form's
    const next = { ...cur, ...patch, ...(patch.lora && imported ? { lora: { ...imported } } : {}) };
    const total = comparisonMemory(c, nPositions, next, runs).total;
    // a step that saves nothing after the ones before it is not offered (f16 activations beside
    // activation checkpointing: one layer's kept tensors are small, the f16 copies are not)
    if (total >= last) continue;
    cur = next;
    last = total;
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
