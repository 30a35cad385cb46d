import { useState, type ReactNode } from 'react';

export interface Column<T> {
  header: string;
  /** CSS grid track, e.g. '4rem' or '1fr'. */
  width: string;
  cell(row: T): ReactNode;
}

interface Props<T> {
  label: string;
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey(row: T, i: number): string | number;
  rowHeight?: number;
  height?: number;
}

const OVERSCAN = 6;

// A table that renders only the rows in view (thousands of preview rows stay cheap), with ARIA
// table semantics: aria-rowcount and aria-rowindex tell assistive technology where it is.
export function VirtualTable<T>({ label, rows, columns, rowKey, rowHeight = 30, height = 300 }: Props<T>) {
  const [top, setTop] = useState(0);
  const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((top + height) / rowHeight) + OVERSCAN);
  const grid = { gridTemplateColumns: columns.map((c) => c.width).join(' ') };
  return (
    <div className="vtable" role="table" aria-label={label} aria-rowcount={rows.length + 1}>
      <div role="rowgroup">
        <div role="row" aria-rowindex={1} className="vtable-row vtable-head" style={grid}>
          {columns.map((c) => (
            <div role="columnheader" key={c.header}>
              {c.header}
            </div>
          ))}
        </div>
      </div>
      <div className="vtable-body" style={{ height: Math.min(height, rows.length * rowHeight + 2) }} onScroll={(e) => setTop(e.currentTarget.scrollTop)} tabIndex={0}>
        <div role="rowgroup" style={{ height: rows.length * rowHeight, position: 'relative' }}>
          {rows.slice(first, last).map((row, k) => {
            const i = first + k;
            return (
              <div role="row" aria-rowindex={i + 2} key={rowKey(row, i)} className="vtable-row" style={{ ...grid, position: 'absolute', top: i * rowHeight, height: rowHeight, left: 0, right: 0 }}>
                {columns.map((c) => {
                  const v = c.cell(row);
                  return (
                    <div role="cell" key={c.header} title={typeof v === 'string' ? v : undefined}>
                      {v}
                    </div>
                  );
                })}
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}
