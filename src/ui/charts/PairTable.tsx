import { useApp } from '../../store';
import { ChesNote, chesCell, fellMark } from '../diagnostics/ChesColumn';

const f = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);

// Per-pair margins A_w − A_l (per-token average log-probs) under the starting weights and each
// run's final weights; a pair "flipped" when the sign changed (README.md).
export function PairTable() {
  const pairs = useApp((s) => s.pairs);
  const runs = useApp((s) => s.runs);
  if (!pairs) return null;
  const start = pairs.meta.map((_, i) => pairs.start.chosen[i] - pairs.start.rejected[i]);
  const done = runs.filter((r) => pairs.runs[r.id]);
  const margin = (id: string, i: number) => pairs.runs[id].chosen[i] - pairs.runs[id].rejected[i];
  const flip = (id: string, i: number) => {
    const m = margin(id, i);
    if (start[i] <= 0 && m > 0) return 'up';
    if (start[i] > 0 && m <= 0) return 'down';
    return null;
  };
  return (
    <section aria-labelledby="pairs-h" className="pairs">
      <h3 id="pairs-h">Per-pair margins</h3>
      <p className="muted">
        Margin = A(chosen) − A(rejected), the per-token average log-prob gap. ↑ the run now prefers the chosen answer where the starting model did not; ↓ the reverse. Runs appear when they finish or stop.
      </p>
      {done.length > 0 && (
        <ul className="flip-summary">
          {done.map((r) => {
            const up = pairs.meta.filter((_, i) => flip(r.id, i) === 'up').length;
            const down = pairs.meta.filter((_, i) => flip(r.id, i) === 'down').length;
            const prefer = pairs.meta.filter((_, i) => margin(r.id, i) > 0).length;
            return (
              <li key={r.id}>
                <span className="swatch" style={{ background: r.color }} aria-hidden="true" /> {r.label} (step {pairs.runs[r.id].step}): prefers the chosen answer on {prefer} of {pairs.meta.length} pairs; {up} flipped to chosen, {down} flipped to rejected.
              </li>
            );
          })}
        </ul>
      )}
      <ChesNote pairs={pairs} runs={done} />
      <div className="table-scroll tall">
        <table className="data-table">
          <caption>Per-pair margins{pairs.meta.length >= 100 ? ' (first 100 training pairs)' : ''}</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col" className="left">
                Prompt
              </th>
              <th scope="col" className="left">
                Chosen
              </th>
              <th scope="col" className="left">
                Rejected
              </th>
              <th scope="col">Start margin</th>
              {pairs.ches && <th scope="col" title="CHES of the pair under the starting weights (Razin et al. 2024): higher, more likely to lose chosen log-prob">CHES</th>}
              {done.map((r) => (
                <th scope="col" key={r.id}>
                  {r.label} margin
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {pairs.meta.map((p, i) => (
              <tr key={p.index}>
                <th scope="row">{p.line ?? p.index}</th>
                <td className="clip">{p.prompt}</td>
                <td className="clip">{p.chosen}</td>
                <td className="clip">{p.rejected}</td>
                <td>{f(start[i])}</td>
                {pairs.ches && chesCell(pairs.ches[i])}
                {done.map((r) => {
                  const fl = flip(r.id, i);
                  return (
                    <td key={r.id} className={fl ? `flip-${fl}` : undefined}>
                      {f(margin(r.id, i))}
                      {fl === 'up' ? ' ↑ flipped' : fl === 'down' ? ' ↓ flipped' : ''}
                      {fellMark(pairs, r.id, i)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
