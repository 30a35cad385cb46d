// The comparison's shared settings: TRL's defaults (TRAIN_DEFAULTS) with page-sized steps and
// an eval split, plus truncation and checkpoint interval.
import { TRAIN_DEFAULTS } from '../train/config';
import type { TrainSettings } from '../worker/protocol';

export const DEFAULT_SETTINGS: TrainSettings = {
  ...TRAIN_DEFAULTS,
  steps: 60,
  evalFraction: 0.1,
  evalEvery: 10,
  maxLength: null,
  maxPromptLength: null,
  checkpointEvery: 10,
};

/** Problems that would make the engine refuse the settings, in words (empty: fine). */
export function settingsProblems(s: TrainSettings): string[] {
  const out: string[] = [];
  const int = (v: number, min: number, what: string) => (!Number.isInteger(v) || v < min) && out.push(`${what} must be a whole number ≥ ${min}`);
  int(s.steps, 1, 'Steps');
  int(s.batchSize, 1, 'Batch size');
  int(s.gradAccum, 1, 'Gradient accumulation');
  int(s.warmupSteps, 0, 'Warmup steps');
  int(s.seed, 0, 'Seed');
  int(s.evalEvery, 0, 'Eval every');
  int(s.checkpointEvery, 1, 'Checkpoint every');
  if (!(s.lr > 0)) out.push('Learning rate must be > 0');
  if (!(s.evalFraction >= 0 && s.evalFraction < 1)) out.push('Eval fraction must be in [0, 1)');
  if (!(s.maxGradNorm >= 0)) out.push('Max grad norm must be ≥ 0 (0 disables clipping)');
  if (s.momentsDtype === 'bf16' && s.optimizer !== 'adamw') out.push('bf16 moments need AdamW (SGD keeps no moments)');
  if (s.maxLength !== null) int(s.maxLength, 2, 'Max length');
  if (s.maxPromptLength !== null) int(s.maxPromptLength, 1, 'Max prompt length');
  return out;
}
