import { memo, useRef, type ReactNode } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis, type DotItemDotProps } from 'recharts';
import { useApp } from '../../store';
import type { LossView } from '../../store/chart-view';
import { DEFAULT_LOSS_VIEW, DEFAULT_SCALE, formatValue, hasMarker, latestValues, logAxis, markerPath, markerStride, niceTicks, valuesAt, X_LABEL, type ChartData, type ChartDef, type LineDef, type Marker } from './series';
import { ChartTable } from './ChartTable';
import { chartPng } from './png';
import { downloadBlob } from '../export/download';

/** One small chart per run (the loss panel's "one chart per run" view). */
export interface Multiple {
  label: string;
  data: ChartData;
}

interface Props {
  def: ChartDef;
  data: ChartData;
  /** Shared x range: every chart spans the same steps. */
  xMax: number;
  multiples?: Multiple[];
}

const AXIS_TEXT = { fontSize: 11, fill: '#4b5563' };
/** Dash length of coinciding lines: each run draws one dash in turn. */
const STRIPE = 7;

/** A run's marker on a short line: the legend's key. */
export function MarkerIcon({ marker, color, dashed }: { marker: Marker; color: string; dashed?: boolean }) {
  return (
    <svg width="22" height="12" viewBox="0 0 22 12" aria-hidden="true" className="marker-icon">
      <line x1="1" y1="6" x2="21" y2="6" stroke={color} strokeWidth="2" strokeDasharray={dashed ? '4 2' : undefined} />
      <path d={markerPath(marker, 11, 6, 3.6)} fill="#fff" stroke={color} strokeWidth="1.5" />
    </svg>
  );
}

function dotRenderer(l: LineDef, stride: number) {
  const Dot = (p: DotItemDotProps): ReactNode => {
    const key = `${l.dataKey}-${p.index}`;
    if (typeof p.cx !== 'number' || typeof p.cy !== 'number' || !Number.isFinite(p.cy) || p.value === null || p.value === undefined || !hasMarker(l, p.index, stride)) return null;
    const filled = !l.dashed;
    return <path key={key} d={markerPath(l.marker, p.cx, p.cy, l.eval ? 3.2 : 3.6)} fill={filled ? l.color : '#fff'} stroke={l.color} strokeWidth={1.3} opacity={l.dim ? 0.2 : 1} />;
  };
  return Dot;
}

