import type { PreviewRow } from '../../worker/inspect';
import { VirtualTable, type Column } from '../VirtualTable';

const COLUMNS: Column<PreviewRow>[] = [
  { header: 'Line', width: '4.5rem', cell: (r) => String(r.line) },
  { header: 'Prompt', width: '1fr', cell: (r) => r.prompt },
  { header: 'Chosen', width: '1fr', cell: (r) => r.chosen },
  { header: 'Rejected', width: '1fr', cell: (r) => r.rejected },
];

// The accepted rows as the model will see them (text is rendered as text, never as HTML).
export function PreviewTable({ rows, accepted }: { rows: PreviewRow[]; accepted: number }) {
  if (!rows.length) return null;
  return (
    <>
      <h3>Preview</h3>
      <VirtualTable label="Preview of accepted pairs" rows={rows} columns={COLUMNS} rowKey={(r) => r.line} />
      {accepted > rows.length && <p className="muted">The first {rows.length.toLocaleString('en')} of {accepted.toLocaleString('en')} accepted rows.</p>}
    </>
  );
}
