// The model slice: which starting weights every run uses, loaded (host-side) by the engine worker.
import type { StateCreator } from 'zustand';
import type { ModelInfo, ModelSource } from '../worker/protocol';
import type { AppState } from './index';
import { engine } from './workers';
import { assetUrl, BUILTIN_MODEL_FILES } from './assets';
import { deleteBlobs, loadBlobs, saveBlob, saveKv } from './persist';
import type { FreshPreset } from '../model/presets';

export type ModelRef = { kind: 'builtin' } | { kind: 'fresh'; preset: FreshPreset; seed: number } | { kind: 'files'; name: string };

export interface ModelSlice {
  model: { ref: ModelRef | null; status: 'idle' | 'loading' | 'ready' | 'error'; info: ModelInfo | null; error: string | null };
  /** Files: the picked folder's files (the ref's name is the folder's). */
  loadModel(ref: ModelRef, files?: File[]): Promise<void>;
  /** After a reload: the last model, its files from IndexedDB. */
  restoreModel(ref: ModelRef): Promise<void>;
}

/** The built-in model when this build has it, else a fresh model of its size. */
export function defaultModelRef(): ModelRef {
  return BUILTIN_MODEL_FILES.includes('model.safetensors') ? { kind: 'builtin' } : { kind: 'fresh', preset: 'builtin', seed: 0 };
}

export function sameModel(a: ModelRef | null, b: ModelRef | null): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sourceOf(ref: ModelRef, files: File[]): ModelSource {
  if (ref.kind === 'builtin') return { kind: 'builtin', baseUrl: assetUrl('./models/builtin/'), files: BUILTIN_MODEL_FILES };
  if (ref.kind === 'fresh') return ref;
  return { kind: 'files', name: ref.name, files };
}

let seq = 0;

export const createModelSlice: StateCreator<AppState, [], [], ModelSlice> = (set, get) => ({
  model: { ref: null, status: 'idle', info: null, error: null },
  async loadModel(ref, files = []) {
    const mine = ++seq;
    set({ model: { ref, status: 'loading', info: null, error: null } });
    try {
      const info = await engine().loadModel(sourceOf(ref, files));
      if (mine !== seq) return;
      set({ model: { ref, status: 'ready', info, error: null } });
      void get().inspectData();
      await saveKv('model', ref);
      if (ref.kind === 'files') {
        await deleteBlobs('model/');
        for (const f of files) await saveBlob(`model/${f.name}`, f);
      }
    } catch (e) {
      if (mine === seq) set({ model: { ref, status: 'error', info: null, error: (e as Error).message } });
    }
  },
  async restoreModel(ref) {
    if (ref.kind !== 'files') return get().loadModel(ref);
    const blobs = await loadBlobs('model/');
    if (!blobs.size) return get().loadModel(defaultModelRef());
    const files = [...blobs].map(([key, b]) => new File([b], key.slice('model/'.length)));
    const mine = ++seq;
    set({ model: { ref, status: 'loading', info: null, error: null } });
    try {
      const info = await engine().loadModel(sourceOf(ref, files));
      if (mine === seq) set({ model: { ref, status: 'ready', info, error: null } });
      void get().inspectData();
    } catch (e) {
      if (mine === seq) set({ model: { ref, status: 'error', info: null, error: (e as Error).message } });
    }
  },
});
