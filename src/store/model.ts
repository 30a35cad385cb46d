// The model slice: which starting weights every run uses, loaded (host-side) by the engine worker,
// and the Hub models' state (README.md, "Models from the Hugging Face Hub"): the host, a token
// kept in memory only, the download in progress and the browser's cache.
import type { StateCreator } from 'zustand';
import { hubErrorKind, type DownloadProgress, type EngineEvent, type HubCacheView, type ModelInfo, type ModelSource } from '../worker/protocol';
import { DEFAULT_ENDPOINT } from '../hub/snapshot';
import { formatBytes } from '../hub/progress';
import type { AppState } from './index';
import { engine } from './workers';
import { assetUrl, BUILTIN_MODEL_FILES } from './assets';
import { deleteBlobs, loadBlobs, saveBlob, saveKv } from './persist';
import type { FreshPreset } from '../model/presets';

/** `hub`: a Hugging Face Hub model, `ORG/NAME[@REVISION]` (what is saved: never a token). */
export type ModelRef = { kind: 'builtin' } | { kind: 'fresh'; preset: FreshPreset; seed: number } | { kind: 'files'; name: string } | { kind: 'hub'; id: string };

export interface HubDownloadView {
  id: string;
  phase: 'starting' | 'downloading' | 'loading';
  progress: DownloadProgress | null;
  /** Where the last Range request continued an interrupted file (bytes), if one did. */
  resumedFrom: number | null;
}

export interface HubState {
  /** Where Hub models download from: https://huggingface.co, or the page URL's hub=. */
  endpoint: string;
  /** An access token for gated models: in this tab's memory only (never saved, never in the URL). */
  token: string;
  download: HubDownloadView | null;
  /** The last Hub load that failed; kind: src/hub/errors.ts's (auth, not-found, quota, …) or 'id'. */
  error: { id: string; kind: string; message: string } | null;
  /** News that is not an error: a cancelled download, a saved model no longer cached. */
  notice: string | null;
  /** The browser's Hub cache (null until listed). */
  cache: HubCacheView | null;
}

export interface ModelSlice {
  model: { ref: ModelRef | null; status: 'idle' | 'loading' | 'ready' | 'error'; info: ModelInfo | null; error: string | null };
  hub: HubState;
  /** Files: the picked folder's files (the ref's name is the folder's). keepAdapter: a reload restoring the model keeps the imported adapter. */
  loadModel(ref: ModelRef, files?: File[], opts?: { keepAdapter?: boolean }): Promise<void>;
  /** After a reload: the last model, its files from IndexedDB (a Hub model: from the browser's cache, no request). */
  restoreModel(ref: ModelRef): Promise<void>;
  setHubToken(token: string): void;
  cancelHubDownload(): Promise<void>;
  refreshHubCache(): Promise<void>;
  deleteHubModel(repo: string): Promise<void>;
  /** The engine's 'download' events into `hub.download`. */
  applyDownloadEvents(events: readonly EngineEvent[]): void;
}

/** The built-in model when this build has it, else a fresh model of its size. */
export function defaultModelRef(): ModelRef {
  return BUILTIN_MODEL_FILES.includes('model.safetensors') ? { kind: 'builtin' } : { kind: 'fresh', preset: 'builtin', seed: 0 };
}

