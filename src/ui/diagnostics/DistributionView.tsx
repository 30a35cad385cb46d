import { Area, CartesianGrid, ComposedChart, Line, ReferenceLine, ResponsiveContainer, XAxis, YAxis } from 'recharts';
import type { RunView } from '../../store/events';
import type { TrackView } from '../../store/track';
import { saturation, SATURATION_ACCURACY, type Saturation } from '../../train/displacement';
import { formatValue, niceTicks, X_LABEL } from '../charts/series';
import { distributionPoints, extentOf, runRows, UNITS, type Scale } from './data';
import { AXIS_TEXT, RunFigure } from './RunFigure';

const BAND = '#7c3aed';
const ACC = '#0f766e';

/** The saturation notice of a run (train accuracy ≥ 0.95 while eval stopped improving), or null. */
export function saturationText(s: Saturation, label: string): string | null {
  if (!s) return null;
  const acc = `${label}: training reward accuracy is ${(100 * s.trainAccuracy).toFixed(0)} % (≥ ${100 * SATURATION_ACCURACY} %)`;
  if (s.kind === 'no-eval') return `${acc}. With no held-out pairs the page cannot tell whether it still generalises: set an eval fraction (Settings) to see eval accuracy and margin.`;
  return `${acc} while the held-out ${s.stalled.join(' and ')} stopped improving: the run is saturating on its training pairs (margins keep growing where the loss is already near 0). Fewer steps, a lower learning rate or more data help; eval numbers, not train ones, say what was learnt.`;
}

function Plot({ rows, scale, xMax }: { rows: ReturnType<typeof runRows>; scale: Scale; xMax: number }) {
  const data = distributionPoints(rows);
  const extent = extentOf(data, ['step', 'accuracy']);
  const ticks = extent ? niceTicks(Math.min(0, extent[0]), Math.max(0, extent[1])) : undefined;
  return (
    <ResponsiveContainer width="100%" height={200}>
      <ComposedChart data={data} margin={{ top: 6, right: 4, bottom: 0, left: 4 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
        <XAxis dataKey="step" type="number" domain={[0, xMax]} allowDecimals={false} tick={{ fontSize: 11 }} height={36} label={{ value: X_LABEL, position: 'insideBottom', offset: 2, style: AXIS_TEXT }} />
        <YAxis yAxisId="m" width={68} domain={ticks?.length ? [ticks[0], ticks[ticks.length - 1]] : ['auto', 'auto']} ticks={ticks} tick={{ fontSize: 11 }} tickFormatter={(v: number) => formatValue(Number(v.toPrecision(3)))} label={{ value: `margin gained (${UNITS[scale]})`, angle: -90, position: 'insideLeft', offset: 2, style: { ...AXIS_TEXT, textAnchor: 'middle' } }} />
        <YAxis yAxisId="a" orientation="right" domain={[0, 1]} ticks={[0, 0.5, 1]} width={40} tick={{ fontSize: 11 }} label={{ value: 'share > 0', angle: 90, position: 'insideRight', offset: 4, style: { ...AXIS_TEXT, textAnchor: 'middle' } }} />
        <ReferenceLine yAxisId="m" y={0} stroke="#9ca3af" />
        <Area yAxisId="m" dataKey="outer" name="10–90 %" stroke="none" fill={BAND} fillOpacity={0.12} activeDot={false} isAnimationActive={false} />
        <Area yAxisId="m" dataKey="inner" name="25–75 %" stroke="none" fill={BAND} fillOpacity={0.25} activeDot={false} isAnimationActive={false} />
        <Line yAxisId="m" dataKey="median" name="median" stroke={BAND} strokeWidth={2} dot={{ r: 2 }} activeDot={false} isAnimationActive={false} />
        <Line yAxisId="a" dataKey="accuracy" name="share > 0" stroke={ACC} strokeWidth={1.5} strokeDasharray="2 3" dot={{ r: 2 }} activeDot={false} isAnimationActive={false} />
      </ComposedChart>
    </ResponsiveContainer>
  );
}

// Distributions (README.md, "Diagnostics"): per run, the tracked pairs' margin gained as quantile
// bands per step (median, 25–75 %, 10–90 %) and the share of pairs with a positive margin (right
// axis); a saturation notice from the run's train and eval metrics.
export function DistributionView({ track, runs, scale, xMax }: { track: TrackView; runs: readonly RunView[]; scale: Scale; xMax: number }) {
  return (
    <section aria-labelledby="distribution-h" className="diag-view">
      <h3 id="distribution-h">Margins across pairs</h3>
      <p className="chart-hint">
        The spread behind the mean: each tracked pair’s margin gained since the start, as its <span style={{ color: BAND }}>median with 25–75 % and 10–90 % bands</span>, and the <span style={{ color: ACC }}>share of pairs above zero</span> (right axis: DPO’s reward accuracy on these pairs). A band that keeps widening while the share sits at 1 is a run pushing margins it has already won.
      </p>
      <div className="chart-grid">
        {runs.map((r) => {
          const rows = runRows(track, r.id, scale);
          const sat = saturationText(saturation(r.train, r.eval), r.label);
          return (
            <RunFigure
              key={r.id}
              run={r}
              view="Margins across pairs"
              step={track.runs[r.id]?.points.at(-1)?.step ?? null}
              notes={sat ? [sat] : []}
              table={{ columns: ['Step', 'p10', 'p25', 'median', 'p75', 'p90', 'share > 0'], rows: rows.map((x) => [x.step, x.margin.p10, x.margin.p25, x.margin.p50, x.margin.p75, x.margin.p90, x.accuracy]) }}
            >
              {rows.length ? <Plot rows={rows} scale={scale} xMax={xMax} /> : <p className="muted empty-chart">No tracked point yet.</p>}
            </RunFigure>
          );
        })}
      </div>
    </section>
  );
}
