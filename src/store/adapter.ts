// The imported adapter slice (README.md, "LoRA"): a PEFT adapter folder picked in the Model tab,
// checked by the engine worker against the loaded model (src/worker/adapter.ts: the CLI's
// --lora-adapter reader), and what every run then starts from: LoRA runs continue it (its r,
// lora_alpha and target modules replace the form's: effectiveSettings), full fine-tuning starts
// from it merged in. Its two files live in IndexedDB beside the model's (blobs `adapter/<file>`,
// kv `adapter`: its name and the model it was loaded on), so a reload keeps it; another model
// drops it.
import type { StateCreator } from 'zustand';
import { ADAPTER_FILES, type AdapterInfo, type AdapterSource, type TrainSettings } from '../worker/protocol';
import type { AppState } from './index';
import { engine } from './workers';
import { deleteBlobs, loadBlobs, loadKv, saveBlob, saveKv } from './persist';
import type { ModelRef } from './model';
import type { LoraConfig } from '../model/lora';

export interface AdapterState {
  /** loading: being read; error: the last folder was refused (`info` is still the adapter in use, if any). */
  status: 'idle' | 'loading' | 'ready' | 'error';
  /** The adapter in use: its files (for the comparison's spec) and what they hold. */
  source: AdapterSource | null;
  info: AdapterInfo | null;
  error: string | null;
}

export interface AdapterSlice {
  adapter: AdapterState;
  /** A folder's (or loose) files: adapter_config.json and adapter_model.safetensors are read, the rest ignored. */
  loadAdapter(files: File[]): Promise<void>;
  removeAdapter(): Promise<void>;
  /** After a reload, once the model is back: the saved adapter, if it was loaded on that model. */
  restoreAdapter(): Promise<void>;
  /** After the same model was loaded again (a newer Hub revision): the adapter in use, checked against it again (removed when it no longer fits). */
  recheckAdapter(): Promise<void>;
}

/**
 * kv `adapter`: what IndexedDB remembers besides the files, which live under `prefix` (a new one
 * per save: the new files are written, then this entry switches to them, then the old ones go, so
 * a failed save never leaves an entry naming files that are not all there).
 */
interface SavedAdapter {
  name: string;
  modelRef: ModelRef;
  prefix: string;
}

/**
 * The settings a comparison runs with: with an imported adapter and LoRA on, the adapter's r,
 * lora_alpha and target_modules instead of the form's (its runs continue it, as the CLI's
 * `train --lora-adapter DIR` without --lora-r/--lora-alpha/--lora-targets).
 */
export function effectiveSettings(settings: TrainSettings, adapter: AdapterInfo | null): TrainSettings {
  if (!adapter || !settings.lora) return settings;
  return { ...settings, lora: effectiveLora(settings.lora, adapter) };
}

/** The LoRA config runs use (effectiveSettings): the adapter's when one is imported and LoRA is on. */
export function effectiveLora(lora: LoraConfig | null | undefined, adapter: AdapterInfo | null): LoraConfig | null {
  if (!lora) return null;
  if (!adapter) return lora;
  return { r: adapter.r, alpha: adapter.alpha, ...(adapter.targets.length ? { targets: [...adapter.targets] } : {}) };
}

/** Whether two adapters are the same one (a saved comparison's and the loaded one): what they hold, and the weights file's size and hash. */
export function sameAdapter(a: AdapterInfo | null | undefined, b: AdapterInfo | null | undefined): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * The adapter files of a picked folder: those of its shallowest folder that holds any (a PEFT
 * Trainer's output folder also has checkpoint-*\/adapter_model.safetensors: the top one is the
 * adapter; a folder with none at its top and several checkpoints is refused, naming them). Loose
 * files (no folder): themselves. `name`: the folder's path, null for loose files.
 */
