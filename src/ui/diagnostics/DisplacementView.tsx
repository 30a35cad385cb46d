import { useState } from 'react';
import { Area, CartesianGrid, ComposedChart, Line, ReferenceLine, ResponsiveContainer, XAxis, YAxis } from 'recharts';
import type { RunView } from '../../store/events';
import type { TrackView } from '../../store/track';
import { formatValue, niceTicks, X_LABEL } from '../charts/series';
import { displacementNotes, displacementPoints, extentOf, runRows, UNITS, type MethodTraits, type Scale } from './data';
import { AXIS_TEXT, RunFigure } from './RunFigure';

export const CHOSEN = '#2563eb';
export const REJECTED = '#ea580c';
export const MARGIN = '#111827';

function Plot({ track, run, scale, eachPair, xMax }: { track: TrackView; run: RunView; scale: Scale; eachPair: boolean; xMax: number }) {
  const data = displacementPoints(track, run.id, scale, eachPair);
  const n = track.start.chosen.length;
  const extent = extentOf(data);
  const ticks = extent ? niceTicks(Math.min(0, extent[0]), Math.max(0, extent[1])) : undefined;
  return (
    <ResponsiveContainer width="100%" height={200}>
      <ComposedChart data={data} margin={{ top: 6, right: 10, bottom: 0, left: 4 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
        <XAxis dataKey="step" type="number" domain={[0, xMax]} allowDecimals={false} tick={{ fontSize: 11 }} height={36} label={{ value: X_LABEL, position: 'insideBottom', offset: 2, style: AXIS_TEXT }} />
        <YAxis width={68} domain={ticks?.length ? [ticks[0], ticks[ticks.length - 1]] : ['auto', 'auto']} ticks={ticks} tick={{ fontSize: 11 }} tickFormatter={(v: number) => formatValue(Number(v.toPrecision(3)))} label={{ value: `change since start (${UNITS[scale]})`, angle: -90, position: 'insideLeft', offset: 2, style: { ...AXIS_TEXT, textAnchor: 'middle' } }} />
        <ReferenceLine y={0} stroke="#9ca3af" />
        <Area dataKey="chosenBand" name="chosen 10–90 %" stroke="none" fill={CHOSEN} fillOpacity={0.15} activeDot={false} isAnimationActive={false} />
        <Area dataKey="rejectedBand" name="rejected 10–90 %" stroke="none" fill={REJECTED} fillOpacity={0.15} activeDot={false} isAnimationActive={false} />
        {eachPair &&
          Array.from({ length: n }, (_, i) => [
            <Line key={`c${i}`} dataKey={`c${i}`} stroke={CHOSEN} strokeOpacity={0.25} strokeWidth={0.8} dot={false} activeDot={false} isAnimationActive={false} />,
            <Line key={`r${i}`} dataKey={`r${i}`} stroke={REJECTED} strokeOpacity={0.25} strokeWidth={0.8} strokeDasharray="4 2" dot={false} activeDot={false} isAnimationActive={false} />,
          ])}
        <Line dataKey="chosen" name="chosen" stroke={CHOSEN} strokeWidth={2} dot={{ r: 2 }} activeDot={false} isAnimationActive={false} />
        <Line dataKey="rejected" name="rejected" stroke={REJECTED} strokeWidth={2} strokeDasharray="6 3" dot={{ r: 2 }} activeDot={false} isAnimationActive={false} />
        <Line dataKey="margin" name="margin" stroke={MARGIN} strokeWidth={2.4} dot={{ r: 2 }} activeDot={false} isAnimationActive={false} />
      </ComposedChart>
    </ResponsiveContainer>
  );
}

// Likelihood displacement (README.md, "Diagnostics"): per run, the change of each tracked pair's
// chosen and rejected log-probs since the starting weights — mean and 10–90 % band over pairs, each
// pair on request — on one axis with the margin gained (Δ chosen − Δ rejected).
export function DisplacementView({ track, runs, scale, xMax, traits }: { track: TrackView; runs: readonly RunView[]; scale: Scale; xMax: number; traits: (runId: string) => MethodTraits }) {
  const [eachPair, setEachPair] = useState(false);
  return (
    <section aria-labelledby="displacement-h" className="diag-view">
      <h3 id="displacement-h">Likelihood displacement</h3>
      <p className="chart-hint">
        How far each run moved the log-probs of {track.start.chosen.length} fixed training pairs from the starting weights: <span style={{ color: CHOSEN }}>chosen</span> (solid), <span style={{ color: REJECTED }}>rejected</span> (dashed), shaded 10–90 % of pairs, and the <b>margin</b> gained, chosen − rejected. A rising margin with both answers falling is likelihood displacement: the loss only asks the chosen answer to beat the rejected one. For methods with a reference (DPO and its loss types) the rewards β·(log π − log π_ref) are these changes times β, so a negative reward means “less likely than at the start”, not a broken model; ORPO’s, SimPO’s and CPO’s rewards are β × the average log-prob itself, negative by construction.
      </p>
      <label className="diag-toggle">
        <input type="checkbox" checked={eachPair} onChange={(e) => setEachPair(e.target.checked)} /> each pair
      </label>
      <div className="chart-grid">
        {runs.map((r) => {
          const rows = runRows(track, r.id, scale);
          const last = track.runs[r.id]?.points.at(-1)?.step ?? null;
          return (
            <RunFigure
              key={r.id}
              run={r}
              view="Likelihood displacement"
              step={last}
              notes={displacementNotes(rows, r.label, traits(r.id))}
              table={{ columns: ['Step', 'Δ chosen mean', 'Δ chosen p10', 'Δ chosen p90', 'Δ rejected mean', 'Δ rejected p10', 'Δ rejected p90', 'margin mean'], rows: rows.map((x) => [x.step, x.chosen.mean, x.chosen.p10, x.chosen.p90, x.rejected.mean, x.rejected.p10, x.rejected.p90, x.margin.mean]) }}
            >
              {rows.length ? <Plot track={track} run={r} scale={scale} eachPair={eachPair} xMax={xMax} /> : <p className="muted empty-chart">No tracked point yet.</p>}
            </RunFigure>
          );
        })}
      </div>
    </section>
  );
}