function Plot({ def, data, xMax, height }: { def: ChartDef; data: ChartData; xMax: number; height: number }) {
  const setCursor = useApp((s) => s.setCursorStep);
  const log = logAxis(def, data);
  const stride = markerStride(data.points.length, data.runs.length);
  const ticks = !log && !def.domain && data.extent ? niceTicks(data.extent[0], data.extent[1]) : undefined;
  const yDomain: [number, number] | ['auto', 'auto'] = def.domain ?? (log && data.extent ? [data.extent[0] * 0.9, data.extent[1] * 1.1] : ticks?.length ? [ticks[0], ticks[ticks.length - 1]] : ['auto', 'auto']);
  return (
    <ResponsiveContainer width="100%" height={height}>
      <LineChart
        data={data.points}
        syncId="prefplay-metrics"
        syncMethod="value"
        margin={{ top: 6, right: 10, bottom: 0, left: 4 }}
        onMouseMove={(s) => setCursor(s.activeLabel === undefined ? null : Number(s.activeLabel))}
        onMouseLeave={() => setCursor(null)}
      >
        <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
        <XAxis dataKey="step" type="number" domain={[0, xMax]} allowDecimals={false} tick={{ fontSize: 11 }} height={36} label={{ value: X_LABEL, position: 'insideBottom', offset: 2, style: AXIS_TEXT }} />
        <YAxis
          width={68}
          scale={log ? 'log' : 'auto'}
          domain={yDomain}
          ticks={ticks}
          allowDataOverflow={log}
          tick={{ fontSize: 11 }}
          tickFormatter={(v: number) => formatValue(Number(v.toPrecision(3)))}
          label={{ value: def.yLabel, angle: -90, position: 'insideLeft', offset: 2, style: { ...AXIS_TEXT, textAnchor: 'middle' } }}
        />
        {/* the shared cursor line; values go to the readout above the plot, never over the curves */}
        <Tooltip content={() => null} cursor={{ stroke: '#64748b', strokeWidth: 1 }} isAnimationActive={false} />
        {data.lines.map((l) => (
          <Line
            key={l.dataKey}
            dataKey={l.dataKey}
            name={l.name}
            stroke={l.color}
            strokeOpacity={l.dim ? 0.18 : 1}
            strokeWidth={l.highlight ? 2.8 : l.eval ? 1 : 1.8}
            strokeDasharray={l.eval ? '1 3' : l.dashed ? '6 3' : l.stripe ? `${STRIPE} ${STRIPE * (l.stripe.count - 1)}` : undefined}
            strokeDashoffset={l.stripe ? -STRIPE * l.stripe.index : undefined}
            dot={dotRenderer(l, stride)}
            activeDot={l.dim ? false : { r: 2.5 }}
            connectNulls
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}

const short = (v: number) => formatValue(Number(v.toPrecision(4)));

/** The values under the shared cursor (or the latest ones), one entry per run, above the plot. */
function Readout({ data }: { data: ChartData }) {
  const cursor = useApp((s) => s.cursorStep);
  const at = cursor === null ? latestValues(data) : valuesAt(data, cursor);
  if (!at || !at.values.length) return <div className="chart-readout" />;
  return (
    <div className="chart-readout" data-testid="chart-readout">
      <span className="muted">{cursor === null ? 'latest' : `step ${at.step}`}</span>
      {data.runs.map((r) => {
        const vs = at.values.filter((v) => v.line.runId === r.id);
        if (!vs.length) return null;
        const train = vs.filter((v) => !v.line.eval).map((v) => short(v.value));
        const evals = vs.filter((v) => v.line.eval).map((v) => short(v.value));
        return (
          <span key={r.id}>
            <MarkerIcon marker={r.marker} color={r.color} /> {r.label} {train.join(' / ')}
            {evals.length ? ` (eval ${evals.join(' / ')})` : ''}
          </span>
        );
      })}
    </div>
  );
}

/** Click a run to draw it on top and dim the others; click again to clear. */
function Legend({ def, data }: { def: ChartDef; data: ChartData }) {
  const highlight = useApp((s) => s.highlightRun);
  const toggle = useApp((s) => s.toggleHighlight);
  return (
    <div className="chart-legend" role="group" aria-label={`${def.title} legend`}>
      {data.runs.map((r) => (
        <button type="button" key={r.id} className="legend-item" aria-pressed={highlight === r.id} onClick={() => toggle(r.id)} title={highlight === r.id ? 'Clear the highlight' : `Highlight ${r.label}, dim the others`}>
          <MarkerIcon marker={r.marker} color={r.color} /> {r.label}
        </button>
      ))}
    </div>
  );
}

const LOSS_VIEWS: Array<[LossView, string]> = [
  ['raw', 'as logged'],
  ['normalised', '÷ first step'],
  ['per-run', 'one chart per run'],
];

function Controls({ def }: { def: ChartDef }) {
  const opts = useApp((s) => s.panels[def.id]);
  const setPanel = useApp((s) => s.setPanel);
  const scale = opts?.scale ?? DEFAULT_SCALE;
  return (
    <span className="chart-controls">
      {def.controls.includes('scale') && (
        <span className="seg" role="radiogroup" aria-label={`${def.title} scale`}>
          <label>
            <input type="radio" name={`${def.id}-scale`} checked={scale === 'avg'} onChange={() => setPanel(def.id, { scale: 'avg' })} /> per token
          </label>
          <label>
            <input type="radio" name={`${def.id}-scale`} checked={scale === 'sum'} onChange={() => setPanel(def.id, { scale: 'sum' })} /> sum
          </label>
        </span>
      )}
      {def.controls.includes('loss') && (
        <select aria-label={`${def.title} view`} value={opts?.loss ?? DEFAULT_LOSS_VIEW} onChange={(e) => setPanel(def.id, { loss: e.target.value as LossView })}>
          {LOSS_VIEWS.map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
      )}
      {def.controls.includes('log') && (
        <label title="Logarithmic y axis (only when every value is positive)">
          <input type="checkbox" checked={opts?.log ?? false} onChange={(e) => setPanel(def.id, { log: e.target.checked })} aria-label={`${def.title}: log scale`} /> log
        </label>
      )}
    </span>
  );
}

// One panel: its options, a legend that highlights a run, the readout, the plot (or one per run),
// what to look for, and the data table. Chosen solid, rejected dashed, eval dotted; each run has
// its own colour and marker.
export const MetricChart = memo(function MetricChart({ def, data, xMax, multiples }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const savePng = async () => {
    const svgs = [...(box.current?.querySelectorAll('svg.recharts-surface') ?? [])] as SVGSVGElement[];
    if (svgs.length) downloadBlob(await chartPng(svgs, { title: def.title, legend: data.runs }), `prefplay-${def.id}.png`);
  };
  const logAsked = def.log && !logAxis(def, data) && data.extent !== null;
  return (
    <figure className={`chart${multiples ? ' chart-wide' : ''}`} aria-label={`${def.title} chart`}>
      <figcaption>
        <h3>{def.title}</h3>
        <span className="chart-tools">
          <Controls def={def} />
          <button type="button" className="link" onClick={() => void savePng()} aria-label={`Save the ${def.title} chart as PNG`} disabled={!data.lines.length}>
            PNG
          </button>
        </span>
      </figcaption>
      {data.lines.length > 0 && <Legend def={def} data={data} />}
      {data.lines.length > 0 && <Readout data={data} />}
      <div ref={box} className={multiples ? 'chart-multiples' : 'chart-box'}>
        {!data.lines.length ? (
          <p className="muted empty-chart">{def.id === 'nll' ? 'None of these runs has an NLL term.' : 'No values yet.'}</p>
        ) : multiples ? (
          multiples.map((m) => (
            <div key={m.label} className="chart-multiple">
              <h4>{m.label}</h4>
              <Plot def={def} data={m.data} xMax={xMax} height={160} />
            </div>
          ))
        ) : (
          <Plot def={def} data={data} xMax={xMax} height={200} />
        )}
      </div>
      <p className="chart-hint">{def.hint}</p>
      {data.overlaps.map((g) => (
        <p key={g.join()} className="muted note">
          Identical curves: {g.join(', ')}, drawn in alternating dashes with their own markers.
        </p>
      ))}
      {data.skipped.map((s) => (
        <p key={s} className="muted note">
          Not drawn: {s}.
        </p>
      ))}
      {logAsked && <p className="muted note">Linear axis: a log scale needs every value above zero.</p>}
      {def.note && <p className="muted note">{def.note}</p>}
      <ChartTable title={def.title} data={data} />
    </figure>
  );
});
