// The page's shared settings: what the engine would refuse is said in words before a run starts.
import { describe, it, expect } from 'vitest';
import { applySettings, DEFAULT_LORA, DEFAULT_SETTINGS, settingsProblems } from '../../../src/store/settings';
import { memorySavings, savingsText, settingsMemoryOptions } from '../../../src/store/memory';
import { llamaPresetConfig } from '../../../src/model/llama-config';
import { presetConfig } from '../../../src/model/config';
import { problemText, trainConfigProblems, validateTrainConfig } from '../../../src/train/config';

describe('settings problems', () => {
  it('defaults and bf16 AdamW moments are fine', () => {
    expect(settingsProblems(DEFAULT_SETTINGS)).toEqual([]);
    expect(settingsProblems({ ...DEFAULT_SETTINGS, momentsDtype: 'bf16' })).toEqual([]);
  });

  it('bf16 moments with SGD: named on the page, as the engine would refuse it', () => {
    const s = { ...DEFAULT_SETTINGS, optimizer: 'sgd' as const, momentsDtype: 'bf16' as const };
    expect(settingsProblems(s)).toEqual(['AdamW moments applies to adamw only: SGD here keeps no moments (got bf16)']);
    expect(() => validateTrainConfig({ ...s, objective: { method: 'dpo' } })).toThrow(/momentsDtype applies to adamw only/);
  });

  it('names whole-number fields', () => {
    expect(settingsProblems({ ...DEFAULT_SETTINGS, gradAccum: 0, steps: 1.5 })).toEqual(['Steps must be a whole number ≥ 1, got 1.5', 'Gradient accumulation must be a whole number ≥ 1, got 0']);
  });

  it('is the engine\'s validator: one problem per field, each naming it', () => {
    const c = { ...DEFAULT_SETTINGS, lr: -1, evalFraction: 1, optimizer: 'sgd' as const, weightDecay: 0.1, maxLength: 100, nPositions: 64, objective: { method: 'dpo' as const } };
    expect(trainConfigProblems(c)).toEqual([
      { field: 'lr', message: 'lr must be > 0, got -1' },
      { field: 'evalFraction', message: 'evalFraction must be between 0 and 0.5, got 1' },
      { field: 'weightDecay', message: 'weightDecay applies to adamw only: SGD here has no weight decay (got 0.1)' },
      { field: 'maxLength', message: "maxLength must be ≤ the model's n_positions (64), got 100" },
    ]);
    expect(problemText(trainConfigProblems(c)[0], '--lr')).toBe('--lr must be > 0, got -1');
    expect(trainConfigProblems({ ...c, lr: 1, evalFraction: 0, optimizer: 'adamw', maxLength: null, objective: { method: 'magic' as never } })[0].field).toBe('objective');
  });
});

describe('LoRA settings (the form, the URL and saved settings all pass applySettings)', () => {
  const smol = llamaPresetConfig('smollm2-135m');
  const gpt2 = presetConfig('tiny');

  it('stores a valid LoRA config, refuses a bad one in the form’s words and keeps the last valid value', () => {
    const on = applySettings(DEFAULT_SETTINGS, { lora: { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }, baseDtype: 'bf16', checkpointActivations: true });
    expect(on.refused).toEqual([]);
    expect(on.settings).toMatchObject({ lora: { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }, baseDtype: 'bf16', checkpointActivations: true });
    const bad = applySettings(on.settings, { lora: { r: 0, alpha: 16 } });
    expect(bad.refused).toEqual([{ key: 'lora', message: "LoRA rank r must be a whole number from 1 to 4096 (the adapters' rank), got 0" }]);
    expect(bad.settings.lora).toEqual(on.settings.lora);
    expect(applySettings(on.settings, { lora: { r: 8, alpha: 0 } }).refused[0].message).toBe('lora_alpha must be > 0 (the update is scaled by alpha / r), got 0');
    // a 16-bit base without adapters: full fine-tuning keeps f32 master weights
    expect(applySettings(DEFAULT_SETTINGS, { baseDtype: 'f16' }).refused).toEqual([{ key: 'baseDtype', message: 'Frozen base dtype applies to LoRA runs only: full fine-tuning keeps f32 master weights (got f16)' }]);
    // turning LoRA off clears the base dtype with it (the form's toggle)
    const off = applySettings(on.settings, { lora: null, baseDtype: undefined });
    expect(off.refused).toEqual([]);
    expect(off.settings).toMatchObject({ lora: null, baseDtype: undefined, checkpointActivations: true });
    expect(DEFAULT_LORA).toEqual({ r: 8, alpha: 8 });
  });

  it('names targets the loaded model lacks (the run would refuse them)', () => {
    const s = { ...DEFAULT_SETTINGS, lora: { r: 8, alpha: 8, targets: ['q_proj'] } };
    expect(settingsProblems(s, {}, smol)).toEqual([]);
    expect(settingsProblems(s, {}, gpt2)[0]).toMatch(/^Target modules: LoRA target "q_proj" matches no linear projection of this model \(targets: c_attn, c_proj, c_fc/);
  });

  it('the memory options the runs resolve: the checkpoint’s base dtype, checkpointing from 100M parameters', () => {
    const lora = { r: 8, alpha: 8 };
    expect(settingsMemoryOptions(smol, DEFAULT_SETTINGS)).toEqual({ lora: null, baseDtype: 'f32', checkpoint: true });
    expect(settingsMemoryOptions(gpt2, DEFAULT_SETTINGS)).toEqual({ lora: null, baseDtype: 'f32', checkpoint: false });
    expect(settingsMemoryOptions({ ...smol, torchDtype: 'bfloat16' }, { lora })).toEqual({ lora, baseDtype: 'bf16', checkpoint: true });
    expect(settingsMemoryOptions(smol, { lora }, 'bf16')).toEqual({ lora, baseDtype: 'bf16', checkpoint: true }); // a Hub model's published dtype
    expect(settingsMemoryOptions(smol, { lora, baseDtype: 'f16', checkpointActivations: false })).toEqual({ lora, baseDtype: 'f16', checkpoint: false });
    // targets of the other family: no LoRA in the estimate (the run refuses them)
    expect(settingsMemoryOptions(gpt2, { lora: { ...lora, targets: ['q_proj'] } }).lora).toBeNull();
  });

  it('says what each choice saves', () => {
    const opts = settingsMemoryOptions(smol, { lora: { r: 8, alpha: 8 }, baseDtype: 'bf16' });
    const sv = memorySavings(smol, 1, 512, 'adamw', 'f32', 'f32', opts);
    const gb = (n: number) => `${(n / 1024 ** 3).toFixed(2)} GB`;
    expect(savingsText(sv, opts, gb)).toBe(`LoRA saves ${gb(sv.lora)}, bf16 base saves ${gb(sv.baseDtype)}, checkpointing saves ${gb(sv.checkpoint)}`);
    expect(sv.lora).toBeGreaterThan(sv.baseDtype);
    expect(savingsText(memorySavings(smol, 1, 512, 'adamw'), {}, gb)).toBe('');
  });
});
