// The runs history: bounded archive of finished comparisons, names across comparisons, the runs
// the charts draw (chartRuns), the metrics export's settings column, and card locking.
import { describe, it, expect } from 'vitest';
import { archive, chartRuns, chartRunsOf, crossLabels, fullCardLabel, HISTORY_LIMIT, HISTORY_ROWS, restoredHistory, tableRuns, type ComparisonSnapshot, type HistoryEntry } from '../../../src/store/history';
import { cardLocked } from '../../../src/store/config';
import { metricsCsv, metricsJsonl } from '../../../src/store/metrics-export';
import { newCard, RUN_COLORS, type MethodCard } from '../../../src/store/presets';
import { DEFAULT_SETTINGS } from '../../../src/store/settings';
import type { RunView } from '../../../src/store/events';
import type { TrainSettings } from '../../../src/worker/protocol';

const data = { kind: 'builtin' as const, name: 'seed-examples', size: 100 };
const model = { kind: 'builtin' as const };

function comparison(id: string, cards: MethodCard[], settings: Partial<TrainSettings> = {}, startedAt = 0): ComparisonSnapshot {
  return { id, startedAt, settings: { ...DEFAULT_SETTINGS, ...settings }, cards, data, modelRef: model };
}

function runsOf(cards: MethodCard[], steps = 3, status: RunView['status'] = 'done'): RunView[] {
  return cards.map((c, i) => ({
    id: c.id,
    label: c.method.toUpperCase(),
    color: RUN_COLORS[i],
    status,
    step: steps,
    total: steps,
    checkpointStep: steps,
    train: Array.from({ length: steps }, (_, k) => ({ step: k + 1, loss: 1 / (k + 1), 'rewards/accuracies': 0.5 })),
    eval: steps ? [{ step: steps, eval_loss: 0.9 }] : [],
  }));
}

const dpo = (beta: number) => newCard('dpo', { beta });
const orpo = (beta = 0.1) => newCard('orpo', { beta });

