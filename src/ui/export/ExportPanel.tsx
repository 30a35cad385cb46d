import { useState } from 'react';
import { useApp } from '../../store';
import { dataWorker, engine } from '../../store/workers';
import { metricsCsv, metricsJsonl } from '../../store/metrics-export';
import { downloadBlob, saveFolder } from './download';

// Exports (README.md): metrics, each run's model, a runnable TRL experiment, the dataset as
// TRL-ready JSONL. Charts export as PNG from each chart.
export function ExportPanel() {
  const runs = useApp((s) => s.runs);
  const session = useApp((s) => s.session);
  const data = useApp((s) => s.data);
  const model = useApp((s) => s.model);
  const [status, setStatus] = useState<{ text: string; error: boolean } | null>(null);
  const act = async (what: string, f: () => Promise<string>) => {
    setStatus({ text: `${what}…`, error: false });
    try {
      setStatus({ text: await f(), error: false });
    } catch (e) {
      setStatus({ text: `${what} failed: ${(e as Error).message}`, error: true });
    }
  };
  const withMetrics = runs.filter((r) => r.train.length);
  const saveModel = (runId: string | null, label: string) =>
    act(`Saving ${label}`, async () => {
      const files = await engine().exportModel(runId, session?.id ?? '');
      saveFolder(`prefplay-${runId ?? 'start'}-model`, new Map(Object.entries(files)));
      return `Saved ${label}: a zip of the Hugging Face folder (config.json, model.safetensors, tokenizer files).`;
    });
  const saveTrl = (runId: string, label: string) =>
    act(`Writing the TRL experiment for ${label}`, async () => {
      const files = await engine().exportTrl(runId);
      saveFolder(`prefplay-trl-${runId}`, new Map(Object.entries(files)));
      return `Saved the TRL experiment for ${label} (zip): unzip, then pip install -r requirements.txt && python train.py`;
    });
  const saveDataset = () =>
    act('Writing TRL JSONL', async () => {
      const { jsonl, report } = await dataWorker().exportTrl(data.blob!, { name: data.source!.name, format: data.format, tokenizerFiles: model.info?.tokenizerFiles });
      downloadBlob(jsonl, `${data.source!.name.replace(/\.[^.]+$/, '')}.trl.jsonl`);
      return `Saved ${report.accepted} rows as TRL-ready JSON Lines.`;
    });
  return (
    <section aria-labelledby="export-h" className="region">
      <h2 id="export-h">Export</h2>
      <div className="row">
        <button type="button" disabled={!withMetrics.length} onClick={() => downloadBlob(new Blob([metricsCsv(runs)], { type: 'text/csv' }), 'prefplay-metrics.csv')}>
          Metrics CSV
        </button>
        <button type="button" disabled={!withMetrics.length} onClick={() => downloadBlob(new Blob([metricsJsonl(runs)], { type: 'application/jsonl' }), 'prefplay-metrics.jsonl')}>
          Metrics JSON Lines
        </button>
        <button type="button" disabled={!data.blob || data.status !== 'ready'} onClick={() => void saveDataset()}>
          Dataset as TRL JSONL
        </button>
        <button type="button" disabled={model.status !== 'ready'} onClick={() => void saveModel(null, 'the starting model')}>
          Model before training
        </button>
      </div>
      {runs.length > 0 && (
        <ul className="export-runs">
          {runs.map((r) => (
            <li key={r.id}>
              <span className="swatch" style={{ background: r.color }} aria-hidden="true" /> {r.label}:{' '}
              <button type="button" disabled={r.step === 0} onClick={() => void saveModel(r.id, `${r.label}'s model`)} aria-label={`${r.label} model (safetensors)`}>
                Model (safetensors)
              </button>{' '}
              <button type="button" disabled={!session?.live} onClick={() => void saveTrl(r.id, r.label)} aria-label={`${r.label} TRL script`}>
                TRL script
              </button>
            </li>
          ))}
        </ul>
      )}
      {status && (
        <p role="status" className={status.error ? 'notice error' : 'muted'}>
          {status.text}
        </p>
      )}
    </section>
  );
}
