import { useApp } from '../../store';
import { DEFAULT_SCALE } from '../charts/series';
import { objectiveOf } from '../../store/presets';
import { createObjective, methodDescriptor } from '../../train/objectives';
import type { MethodTraits } from './data';
import { DisplacementView } from './DisplacementView';
import { DistributionView } from './DistributionView';
import { TokenView } from './TokenView';
import './diagnostics.css';

// Diagnostics (README.md): what the tracked pairs show of the current comparison's runs —
// likelihood displacement, margins across pairs, and the per-token view. One per-token / sum
// toggle for the first two; hidden runs are left out as in the charts.
export function Diagnostics() {
  const pairs = useApp((s) => s.pairs);
  const runs = useApp((s) => s.runs);
  const hidden = useApp((s) => s.hiddenRuns);
  const scale = useApp((s) => s.panels.diagnostics?.scale) ?? DEFAULT_SCALE;
  const setPanel = useApp((s) => s.setPanel);
  const cards = useApp((s) => s.session?.cards);
  const track = pairs?.track;
  if (!pairs || !track || !track.start.chosen.length) return null;
  const shown = runs.filter((r) => !hidden.includes(r.id));
  const xMax = Math.max(1, ...shown.map((r) => r.total));
  // rewards against a reference (DPO) or β·A (ORPO, SimPO, CPO), and an NLL term: the method's descriptor and objective say
  const traits = (id: string): MethodTraits => {
    const card = cards?.find((c) => c.id === id);
    if (!card) return { reference: true, nll: false };
    const spec = objectiveOf(card);
    let nll = false;
    try {
      const objective = createObjective(spec);
      nll = objective.kind === 'pair' && objective.nll !== 'none';
    } catch {
      // a card whose options no longer validate: claim no NLL term
    }
    return { reference: methodDescriptor(spec.method).needsReference, nll };
  };
  return (
    <section aria-labelledby="diagnostics-h" className="diagnostics">
      <h3 id="diagnostics-h" className="diag-title">
        Diagnostics <span className="muted">— {track.start.chosen.length} tracked training pairs, scored every {track.every === 1 ? 'update' : `${track.every} updates`}</span>
      </h3>
      <span className="seg" role="radiogroup" aria-label="Diagnostics scale">
        <label>
          <input type="radio" name="diagnostics-scale" checked={scale === 'avg'} onChange={() => setPanel('diagnostics', { scale: 'avg' })} /> per token
        </label>
        <label>
          <input type="radio" name="diagnostics-scale" checked={scale === 'sum'} onChange={() => setPanel('diagnostics', { scale: 'sum' })} /> sum
        </label>
      </span>
      <DisplacementView track={track} runs={shown} scale={scale} xMax={xMax} traits={traits} />
      <DistributionView track={track} runs={shown} scale={scale} xMax={xMax} />
      <TokenView track={track} meta={pairs.meta} runs={shown} />
    </section>
  );
}
