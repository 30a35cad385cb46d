import { memo, useRef } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatValue, type ChartData, type ChartDef } from './series';
import { ChartTable } from './ChartTable';
import { svgToPng } from './png';
import { downloadBlob } from '../export/download';

interface Props {
  def: ChartDef;
  data: ChartData;
  /** Shared x range: every chart spans the same steps. */
  xMax: number;
}

// One small multiple: every run in its colour, chosen solid and rejected dashed, eval as dots.
export const MetricChart = memo(function MetricChart({ def, data, xMax }: Props) {
  const box = useRef<HTMLDivElement>(null);
  const savePng = async () => {
    const svg = box.current?.querySelector('svg.recharts-surface') as SVGSVGElement | null;
    if (svg) downloadBlob(await svgToPng(svg), `prefplay-${def.id}.png`);
  };
  return (
    <figure className="chart" aria-label={`${def.title} chart`}>
      <figcaption>
        <h3>{def.title}</h3>
        <button type="button" className="link" onClick={() => void savePng()} aria-label={`Save the ${def.title} chart as PNG`} disabled={!data.lines.length}>
          PNG
        </button>
      </figcaption>
      <div ref={box} className="chart-box">
        {data.lines.length ? (
          <ResponsiveContainer width="100%" height={190}>
            <LineChart data={data.points} syncId="prefplay-metrics" margin={{ top: 6, right: 10, bottom: 0, left: 0 }}>
              <CartesianGrid strokeDasharray="3 3" stroke="#e5e7eb" />
              <XAxis dataKey="step" type="number" domain={[0, xMax]} allowDecimals={false} tick={{ fontSize: 11 }} />
              <YAxis width={58} domain={def.domain ?? ['auto', 'auto']} tick={{ fontSize: 11 }} tickFormatter={(v: number) => formatValue(Number(v.toPrecision(3)))} />
              <Tooltip formatter={(v) => formatValue(Number(v))} labelFormatter={(s) => `step ${s}`} contentStyle={{ fontSize: 12 }} />
              {data.lines.map((l) => (
                <Line
                  key={l.dataKey}
                  dataKey={l.dataKey}
                  name={l.name}
                  stroke={l.color}
                  strokeWidth={l.eval ? 1 : 1.8}
                  strokeDasharray={l.eval ? '1 3' : l.dashed ? '6 3' : undefined}
                  dot={l.eval ? { r: 3, fill: l.dashed ? '#fff' : l.color } : false}
                  connectNulls
                  isAnimationActive={false}
                />
              ))}
            </LineChart>
          </ResponsiveContainer>
        ) : (
          <p className="muted empty-chart">{def.id === 'nll' ? 'None of these runs has an NLL term.' : 'No values yet.'}</p>
        )}
      </div>
      {def.note && <p className="muted note">{def.note}</p>}
      <ChartTable title={def.title} data={data} />
    </figure>
  );
});
