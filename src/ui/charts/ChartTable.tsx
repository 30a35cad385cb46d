import { useState } from 'react';
import { formatValue, type ChartData } from './series';

// The chart's numbers as a table (accessible, and what the e2e test reads): one row per step,
// raw (unsmoothed) values; rendered only while open.
export function ChartTable({ title, data }: { title: string; data: ChartData }) {
  const [open, setOpen] = useState(false);
  return (
    <details onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Data table: {title}</summary>
      {open && (
        <div className="table-scroll">
          <table className="data-table">
            <caption>{title} data</caption>
            <thead>
              <tr>
                <th scope="col">Step</th>
                {data.lines.map((l) => (
                  <th scope="col" key={l.dataKey}>
                    {l.name}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {data.table.map((row) => (
                <tr key={row.step}>
                  <th scope="row">{row.step}</th>
                  {data.lines.map((l) => (
                    <td key={l.dataKey}>{formatValue(row[l.dataKey])}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </details>
  );
}
