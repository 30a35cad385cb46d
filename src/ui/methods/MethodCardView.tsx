import { useApp } from '../../store';
import { cardLocked } from '../../store/config';
import { cardDataProblem, cardOptions, dataKind, cardProblems, cardSettingsProblems, comparisonProblems, formulaOf, rewardModelStage, type MethodCard } from '../../store/presets';
import { methodDescriptor, type MethodOption } from '../../train/objectives';
import { arithmeticJudge, politenessJudge } from '../../judge';
import { NumberField } from './NumberField';

// One run: its method, hyperparameters and one-line formula. The fields come from the method's
// descriptor (src/train/objectives/), so a new option appears here without an edit. While the
// card's run trains its fields are locked: they are what that run is training with.
export function MethodCardView({ card, label, color }: { card: MethodCard; label: string; color: string }) {
  const update = useApp((s) => s.updateCard);
  const remove = useApp((s) => s.removeCard);
  const locked = useApp((s) => cardLocked(s, card.id));
  const cards = useApp((s) => s.cards);
  // a later RLHF stage without the comparison's reward model says so on its own card
  const withReward = cards.some((c) => methodDescriptor(c.method).head === 'score');
  // the loaded file's rows: a card that cannot train on them says why (Start is refused too)
  const dataProblem = useApp((s) => cardDataProblem(card, dataKind(s.data.result)));
  // the shared settings this method cannot train with (PPO: batch size ≥ 2)
  const settings = useApp((s) => s.settings);
  const problems = [
    ...cardProblems(card),
    ...cardSettingsProblems(card, settings),
    ...(withReward || dataProblem ? [] : comparisonProblems([card]).map((p) => p.replace(/^.*? scores/, 'Scores'))),
    ...(dataProblem ? [dataProblem.charAt(0).toUpperCase() + dataProblem.slice(1)] : []),
  ];
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
      <DataNote card={card} />
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

const JUDGES = { 'judge:arithmetic': arithmeticJudge, 'judge:politeness': politenessJudge, 'reward-model': { description: 'the score of the comparison’s Reward model run, which trains first (this run waits for it)' } } as Record<string, { description: string } | undefined>;

/** What an online card generates from and is rewarded by, and what the reward model trains and reports. */
function DataNote({ card }: { card: MethodCard }) {
  const d = methodDescriptor(card.method);
  if (d.head === 'score') {
    return (
      <p className="muted card-data" data-testid="card-data">
        The loaded model’s trunk with a seeded score head learns to score chosen above rejected. Its held-out accuracy (eval_accuracy) is on the Reward accuracy chart.
      </p>
    );
  }
  if (d.data !== 'prompts') return null;
  const stage = rewardModelStage(card);
  if (stage?.fromSft) {
    return (
      <p className="muted card-data" data-testid="card-data">
        RLHF stage 3: waits for the comparison’s SFT run (stage 1; without one it starts from the loaded model) and Reward model run (stage 2), then trains from SFT’s weights, one response (≤ {String(card.values.maxNewTokens)} tokens) per prompt scored by the reward model. Batch size counts prompts.
      </p>
    );
  }
  const r = card.values.reward;
  const names = (Array.isArray(r) ? r : [r]).map(String);
  return (
    <p className="muted card-data" data-testid="card-data">
      Online: {String(card.values.numGenerations)} completions (≤ {String(card.values.maxNewTokens)} tokens) per prompt (a prompt-only file’s rows, or the prompts of the pairs), sampled on the GPU each update; reward{' '}
      {names.map((n, i) => (
        <span key={n}>
          {i > 0 && ' + '}
          <code>{n}</code> (1: {JUDGES[n]?.description ?? n})
        </span>
      ))}
      . Batch size counts prompts.
    </p>
  );
}
