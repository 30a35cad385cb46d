import { useRef, type ReactNode } from 'react';
import { useVirtualizer } from '@tanstack/react-virtual';

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

// A table that renders only the rows in view (thousands of preview rows stay cheap; TanStack
// Virtual picks the rows), with ARIA table semantics: aria-rowcount and aria-rowindex tell
// assistive technology where it is.
export function VirtualTable<T>({ label, rows, columns, rowKey, rowHeight = 30, height = 300 }: Props<T>) {
  const body = useRef<HTMLDivElement>(null);
  const bodyHeight = Math.min(height, rows.length * rowHeight + 2);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => body.current,
    estimateSize: () => rowHeight,
    getItemKey: (i) => rowKey(rows[i], i),
    overscan: OVERSCAN,
    initialRect: { width: 0, height: bodyHeight },
    useFlushSync: false,
  });
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
      <div ref={body} className="vtable-body" style={{ height: bodyHeight }} tabIndex={0}>
        <div role="rowgroup" style={{ height: virtual.getTotalSize(), position: 'relative' }}>
          {virtual.getVirtualItems().map(({ index: i, key, start }) => (
            <div role="row" aria-rowindex={i + 2} key={key} className="vtable-row" style={{ ...grid, position: 'absolute', top: start, height: rowHeight, left: 0, right: 0 }}>
              {columns.map((c) => {
                const v = c.cell(rows[i]);
                return (
                  <div role="cell" key={c.header} title={typeof v === 'string' ? v : undefined}>
                    {v}
                  </div>
                );
              })}
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}
