import { useMemo } from 'react';
import { useApp } from '../../store';
import { chartRuns } from '../../store/runs';
import { crossLabels, differingSettings, finalValue, fullCardLabel, HISTORY_LIMIT, tableRuns, type TableRun } from '../../store/history';

/** Final metrics shown when some run has them: [metric, column header]. */
const FINALS: ReadonlyArray<[string, string]> = [
  ['loss', 'loss'],
  ['rewards/accuracies', 'accuracy'],
  ['rewards/margins', 'margin'],
  ['eval_loss', 'eval loss'],
  ['eval_rewards/accuracies', 'eval accuracy'],
  ['eval_rewards/margins', 'eval margin'],
];

const num = (v: number | undefined) => (v === undefined ? '' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : String(Number(v.toPrecision(4))));

const when = (t: number) => new Date(t).toLocaleString('en', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });

// The runs table (README.md): every run of the current comparison and of the kept history, named
// by the settings that differ, with those settings and the final metrics; a tick draws a history
// run on the charts (the charts draw `chartRuns`), ✕ deletes it. Self-contained: it reads and
// writes the store itself.
export function RunsTable() {
  const runs = useApp((s) => s.runs);
  const session = useApp((s) => s.session);
  const history = useApp((s) => s.history);
  const shown = useApp((s) => s.shownHistory);
  const charted = useApp(chartRuns);
  const show = useApp((s) => s.showHistoryRun);
  const remove = useApp((s) => s.deleteHistoryRun);
  const rows = useMemo(() => tableRuns(history, session, runs), [history, session, runs]);
  const labels = useMemo(() => crossLabels(rows), [rows]);
  const settings = useMemo(() => differingSettings(rows), [rows]);
  const optionsDiffer = useMemo(() => new Set(rows.map((r) => fullCardLabel(r.card))).size > 1, [rows]);
  const finals = FINALS.filter(([k]) => rows.some((r) => finalValue(k.startsWith('eval_') ? r.run.eval : r.run.train, k) !== undefined));
  if (!rows.length) return null;
  const colour = (r: TableRun) => charted.find((c) => c.id === (r.current ? r.run.id : r.key))?.color;
  const kept = history.length;
  return (
    <section className="runs-table" aria-labelledby="runs-table-h">
      <h3 id="runs-table-h">Runs table</h3>
      <p className="muted">
        Each Start keeps the comparison it replaces: the last {HISTORY_LIMIT} comparisons stay in this browser (IndexedDB){kept ? `, ${kept} kept now` : ''}. Runs are named by
        the settings that differ; tick one to draw it on the charts beside the current runs.
      </p>
      <div className="table-scroll">
        <table className="data-table">
          <caption className="visually-hidden">Runs table</caption>
          <thead>
            <tr>
              <th scope="col">Chart</th>
              <th scope="col">Run</th>
              <th scope="col">Comparison</th>
              <th scope="col">Status</th>
              {optionsDiffer && <th scope="col">Method</th>}
              {settings.map(([name]) => (
                <th scope="col" key={name}>
                  {name}
                </th>
              ))}
              {finals.map(([k, h]) => (
                <th scope="col" key={k} className="num">
                  {h}
                </th>
              ))}
              <th scope="col">
                <span className="visually-hidden">Delete</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r, i) => {
              const c = colour(r);
              const on = r.current || shown.includes(r.key);
              return (
                <tr key={r.key} className={r.current ? 'current' : on ? 'shown' : undefined}>
                  <td>
                    <input
                      type="checkbox"
                      checked={on}
                      disabled={r.current}
                      onChange={(e) => show(r.key, e.target.checked)}
                      aria-label={`Draw ${labels[i]} on the charts`}
                      title={r.current ? 'The current comparison is always on the charts' : undefined}
                    />
                  </td>
                  <th scope="row">
                    <span className="swatch" style={{ background: c ?? 'transparent', borderColor: c ?? '#98a2b3' }} aria-hidden="true" /> {labels[i]}
                  </th>
                  <td title={when(r.startedAt)}>
                    #{r.comparison}
                    {r.current ? ' (current)' : ''}
                  </td>
                  <td title={r.run.message}>
                    {r.run.status} · {r.run.step}/{r.run.total}
                  </td>
                  {optionsDiffer && <td>{fullCardLabel(r.card)}</td>}
                  {settings.map(([name, values]) => (
                    <td key={name}>{values[i]}</td>
                  ))}
                  {finals.map(([k]) => (
                    <td key={k} className="num">
                      {num(finalValue(k.startsWith('eval_') ? r.run.eval : r.run.train, k))}
                    </td>
                  ))}
                  <td>
                    {!r.current && (
                      <button type="button" className="link" onClick={() => remove(r.key)} aria-label={`Delete ${labels[i]} from the history`} title="Delete this run from the history">
                        ✕
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
