import { useState } from 'react';
import { useApp } from '../../store';
import { dataWorker, engine } from '../../store/workers';
import { metricsCsv, metricsJsonl } from '../../store/metrics-export';
import { downloadBlob, saveFolder } from './download';
import { savedSessionSpec } from '../saved-session';
import type { RunView } from '../../store/events';

/** Models above this size keep no resume snapshots (CHECKPOINT_MAX_PARAMS in src/worker/session.ts). */
const SNAPSHOT_MAX_PARAMS = 50_000_000;

/** A disabled button's reason, shown beside it (not only as a tooltip). */
function Why({ id, text }: { id: string; text: string | null }) {
  return text ? (
    <small id={id} className="muted disabled-reason">
      {text}
    </small>
  ) : null;
}

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
      const files = await engine().exportModel(runId, session?.id ?? '', savedSessionSpec(useApp.getState()));
      saveFolder(`prefplay-${runId ?? 'start'}-model`, new Map(Object.entries(files)));
      return `Saved ${label}: a zip of the Hugging Face folder (config.json, model.safetensors, tokenizer files)${runId !== null && lora ? ', the adapters merged into the base (PEFT’s merge_and_unload)' : ''}.`;
    });
  // a LoRA comparison: each run's adapters as a PEFT folder (peft.PeftModel.from_pretrained loads it over the base)
  const lora = session?.settings.lora ?? null;
  const saveAdapter = (runId: string, label: string) =>
    act(`Saving ${label}`, async () => {
      const files = await engine().exportAdapter(runId, session?.id ?? '', savedSessionSpec(useApp.getState()));
      saveFolder(`prefplay-${runId}-adapter`, new Map(Object.entries(files)));
      return `Saved ${label}: a zip of the PEFT adapter folder (adapter_config.json, adapter_model.safetensors); load it with peft.PeftModel.from_pretrained over the base model.`;
    });
  const saveTrl = (runId: string, label: string) =>
    act(`Writing the TRL experiment for ${label}`, async () => {
      const files = await engine().exportTrl(runId, savedSessionSpec(useApp.getState()));
      saveFolder(`prefplay-trl-${runId}`, new Map(Object.entries(files)));
      return `Saved the TRL experiment for ${label} (zip): unzip, then pip install -r requirements.txt && python train.py`;
    });
  const saveDataset = () =>
    act('Writing TRL JSONL', async () => {
      const { jsonl, report } = await dataWorker().exportTrl(data.blob!, { name: data.source!.name, format: data.format, tokenizerFiles: model.info?.tokenizerFiles });
      downloadBlob(jsonl, `${data.source!.name.replace(/\.[^.]+$/, '')}.trl.jsonl`);
      return `Saved ${report.accepted} rows as TRL-ready JSON Lines.`;
    });
  const live = session?.live === true;
  const bigModel = (model.info?.params ?? 0) > SNAPSHOT_MAX_PARAMS;
  /** Why a run's model cannot be saved now, or null. */
  const modelWhy = (r: RunView): string | null =>
    r.step === 0 ? 'no weights yet: the run has not trained a step' : !live && bigModel ? 'models over 50 M parameters keep no saved weights after a reload' : model.status !== 'ready' ? 'load the model this run started from first' : null;
  const trlWhy = session ? (model.status !== 'ready' ? 'load the model this comparison started from first' : data.status !== 'ready' ? 'the data is still loading' : null) : 'start a comparison first';
  const metricsWhy = withMetrics.length ? null : 'no metrics yet: start a comparison';
  const dataWhy = data.blob && data.status === 'ready' ? null : 'choose a data file first (Data tab)';
  const startWhy = model.status === 'ready' ? null : 'load a model first (Model tab)';
  return (
    <section aria-labelledby="export-h" className="region">
      <h2 id="export-h">Export</h2>
      <div className="row">
        <button type="button" disabled={!!metricsWhy} aria-describedby={metricsWhy ? 'why-metrics' : undefined} onClick={() => downloadBlob(new Blob([metricsCsv(runs)], { type: 'text/csv' }), 'prefplay-metrics.csv')}>
          Metrics CSV
        </button>
        <button type="button" disabled={!!metricsWhy} aria-describedby={metricsWhy ? 'why-metrics' : undefined} onClick={() => downloadBlob(new Blob([metricsJsonl(runs)], { type: 'application/jsonl' }), 'prefplay-metrics.jsonl')}>
          Metrics JSON Lines
        </button>
        <Why id="why-metrics" text={metricsWhy} />
      </div>
      <div className="row">
        <button type="button" disabled={!!dataWhy} aria-describedby={dataWhy ? 'why-dataset' : undefined} onClick={() => void saveDataset()}>
          Dataset as TRL JSONL
        </button>
        <Why id="why-dataset" text={dataWhy} />
      </div>
      <div className="row">
        <button type="button" disabled={!!startWhy} aria-describedby={startWhy ? 'why-start-model' : undefined} onClick={() => void saveModel(null, 'the starting model')}>
          Model before training
        </button>
        <Why id="why-start-model" text={startWhy} />
      </div>
      {runs.length > 0 && (
        <ul className="export-runs">
          {runs.map((r) => {
            const mw = modelWhy(r);
            return (
              <li key={r.id}>
                <span className="swatch" style={{ background: r.color }} aria-hidden="true" /> {r.label}:{' '}
                <button type="button" disabled={!!mw} aria-describedby={mw ? `why-model-${r.id}` : undefined} onClick={() => void saveModel(r.id, `${r.label}'s ${lora ? 'merged model' : 'model'}`)} aria-label={`${r.label} ${lora ? 'merged model' : 'model'} (safetensors)`}>
                  {lora ? 'Merged model (safetensors)' : 'Model (safetensors)'}
                </button>{' '}
                {lora && (
                  <>
                    <button type="button" disabled={!!mw} aria-describedby={mw ? `why-model-${r.id}` : undefined} onClick={() => void saveAdapter(r.id, `${r.label}'s LoRA adapter`)} aria-label={`${r.label} PEFT adapter`}>
                      PEFT adapter
                    </button>{' '}
                  </>
                )}
                <button type="button" disabled={!!trlWhy} aria-describedby={trlWhy ? `why-trl-${r.id}` : undefined} onClick={() => void saveTrl(r.id, r.label)} aria-label={`${r.label} TRL script`}>
                  TRL script
                </button>
                <div>
                  <Why id={`why-model-${r.id}`} text={mw && `Model: ${mw}.`} />{' '}
                  <Why id={`why-trl-${r.id}`} text={trlWhy && `TRL script: ${trlWhy}.`} />
                </div>
              </li>
            );
          })}
        </ul>
      )}
      {!runs.length && <p className="muted">Each run’s model and its TRL script appear here once a comparison has started.</p>}
      {status && (
        <p role="status" className={status.error ? 'notice error' : 'muted'}>
          {status.text}
        </p>
      )}
    </section>
  );
}
