import { useApp } from '../../store';

// An imported PEFT adapter folder (README.md, "LoRA"): read against the loaded model by the CLI's
// --lora-adapter reader, shown with what it holds, and removable. Every run of the next
// comparison starts from the model with it: LoRA runs continue it, full fine-tuning starts from
// it merged in.
export function AdapterImport() {
  const adapter = useApp((s) => s.adapter);
  const loraOn = useApp((s) => !!s.settings.lora);
  const loadAdapter = useApp((s) => s.loadAdapter);
  const removeAdapter = useApp((s) => s.removeAdapter);
  // the input is emptied once read, so that picking the same folder again (after a removal or a
  // refusal) fires a change again
  const pick = (input: HTMLInputElement) => {
    const files = [...(input.files ?? [])];
    input.value = '';
    if (files.length) void loadAdapter(files);
  };
  const info = adapter.info;
  return (
    <fieldset className="settings adapter-import" aria-label="PEFT adapter">
      <legend>Adapter (PEFT)</legend>
      <p className="muted">
        Start every run from this model with a LoRA adapter: a PEFT folder (adapter_config.json, adapter_model.safetensors), such as a LoRA run’s exported adapter or the CLI’s <code>train --lora-r</code> DIR/adapter/.
      </p>
      <div className="row">
        <label>
          Adapter folder (PEFT) <input type="file" aria-label="Adapter folder (PEFT)" {...{ webkitdirectory: '', directory: '' }} onChange={(e) => pick(e.currentTarget)} />
        </label>
        <label>
          Adapter files <input type="file" aria-label="Adapter files (PEFT)" multiple accept=".json,.safetensors" onChange={(e) => pick(e.currentTarget)} />
        </label>
      </div>
      {adapter.status === 'loading' && <p role="status">Reading the adapter…</p>}
      {adapter.error && (
        <p className="notice error" role="alert" data-testid="adapter-error">
          {adapter.error}
        </p>
      )}
      {info && (
        <div role="group" aria-label="Imported adapter" data-testid="adapter-summary">
          <p>
            <strong data-testid="peft-adapter-name">{info.name}</strong> · {info.params.toLocaleString('en')} adapter values{' '}
            <button type="button" onClick={() => void removeAdapter()}>
              Remove adapter
            </button>
          </p>
          <dl className="facts">
            <dt>r · lora_alpha</dt>
            <dd>
              {info.r} · {info.alpha} (scale {+(info.alpha / info.r).toPrecision(4)})
            </dd>
            <dt>Target modules</dt>
            <dd>{info.targets.join(', ')}</dd>
            <dt>Tensors</dt>
            <dd>{info.tensors} (lora_A and lora_B)</dd>
            <dt>Base model</dt>
            <dd className="adapter-base">{info.baseModel ?? 'not named'}</dd>
          </dl>
          <p className="muted" data-testid="adapter-effect">
            {loraOn
              ? 'LoRA is on (Settings): every run continues training this adapter, with its r, lora_alpha and target modules; the DPO/KTO reference is the base with the adapters off.'
              : 'LoRA is off (Settings): every run fine-tunes all weights, starting from the model with this adapter merged in (that is also the reference).'}
          </p>
        </div>
      )}
    </fieldset>
  );
}
