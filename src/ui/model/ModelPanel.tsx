import { useState } from 'react';
import { useApp } from '../../store';
import { BUILTIN_MODEL_FILES } from '../../store/assets';
import { memoryEstimate, memorySavings, onlineParts, runMemoryEstimate, savingsText, settingsMemoryOptions, type MemoryOptions, type RunMemoryEstimate, type RunMemorySettings } from '../../store/memory';
import { methodLabel, objectiveOf } from '../../store/presets';
import type { ObjectiveSpec } from '../../train/objectives';
import type { ModelConfig } from '../../model/family';
import { resolveLengths } from '../../data/tokenize';
import { formatBytes } from '../data/DataPanel';
import { FRESH_PRESETS, freshConfig, type FreshPreset } from '../../model/presets';
import { modelParamCount } from '../../model/family';
import { HubPicker } from './HubPicker';
import { AdapterImport } from './AdapterImport';
import { effectiveLora } from '../../store/adapter';

const compact = (n: number) => (n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : `${Math.round(n / 1e3)}k`);

/** What the size menu says of each random-model preset. */
const PRESET_LABELS: Record<FreshPreset, string> = {
  builtin: 'GPT-2, built-in size',
  tiny: 'GPT-2, tiny',
  'llama-tiny': 'Llama, tiny (grouped-query attention)',
  'qwen-tiny': 'Qwen2, tiny (q/k/v biases, one KV head, untied head)',
};

/** A card's estimate; null when its options are invalid (the card says why). */
function cardMemory(c: ModelConfig, s: RunMemorySettings, o: ObjectiveSpec, opts: MemoryOptions): RunMemoryEstimate | null {
  try {
    return runMemoryEstimate(c, s, o, opts);
  } catch {
    return null;
  }
}