describe('runs history', () => {
  it('keeps the newest HISTORY_LIMIT comparisons, newest first, and skips one with no rows', () => {
    let h: HistoryEntry[] = [];
    for (let i = 0; i < HISTORY_LIMIT + 5; i++) h = archive(h, comparison(`s${i}`, [dpo(0.1)]), runsOf([dpo(0.1)]));
    expect(h).toHaveLength(HISTORY_LIMIT);
    expect(h[0].id).toBe(`s${HISTORY_LIMIT + 4}`);
    expect(h.at(-1)!.id).toBe('s5');
    expect(archive(h, comparison('empty', [dpo(0.1)]), runsOf([dpo(0.1)], 0))).toEqual(h);
    expect(archive([], null, [])).toEqual([]);
    // archiving the same comparison twice keeps one entry
    expect(archive(archive([], comparison('a', [dpo(0.1)]), runsOf([dpo(0.1)])), comparison('a', [dpo(0.1)]), runsOf([dpo(0.1)]))).toHaveLength(1);
  });

  it('keeps runs still going as stopped, and thins long runs to HISTORY_ROWS rows ending at the last', () => {
    const [e] = archive([], comparison('a', [dpo(0.1)]), runsOf([dpo(0.1)], 5000, 'running'));
    expect(e.runs[0].status).toBe('stopped');
    expect(e.runs[0].train.length).toBeLessThanOrEqual(HISTORY_ROWS + 1);
    expect(e.runs[0].train.at(-1)!.step).toBe(5000);
    expect(e.runs[0].train[0].step).toBe(1);
  });

  it('names runs by the settings that differ, across comparisons', () => {
    const h = archive([], comparison('one', [dpo(0.1), orpo()], { lr: 1e-4 }, 1), runsOf([dpo(0.1), orpo()]));
    const rows = tableRuns(h, comparison('two', [dpo(0.5), orpo()], { lr: 5e-4 }, 2), runsOf([dpo(0.5), orpo()]));
    expect(rows.map((r) => [r.current, r.comparison])).toEqual([
      [true, 2],
      [true, 2],
      [false, 1],
      [false, 1],
    ]);
    expect(crossLabels(rows)).toEqual(['DPO β=0.5 lr=0.0005', 'ORPO lr=0.0005', 'DPO β=0.1 lr=0.0001', 'ORPO lr=0.0001']);
    // same shared settings: the identical ORPO runs get their comparison's number
    const h2 = archive([], comparison('one', [dpo(0.1), orpo()]), runsOf([dpo(0.1), orpo()]));
    const rows2 = tableRuns(h2, comparison('two', [dpo(0.5), orpo()]), runsOf([dpo(0.5), orpo()]));
    expect(crossLabels(rows2)).toEqual(['DPO β=0.5', 'ORPO #2', 'DPO β=0.1', 'ORPO #1']);
    // LoRA against full fine-tuning (a history entry saved before LoRA existed lacks the keys: off)
    const h3 = archive([], comparison('one', [orpo()]), runsOf([orpo()]));
    const rows3 = tableRuns(h3, comparison('two', [orpo()], { lora: { r: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }, baseDtype: 'bf16' }), runsOf([orpo()]));
    expect(crossLabels(rows3)).toEqual(['ORPO lora=8:16:q_proj/v_proj base=bf16', 'ORPO lora=off base=default']);
    expect(fullCardLabel(dpo(0.1))).toBe('DPO sigmoid β=0.1');
    expect(fullCardLabel(orpo(0.2))).toBe('ORPO λ=0.2');
  });

  it("records the imported adapter and the Hub model's commit, and names runs by them when they differ", () => {
    const hub = { kind: 'hub' as const, id: 'org/m' };
    const adapter = (name: string, hash: string) => ({ name, r: 4, alpha: 8, targets: ['q_proj'], tensors: 4, params: 256, baseModel: 'org/m', bytes: 1024, hash });
    const at = (id: string, commit: string, a: ReturnType<typeof adapter> | null): ComparisonSnapshot => ({ ...comparison(id, [orpo()]), modelRef: hub, modelCommit: commit, adapter: a });
    const [e] = archive([], at('one', 'a'.repeat(40), adapter('mine', 'h1')), runsOf([orpo()]));
    expect(e).toMatchObject({ modelCommit: 'a'.repeat(40), adapter: { name: 'mine', hash: 'h1' } });
    // the entry survives a reload as saved
    expect(restoredHistory({ entries: JSON.parse(JSON.stringify([e])) as HistoryEntry[], shown: [] }).history[0]).toMatchObject({ modelCommit: 'a'.repeat(40), adapter: { name: 'mine' } });
    // same model and commit: one without an adapter against one with
    expect(crossLabels(tableRuns([e], at('two', 'a'.repeat(40), null), runsOf([orpo()])))).toEqual(['ORPO adapter=none', 'ORPO adapter=mine']);
    // the branch moved on to another commit; two adapters of one name told apart by their hash
    expect(crossLabels(tableRuns([e], at('two', 'b'.repeat(40), adapter('mine', 'h2')), runsOf([orpo()])))).toEqual(['ORPO model=org/m@bbbbbbb adapter=mine#h2', 'ORPO model=org/m@aaaaaaa adapter=mine#h1']);
    // nothing differs: the comparison's number
    expect(crossLabels(tableRuns([e], at('two', 'a'.repeat(40), adapter('mine', 'h1')), runsOf([orpo()])))).toEqual(['ORPO #2', 'ORPO #1']);
    // one repository at one commit, however the id was typed, is one model
    const typed = (id: string) => ({ ...at('two', 'a'.repeat(40), adapter('mine', 'h1')), modelRef: { kind: 'hub' as const, id } });
    for (const id of ['org/m@main', `org/m@${'a'.repeat(40)}`, 'hf:org/m']) expect(crossLabels(tableRuns([e], typed(id), runsOf([orpo()]))), id).toEqual(['ORPO #2', 'ORPO #1']);
    // an entry saved before commits and adapters were kept (no keys): unknown, never a difference by itself
    const { modelCommit: _c, adapter: _a, ...old } = e;
    expect(crossLabels(tableRuns([old], at('two', 'a'.repeat(40), adapter('mine', 'h1')), runsOf([orpo()])))).toEqual(['ORPO #2', 'ORPO #1']);
    expect(crossLabels(tableRuns([old], { ...at('two', 'a'.repeat(40), null), settings: { ...DEFAULT_SETTINGS, lr: 1e-3 } }, runsOf([orpo()])))).toEqual(['ORPO lr=0.001', 'ORPO lr=0.0005']);
    // shown as unknown beside known values that differ
    expect(crossLabels(tableRuns([old, e], at('two', 'a'.repeat(40), null), runsOf([orpo()])))).toEqual(['ORPO adapter=none', 'ORPO adapter=?', 'ORPO adapter=mine']);
    // a comparison without an adapter is recorded as none (null), not as unknown
    expect(archive([], at('three', 'a'.repeat(40), null), runsOf([orpo()]))[0]).toMatchObject({ adapter: null, modelCommit: 'a'.repeat(40) });
  });

  it('charts the current runs plus the ticked history runs, with unique ids, colours and labels', () => {
    const history = archive([], comparison('one', [dpo(0.1), orpo()]), runsOf([dpo(0.1), orpo()]));
    const session = comparison('two', [dpo(0.5), orpo()]);
    const runs = runsOf([dpo(0.5), orpo()]);
    // nothing ticked: the current runs as they are (same array)
    expect(chartRunsOf({ runs, history, shownHistory: [], session })).toBe(runs);
    const key = `one/${dpo(0.1).id}`;
    const s = { runs, history, shownHistory: [key], session };
    const out = chartRuns(s);
    expect(out).toBe(chartRuns(s)); // memoised: usable as a zustand selector
    expect(out.map((r) => r.label)).toEqual(['DPO β=0.5', 'ORPO', 'DPO β=0.1']);
    expect(new Set(out.map((r) => r.id)).size).toBe(3);
    expect(out[2].id).toBe(key);
    expect(out.slice(0, 2).map((r) => r.color)).toEqual(runs.map((r) => r.color));
    expect(runs.map((r) => r.color)).not.toContain(out[2].color);
    expect(out[2].train).toEqual(history[0].runs[0].train);
    expect(out[2].settings).toMatch(/^runs=dpo:sigmoid:0\.1 lr=/);
    // a history run alone (no current comparison) is charted too
    expect(chartRunsOf({ runs: [], history, shownHistory: [key], session: null }).map((r) => r.label)).toEqual(['DPO']);
  });

  it('restores saved history, dropping runs whose card it cannot read and stale ticks', () => {
    const history = archive([], comparison('one', [dpo(0.1), orpo()]), runsOf([dpo(0.1), orpo()]));
    const broken = { ...history[0], cards: [history[0].cards[0], { method: 'nope' } as unknown as MethodCard] };
    const r = restoredHistory({ entries: [broken], shown: [`one/${dpo(0.1).id}`, 'gone/x'] });
    expect(r.history[0].runs.map((x) => x.id)).toEqual([dpo(0.1).id]);
    expect(r.shownHistory).toEqual([`one/${dpo(0.1).id}`]);
  });
});

