// Chart series: debiased EMA, bounded downsampling that keeps the last point, one line per run
// and series (eval lines only where eval rows exist), raw values in the table.
import { describe, it, expect } from 'vitest';
import { chartData, CHARTS, downsample, formatValue, smooth } from '../../../src/ui/charts/series';
import type { RunView } from '../../../src/store/events';

const run = (id: string, n: number, withEval: boolean): RunView => ({
  id, label: id.toUpperCase(), color: '#000', status: 'running', step: n, total: n, checkpointStep: 0,
  train: Array.from({ length: n }, (_, i) => ({ step: i + 1, loss: 1 / (i + 1), 'logps_avg/chosen': -i, 'logps_avg/rejected': -2 * i })),
  eval: withEval ? [{ step: n, eval_loss: 0.25, 'eval_logps_avg/chosen': -1, 'eval_logps_avg/rejected': -3 }] : [],
});

describe('chart series', () => {
  it('smooths with a debiased EMA', () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = smooth([2, 2, 2, 2], 0.9);
    s.forEach((v) => expect(v).toBeCloseTo(2, 12));
    const [a, b] = smooth([0, 10], 0.5);
    expect(a).toBe(0);
    expect(b).toBeCloseTo((0.5 * 0.5 * 0 + 0.5 * 10) / (1 - 0.25), 12);
  });

  it('downsamples to at most maxPoints + 1, keeping the first and last', () => {
    expect(downsample(5, 10)).toEqual([0, 1, 2, 3, 4]);
    const d = downsample(1000, 300);
    expect(d.length).toBeLessThanOrEqual(301);
    expect(d[0]).toBe(0);
    expect(d.at(-1)).toBe(999);
  });

  it('makes one line per run and series, eval lines only with eval rows, raw values in the table', () => {
    const logps = CHARTS.find((c) => c.id === 'logps')!;
    const d = chartData(logps, [run('a', 500, true), run('b', 3, false)], 0.6, 100);
    expect(d.lines.map((l) => l.name)).toEqual(['A · chosen', 'A · eval chosen', 'A · rejected', 'A · eval rejected', 'B · chosen', 'B · rejected']);
    expect(d.lines.filter((l) => l.dashed).map((l) => l.name)).toEqual(['A · rejected', 'A · eval rejected', 'B · rejected']);
    expect(d.table).toHaveLength(500);
    expect(d.table[499]['a|logps_avg/rejected']).toBe(-998);
    expect(d.table[2]['b|logps_avg/chosen']).toBe(-2);
    expect(d.points.length).toBe(101 + 2); // A's 100 strided steps and its last, plus B's steps 2 and 3
    expect(d.points.at(-1)!['a|eval_logps_avg/chosen']).toBe(-1);
    const nll = chartData(CHARTS.find((c) => c.id === 'nll')!, [run('a', 3, true)], 0);
    expect(nll.lines).toEqual([]);
  });

  it('formats table values with six significant digits', () => {
    expect(formatValue(-11.091559410095215)).toBe('-11.0916');
    expect(formatValue(0.000123456789)).toBe('0.000123457');
    expect(formatValue(1.5e-7)).toBe('1.50000e-7');
    expect(formatValue(0)).toBe('0');
    expect(formatValue(undefined)).toBe('');
    expect(formatValue(NaN)).toBe('NaN');
  });
});