export function adapterFolderFiles(files: readonly File[]): { name: string | null; files: Record<string, Blob> } {
  const wanted = (f: File) => (ADAPTER_FILES as readonly string[]).includes(f.name);
  const dir = (f: File) => f.webkitRelativePath.split('/').slice(0, -1).join('/');
  const foldered = files.some((f) => f.webkitRelativePath);
  const hits = files.filter(wanted);
  if (!foldered) return { name: null, files: Object.fromEntries(hits.map((f) => [f.name, f])) };
  const root = files[0].webkitRelativePath.split('/')[0];
  if (!hits.length) return { name: root, files: {} };
  const depth = (d: string) => d.split('/').length;
  const top = Math.min(...hits.map((f) => depth(dir(f))));
  const dirs = [...new Set(hits.map(dir).filter((d) => depth(d) === top))].sort();
  if (dirs.length > 1) throw new Error(`${root} holds several adapters (${dirs.map((d) => `${d}/`).join(', ')}) and none at its top: pick one of those folders`);
  return { name: dirs[0], files: Object.fromEntries(hits.filter((f) => dir(f) === dirs[0]).map((f) => [f.name, f])) };
}

let seq = 0;
/** Every write of the adapter's files and kv entry, one after another (a removal waits for a save under way). */
let saving: Promise<void> = Promise.resolve();
const queue = (job: () => Promise<void>): Promise<void> => (saving = saving.then(job, job));

/**
 * Saves `source` as the adapter of `modelRef` unless `current()` turns false (a newer pick or a
 * removal) before its entry switches; the files of a save that stopped or failed are deleted.
 */
function save(source: AdapterSource, modelRef: ModelRef, current: () => boolean): Promise<void> {
  let error: unknown = null;
  let stale = false;
  return queue(async () => {
    if (!current()) return void (stale = true);
    const prefix = `adapter/${crypto.randomUUID()}/`;
    try {
      const old = await loadKv<SavedAdapter | null>('adapter');
      for (const [name, blob] of Object.entries(source.files)) {
        if (!current()) break;
        await saveBlob(`${prefix}${name}`, blob);
      }
      if (!current()) {
        stale = true;
        await deleteBlobs(prefix);
        return;
      }
      await saveKv('adapter', { name: source.name, modelRef, prefix } satisfies SavedAdapter);
      if (old?.prefix) await deleteBlobs(old.prefix).catch(() => undefined);
    } catch (e) {
      error = e;
      await deleteBlobs(prefix).catch(() => undefined);
    }
  }).then(() => {
    if (error) throw error;
    if (stale) throw new Stale();
  });
}

/** A save that a newer pick or a removal made pointless. */
class Stale extends Error {}

/** The saved adapter and its files, or null (none, or its files are not all there). */
async function loadSaved(): Promise<{ saved: SavedAdapter; files: Record<string, Blob> } | null> {
  const saved = await loadKv<SavedAdapter | null>('adapter');
  if (!saved?.prefix) return null;
  const blobs = await loadBlobs(saved.prefix);
  return { saved, files: Object.fromEntries([...blobs].map(([key, b]) => [key.slice(saved.prefix.length), b])) };
}

