import { useMemo } from 'react';
import { useApp } from '../../store';
import type { RunView } from '../../store/events';
import { chartData, chartDefs, MARKERS, visibleCharts } from './series';
import { MarkerIcon, MetricChart, type Multiple } from './MetricChart';
import { RunsBar } from './RunsBar';
import { PairTable } from './PairTable';
import { Diagnostics } from '../diagnostics/Diagnostics';
import { Samples } from './Samples';
import { SamplesOverTime } from './SamplesOverTime';
import { NanReports } from './NanReports';
import { KlNotes } from './KlNotes';
import { RunsTable } from './RunsTable';
import { chartRuns } from '../../store/runs';

/** The runs the charts draw: the current runs plus the history runs ticked in the runs table. */
export function useChartRuns(): RunView[] {
  return useApp(chartRuns);
}

/** Show or hide each run in every chart; clear the highlight. */
function RunToggles({ runs }: { runs: readonly RunView[] }) {
  const hidden = useApp((s) => s.hiddenRuns);
  const toggle = useApp((s) => s.toggleRunHidden);
  const highlight = useApp((s) => s.highlightRun);
  const toggleHighlight = useApp((s) => s.toggleHighlight);
  const lit = runs.find((r) => r.id === highlight);
  return (
    <div className="row chart-runs" role="group" aria-label="Runs in the charts">
      {runs.map((r, i) => (
        <label key={r.id} className={hidden.includes(r.id) ? 'run-hidden' : undefined}>
          <input type="checkbox" checked={!hidden.includes(r.id)} onChange={() => toggle(r.id)} aria-label={`Show ${r.label}`} />
          <MarkerIcon marker={MARKERS[i % MARKERS.length]} color={r.color} /> {r.label}
        </label>
      ))}
      {lit && (
        <button type="button" className="link" onClick={() => toggleHighlight(null)}>
          Clear highlight ({lit.label})
        </button>
      )}
    </div>
  );
}

// Charts (README.md): progress, then one panel per metric with one colour and marker per run, the
// per-pair table and the samples.
export function ChartsPanel() {
  const runs = useChartRuns();
  const smoothing = useApp((s) => s.smoothing);
  const setSmoothing = useApp((s) => s.setSmoothing);
  const panels = useApp((s) => s.panels);
  const hidden = useApp((s) => s.hiddenRuns);
  const highlight = useApp((s) => s.highlightRun);
  const xMax = Math.max(1, ...runs.map((r) => r.total));
  const charts = useMemo(() => {
    const view = { hidden, highlight, order: runs.map((r) => r.id) };
    // charts of metrics no run's method logs stay out (GRPO has no chosen/rejected log-probs, DPO no reward)
    return visibleCharts(chartDefs(panels), runs).flatMap((def) => {
      const data = chartData(def, runs, smoothing, 300, view);
      const multiples: Multiple[] | undefined = def.perRun ? runs.filter((r) => !hidden.includes(r.id)).map((r) => ({ label: r.label, data: chartData(def, [r], smoothing, 300, { ...view, highlight: null }) })) : undefined;
      return [{ def, data, multiples: multiples?.filter((m) => m.data.lines.length) }];
    });
  }, [runs, smoothing, panels, hidden, highlight]);
  return (
    <section aria-labelledby="charts-h" className="region region-wide">
      <h2 id="charts-h">Charts</h2>
      <RunsBar />
      {runs.length > 0 && (
        <>
          <NanReports />
          <div className="row legend" aria-label="Legend">
            <RunToggles runs={runs} />
            <span className="muted">solid: chosen / train · dashed: rejected · dotted: held-out eval · click a run in a chart’s legend to highlight it</span>
            <label>
              Smoothing <input type="range" min={0} max={0.95} step={0.05} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} /> {smoothing.toFixed(2)}
            </label>
          </div>
          <div className="chart-grid">
            {charts.map(({ def, data, multiples }) => (
              <MetricChart key={def.id} def={def} data={data} xMax={xMax} multiples={multiples} />
            ))}
          </div>
          <KlNotes />
          <Diagnostics />
          <SamplesOverTime />
          <PairTable />
          <Samples />
        </>
      )}
      <RunsTable />
    </section>
  );
}
