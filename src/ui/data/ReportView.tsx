import type { ValidationReport } from '../../data/types';
import type { PromptReport } from '../../data/prompts';
import { useApp } from '../../store';
import { truncationSummary } from '../../worker/inspect';
import { VirtualTable, type Column } from '../VirtualTable';

type Rejected = ValidationReport['rejected'][number];
const REJECTED_COLUMNS: Column<Rejected>[] = [
  { header: 'Line', width: '4.5rem', cell: (r) => String(r.line) },
  { header: 'Field', width: '10rem', cell: (r) => r.field ?? '—' },
  { header: 'Reason', width: '1fr', cell: (r) => r.reason },
];

/** A report's first 200 warnings, each with its line where it has one. */
function WarningList({ warnings }: { warnings: ReadonlyArray<{ line?: number; message: string }> }) {
  return (
    <ul className="warnings">
      {warnings.slice(0, 200).map((w, i) => (
        <li key={i}>
          {w.line !== undefined ? `line ${w.line}: ` : ''}
          {w.message}
        </li>
      ))}
    </ul>
  );
}

/** The rejected rows a report lists, and how many more it counted (`unlisted`). */
function RejectedRows({ rows, unlisted }: { rows: readonly Rejected[]; unlisted: number }) {
  return (
    <>
      <h3>Rejected rows</h3>
      <VirtualTable label="Rejected rows" rows={rows} columns={REJECTED_COLUMNS} rowKey={(x, i) => `${x.line}:${i}`} height={200} />
      {unlisted > 0 && <p className="muted">{unlisted.toLocaleString('en')} more rejected rows are counted but not listed.</p>}
    </>
  );
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1));

// The validation report (README.md): counts, format, truncation (and how much of the answers the
// model gets to see), and every rejected row.
export function ReportView({ report: r }: { report: ValidationReport }) {
  const t = r.truncation;
  const kept = useApp((s) => (s.data.result?.kind === 'examples' ? s.data.result.kept : undefined));
  const summary = kept && truncationSummary(kept);
  return (
    <div className="report" aria-label="Validation report" role="group">
      <p>
        <strong data-testid="accepted-count">{r.accepted.toLocaleString('en')}</strong> {r.labels ? 'examples' : 'pairs'} accepted,{' '}
        <strong data-testid="rejected-count">{r.rejectedCount.toLocaleString('en')}</strong> rejected of {r.rows.toLocaleString('en')} rows · format{' '}
        <strong>{r.format ?? 'unknown'}</strong> ({r.shapeSource}, {r.syntax}
        {r.template !== 'none' ? `, ${r.template} rendering` : ''})
      </p>
      <p>
        Truncation to {t.maxLength} tokens (prompt ≤ {t.maxPromptLength}
        {t.maxCompletionLength !== null ? `, completion ≤ ${t.maxCompletionLength}` : ''}): <strong data-testid="truncated-count">{r.truncated}</strong> truncated ({t.prompt} prompts cut from the left, {t.completion} completions cut from the
        right), {t.dropped} dropped with no completion left.
      </p>
      {summary && (
        <div className="notice warn truncation-summary" data-testid="truncation-summary">
          <p>{summary.text}</p>
          <p>
            What helps: {summary.tips.join('; ')}.
          </p>
        </div>
      )}
      {r.tokens && (
        <p>
          Tokens before truncation — prompt {fmt(r.tokens.prompt.min)}–{fmt(r.tokens.prompt.max)} (mean {fmt(r.tokens.prompt.mean)}), completion {fmt(r.tokens.completion.min)}–{fmt(r.tokens.completion.max)} (mean{' '}
          {fmt(r.tokens.completion.mean)}).
        </p>
      )}
      {r.accepted === 0 && r.summary && (
        <p className="notice error" role="alert">
          {r.summary}
        </p>
      )}
      {r.labels && (
        <p className="notice warn">
          Unpaired (KTO) data: {r.labels.desirable} desirable, {r.labels.undesirable} undesirable. KTO cards train on them, and GRPO and RLOO on their prompts; the methods that need preference pairs cannot.
        </p>
      )}
      {Object.keys(r.warningCounts).length > 0 && (
        <details>
          <summary>
            Warnings: {Object.entries(r.warningCounts).map(([k, n]) => `${n} ${k}`).join(', ')}
          </summary>
          <WarningList warnings={r.warnings} />
        </details>
      )}
      {r.rejectedCount > 0 && (
        <RejectedRows rows={r.rejected} unlisted={r.omitted.rejected} />
      )}
    </div>
  );
}

// A prompts file's report ({"prompt": …} rows, src/data/prompts.ts): counts, the prompt cut, every
// rejected row with its line and reason, and which methods can train on it.
export function PromptReportView({ report: r }: { report: PromptReport }) {
  return (
    <div className="report" aria-label="Validation report" role="group">
      <p>
        <strong data-testid="accepted-count">{r.accepted.toLocaleString('en')}</strong> prompts accepted, <strong data-testid="rejected-count">{r.rejectedCount.toLocaleString('en')}</strong> rejected of{' '}
        {r.rows.toLocaleString('en')} rows · prompt-only rows ({r.syntax})
      </p>
      <p>
        Prompts are cut from the left to {r.maxPromptLength} tokens: <strong data-testid="truncated-count">{r.truncated}</strong> cut.
      </p>
      <p className="notice warn" data-testid="prompts-note">
        Prompts only: GRPO and RLOO cards train on them (with a judge reward). DPO, ORPO, KTO, SFT and the Reward model need preference pairs or unpaired examples, and PPO its SFT and Reward
        model stages, which need pairs.
      </p>
      {r.accepted === 0 && r.summary && (
        <p className="notice error" role="alert">
          No usable prompts: {r.summary}.
        </p>
      )}
      {r.warnings.length > 0 && (
        <details>
          <summary>Warnings: {r.warnings.length}</summary>
          <WarningList warnings={r.warnings} />
        </details>
      )}
      {r.rejectedCount > 0 && (
        <RejectedRows rows={r.rejected} unlisted={r.rejectedCount - r.rejected.length} />
      )}
    </div>
  );
}
