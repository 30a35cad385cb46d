// The app's IndexedDB (idb), shared by the page (settings, data, runs) and the engine worker
// (each run's resume snapshot: weights, moments, trainer state, metric rows). Values are
// structured clones: Maps, typed arrays and Blobs as they are. The object store keeps its
// original name 'checkpoints' so data saved by earlier versions still loads.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ResumeSnapshot, SnapshotStore } from '../train/training-run';

/** A run's resume snapshot as stored: the snapshot, keyed by session and run. */
export interface StoredSnapshot extends ResumeSnapshot {
  /** `${sessionId}/${runId}` */
  key: string;
  sessionId: string;
  runId: string;
  savedAt: number;
}

interface PrefPlayDB extends DBSchema {
  /** Page state by name: settings, data and model references, the last session and its runs, the runs history ('history'). */
  kv: { key: string; value: unknown };
  /** Uploaded files by key ('data', 'model/<file name>'). */
  blobs: { key: string; value: Blob };
  /** Resume snapshots by snapshotKey (the store's name predates the rename). */
  checkpoints: { key: string; value: StoredSnapshot };
}

export const DB_NAME = 'prefplay';
const VERSION = 1;

let db: Promise<IDBPDatabase<PrefPlayDB>> | null = null;

export function openAppDb(): Promise<IDBPDatabase<PrefPlayDB>> {
  db ??= openDB<PrefPlayDB>(DB_NAME, VERSION, {
    upgrade(d) {
      d.createObjectStore('kv');
      d.createObjectStore('blobs');
      d.createObjectStore('checkpoints');
    },
  });
  return db;
}

export const snapshotKey = (sessionId: string, runId: string) => `${sessionId}/${runId}`;

export async function saveResumeSnapshot(c: StoredSnapshot): Promise<void> {
  await (await openAppDb()).put('checkpoints', c, c.key);
}

export async function loadResumeSnapshot(sessionId: string, runId: string): Promise<StoredSnapshot | undefined> {
  return (await openAppDb()).get('checkpoints', snapshotKey(sessionId, runId));
}

/** One run's snapshots in IndexedDB, as TrainingRun stores them. */
export function idbSnapshotStore(sessionId: string, runId: string): SnapshotStore {
  return {
    load: () => loadResumeSnapshot(sessionId, runId),
    save: (s) => saveResumeSnapshot({ ...s, key: snapshotKey(sessionId, runId), sessionId, runId, savedAt: Date.now() }),
  };
}

/** Drops every resume snapshot not of this session (one comparison is kept). */
export async function pruneResumeSnapshots(keepSessionId: string): Promise<void> {
  const d = await openAppDb();
  for (const key of await d.getAllKeys('checkpoints')) {
    if (!key.startsWith(`${keepSessionId}/`)) await d.delete('checkpoints', key);
  }
}
