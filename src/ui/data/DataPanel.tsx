import { useApp } from '../../store';
import { SHAPES, type Shape } from '../../data/types';
import { BUILTIN_SETS } from '../../store/assets';
import { DropZone } from './DropZone';
import { PromptReportView, ReportView } from './ReportView';
import { PreviewTable } from './PreviewTable';
import { LengthHistogram } from './LengthHistogram';

// Data (README.md): pick or drop a preference file, see how it was read.
export function DataPanel() {
  const source = useApp((s) => s.data.source);
  const status = useApp((s) => s.data.status);
  const progress = useApp((s) => s.data.progress);
  const error = useApp((s) => s.data.error);
  const format = useApp((s) => s.data.format);
  const result = useApp((s) => s.data.result);
  const chooseBuiltinSet = useApp((s) => s.chooseBuiltinSet);
  const setDataFormat = useApp((s) => s.setDataFormat);

  return (
    <section aria-labelledby="data-h" className="region region-2">
      <h2 id="data-h">Data</h2>
      <p className="muted">
        Preference pairs, unpaired (KTO) examples, or prompts alone (<code>{'{"prompt": …}'}</code> rows, for GRPO and RLOO): a built-in set, or your own JSONL / JSON / CSV / TSV / YAML file. It stays in this
        browser.
      </p>
      <DropZone />
      <div className="row">
        <label>
          Built-in set{' '}
          {BUILTIN_SETS.length ? (
            <select aria-label="Built-in preference set" value={source?.kind === 'builtin' ? source.name : ''} onChange={(e) => e.target.value && void chooseBuiltinSet(e.target.value)}>
              <option value="">—</option>
              {BUILTIN_SETS.map((d) => (
                <option key={d.name} value={d.name}>
                  {d.name}
                </option>
              ))}
            </select>
          ) : (
            <span className="muted">(none in this build)</span>
          )}
        </label>
        <label>
          Row format{' '}
          <select value={format} onChange={(e) => setDataFormat(e.target.value as Shape | 'auto')}>
            <option value="auto">detect</option>
            {SHAPES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
      </div>
      {source && (
        <p role="status" aria-label="Data status">
          <strong className="file-name" title={source.name}>
            {source.name}
          </strong>{' '}
          ({formatBytes(source.size)}
          {source.kind === 'builtin' ? ', built-in' : ''}){status === 'reading' && ` — reading${progress !== null ? ` ${Math.round(progress * 100)} %` : ''}…`}
        </p>
      )}
      {status === 'error' && error && (
        <p className="notice error" role="alert">
          Could not read the data: {error}. Check the file’s format (JSONL, JSON, CSV/TSV or YAML with prompt/chosen/rejected, prompt/completion/label or prompt alone) or pick another file.
        </p>
      )}
      {result?.kind === 'examples' && (
        <>
          <ReportView report={result.report} />
          <LengthHistogram histogram={result.histogram} truncated={result.report.truncated} unit={result.report.labels ? 'examples' : 'pairs'} />
          <PreviewTable rows={result.preview} accepted={result.report.accepted} unit={result.report.labels ? 'examples' : 'pairs'} />
        </>
      )}
      {result?.kind === 'prompts' && (
        <>
          <PromptReportView report={result.report} />
          <LengthHistogram histogram={result.histogram} truncated={result.report.truncated} unit="prompts" />
          <PreviewTable rows={result.preview} accepted={result.report.accepted} unit="prompts" />
        </>
      )}
    </section>
  );
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
