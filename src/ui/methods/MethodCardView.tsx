import { useApp } from '../../store';
import { cardLocked } from '../../store/config';
import { cardOptions, cardProblems, formulaOf, type MethodCard } from '../../store/presets';
import { methodDescriptor, type MethodOption } from '../../train/objectives';
import { NumberField } from './NumberField';

// One run: its method, hyperparameters and one-line formula. The fields come from the method's
// descriptor (src/train/objectives/), so a new option appears here without an edit. While the
// card's run trains its fields are locked: they are what that run is training with.
export function MethodCardView({ card, label, color }: { card: MethodCard; label: string; color: string }) {
  const update = useApp((s) => s.updateCard);
  const remove = useApp((s) => s.removeCard);
  const locked = useApp((s) => cardLocked(s, card.id));
  const problems = cardProblems(card);
  return (
    <article className={locked ? 'method-card locked' : 'method-card'} aria-label={`${label} method`} style={{ borderTopColor: color }}>
      <header>
        <span className="swatch" style={{ background: color }} aria-hidden="true" />
        <h3>{label}</h3>
        <button type="button" className="link" onClick={() => remove(card.id)} aria-label={`Remove ${label}`} disabled={locked}>
          ✕
        </button>
      </header>
      <p className="formula">
        <code>{formulaOf(card)}</code>
      </p>
      {methodDescriptor(card.method).data === 'unpaired' && (
        <p className="muted card-data">Unpaired: each example is a prompt, an answer and a label. Preference pairs become two examples, the chosen answer desirable and the rejected one undesirable, as TRL’s KTOTrainer splits them. kl (its own chart) is the KL baseline z₀.</p>
      )}
      <fieldset className="fields" disabled={locked}>
        {cardOptions(card).map((o) => (
          <OptionField key={o.key} option={o} card={card} label={label} onChange={(v) => update(card.id, { [o.key]: v })} />
        ))}
      </fieldset>
      {locked && (
        <p className="muted card-lock" data-testid="card-locked">
          Locked while this run trains.
        </p>
      )}
      {problems.length > 0 && (
        <p className="notice error" role="alert">
          {problems.join('; ')}
        </p>
      )}
    </article>
  );
}

function OptionField({ option: o, card, label, onChange }: { option: MethodOption; card: MethodCard; label: string; onChange(v: number | string | boolean): void }) {
  const value = card.values[o.key];
  const aria = `${label} ${o.key === 'labelSmoothing' ? 'label smoothing' : o.label}`;
  switch (o.kind) {
    case 'number':
      return <NumberField label={o.label} ariaLabel={aria} value={typeof value === 'number' ? value : null} min={o.min} step={o.step} onChange={onChange} />;
    case 'choice':
      return (
        <label title={o.help}>
          {o.label}{' '}
          <select value={Array.isArray(value) ? String(value[0]) : String(value)} onChange={(e) => onChange(e.target.value)} aria-label={aria}>
            {o.choices.map((t) => (
              <option key={t} value={t}>
                {t}
              </option>
            ))}
          </select>
        </label>
      );
    case 'boolean':
      return (
        <label title={o.help}>
          <input type="checkbox" checked={value === true} onChange={(e) => onChange(e.target.checked)} aria-label={aria} /> {o.label}
        </label>
      );
    case 'numbers':
      return null;
  }
}
