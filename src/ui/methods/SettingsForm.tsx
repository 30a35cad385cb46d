import { Fragment, useState } from 'react';
import { useApp } from '../../store';
import { settingsProblems } from '../../store/settings';
import { NumberField } from './NumberField';
import { FieldError } from './FieldError';
import { LoraSettings } from './LoraSettings';
import type { TrainSettings } from '../../worker/protocol';

type NumKey = 'steps' | 'batchSize' | 'lr' | 'warmupSteps' | 'seed' | 'evalFraction' | 'evalEvery' | 'maxGradNorm' | 'gradAccum' | 'weightDecay' | 'checkpointEvery' | 'sampleEvery';

// Steps and the learning rate sit in the run controls at the top of the page (RunControls).
const FIELDS: Array<[NumKey, string]> = [
  ['batchSize', 'Batch size'],
  ['seed', 'Seed'],
  ['warmupSteps', 'Warmup steps'],
  ['evalFraction', 'Eval fraction'],
  ['evalEvery', 'Eval every'],
  ['maxGradNorm', 'Max grad norm'],
  ['gradAccum', 'Grad accumulation'],
  ['weightDecay', 'Weight decay'],
  ['checkpointEvery', 'Checkpoint every'],
  // greedy samples of a few held-out prompts at step 0, every N updates and the last (0: none)
  ['sampleEvery', 'Samples every'],
];


/** One shared number setting with its own refusal message (the run controls' steps and learning rate). */
export function SettingField({ k, label }: { k: NumKey; label: string }) {
  const value = useApp((st) => st.settings[k] ?? 0);
  const updateSettings = useApp((st) => st.updateSettings);
  const [error, setError] = useState<string | undefined>();
  return (
    <span className="setting-field">
      <NumberField
        label={label}
        value={value}
        min={0}
        onChange={(v) => {
          const refused = updateSettings({ [k]: v } as Partial<TrainSettings>);
          setError(refused.find((r) => r.key === k)?.message);
        }}
      />
      <FieldError message={error} />
    </span>
  );
}

// Settings every run shares (TRL's names and defaults). A typed value the validator refuses stays
// in its field with the reason beside it; the store, the URL and IndexedDB keep the last valid one.
export function SettingsForm() {
  const s = useApp((st) => st.settings);
  const updateSettings = useApp((st) => st.updateSettings);
  const nPositions = useApp((st) => st.model.info?.nPositions);
  const modelConfig = useApp((st) => st.model.info?.config);
  const examples = useApp((st) => st.data.result?.report.accepted);
  const [errors, setErrors] = useState<Partial<Record<keyof TrainSettings, string>>>({});
  const update = (patch: Partial<TrainSettings>) => {
    const refused = updateSettings(patch);
    setErrors((e) => {
      const next = { ...e };
      for (const k of Object.keys(patch) as Array<keyof TrainSettings>) delete next[k];
      for (const r of refused) next[r.key] = r.message;
      return next;
    });
  };
  const problems = settingsProblems(s, { nPositions, examples }, modelConfig);
  return (
    <fieldset className="settings">
      <legend>Shared settings</legend>
      <p className="muted settings-note">Steps and the learning rate are at the top of the page, next to Start.</p>
      {FIELDS.map(([k, label]) => (
        <Fragment key={k}>
          <NumberField label={label} value={s[k] ?? 0} min={0} onChange={(v) => update({ [k]: v } as Partial<TrainSettings>)} />
          <FieldError message={errors[k]} />
        </Fragment>
      ))}
      <label>
        Schedule{' '}
        <select value={s.schedule} onChange={(e) => update({ schedule: e.target.value as TrainSettings['schedule'] })}>
          <option value="linear">linear</option>
          <option value="cosine">cosine</option>
          <option value="constant">constant</option>
        </select>
      </label>
      <label>
        Optimizer{' '}
        <select value={s.optimizer} onChange={(e) => update({ optimizer: e.target.value as TrainSettings['optimizer'], ...(e.target.value === 'sgd' ? { weightDecay: 0, momentsDtype: 'f32' } : {}) })}>
          <option value="adamw">AdamW</option>
          <option value="sgd">SGD</option>
        </select>
      </label>
      <label title="bf16 halves the optimizer's memory (stochastic rounding keeps the moments unbiased); SGD keeps no moments">
        AdamW moments{' '}
        <select value={s.momentsDtype ?? 'f32'} disabled={s.optimizer !== 'adamw'} onChange={(e) => update({ momentsDtype: e.target.value as 'f32' | 'bf16' })}>
          <option value="f32">f32</option>
          <option value="bf16">bf16 (half the memory)</option>
        </select>
      </label>
      <label title="f16 keeps each layer's qkv and MLP activations at 2 bytes per value (about a quarter less activation memory at GPT-2 small); the math stays f32">
        Activations{' '}
        <select value={s.activationsDtype ?? 'f32'} onChange={(e) => update({ activationsDtype: e.target.value as 'f32' | 'f16' })}>
          <option value="f32">f32</option>
          <option value="f16">f16 storage</option>
        </select>
      </label>
      <NumberField label="Max length" value={s.maxLength} nullable placeholder="auto" onChange={(v) => update({ maxLength: v })} onClear={() => update({ maxLength: null })} />
      <FieldError message={errors.maxLength} />
      <NumberField label="Max prompt length" value={s.maxPromptLength} nullable placeholder="auto" onChange={(v) => update({ maxPromptLength: v })} onClear={() => update({ maxPromptLength: null })} />
      <FieldError message={errors.maxPromptLength} />
      {(['schedule', 'optimizer', 'momentsDtype', 'activationsDtype'] as const).map((k) => (
        <FieldError key={k} message={errors[k]} />
      ))}
      <LoraSettings update={update} errors={errors} />
      {problems.length > 0 && (
        <p className="notice warn" role="alert">
          {problems.join('. ')}.
        </p>
      )}
    </fieldset>
  );
}
