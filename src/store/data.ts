// The data slice: the chosen preference file (uploaded or built-in), its validation report,
// preview rows and length histogram from the data worker (works without WebGPU).
import * as Comlink from 'comlink';
import type { StateCreator } from 'zustand';
import type { Shape } from '../data/types';
import type { InspectResult } from '../worker/inspect';
import type { AppState } from './index';
import { dataWorker } from './workers';
import { assetUrl, BUILTIN_SETS } from './assets';
import { saveBlob, saveKv } from './persist';
import { trainConfigProblems } from '../train/config';

export interface DataSource {
  kind: 'upload' | 'builtin';
  /** File name (uploads) or set name (built-in). */
  name: string;
  size: number;
}

export interface DataState {
  source: DataSource | null;
  blob: Blob | null;
  format: Shape | 'auto';
  status: 'empty' | 'reading' | 'ready' | 'error';
  /** Fraction of the file read, while reading. */
  progress: number | null;
  result: InspectResult | null;
  error: string | null;
}

export interface DataSlice {
  data: DataState;
  setDataFile(blob: Blob, source: DataSource, persist?: boolean): Promise<void>;
  chooseBuiltinSet(name: string): Promise<void>;
  setDataFormat(format: Shape | 'auto'): void;
  inspectData(): Promise<void>;
}

/** The file name the parser sees (its extension picks the syntax). */
export function dataFileName(s: DataSource): string {
  return s.kind === 'builtin' ? (BUILTIN_SETS.find((d) => d.name === s.name)?.file ?? `${s.name}.jsonl`) : s.name;
}

let seq = 0;
/** The latest data choice wins: a built-in set still downloading does not replace a later upload. */
let choice = 0;

export const createDataSlice: StateCreator<AppState, [], [], DataSlice> = (set, get) => ({
  data: { source: null, blob: null, format: 'auto', status: 'empty', progress: null, result: null, error: null },
  async setDataFile(blob, source, persist = true) {
    choice++;
    set((s) => ({ data: { ...s.data, source, blob, result: null, error: null } }));
    if (persist) {
      try {
        await saveBlob('data', blob);
        await saveKv('data', source);
      } catch (e) {
        console.warn(`could not keep the data file in IndexedDB: ${(e as Error).message}`);
      }
    }
    await get().inspectData();
  },
  async chooseBuiltinSet(name) {
    const set0 = BUILTIN_SETS.find((d) => d.name === name);
    if (!set0) {
      set((s) => ({ data: { ...s.data, status: 'error', error: `there is no built-in set named "${name}" in this build` } }));
      return;
    }
    const mine = ++choice;
    set((s) => ({ data: { ...s.data, status: 'reading', progress: null, error: null } }));
    try {
      const res = await fetch(assetUrl(`./data/${set0.file}`));
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const blob = await res.blob();
      if (mine === choice) await get().setDataFile(blob, { kind: 'builtin', name, size: blob.size });
    } catch (e) {
      if (mine === choice) set((s) => ({ data: { ...s.data, status: 'error', error: `could not read the built-in set ${name}: ${(e as Error).message}` } }));
    }
  },
  setDataFormat(format) {
    set((s) => ({ data: { ...s.data, format } }));
    void get().inspectData();
  },
  async inspectData() {
    const { data, model, settings } = get();
    if (!data.blob || !data.source) return;
    const mine = ++seq;
    set((s) => ({ data: { ...s.data, status: 'reading', progress: 0, error: null } }));
    const onProgress = (p: { bytes: number; totalBytes: number | null }) => {
      if (mine === seq && p.totalBytes) set((s) => ({ data: { ...s.data, progress: p.bytes / p.totalBytes! } }));
    };
    // Lengths the model cannot take are the settings form's problem (it names the Max length
    // field): the file is read with the default lengths meanwhile, not reported as unreadable.
    const nPositions = model.info?.nPositions ?? 1024;
    const lengthsFit = !trainConfigProblems({ ...settings, nPositions }).some((p) => p.field === 'maxLength' || p.field === 'maxPromptLength');
    try {
      const result = await dataWorker().inspect(
        data.blob,
        {
          name: dataFileName(data.source),
          format: data.format,
          nPositions,
          maxLength: lengthsFit ? settings.maxLength : null,
          maxPromptLength: lengthsFit ? settings.maxPromptLength : null,
          tokenizerFiles: model.info?.tokenizerFiles,
        },
        Comlink.proxy(onProgress),
      );
      if (mine === seq) set((s) => ({ data: { ...s.data, status: 'ready', progress: null, result } }));
    } catch (e) {
      if (mine === seq) set((s) => ({ data: { ...s.data, status: 'error', progress: null, result: null, error: (e as Error).message } }));
    }
  },
});
