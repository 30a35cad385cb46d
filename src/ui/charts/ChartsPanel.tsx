import { useMemo } from 'react';
import { useApp } from '../../store';
import { CHARTS, chartData } from './series';
import { MetricChart } from './MetricChart';
import { RunsBar } from './RunsBar';
import { PairTable } from './PairTable';
import { Samples } from './Samples';

// Charts (README.md): progress, then small multiples per metric with one colour per run, the
// per-pair table and the samples.
export function ChartsPanel() {
  const runs = useApp((s) => s.runs);
  const smoothing = useApp((s) => s.smoothing);
  const setSmoothing = useApp((s) => s.setSmoothing);
  const xMax = Math.max(1, ...runs.map((r) => r.total));
  const charts = useMemo(() => CHARTS.map((def) => ({ def, data: chartData(def, runs, smoothing) })), [runs, smoothing]);
  return (
    <section aria-labelledby="charts-h" className="region region-wide">
      <h2 id="charts-h">Charts</h2>
      <RunsBar />
      {runs.length > 0 && (
        <>
          <div className="row legend" aria-label="Legend">
            {runs.map((r) => (
              <span key={r.id}>
                <span className="swatch" style={{ background: r.color }} aria-hidden="true" /> {r.label}
              </span>
            ))}
            <span className="muted">solid: chosen / train · dashed: rejected · dots: held-out eval</span>
            <label>
              Smoothing <input type="range" min={0} max={0.95} step={0.05} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} /> {smoothing.toFixed(2)}
            </label>
          </div>
          <div className="chart-grid">
            {charts.map(({ def, data }) => (
              <MetricChart key={def.id} def={def} data={data} xMax={xMax} />
            ))}
          </div>
          <PairTable />
          <Samples />
        </>
      )}
    </section>
  );
}
