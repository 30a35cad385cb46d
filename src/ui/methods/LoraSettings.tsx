import { useApp } from '../../store';
import { DEFAULT_LORA } from '../../store/settings';
import { effectiveSettings } from '../../store/adapter';
import { memorySavings, savingsText, settingsMemoryOptions } from '../../store/memory';
import { comparisonMemory } from '../../store/fit';
import { defaultLoraTargets, checkpointBaseDtype, type BaseDtype } from '../../model/lora';
import { defaultCheckpointActivations } from '../../model/family';
import { formatBytes } from '../data/DataPanel';
import { NumberField } from './NumberField';
import { FieldError } from './FieldError';
import type { TrainSettings } from '../../worker/protocol';

interface Props {
  update(patch: Partial<TrainSettings>): void;
  errors: Partial<Record<keyof TrainSettings, string>>;
}

// LoRA (README.md, "LoRA"): adapters of rank r on the targeted projections train instead of every
// weight (PEFT's semantics; the frozen base is the DPO/KTO reference with the adapters off), the
// frozen base stored in bf16/f16, and activation checkpointing, each with the memory it saves on
// the loaded model (src/store/memory.ts). Off: full fine-tuning.
export function LoraSettings({ update, errors }: Props) {
  const form = useApp((st) => st.settings);
  const info = useApp((st) => st.model.info);
  const runs = useApp((st) => st.cards.length);
  // an imported PEFT adapter (Model tab): LoRA runs continue it, with its own r, lora_alpha and targets
  const imported = useApp((st) => st.adapter.info);
  // the memory estimates count what the runs use: the adapter's r and targets when one is imported
  const s = effectiveSettings(form, imported);
  const c = info?.config;
  const lora = s.lora ?? null;
  const family = c ? defaultLoraTargets(c) : null;
  // ticked: the targets of this family (names of the other family, e.g. from a link, are listed apart and dropped on the next click)
  const chosen = lora?.targets?.length ? lora.targets.filter((t) => !family || family.includes(t)) : family ?? [];
  const ckptDefault = c ? defaultCheckpointActivations(c) : null;
  const baseDefault: BaseDtype | null = c ? checkpointBaseDtype(c) : null;
  const setTargets = (targets: string[]) => {
    if (!lora) return;
    // every linear layer of the family: no list (PEFT's all-linear, and the URL stays short)
    const all = family && family.every((t) => targets.includes(t)) && targets.every((t) => family.includes(t));
    const { targets: _old, ...rest } = lora;
    update({ lora: all ? rest : { ...rest, targets } });
  };
  const opts = c ? settingsMemoryOptions(c, s) : null;
  const mem = c && info && opts ? comparisonMemory(c, info.nPositions, s, Math.max(runs, 1)) : null;
  const savings = c && info && opts && mem ? memorySavings(c, s.batchSize, mem.seqLen, s.optimizer, s.momentsDtype, s.activationsDtype, opts) : null;
  const saves = savings && opts ? savingsText(savings, opts, formatBytes) : '';
  return (
    <fieldset className="settings lora-settings" aria-label="LoRA and memory">
      <legend>LoRA and memory</legend>
      <label title="Train low-rank adapters (PEFT's LoRA) instead of every weight: the base stays frozen and is the reference model of DPO and KTO with the adapters off">
        <input type="checkbox" checked={!!lora} onChange={(e) => update(e.target.checked ? { lora: { ...DEFAULT_LORA } } : { lora: null, baseDtype: undefined })} /> LoRA adapters
      </label>
      {!lora && <span className="muted">off: full fine-tuning (every weight trains, f32 master weights)</span>}
      {lora && imported && (
        <p className="settings-note" data-testid="lora-from-adapter">
          Continues the imported adapter <strong>{imported.name}</strong> (Model tab): r {imported.r}, lora_alpha {imported.alpha}, target modules {imported.targets.join(', ')}. These replace the form’s r, lora_alpha and target modules (as the CLI’s <code>train --lora-adapter</code>); remove the adapter to set them here.
        </p>
      )}
      {lora && imported && <FieldError message={errors.lora} />}
      {lora && !imported && (
        <>
          <NumberField label="LoRA rank r" value={lora.r} min={1} onChange={(r) => update({ lora: { ...lora, r } })} />
          <NumberField label="lora_alpha" value={lora.alpha} min={0} onChange={(alpha) => update({ lora: { ...lora, alpha } })} />
          <FieldError message={errors.lora} />
          <span role="group" aria-label="Target modules" className="lora-targets">
            Target modules{family ? ` (${info!.family})` : ''}:{' '}
            {family ? (
              family.map((t) => (
                <label key={t}>
                  <input type="checkbox" checked={chosen.includes(t)} disabled={chosen.length === 1 && chosen.includes(t)} onChange={(e) => setTargets(e.target.checked ? [...chosen, t] : chosen.filter((x) => x !== t))} /> {t}
                </label>
              ))
            ) : (
              <input
                key={lora.targets?.join(',') ?? ''}
                aria-label="Target module names"
                placeholder="all linear layers"
                defaultValue={lora.targets?.join(',') ?? ''}
                onBlur={(e) => {
                  const list = e.target.value.split(',').map((t) => t.trim()).filter(Boolean);
                  const { targets: _old, ...rest } = lora;
                  update({ lora: list.length ? { ...rest, targets: list } : rest });
                }}
              />
            )}
            {family && lora.targets?.some((t) => !family.includes(t)) && <span className="muted"> (also {lora.targets.filter((t) => !family.includes(t)).join(', ')})</span>}
          </span>
        </>
      )}
      {lora && (
        <>
          <label title="Storage of the frozen base weights (every linear projection): bf16 or f16 halve them and the matmuls widen them to f32 in registers; the adapters and the arithmetic stay f32">
            Frozen base dtype{' '}
            <select value={s.baseDtype ?? ''} onChange={(e) => update({ baseDtype: (e.target.value || undefined) as BaseDtype | undefined })}>
              <option value="">{baseDefault ? `the checkpoint's (${baseDefault})` : "the checkpoint's own"}</option>
              <option value="bf16">bf16</option>
              <option value="f16">f16</option>
              <option value="f32">f32</option>
            </select>
          </label>
          <FieldError message={errors.baseDtype} />
        </>
      )}
      <label title="Keep only each layer's input and recompute the layer in the backward: the same gradients, bitwise, for about one more forward per step">
        Activation checkpointing{' '}
        <select value={s.checkpointActivations === undefined ? '' : s.checkpointActivations ? 'on' : 'off'} onChange={(e) => update({ checkpointActivations: e.target.value === '' ? undefined : e.target.value === 'on' })}>
          <option value="">{ckptDefault === null ? 'auto (on from 100M parameters)' : `auto (${ckptDefault ? 'on' : 'off'} for this model)`}</option>
          <option value="on">on</option>
          <option value="off">off</option>
        </select>
      </label>
      <FieldError message={errors.checkpointActivations} />
      {mem && (
        <p className="muted settings-note" data-testid="memory-savings">
          ≈ {formatBytes(mem.perRun)} GPU memory per run at batch {s.batchSize} × {mem.seqLen} tokens{saves ? `: ${saves}` : ''}.
        </p>
      )}
    </fieldset>
  );
}
