import { useApp } from '../../store';
import { CARD_METHODS, METHOD_PRESETS, methodLabel, runLabels, RUN_COLORS } from '../../store/presets';
import type { Method } from '../../train/objectives';
import { MethodCardView } from './MethodCardView';

// Methods: a card per run with its β, λ or other options and its formula. The preset and Start
// are in the run controls at the top (RunControls); the shared settings have their own tab.
export function MethodsPanel() {
  const preset = useApp((s) => s.preset);
  const cards = useApp((s) => s.cards);
  const addCard = useApp((s) => s.addCard);
  const labels = runLabels(cards);
  return (
    <section aria-labelledby="methods-h" className="region">
      <h2 id="methods-h">Methods</h2>
      <p className="muted">
        {preset === 'custom' ? 'Your own cards' : `Preset “${METHOD_PRESETS[preset].label}”`}: one run per card. Every run starts from the same weights, data order and seed, and the runs take turns, one update each, so their curves grow together.
      </p>
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
    </section>
  );
}
