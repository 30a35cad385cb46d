import type { PairsView, RunView } from '../../store/events';
import type { Ches } from '../../train/ches';
import { chesQuarters } from '../../train/displacement';
import { formatValue } from '../charts/series';

// Pair difficulty in the per-pair table (README.md, "Diagnostics"): each pair's CHES under the
// starting weights (src/train/ches.ts) and, per finished run, whether its chosen log-prob fell.

const short = (x: number) => formatValue(Number(x.toPrecision(4)));

/** Whether run `id` lowered pair i's chosen per-token log-prob (final table vs the start). */
export function chosenFell(pairs: PairsView, id: string, i: number): boolean {
  return pairs.runs[id].chosen[i] < pairs.start.chosen[i];
}

export function chesCell(c: Ches | undefined) {
  return <td title={c ? `length-normalised ${short(c.normalized)}` : undefined}>{c ? short(c.ches) : ''}</td>;
}

export function fellMark(pairs: PairsView, id: string, i: number) {
  if (!pairs.ches) return null;
  return chosenFell(pairs, id, i) ? <span className="ches-fell"> · chosen ↓</span> : null;
}

export function ChesNote({ pairs, runs }: { pairs: PairsView; runs: readonly RunView[] }) {
  const ches = pairs.ches;
  if (!ches?.length) return null;
  const scores = ches.map((c) => c.ches);
  return (
    <div className="muted">
      <p>
        CHES (Razin et al. 2024, “Unintentional Unalignment”) scores how alike the starting model finds a pair’s two answers: ⟨Σh(chosen), Σh(rejected)⟩ − ‖Σh(chosen)‖² over its final hidden states. The higher it is, the more training on the pair tends to pull the chosen answer down with the rejected one (“chosen ↓”: its per-token log-prob fell).
      </p>
      {runs.length > 0 && (
        <ul className="flip-summary" aria-label="CHES and chosen log-prob">
          {runs.map((r) => {
            const { top, bottom } = chesQuarters(
              scores,
              scores.map((_, i) => chosenFell(pairs, r.id, i)),
            );
            return (
              <li key={r.id}>
                <span className="swatch" style={{ background: r.color }} aria-hidden="true" /> {r.label}: chosen log-prob fell on {top[0]} of the {top[1]} pairs with the highest CHES and {bottom[0]} of the {bottom[1]} with the lowest.
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
