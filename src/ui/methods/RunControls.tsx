import { useApp } from '../../store';
import { METHOD_PRESETS, type MethodPresetId } from '../../store/presets';
import { SettingField } from './SettingsForm';
import { AllRunsButtons } from '../charts/RunsBar';
import { FitNotice } from './FitNotice';
import { acceptedText } from '../../store/presets';

export type PanelTab = 'methods' | 'settings' | 'data' | 'model' | 'formulas' | 'export';

// The run controls at the top of the page: Start, the method preset, the two settings that move
// the curves most (steps, learning rate) and what will train on what — the data and the model,
// each a click away from its tab. Pause, resume and stop every run sit beside Start; each run's
// own buttons are on its line above the charts (RunsBar).
export function RunControls({ onOpen }: { onOpen(tab: PanelTab): void }) {
  const preset = useApp((s) => s.preset);
  const cards = useApp((s) => s.cards.length);
  const applyPreset = useApp((s) => s.applyPreset);
  const start = useApp((s) => s.startComparison);
  const busy = useApp((s) => s.runs.some((r) => ['queued', 'preparing', 'running'].includes(r.status)) && s.session?.live === true);
  const data = useApp((s) => s.data);
  const model = useApp((s) => s.model);
  const startLabel = preset !== 'custom' ? `Start ${METHOD_PRESETS[preset].label}` : `Start ${cards} run${cards === 1 ? '' : 's'}`;
  // a file being read again (a model with another tokenizer or length was loaded) keeps its last
  // report meanwhile; Start waits for the new one rather than refusing a click
  const reading = data.status === 'reading';
  const dataText = data.source ? `${data.source.name}${reading ? ' · reading…' : data.result ? ` · ${acceptedText(data.result)}` : ''}` : 'none yet';
  const modelText =
    model.status === 'loading' ? 'loading…' : model.info ? `${model.info.kind === 'builtin' ? 'built-in demo model' : model.info.name} · ${compactCount(model.info.params)} parameters` : model.status === 'error' ? 'could not load' : 'none yet';
  return (
    <section className="run-controls" aria-label="Run controls">
      <button type="button" className="primary start-button" onClick={() => void start()} disabled={busy || reading} title={reading ? 'Start waits until the data file has been read' : undefined}>
        {startLabel}
      </button>
      <AllRunsButtons />
      <label>
        Methods{' '}
        <select aria-label="Preset" value={preset} onChange={(e) => e.target.value !== 'custom' && applyPreset(e.target.value as MethodPresetId)}>
          {(Object.keys(METHOD_PRESETS) as MethodPresetId[]).map((id) => (
            <option key={id} value={id}>
              {METHOD_PRESETS[id].label}
            </option>
          ))}
          {preset === 'custom' && <option value="custom">your own cards ({cards})</option>}
        </select>
      </label>
      <SettingField k="steps" label="Steps" />
      <SettingField k="lr" label="Learning rate" />
      <span className="run-inputs">
        <button type="button" className="link" onClick={() => onOpen('data')} title="Open the Data tab">
          Data: <span className="file-name">{dataText}</span>
        </button>
        <button type="button" className="link" onClick={() => onOpen('model')} title="Open the Model tab">
          Model: <span className="file-name">{modelText}</span>
        </button>
      </span>
      <FitNotice />
    </section>
  );
}

function compactCount(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} M` : n >= 1e3 ? `${Math.round(n / 1e3)} k` : String(n);
}
