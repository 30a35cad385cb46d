import { useState } from 'react';
import type { RunView } from '../../store/events';
import type { PairMeta } from '../../worker/protocol';
import type { TrackView } from '../../store/track';
import { deltaColor, deltaLimit, strip, type TokenCell } from './data';

const f = (x: number) => x.toFixed(3);
const signed = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(3);

interface Hover {
  run: string;
  side: string;
  cell: TokenCell;
}

function describe(h: Hover): string {
  const { cell } = h;
  const now = cell.now === null ? 'no tracked point yet' : `log-prob ${f(cell.now)} now`;
  return `${h.run}, ${h.side}: “${cell.text}” ${now}, ${f(cell.start)} at the start${cell.now === null ? '' : ` (Δ ${signed(cell.delta)})`}`;
}

function Strip({ cells, limit, label, onHover }: { cells: TokenCell[]; limit: number; label: string; onHover: (c: TokenCell | null) => void }) {
  return (
    <p className="token-strip" role="group" aria-label={label}>
      {cells.map((c, i) => (
        <span
          key={i}
          className="tok"
          tabIndex={0}
          style={{ background: deltaColor(c.delta, limit) }}
          data-logp={c.now ?? undefined}
          data-start={c.start}
          title={`${c.now === null ? '' : `log-prob ${f(c.now)}, `}start ${f(c.start)}${c.now === null ? '' : `, Δ ${signed(c.delta)}`}`}
          onMouseEnter={() => onHover(c)}
          onFocus={() => onHover(c)}
          onMouseLeave={() => onHover(null)}
          onBlur={() => onHover(null)}
        >
          {c.text.replace(/\n/g, '⏎\n') || '\u200b'}
        </span>
      ))}
    </p>
  );
}

// The per-token view (README.md, "Diagnostics"): one tracked pair's chosen and rejected answers as
// strips of tokens, coloured by how much each token's log-prob moved since the start (green up, red
// down, one scale for every run), every run side by side; hovering a token gives its log-probs.
export function TokenView({ track, meta, runs }: { track: TrackView; meta: readonly PairMeta[]; runs: readonly RunView[] }) {
  const [pair, setPair] = useState(0);
  const [hover, setHover] = useState<Hover | null>(null);
  const n = track.start.chosen.length;
  const i = Math.min(pair, n - 1);
  const strips = runs.map((r) => {
    const latest = track.runs[r.id]?.latest ?? null;
    return { run: r, step: latest?.step ?? null, chosen: strip(track, latest, i, 'chosen'), rejected: strip(track, latest, i, 'rejected') };
  });
  const limit = deltaLimit(strips.flatMap((s) => [s.chosen, s.rejected]));
  return (
    <section aria-labelledby="tokens-h" className="diag-view">
      <h3 id="tokens-h">Per-token view</h3>
      <p className="chart-hint">
        Where each method moves probability: every token of one pair’s answers, coloured by the change of its log-prob since the starting weights (<span className="tok-key up">up</span> / <span className="tok-key down">down</span>, full colour from ±{limit.toFixed(2)} nats), at each run’s latest tracked step. Hover or focus a token for its log-probs.
      </p>
      <label className="diag-toggle">
        Pair{' '}
        <select aria-label="Pair for the per-token view" value={i} onChange={(e) => setPair(Number(e.target.value))}>
          {meta.slice(0, n).map((p, k) => (
            <option key={p.index} value={k}>
              {p.line !== null ? `line ${p.line}` : `pair ${p.index}`}: {p.prompt}
            </option>
          ))}
        </select>
      </label>
      <p className="token-readout muted" aria-live="polite">
        {hover ? describe(hover) : 'Hover a token.'}
      </p>
      <div className="token-runs">
        {strips.map((s) => (
          <div key={s.run.id} className="token-run" role="group" aria-label={`Tokens: ${s.run.label}`}>
            <h4>
              <span className="swatch" style={{ background: s.run.color }} aria-hidden="true" /> {s.run.label} <span className="muted">{s.step === null ? '(no tracked point yet)' : `step ${s.step}`}</span>
            </h4>
            <div className="muted tok-side">chosen</div>
            <Strip cells={s.chosen} limit={limit} label={`${s.run.label} chosen tokens`} onHover={(c) => setHover(c && { run: s.run.label, side: 'chosen', cell: c })} />
            <div className="muted tok-side">rejected</div>
            <Strip cells={s.rejected} limit={limit} label={`${s.run.label} rejected tokens`} onHover={(c) => setHover(c && { run: s.run.label, side: 'rejected', cell: c })} />
          </div>
        ))}
      </div>
    </section>
  );
}
