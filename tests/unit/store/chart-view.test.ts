// The charts' view logic: which metric each panel plots (per-token averages by default, sums on
// request), loss divided by each run's first step, hidden runs left out, the highlighted run drawn
// on top with the others dimmed, a marker per run, identical curves named, the readout's values.
import { describe, expect, it } from 'vitest';
import { chartData, chartDefs, latestValues, logAxis, MARKERS, valuesAt, type ChartDef } from '../../../src/ui/charts/series';
import type { RunView } from '../../../src/store/events';
import type { Metrics } from '../../../src/worker/protocol';
import { create } from 'zustand';
import { createChartViewSlice, type ChartViewSlice } from '../../../src/store/chart-view';
import type { AppState } from '../../../src/store';

const run = (id: string, train: Metrics[], evals: Metrics[] = []): RunView => ({ id, label: id.toUpperCase(), color: `#${id.padEnd(6, '0')}`, status: 'running', step: train.length, total: 10, checkpointStep: 0, train, eval: evals });

// DPO-like: sums ≈ −300, averages ≈ −2; ORPO-like: the same shared metrics, TRL logps are averages
const rows = (loss0: number, s: number, a: number) =>
  Array.from({ length: 4 }, (_, i) => ({
    step: i + 1,
    loss: loss0 * (1 - 0.1 * i),
    'logps/chosen': s,
    'logps_avg/chosen': a - 0.01 * i,
    'logps_avg/rejected': a - 0.5,
    'logps_sum/chosen': s - i,
    'logps_sum/rejected': s - 40,
    margins_avg: 0.5 + 0.01 * i,
    margins_sum: 40 + i,
    'rewards/accuracies': 0.5,
  }));
const dpo = run('dpo', rows(0.7, -300, -2), [{ step: 4, 'eval_logps_avg/chosen': -2.2, 'eval_logps_avg/rejected': -2.6, eval_loss: 0.65 }]);
const ipo = run('ipo', rows(22, -310, -2.1));
const orpo = run('orpo', rows(1.4, -1.9, -1.9));
const def = (id: string, panels = {}): ChartDef => chartDefs(panels).find((d) => d.id === id)!;
const col = (d: ReturnType<typeof chartData>, key: string) => d.table.map((r) => r[key]);

describe('chart scales', () => {
  it('log-probs and margins plot per-token averages by default, labelled nats/token', () => {
    const lp = def('logps');
    expect(lp.series.map((s) => s.key)).toEqual(['logps_avg/chosen', 'logps_avg/rejected']);
    expect(lp.yLabel).toBe('nats/token');
    const d = chartData(lp, [dpo, orpo], 0);
    for (const v of [...col(d, 'dpo|logps_avg/chosen'), ...col(d, 'orpo|logps_avg/chosen')]) expect(v).toBeGreaterThan(-20);
    expect(def('margins').series[0].key).toBe('margins_avg');
  });

  it('sums on request, per panel, labelled nats', () => {
    const lp = def('logps', { logps: { scale: 'sum' } });
    expect(lp.series.map((s) => s.key)).toEqual(['logps_sum/chosen', 'logps_sum/rejected']);
    expect(lp.yLabel).toMatch(/^nats per answer/);
    expect(col(chartData(lp, [dpo], 0), 'dpo|logps_sum/chosen')).toEqual([-300, -301, -302, -303]);
    expect(def('margins', { logps: { scale: 'sum' } }).series[0].key).toBe('margins_avg');
    expect(def('margins', { margins: { scale: 'sum' } }).series[0].key).toBe('margins_sum');
  });

  it('loss: as logged by default; divided by each run’s first training loss on request, eval too', () => {
    expect(def('loss').normalise).toBe(false);
    const raw = chartData(def('loss'), [dpo, ipo], 0);
    expect(col(raw, 'ipo|loss')[0]).toBe(22);
    const n = chartData(def('loss', { loss: { loss: 'normalised' } }), [dpo, ipo], 0);
    expect(col(n, 'dpo|loss').map((v) => +v.toFixed(12))).toEqual([1, 0.9, 0.8, 0.7]);
    expect(col(n, 'ipo|loss').map((v) => +v.toFixed(12))).toEqual([1, 0.9, 0.8, 0.7]);
    expect(n.table.find((r) => r.step === 4)!['dpo|eval_loss']).toBeCloseTo(0.65 / 0.7, 12);
    expect(n.lines[0].name).toBe('DPO · loss ÷ first');
    expect(def('loss', { loss: { loss: 'per-run' } }).perRun).toBe(true);
  });

  it('a run whose first loss is 0 is left out of the normalised view, with the reason', () => {
    const zero = run('z', [{ step: 1, loss: 0 }, { step: 2, loss: 0.1 }]);
    const n = chartData(def('loss', { loss: { loss: 'normalised' } }), [dpo, zero], 0);
    expect(n.runs.map((r) => r.id)).toEqual(['dpo']);
    expect(n.skipped).toEqual(['Z: its first value is 0, nothing to divide by']);
  });

  it('log axis only when asked and every value is positive', () => {
    const asked = def('loss', { loss: { log: true } });
    expect(logAxis(asked, chartData(asked, [dpo], 0))).toBe(true);
    expect(logAxis(def('loss'), chartData(def('loss'), [dpo], 0))).toBe(false);
    const neg = run('n', [{ step: 1, loss: -1 }, { step: 2, loss: 1 }]);
    expect(logAxis(asked, chartData(asked, [neg], 0))).toBe(false);
  });
});

