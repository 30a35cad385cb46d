import { useApp } from '../../store';
import { CARD_METHODS, METHOD_PRESETS, methodLabel, runLabels, RUN_COLORS, type MethodPresetId } from '../../store/presets';
import type { Method } from '../../train/objectives';
import { MethodCardView } from './MethodCardView';
import { SettingsForm } from './SettingsForm';

// Methods: a card per run, presets, the shared settings, and Start. Every run starts
// from the same weights, data order and seed.
export function MethodsPanel() {
  const preset = useApp((s) => s.preset);
  const cards = useApp((s) => s.cards);
  const applyPreset = useApp((s) => s.applyPreset);
  const addCard = useApp((s) => s.addCard);
  const start = useApp((s) => s.startComparison);
  const busy = useApp((s) => s.runs.some((r) => ['queued', 'preparing', 'running'].includes(r.status)) && s.session?.live === true);
  const labels = runLabels(cards);
  const startLabel = preset !== 'custom' ? `Start ${METHOD_PRESETS[preset].label}` : `Start ${cards.length} run${cards.length === 1 ? '' : 's'}`;
  return (
    <section aria-labelledby="methods-h" className="region region-wide">
      <h2 id="methods-h">Methods</h2>
      <div className="row" role="radiogroup" aria-label="Preset">
        {(Object.keys(METHOD_PRESETS) as MethodPresetId[]).map((id) => (
          <label key={id} className="chip">
            <input type="radio" name="preset" checked={preset === id} onChange={() => applyPreset(id)} /> {METHOD_PRESETS[id].label}
          </label>
        ))}
        {preset === 'custom' && <span className="muted">custom</span>}
      </div>
      <div className="cards">
        {cards.map((c, i) => (
          <MethodCardView key={c.id} card={c} label={labels[i]} color={RUN_COLORS[i % RUN_COLORS.length]} />
        ))}
      </div>
      <div className="row">
        <label>
          Add a method{' '}
          <select value="" onChange={(e) => e.target.value && addCard(e.target.value as Method)}>
            <option value="">—</option>
            {CARD_METHODS.map((m) => (
              <option key={m} value={m}>
                {methodLabel(m)}
              </option>
            ))}
          </select>
        </label>
      </div>
      <SettingsForm />
      <div className="row start-row">
        <button type="button" className="primary" onClick={() => void start()} disabled={busy}>
          {startLabel}
        </button>
        <span className="muted">Same starting weights, data order and seed for every run; runs take turns, one update each.</span>
      </div>
    </section>
  );
}
