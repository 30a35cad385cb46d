import { useApp } from '../../store';
import { betaName, cardFields, DPO_LOSS_TYPES, formulaOf, type MethodCard } from '../../store/presets';
import type { DpoLossType } from '../../train/objectives';
import { NumberField } from './NumberField';

// One run: its method, hyperparameters and one-line formula.
export function MethodCardView({ card, label, color }: { card: MethodCard; label: string; color: string }) {
  const update = useApp((s) => s.updateCard);
  const remove = useApp((s) => s.removeCard);
  const fields = cardFields(card.method);
  return (
    <article className="method-card" aria-label={`${label} method`} style={{ borderTopColor: color }}>
      <header>
        <span className="swatch" style={{ background: color }} aria-hidden="true" />
        <h3>{label}</h3>
        <button type="button" className="link" onClick={() => remove(card.id)} aria-label={`Remove ${label}`}>
          ✕
        </button>
      </header>
      <p className="formula">
        <code>{formulaOf(card)}</code>
      </p>
      <div className="fields">
        {fields.includes('lossType') && (
          <label>
            loss type{' '}
            <select value={card.lossType} onChange={(e) => update(card.id, { lossType: e.target.value as DpoLossType })} aria-label={`${label} loss type`}>
              {DPO_LOSS_TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
        )}
        {fields.includes('beta') && <NumberField label={betaName(card.method)} ariaLabel={`${label} ${betaName(card.method)}`} value={card.beta} min={0} step={0.05} onChange={(beta) => update(card.id, { beta })} />}
        {fields.includes('labelSmoothing') && (card.lossType === 'robust' || card.lossType === 'exo_pair' || card.method !== 'dpo') && (
          <NumberField label="ε" ariaLabel={`${label} label smoothing`} value={card.labelSmoothing} min={0} step={0.05} onChange={(labelSmoothing) => update(card.id, { labelSmoothing })} />
        )}
        {fields.includes('gamma') && <NumberField label="γ" ariaLabel={`${label} γ`} value={card.gamma} min={0} step={0.1} onChange={(gamma) => update(card.id, { gamma })} />}
        {fields.includes('alpha') && <NumberField label="α (NLL)" ariaLabel={`${label} α`} value={card.alpha} min={0} step={0.1} onChange={(alpha) => update(card.id, { alpha })} />}
      </div>
    </article>
  );
}