describe('hidden and highlighted runs', () => {
  it('hidden runs are left out of lines, table and legend; markers stay with their run', () => {
    const d = chartData(def('logps'), [dpo, ipo, orpo], 0, 300, { hidden: ['ipo'] });
    expect(new Set(d.lines.map((l) => l.runId))).toEqual(new Set(['dpo', 'orpo']));
    expect(d.runs.map((r) => [r.id, r.marker])).toEqual([
      ['dpo', MARKERS[0]],
      ['orpo', MARKERS[2]],
    ]);
    expect(Object.keys(d.table[0]).some((k) => k.startsWith('ipo|'))).toBe(false);
  });

  it('highlight dims the others and draws the highlighted run last; a hidden run cannot be highlighted', () => {
    const d = chartData(def('logps'), [dpo, ipo, orpo], 0, 300, { highlight: 'dpo' });
    expect(d.lines.filter((l) => l.highlight).map((l) => l.runId)).toEqual(['dpo', 'dpo', 'dpo', 'dpo']);
    expect(d.lines.filter((l) => l.dim).every((l) => l.runId !== 'dpo')).toBe(true);
    expect(d.lines.slice(-4).every((l) => l.runId === 'dpo')).toBe(true);
    const h = chartData(def('logps'), [dpo, orpo], 0, 300, { highlight: 'dpo', hidden: ['dpo'] });
    expect(h.lines.some((l) => l.dim || l.highlight)).toBe(false);
  });

  it('names runs with identical curves, and staggers their markers', () => {
    const acc = chartData(def('accuracy'), [dpo, ipo, orpo], 0);
    expect(acc.overlaps).toEqual([['DPO', 'IPO', 'ORPO']]);
    expect(new Set(acc.lines.map((l) => l.markerPhase)).size).toBe(3);
    expect(acc.lines.map((l) => l.stripe)).toEqual([0, 1, 2].map((index) => ({ index, count: 3 })));
    expect(chartData(def('logps'), [dpo, orpo], 0).overlaps).toEqual([]);
  });
});

describe('readout', () => {
  it('gives each line’s value at the nearest plotted step, and the latest values', () => {
    const d = chartData(def('logps'), [dpo, orpo], 0);
    const at = valuesAt(d, 2.4)!;
    expect(at.step).toBe(2);
    expect(at.values.find((v) => v.line.dataKey === 'dpo|logps_avg/chosen')!.value).toBeCloseTo(-2.01, 12);
    const last = latestValues(d)!;
    expect(last.step).toBe(4);
    expect(last.values.find((v) => v.line.dataKey === 'dpo|eval_logps_avg/chosen')!.value).toBe(-2.2);
  });
});

describe('chart view slice', () => {
  const store = () => create<ChartViewSlice>()((...a) => createChartViewSlice(...(a as unknown as Parameters<typeof createChartViewSlice>))) as unknown as { getState(): AppState };
  it('toggles hidden runs and the highlight; hiding the highlighted run clears it', () => {
    const s = store();
    s.getState().setPanel('logps', { scale: 'sum' });
    s.getState().setPanel('logps', { log: true });
    expect(s.getState().panels.logps).toEqual({ scale: 'sum', log: true });
    s.getState().toggleHighlight('a');
    expect(s.getState().highlightRun).toBe('a');
    s.getState().toggleHighlight('a');
    expect(s.getState().highlightRun).toBe(null);
    s.getState().toggleHighlight('a');
    s.getState().toggleRunHidden('a');
    expect(s.getState().hiddenRuns).toEqual(['a']);
    expect(s.getState().highlightRun).toBe(null);
    s.getState().toggleRunHidden('a');
    expect(s.getState().hiddenRuns).toEqual([]);
  });
});
