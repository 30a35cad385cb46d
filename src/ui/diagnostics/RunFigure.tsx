import { useState, type ReactNode } from 'react';
import type { RunView } from '../../store/events';
import { formatValue } from '../charts/series';

/** One run's small chart in a diagnostics view: its colour and name, the plot, notes, a data table. */
export function RunFigure({ run, view, step, children, notes, table }: { run: RunView; view: string; step: number | null; children: ReactNode; notes?: string[]; table: { columns: string[]; rows: number[][] } }) {
  const [open, setOpen] = useState(false);
  const name = `${view}: ${run.label}`;
  return (
    <figure className="chart diag-figure" aria-label={`${name} chart`}>
      <figcaption>
        <h4>
          <span className="swatch" style={{ background: run.color }} aria-hidden="true" /> {run.label}
        </h4>
        <span className="muted">{step === null ? 'no tracked point yet' : `step ${step}`}</span>
      </figcaption>
      <div className="chart-box">{children}</div>
      {notes?.map((n) => (
        <p key={n} className="diag-note" role="note">
          {n}
        </p>
      ))}
      <details onToggle={(e) => setOpen(e.currentTarget.open)}>
        <summary>Data table: {name}</summary>
        {open && (
          <div className="table-scroll">
            <table className="data-table">
              <caption>{name} data</caption>
              <thead>
                <tr>
                  {table.columns.map((c) => (
                    <th scope="col" key={c}>
                      {c}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {table.rows.map((r) => (
                  <tr key={r[0]}>
                    {r.map((v, i) => (i === 0 ? <th scope="row" key={i}>{v}</th> : <td key={i}>{formatValue(v)}</td>))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </details>
    </figure>
  );
}

export const AXIS_TEXT = { fontSize: 11, fill: '#4b5563' };