export function sameModel(a: ModelRef | null, b: ModelRef | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sourceOf(ref: ModelRef, files: File[], hub: HubState): ModelSource {
  if (ref.kind === 'builtin') return { kind: 'builtin', baseUrl: assetUrl('./models/builtin/'), files: BUILTIN_MODEL_FILES };
  if (ref.kind === 'fresh') return ref;
  if (ref.kind === 'hub') return { kind: 'hub', id: ref.id, endpoint: hub.endpoint, ...(hub.token.trim() ? { token: hub.token.trim() } : {}) };
  return { kind: 'files', name: ref.name, files };
}

/** What a cancelled download leaves, in words. */
function cancelledText(d: HubDownloadView | null, id: string): string {
  const p = d?.progress;
  const kept = p && p.done > 0 ? ` ${formatBytes(p.done)}${p.total !== null ? ` of ${formatBytes(p.total)}` : ''} stay in the browser;` : '';
  return `Download of ${id} cancelled.${kept} Download it again to continue where it stopped.`;
}

let seq = 0;

export const createModelSlice: StateCreator<AppState, [], [], ModelSlice> = (set, get) => ({
  model: { ref: null, status: 'idle', info: null, error: null },
  hub: { endpoint: DEFAULT_ENDPOINT, token: '', download: null, error: null, notice: null, cache: null },
  async loadModel(ref, files = [], opts = {}) {
    const mine = ++seq;
    const prev = get().model;
    const hub = get().hub;
    const isHub = ref.kind === 'hub';
    // another model while a download runs: the download stops (what arrived is kept)
    if (!isHub && hub.download) void engine().cancelDownload();
    set({
      model: { ref, status: 'loading', info: null, error: null },
      hub: { ...hub, download: isHub ? { id: ref.id, phase: 'starting', progress: null, resumedFrom: null } : null, ...(isHub ? { error: null, notice: null } : {}) },
    });
    try {
      const info = await engine().loadModel(sourceOf(ref, files, hub));
      if (mine !== seq) return;
      set({ model: { ref, status: 'ready', info, error: null }, hub: { ...get().hub, download: null } });
      // an imported PEFT adapter belongs to the model it was checked against: another model drops
      // it; the same one loaded again (a newer Hub revision) keeps it, checked against it again
      // (or, when its restore waited for this model, the saved one comes back)
      if (prev.ref && sameModel(ref, prev.ref)) await (get().adapter.source ? get().recheckAdapter() : get().restoreAdapter());
      else if (!opts.keepAdapter) await get().removeAdapter();
      // a newer load began while the adapter's check or removal waited (it queues behind a save): that load saves its own
      if (mine !== seq) return;
      void get().inspectData();
      if (isHub) void get().refreshHubCache();
      await saveKv('model', ref);
      if (ref.kind === 'files') {
        await deleteBlobs('model/');
        for (const f of files) await saveBlob(`model/${f.name}`, f);
      }
    } catch (e) {
      if (mine !== seq) return;
      if (!isHub) return set({ model: { ref, status: 'error', info: null, error: (e as Error).message } });
      // a Hub model that did not come: the engine keeps the weights it had, and so does the page
      const kind = hubErrorKind(e) ?? 'error';
      const download = get().hub.download;
      set({
        model: prev.status === 'ready' ? prev : { ref: null, status: 'idle', info: null, error: null },
        hub: { ...get().hub, download: null, ...(kind === 'aborted' ? { notice: cancelledText(download, ref.id) } : { error: { id: ref.id, kind, message: (e as Error).message } }) },
      });
      void get().refreshHubCache();
    }
  },
  async restoreModel(ref) {
    if (ref.kind === 'hub') return restoreHub(ref, set, get);
    if (ref.kind !== 'files') return get().loadModel(ref, [], { keepAdapter: true });
    const blobs = await loadBlobs('model/');
    if (!blobs.size) return get().loadModel(defaultModelRef());
    const files = [...blobs].map(([key, b]) => new File([b], key.slice('model/'.length)));
    const mine = ++seq;
    set({ model: { ref, status: 'loading', info: null, error: null } });
    try {
      const info = await engine().loadModel(sourceOf(ref, files, get().hub));
      if (mine === seq) set({ model: { ref, status: 'ready', info, error: null } });
      void get().inspectData();
    } catch (e) {
      if (mine === seq) set({ model: { ref, status: 'error', info: null, error: (e as Error).message } });
    }
  },
  setHubToken(token) {
    set({ hub: { ...get().hub, token } });
  },
  async cancelHubDownload() {
    await engine().cancelDownload();
  },
  async refreshHubCache() {
    try {
      const cache = await engine().hubCache();
      set({ hub: { ...get().hub, cache } });
    } catch (e) {
      set({ hub: { ...get().hub, notice: `The browser's model cache could not be read: ${(e as Error).message}` } });
    }
  },
  async deleteHubModel(repo) {
    try {
      const cache = await engine().deleteCachedModel(repo);
      set({ hub: { ...get().hub, cache, notice: `${repo} was deleted from the browser's cache.` } });
    } catch (e) {
      set({ hub: { ...get().hub, notice: `${repo} could not be deleted: ${(e as Error).message}` } });
    }
  },
  applyDownloadEvents(events) {
    const d = get().hub.download;
    if (!d) return;
    let next = d;
    for (const ev of events) if (ev.type === 'download' && ev.id === d.id) next = { ...next, phase: ev.phase, progress: ev.progress ?? next.progress, resumedFrom: ev.resumedFrom };
    if (next !== d) set({ hub: { ...get().hub, download: next } });
  },
});

/**
 * After a reload, a Hub model comes from the browser's cache only, with no request (SPEC §3.2:
 * nothing leaves the page unasked; pressing Load checks for a newer revision). One that is no
 * longer there (deleted, or its download never finished) gives way to the default model, and the
 * page says so; downloading it
 * again is the user's call.
 */
async function restoreHub(ref: Extract<ModelRef, { kind: 'hub' }>, set: (patch: Partial<AppState>) => void, get: () => AppState): Promise<void> {
  const mine = ++seq;
  set({ model: { ref, status: 'loading', info: null, error: null } });
  try {
    const info = await engine().loadModel({ kind: 'hub', id: ref.id, endpoint: get().hub.endpoint, cacheOnly: true });
    if (mine !== seq) return;
    set({ model: { ref, status: 'ready', info, error: null } });
    void get().inspectData();
  } catch (e) {
    if (mine !== seq) return;
    set({ hub: { ...get().hub, notice: `The last model, ${ref.id}, could not be restored: ${(e as Error).message}. The default model is loaded instead; download ${ref.id} again below to use it.` } });
    await get().loadModel(defaultModelRef());
  }
  void get().refreshHubCache();
}