export const createAdapterSlice: StateCreator<AppState, [], [], AdapterSlice> = (set, get) => {
  const idle: AdapterState = { status: 'idle', source: null, info: null, error: null };
  /**
   * Reads `source` in the worker; saves it (unless restoring), then shows it. `mine`: the seq
   * taken when the pick began; any later pick, removal or restore makes this one give way.
   */
  const read = async (mine: number, source: AdapterSource, save_: boolean, before: AdapterState, failed: (message: string) => string) => {
    const current = () => mine === seq;
    let info: AdapterInfo;
    try {
      info = await engine().inspectAdapter(source);
    } catch (e) {
      // a refused folder leaves the adapter in use (if any) as it was
      if (current()) set({ adapter: { ...before, status: 'error', error: failed((e as Error).message) } });
      return;
    }
    if (!current()) return;
    const modelRef = get().model.ref;
    if (save_ && modelRef) {
      try {
        await save(source, modelRef, current);
      } catch (e) {
        if (e instanceof Stale || !current()) return;
        // the browser's storage said no (quota, private browsing): the adapter is used, not kept
        set({ adapter: { status: 'ready', source, info, error: `The adapter ${source.name} could not be saved in this browser's storage (${(e as Error).message}): it is used until the page is reloaded, then the adapter saved before (if any) comes back. Free some storage and import it again to keep it.` } });
        return;
      }
    }
    if (current()) set({ adapter: { status: 'ready', source, info, error: null } });
  };
  return {
    adapter: idle,
    async loadAdapter(files) {
      if (!files.length) return;
      const mine = ++seq;
      const before = get().adapter;
      if (get().model.status !== 'ready') {
        set({ adapter: { ...before, status: 'error', error: 'Load a model first: the adapter is checked against it.' } });
        return;
      }
      let picked: ReturnType<typeof adapterFolderFiles>;
      try {
        picked = adapterFolderFiles(files);
      } catch (e) {
        set({ adapter: { ...before, status: 'error', error: `The adapter folder was refused: ${(e as Error).message}` } });
        return;
      }
      const name = picked.name ?? LOOSE_FILES;
      set({ adapter: { ...before, status: 'loading', error: null } });
      await read(mine, { name, files: picked.files }, true, before, (m) => `${picked.name === null ? 'The adapter files were' : `The adapter folder ${name} was`} refused: ${m}`);
    },
    async removeAdapter() {
      ++seq;
      set({ adapter: idle });
      await queue(async () => {
        await saveKv('adapter', null).catch(() => undefined);
        await deleteBlobs('adapter/').catch(() => undefined);
      });
    },
    async recheckAdapter() {
      const { source } = get().adapter;
      if (!source) return;
      const mine = ++seq;
      const before = get().adapter;
      set({ adapter: { ...before, status: 'loading', error: null } });
      try {
        const info = await engine().inspectAdapter(source);
        if (mine === seq) set({ adapter: { status: 'ready', source, info, error: null } });
      } catch (e) {
        if (mine !== seq) return;
        // removeAdapter takes a new seq and shows idle at once; the reason goes up in the same tick,
        // before its files are deleted, so a pick made meanwhile is never overwritten
        const removal = get().removeAdapter();
        set({ adapter: { ...idle, status: 'error', error: `The imported adapter ${source.name} no longer fits the model and was removed: ${(e as Error).message}` } });
        await removal;
      }
    },
    async restoreAdapter() {
      // 'loading' from the start: a Start, a pick or an export meanwhile sees the restore under way
      const mine = ++seq;
      // what shows when nothing is restored: the adapter in use as it was, but never 'loading' (a
      // folder pick under way when this began gives way to it: its save goes stale, nothing ends it)
      const current = get().adapter;
      const before: AdapterState = current.status === 'loading' ? { ...current, status: current.info ? 'ready' : 'idle' } : current;
      set({ adapter: { ...before, status: 'loading', error: null } });
      const found = await loadSaved().catch(() => null);
      if (mine !== seq) return;
      const model = get().model;
      if (!found) return set({ adapter: before });
      const { saved, files } = found;
      // the model did not come back (an error): the adapter stays saved for when it does
      if (model.status !== 'ready' || !model.ref) return set({ adapter: before });
      // another model is ready (a Hub model no longer cached gave way to the default one): the
      // adapter goes (the comparison is ./model.ts sameModel's, written out: that module needs the build's assets)
      if (JSON.stringify(saved.modelRef) !== JSON.stringify(model.ref)) return get().removeAdapter();
      await read(mine, { name: saved.name, files }, false, before, (m) => `The imported adapter ${saved.name} could not be restored: ${m}`);
    },
  };
};

/** A loose pick's name (no folder to name it after). */
const LOOSE_FILES = 'adapter files';
