// The comparison's shared settings: TRL's defaults (TRAIN_DEFAULTS) with page-sized steps and
// an eval split, plus truncation and checkpoint interval.
import { problemText, TRAIN_DEFAULTS, trainConfigProblems, type ConfigProblem } from '../train/config';
import type { TrainSettings } from '../worker/protocol';
import type { ModelConfig } from '../model/family';
import { loraProblem } from '../model/lora';

export const DEFAULT_SETTINGS: TrainSettings = {
  ...TRAIN_DEFAULTS,
  steps: 60,
  evalFraction: 0.1,
  evalEvery: 10,
  maxLength: null,
  maxPromptLength: null,
  checkpointEvery: 10,
  sampleEvery: 0,
  // full fine-tuning; with LoRA on, an absent base dtype is the checkpoint's own (effectiveBaseDtype)
  // and absent activation checkpointing is on for models of 100M parameters and more
  lora: null,
  baseDtype: undefined,
  checkpointActivations: undefined,
};

/** LoRA as the form's toggle turns it on: PEFT LoraConfig's defaults (r 8, lora_alpha 8, as the CLI's --lora-r 8), every linear layer. */
export const DEFAULT_LORA = { r: 8, alpha: 8 } as const;

/** Form labels of the settings' fields, so the validator's problems read as the page words them. */
const LABELS: Record<string, string> = {
  steps: 'Steps',
  batchSize: 'Batch size',
  gradAccum: 'Gradient accumulation',
  warmupSteps: 'Warmup steps',
  seed: 'Seed',
  evalEvery: 'Eval every',
  checkpointEvery: 'Checkpoint every',
  sampleEvery: 'Samples every',
  lr: 'Learning rate',
  evalFraction: 'Eval fraction',
  maxGradNorm: 'Max grad norm',
  weightDecay: 'Weight decay',
  momentsDtype: 'AdamW moments',
  activationsDtype: 'Activations',
  maxLength: 'Max length',
  maxPromptLength: 'Max prompt length',
  loraR: 'LoRA rank r',
  loraAlpha: 'lora_alpha',
  loraTargets: 'Target modules',
  baseDtype: 'Frozen base dtype',
  checkpointActivations: 'Activation checkpointing',
};

/** Validator fields that are parts of one setting (the LoRA config's r, alpha and targets are `lora`). */
const FIELD_SETTING: Record<string, keyof TrainSettings> = { loraR: 'lora', loraAlpha: 'lora', loraTargets: 'lora' };

/** What the validator can check only with the model and the data at hand. */
export interface SettingsContext {
  /** The loaded model's n_positions. */
  nPositions?: number;
  /** Accepted pairs of the data file. */
  examples?: number;
}

/** A problem's message with the form's label for its field. */
export function labelled(p: ConfigProblem): string {
  return problemText(p, LABELS[p.field] ?? p.field);
}

/**
 * Problems that would make the engine refuse the settings, in words (empty: fine): the engine's
 * own validator (src/train/config.ts), with the form's labels for the field names.
 */
export function settingsProblems(s: TrainSettings, ctx: SettingsContext = {}, model?: ModelConfig): string[] {
  const out = trainConfigProblems({ ...s, ...ctx }).map(labelled);
  // LoRA targets name modules of one family: checked against the loaded model (the run refuses them too)
  const targets = model && s.lora ? loraProblem(model, s.lora) : null;
  if (targets) out.push(`${LABELS.loraTargets}: ${targets}`);
  return out;
}

/** A setting the validator refused, and why in the form's words. */
export interface Refusal {
  key: keyof TrainSettings;
  message: string;
}

/**
 * `patch` over `base`, less every value the validator refuses (those keep base's value), so an
 * invalid setting is never stored: the form, the URL and saved settings all come through here.
 * A value that only clashes with another (SGD with weight decay) is refused on the patch's side.
 */
export function applySettings(base: TrainSettings, patch: Partial<TrainSettings>, ctx: SettingsContext = {}): { settings: TrainSettings; refused: Refusal[] } {
  const problems = (s: TrainSettings) => trainConfigProblems({ ...s, ...ctx });
  const keys = (Object.keys(patch) as Array<keyof TrainSettings>).filter((k) => k in DEFAULT_SETTINGS);
  const before = new Set(problems(base).map((p) => p.field));
  const refused: Refusal[] = [];
  let next: TrainSettings = { ...base };
  for (const k of keys) (next as unknown as Record<string, unknown>)[k] = patch[k];
  const refuse = (key: keyof TrainSettings, message: string) => {
    refused.push({ key, message });
    next = { ...next, [key]: base[key] };
  };
  // values refused by name
  for (const p of problems(next)) {
    const key = FIELD_SETTING[p.field] ?? (p.field as keyof TrainSettings);
    if (keys.includes(key) && !refused.some((r) => r.key === key)) refuse(key, labelled(p));
  }
  // new problems elsewhere: refuse the patch value whose removal clears them
  let fresh = problems(next).filter((p) => !before.has(p.field));
  for (const k of keys) {
    if (!fresh.length) break;
    if (refused.some((r) => r.key === k)) continue;
    const after = problems({ ...next, [k]: base[k] }).filter((p) => !before.has(p.field));
    if (after.length < fresh.length) {
      refuse(k, fresh.filter((p) => !after.some((a) => a.field === p.field)).map(labelled).join('; '));
      fresh = after;
    }
  }
  return { settings: next, refused };
}