// Model (README.md): the built-in model, a seeded fresh one of either family, a Hugging Face
// GPT-2 or Llama-family (Llama, Qwen2, Mistral) folder, or a model of the Hugging Face Hub (HubPicker).
export function ModelPanel() {
  const model = useApp((s) => s.model);
  const loadModel = useApp((s) => s.loadModel);
  const batchSize = useApp((s) => s.settings.batchSize);
  const maxLength = useApp((s) => s.settings.maxLength);
  const optimizer = useApp((s) => s.settings.optimizer);
  const momentsDtype = useApp((s) => s.settings.momentsDtype);
  const activationsDtype = useApp((s) => s.settings.activationsDtype);
  const formLora = useApp((s) => s.settings.lora);
  // an imported adapter's r, lora_alpha and targets when LoRA is on (what the runs use)
  const imported = useApp((s) => s.adapter.info);
  const lora = effectiveLora(formLora, imported);
  // the adapter section also while another model loads, when it has something to say (an error, a restore)
  const adapterBusy = useApp((s) => !!s.adapter.error || s.adapter.status === 'loading');
  const baseDtype = useApp((s) => s.settings.baseDtype);
  const checkpointActivations = useApp((s) => s.settings.checkpointActivations);
  const cards = useApp((s) => s.cards);
  const gradAccum = useApp((s) => s.settings.gradAccum);
  const maxPromptLength = useApp((s) => s.settings.maxPromptLength);
  const runs = cards.length;
  const [preset, setPreset] = useState<FreshPreset>('builtin');
  const [seed, setSeed] = useState(0);
  const hasBuiltin = BUILTIN_MODEL_FILES.includes('model.safetensors');

  const pick = (files: FileList | null) => {
    if (!files?.length) return;
    const list = [...files];
    const folder = list[0].webkitRelativePath.split('/')[0] || 'model files';
    void loadModel({ kind: 'files', name: folder }, list);
  };
  const info = model.info;
  const c = info?.config;
  // LoRA, the frozen base's dtype and activation checkpointing as the runs will resolve them
  const opts = c && settingsMemoryOptions(c, { lora, baseDtype, checkpointActivations });
  const T = info ? (maxLength ?? resolveLengths(info.nPositions).maxLength) : 0;
  const mem = c && opts && memoryEstimate(c, batchSize, T, optimizer, momentsDtype, activationsDtype, opts);
  const saves = c && opts ? savingsText(memorySavings(c, batchSize, T, optimizer, momentsDtype, activationsDtype, opts), opts, formatBytes) : '';
  // each card's own estimate: online runs (GRPO, RLOO, PPO) also hold a reference, the generation cache, reward and value models
  const perCard = c && opts && mem ? cards.map((card) => ({ card, est: cardMemory(c, { batchSize, gradAccum, optimizer, momentsDtype, activationsDtype, maxLength, maxPromptLength }, objectiveOf(card), opts) ?? { ...mem, online: null } })) : [];
  const online = perCard.filter((x) => x.est.online);
  const total = perCard.reduce((n, x) => n + x.est.perRun, 0);
  return (
    <section aria-labelledby="model-h" className="region">
      <h2 id="model-h">Model</h2>
      <p className="muted">
        Every run starts from these weights. {hasBuiltin ? 'The built-in model is a small demo model: it answers in the right format but usually wrong.' : ''} For answers worth reading, load a real model: a Hugging Face folder (GPT-2,
        or Llama family: SmolLM2, Qwen2.5) under “Model folder” or “Model files”, or download one from the Hugging Face Hub below.
      </p>
      <div className="row">
        {hasBuiltin && (
          <button type="button" onClick={() => void loadModel({ kind: 'builtin' })}>
            Use the built-in demo model
          </button>
        )}
        <span>
          <button type="button" onClick={() => void loadModel({ kind: 'fresh', preset, seed })}>
            New random model
          </button>{' '}
          <label>
            size{' '}
            <select aria-label="Random model size" style={{ maxWidth: '15rem' }} value={preset} onChange={(e) => setPreset(e.target.value as FreshPreset)}>
              {FRESH_PRESETS.map((p) => (
                <option key={p} value={p}>
                  {PRESET_LABELS[p]} ({compact(modelParamCount(freshConfig(p)))})
                </option>
              ))}
            </select>
          </label>{' '}
          <label>
            seed <input type="number" min={0} step={1} value={seed} onChange={(e) => setSeed(Math.max(0, Math.floor(Number(e.target.value) || 0)))} className="num" />
          </label>
        </span>
      </div>
      <div className="row">
        <label>
          Model folder <input type="file" aria-label="Model folder" {...{ webkitdirectory: '', directory: '' }} onChange={(e) => pick(e.target.files)} />
        </label>
        <label>
          Model files <input type="file" aria-label="Model files" multiple onChange={(e) => pick(e.target.files)} />
        </label>
      </div>
      <p className="muted">A Hugging Face folder — GPT-2, Llama, Qwen2 or Mistral (config.json; model.safetensors, or model.safetensors.index.json and its shards; tokenizer.json or vocab.json + merges.txt; tokenizer_config.json for the chat template) — or a model this page exported.</p>
      {model.status === 'loading' && <p role="status">Loading the model…</p>}
      {model.status === 'error' && (
        <p className="notice error" role="alert">
          Could not load the model: {model.error}. Pick a folder with config.json, model.safetensors and a tokenizer (GPT-2 or Llama family, safetensors weights).
        </p>
      )}
      {info && c && mem && (
        <div aria-label="Model details" role="group">
          <p role="status">
            <strong data-testid="model-name">{info.kind === 'builtin' ? 'built-in demo model' : info.name}</strong> · {info.params.toLocaleString('en')} parameters
          </p>
          {info.kind === 'builtin' && (
            <p className="notice warn">
              A small demo model ({info.params.toLocaleString('en')} parameters, {info.tokenizer.kind === 'byte' ? 'byte-level' : 'its own tokenizer'}), pretrained on short question-and-answer texts: its answers have the right format but are usually wrong, so
              the curves show what each method does while the samples stay rough. Load a real model folder above for meaningful samples.
            </p>
          )}
          {info.cacheNotice && (
            <p className="notice warn" role="status" data-testid="model-cache-notice">
              {info.cacheNotice}
            </p>
          )}
          {info.cacheNote && (
            <p className="muted" data-testid="model-cache-note">
              {info.cacheNote}
            </p>
          )}
          {!hasBuiltin && info.kind === 'fresh' && <p className="muted">This build has no pretrained built-in model yet, so runs start from random weights: the curves show the methods, the samples show noise.</p>}
          <dl className="facts">
            <dt>Family</dt>
            <dd data-testid="model-family">{info.family}</dd>
            <dt>Layers · heads · width</dt>
            <dd>
              {info.shape.layers} · {info.shape.heads}
              {info.shape.kvHeads !== info.shape.heads ? ` (${info.shape.kvHeads} key/value)` : ''} · {info.shape.width}
            </dd>
            <dt>Context</dt>
            <dd>{info.nPositions} tokens</dd>
            <dt>Tokenizer</dt>
            <dd>{info.tokenizer.description}</dd>
            <dt>GPU memory</dt>
            <dd>
              <span data-testid="model-memory">
                ≈ {formatBytes(mem.perRun)} per run ({formatBytes(mem.state)} {opts?.lora ? 'frozen base, adapters, their gradients and optimizer state' : 'weights, gradients and optimizer state'} + {formatBytes(mem.activations)} activations at batch {batchSize})
                {online.map(({ card, est }) => ` · ${methodLabel(card.method)} ≈ ${formatBytes(est.perRun)} (${onlineParts(est.online!, formatBytes, est.state + est.activations)})`).join('')} · {runs} runs ≈ {formatBytes(total)}
                {saves && ` · ${saves}`}
              </span>
            </dd>
          </dl>
        </div>
      )}
      {((model.status === 'ready' && info) || adapterBusy) && <AdapterImport />}
      <HubPicker />
    </section>
  );
}
