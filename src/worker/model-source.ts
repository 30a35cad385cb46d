// Starting weights for a comparison, on the host: the built-in model fetched from the page's own
// origin, a seeded fresh initialisation, a Hugging Face folder the user picked (GPT-2, or
// Llama/Qwen2/Mistral: config.json's model_type decides), or a model of the Hugging Face Hub,
// downloaded into the browser's cache (src/hub/) and read from there like a folder.
import { cachedSnapshot, downloadModel, type DownloadProgress, type HubSnapshot } from '../hub/snapshot';
import { formatHubId, HUB_PREFIX, parseHubId } from '../hub/id';
import { HubError } from '../hub/errors';
import type { HubStorage } from '../hub/storage';
import { loadCheckpoint, readerFromFiles, type ReadFile } from '../model/checkpoint';
import type { ParamLimits } from '../model/config';
import { isLlamaConfigJson, type LoadedModel } from '../model/family-checkpoint';
import { loadLlamaCheckpoint } from '../model/llama-checkpoint';
import { freshModel, modelSummary } from '../model/presets';
import { ByteTokenizer } from '../tokenizer/byte';
import type { ModelInfo, ModelSource } from './protocol';

/**
 * Files a model folder may hold that the loaders read, plus any `*.safetensors` (the shards a
 * model.safetensors.index.json names); anything else in a picked folder is ignored.
 */
export const MODEL_FILE_NAMES = [
  'config.json',
  'model.safetensors',
  'model.safetensors.index.json',
  'tokenizer.json',
  'vocab.json',
  'merges.txt',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
];

/** What a Hub source needs besides the source: the cache, cancellation and progress reports. */
export interface HubHooks {
  storage: HubStorage;
  signal?: AbortSignal;
  onProgress?: (p: DownloadProgress) => void;
  /** A Range request continues an interrupted download of `file` from `offset`. */
  onResume?: (file: string, offset: number) => void;
  /** Every file is in: the weights are being read. */
  onLoading?: () => void;
}

/** How the page takes an access token (ends the message of a 401/403). */
export const PAGE_TOKEN_HINT = 'enter an access token in the “Access token” field (kept in this tab’s memory only) and download again';

/**
 * `limits`: the engine's device limits when it has a device (a folder must fit them), else null.
 * `hub`: required for a Hub source.
 */
export async function loadModelSource(src: ModelSource, limits: ParamLimits | null = null, hub: HubHooks | null = null): Promise<{ ckpt: LoadedModel; info: ModelInfo }> {
  let ckpt: LoadedModel;
  let name: string;
  let cacheNotice: string | null = null;
  let cacheNote: string | null = null;
  let commit: string | null = null;
  if (src.kind === 'fresh') {
    ckpt = { ...freshModel(src.preset, src.seed), tokenizer: new ByteTokenizer() } as LoadedModel;
    name = `fresh ${src.preset} (random init, seed ${src.seed})`;
  } else if (src.kind === 'builtin') {
    ckpt = await loadFolder(originReader(src.baseUrl, src.files), limits);
    name = 'built-in';
  } else if (src.kind === 'hub') {
    if (!hub) throw new Error('a Hub model needs the engine worker’s cache');
    const snap = await hubSnapshot(src, hub);
    hub.onLoading?.();
    ckpt = await loadFolder(snapshotReader(hub.storage, snap), limits);
    name = formatHubId(snap.id).slice(HUB_PREFIX.length);
    commit = snap.key.commit;
    const from = `From the browser’s cache (commit ${snap.key.commit.slice(0, 12)}); `;
    if (snap.notice) cacheNotice = sentence(from + snap.notice);
    if (snap.note) cacheNote = sentence(from + snap.note);
  } else {
    ckpt = await loadFolder(readerFromFiles(folderFiles(src.files)), limits);
    name = src.name;
  }
  const t = ckpt.tokenizer;
  const info: ModelInfo = {
    name,
    kind: src.kind,
    config: ckpt.config,
    ...modelSummary(ckpt.config),
    tokenizer: {
      kind: t.kind,
      vocabSize: t.vocabSize,
      description: t.kind === 'byte' ? `byte-level: one token per UTF-8 byte plus <|endoftext|> (${t.vocabSize} tokens)` : `Hugging Face BPE (${ckpt.tokenizerFiles.tokenizerJson ? 'tokenizer.json' : 'vocab.json + merges.txt'}, ${t.vocabSize.toLocaleString('en')} tokens)`,
    },
    ...(t.kind === 'hf' ? { tokenizerFiles: { ...ckpt.tokenizerFiles } as Record<string, string> } : {}),
    ...(commit ? { commit } : {}),
    ...(cacheNotice ? { cacheNotice } : {}),
    ...(cacheNote ? { cacheNote } : {}),
  };
  return { ckpt, info };
}

