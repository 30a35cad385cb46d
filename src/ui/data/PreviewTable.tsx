import type { Cut, PreviewRow } from '../../worker/inspect';
import { VirtualTable, type Column } from '../VirtualTable';

/**
 * A text as the model reads it: a cut prompt starts with "…" (its beginning was cut), a cut
 * completion ends with "…"; the kept part is highlighted and the title says how much was kept.
 */
function Text({ text, cut, side, field }: { text: string; cut?: Cut; side: 'start' | 'end'; field: string }) {
  if (!cut) return <span title={text}>{text}</span>;
  const [kept, total] = cut;
  const title = `${field}: the model reads ${side === 'start' ? 'the last' : 'the first'} ${kept} of ${total} tokens (${Math.round((100 * kept) / total)} %)`;
  const mark = (
    <span className="cut-mark" aria-label={side === 'start' ? 'beginning cut' : 'end cut'}>
      …
    </span>
  );
  return (
    <span className="cut-text" title={`${title}\n${text}`} data-cut={side}>
      {side === 'start' && mark}
      <mark className="kept">{text}</mark>
      {side === 'end' && mark}
    </span>
  );
}

const LINE: Column<PreviewRow> = { header: 'Line', width: '4.5rem', cell: (r) => String(r.line) };
const PROMPT: Column<PreviewRow> = { header: 'Prompt', width: '1fr', cell: (r) => <Text text={r.prompt} cut={r.cut?.prompt} side="start" field="prompt" /> };
/** A prompts file has no answers: line and prompt only. */
const PROMPT_COLUMNS = [LINE, { ...PROMPT, width: '3fr' }];
const COLUMNS: Column<PreviewRow>[] = [
  LINE,
  PROMPT,
  { header: 'Chosen', width: '1fr', cell: (r) => <Text text={r.chosen} cut={r.cut?.chosen} side="end" field="chosen" /> },
  { header: 'Rejected', width: '1fr', cell: (r) => <Text text={r.rejected} cut={r.cut?.rejected} side="end" field="rejected" /> },
];
/** Unpaired (KTO) examples: the completion and its label (previewRow puts them in chosen/rejected). */
const KTO_COLUMNS: Column<PreviewRow>[] = [LINE, PROMPT, { ...COLUMNS[2], header: 'Completion' }, { header: 'Label', width: '8rem', cell: (r) => r.rejected }];

// The accepted rows as the model will read them after truncation (text is rendered as text,
// never as HTML): what was cut is left out and marked with "…".
export function PreviewTable({ rows, accepted, unit }: { rows: PreviewRow[]; accepted: number; unit: 'pairs' | 'examples' | 'prompts' }) {
  if (!rows.length) return null;
  const cut = rows.some((r) => r.cut);
  return (
    <>
      <h3>Preview</h3>
      {cut && (
        <p className="muted preview-legend">
          As the model reads it: <mark className="kept">highlighted</mark> text is kept; <span className="cut-mark">…</span> marks where truncation cut a prompt (its
          beginning){unit === 'prompts' ? '' : ' or an answer (its end)'}. Hover a cell for the token counts.
        </p>
      )}
      <VirtualTable label={`Preview of accepted ${unit}`} rows={rows} columns={unit === 'prompts' ? PROMPT_COLUMNS : unit === 'examples' ? KTO_COLUMNS : COLUMNS} rowKey={(r) => r.line} />
      {accepted > rows.length && <p className="muted">The first {rows.length.toLocaleString('en')} of {accepted.toLocaleString('en')} accepted rows.</p>}
    </>
  );
}