describe('metrics export', () => {
  it('carries the run label and its full settings', () => {
    const runs = [{ label: 'DPO β=0.5', settings: 'runs=dpo:sigmoid:0.5 lr=0.0005 steps=2', train: [{ step: 1, loss: 0.5 }], eval: [] }] as unknown as RunView[];
    expect(metricsCsv(runs)).toBe('run,step,loss,settings\nDPO β=0.5,1,0.5,runs=dpo:sigmoid:0.5 lr=0.0005 steps=2\n');
    expect(JSON.parse(metricsJsonl(runs))).toEqual({ run: 'DPO β=0.5', step: 1, loss: 0.5, settings: 'runs=dpo:sigmoid:0.5 lr=0.0005 steps=2' });
  });
});

describe('card locking', () => {
  it('locks a card while its run trains in the live comparison', () => {
    const c = dpo(0.1);
    const session = { ...comparison('a', [c]), live: true };
    expect(cardLocked({ session, runs: runsOf([c], 1, 'running') }, c.id)).toBe(true);
    expect(cardLocked({ session, runs: runsOf([c], 1, 'queued') }, c.id)).toBe(true);
    expect(cardLocked({ session, runs: runsOf([c], 1, 'done') }, c.id)).toBe(false);
    expect(cardLocked({ session: { ...session, live: false }, runs: runsOf([c], 1, 'running') }, c.id)).toBe(false);
    expect(cardLocked({ session, runs: runsOf([c], 1, 'running') }, 'other')).toBe(false);
  });
});