/** Ends a line with a full stop unless it has one (a notice may end with an error's own sentence). */
const sentence = (s: string) => (/[.!?…]$/.test(s) ? s : `${s}.`);

/** `ORG/NAME[@REV]`, with or without the CLI's `hf:` prefix. */
export function hubIdOf(id: string) {
  const t = id.trim();
  return parseHubId(t.startsWith(HUB_PREFIX) ? t : HUB_PREFIX + t);
}

/**
 * The snapshot of a Hub source (downloadModel): a complete one in the cache is used once the
 * server it came from says the revision is still at its commit (one listing call; none for a
 * commit hash or another endpoint), or with a notice when the server cannot say; a newer revision
 * is downloaded beside it. `cacheOnly` (a page reload): the cached snapshot with no request at all.
 * Nothing cached: downloaded, or with `cacheOnly` an 'offline' error.
 */
async function hubSnapshot(src: Extract<ModelSource, { kind: 'hub' }>, hub: HubHooks): Promise<HubSnapshot> {
  const id = hubIdOf(src.id);
  if (src.cacheOnly && !(await cachedSnapshot(id, hub.storage))) throw new HubError('offline', `${formatHubId(id).slice(HUB_PREFIX.length)} is not in this browser’s cache (deleted, or its download did not finish)`);
  return downloadModel(id, {
    storage: hub.storage,
    endpoint: src.endpoint,
    token: src.token || null,
    tokenHint: PAGE_TOKEN_HINT,
    signal: hub.signal,
    onProgress: hub.onProgress,
    onResume: hub.onResume,
    // a reload restores the last model without asking anyone (SPEC §3.2: a request leaves the page
    // only when the user asked for it); pressing Load checks for a newer revision
    offline: src.cacheOnly,
    update: !src.cacheOnly,
  });
}

/** The snapshot's files as a folder: names it does not hold are absent. */
function snapshotReader(storage: HubStorage, snap: HubSnapshot): ReadFile {
  const names = new Set(snap.files.map((f) => f.path));
  return async (name) => {
    if (!names.has(name)) return null;
    const bytes = await storage.readFile(snap.key, name);
    if (!bytes) throw new HubError('integrity', `${name} of ${snap.id.repo} is missing from the browser’s cache: delete the model under “Cached models” and download it again`);
    return bytes;
  };
}

/** A folder of either family: config.json's model_type picks the loader. */
async function loadFolder(read: ReadFile, limits: ParamLimits | null): Promise<LoadedModel> {
  const config = await read('config.json');
  return config && isLlamaConfigJson(config) ? loadLlamaCheckpoint(read, { limits }) : loadCheckpoint(read, { limits });
}

/** Same-origin files only: names not in the build's list are absent (no request, no 404). */
function originReader(baseUrl: string, files: readonly string[]): ReadFile {
  if (new URL(baseUrl).origin !== self.location.origin) throw new Error(`the built-in model must come from this page's origin, not ${baseUrl}`);
  return async (name) => {
    if (!files.includes(name)) return null;
    const res = await fetch(new URL(name, baseUrl));
    if (!res.ok) throw new Error(`built-in model: ${name}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

const isModelFile = (name: string) => MODEL_FILE_NAMES.includes(name) || name.endsWith('.safetensors');

/**
 * The model files of a picked folder: known names only, and for a name found at several depths
 * (a folder with an onnx/ subfolder) the shallowest one.
 */
export function folderFiles(files: readonly File[]): File[] {
  const best = new Map<string, File>();
  const depth = (f: File) => (f.webkitRelativePath || f.name).split('/').length;
  for (const f of files) {
    if (!isModelFile(f.name)) continue;
    const prev = best.get(f.name);
    if (prev && depth(prev) === depth(f)) throw new Error(`two files are named "${f.name}" at the same depth of the folder; pick one model folder`);
    if (!prev || depth(f) < depth(prev)) best.set(f.name, f);
  }
  if (!best.size) throw new Error(`no model files found: expected config.json, model.safetensors and a tokenizer (got ${files.length} file${files.length === 1 ? '' : 's'})`);
  return [...best.values()];
}
