// The comparison's shared settings: TRL's defaults (TRAIN_DEFAULTS) with page-sized steps and
// an eval split, plus truncation and checkpoint interval.
import { problemText, TRAIN_DEFAULTS, trainConfigProblems } from '../train/config';
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

/** Form labels of the settings' fields, so the validator's problems read as the page words them. */
const LABELS: Record<string, string> = {
  steps: 'Steps',
  batchSize: 'Batch size',
  gradAccum: 'Gradient accumulation',
  warmupSteps: 'Warmup steps',
  seed: 'Seed',
  evalEvery: 'Eval every',
  checkpointEvery: 'Checkpoint every',
  lr: 'Learning rate',
  evalFraction: 'Eval fraction',
  maxGradNorm: 'Max grad norm',
  weightDecay: 'Weight decay',
  momentsDtype: 'AdamW moments',
  activationsDtype: 'Activations',
  maxLength: 'Max length',
  maxPromptLength: 'Max prompt length',
};

/**
 * Problems that would make the engine refuse the settings, in words (empty: fine): the engine's
 * own validator (src/train/config.ts), with the form's labels for the field names.
 */
export function settingsProblems(s: TrainSettings): string[] {
  return trainConfigProblems(s).map((p) => problemText(p, LABELS[p.field] ?? p.field));
}
