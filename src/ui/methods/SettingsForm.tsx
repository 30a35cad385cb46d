import { useApp } from '../../store';
import { settingsProblems } from '../../store/settings';
import { NumberField } from './NumberField';
import type { TrainSettings } from '../../worker/protocol';

type NumKey = 'steps' | 'batchSize' | 'lr' | 'warmupSteps' | 'seed' | 'evalFraction' | 'evalEvery' | 'maxGradNorm' | 'gradAccum' | 'weightDecay' | 'checkpointEvery';

const FIELDS: Array<[NumKey, string]> = [
  ['steps', 'Steps'],
  ['batchSize', 'Batch size'],
  ['lr', 'Learning rate'],
  ['seed', 'Seed'],
  ['warmupSteps', 'Warmup steps'],
  ['evalFraction', 'Eval fraction'],
  ['evalEvery', 'Eval every'],
  ['maxGradNorm', 'Max grad norm'],
  ['gradAccum', 'Grad accumulation'],
  ['weightDecay', 'Weight decay'],
  ['checkpointEvery', 'Checkpoint every'],
];

// Settings every run shares (TRL's names and defaults).
export function SettingsForm() {
  const s = useApp((st) => st.settings);
  const update = useApp((st) => st.updateSettings);
  const problems = settingsProblems(s);
  return (
    <fieldset className="settings">
      <legend>Shared settings</legend>
      {FIELDS.map(([k, label]) => (
        <NumberField key={k} label={label} value={s[k]} min={0} onChange={(v) => update({ [k]: v } as Partial<TrainSettings>)} />
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
      <NumberField label="Max prompt length" value={s.maxPromptLength} nullable placeholder="auto" onChange={(v) => update({ maxPromptLength: v })} onClear={() => update({ maxPromptLength: null })} />
      {problems.length > 0 && (
        <p className="notice warn" role="alert">
          {problems.join('. ')}.
        </p>
      )}
    </fieldset>
  );
}
