// The app's IndexedDB (idb), shared by the page (settings, data, runs) and the engine worker
// (checkpoints, SPEC §9). Values are structured clones: Maps, typed arrays and Blobs as they are.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { TrainerState } from '../train/trainer';
import type { GPTConfig } from '../model/config';

export interface StoredCheckpoint {
  /** `${sessionId}/${runId}` */
  key: string;
  sessionId: string;
  runId: string;
  step: number;
  config: GPTConfig;
  params: Map<string, Float32Array>;
  moments: { m: Map<string, Float32Array>; v: Map<string, Float32Array> } | null;
  state: TrainerState;
  /** The run's metrics rows up to `step`: the page's own copy is saved on a timer and may lag. */
  rows?: Record<string, number>[];
  savedAt: number;
}

interface PrefPlayDB extends DBSchema {
  /** Page state by name: settings, data and model references, the last session and its runs. */
  kv: { key: string; value: unknown };
  /** Uploaded files by key ('data', 'model/<file name>'). */
  blobs: { key: string; value: Blob };
  checkpoints: { key: string; value: StoredCheckpoint };
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

export const checkpointKey = (sessionId: string, runId: string) => `${sessionId}/${runId}`;

export async function saveCheckpoint(c: StoredCheckpoint): Promise<void> {
  await (await openAppDb()).put('checkpoints', c, c.key);
}

export async function loadCheckpoint(sessionId: string, runId: string): Promise<StoredCheckpoint | undefined> {
  return (await openAppDb()).get('checkpoints', checkpointKey(sessionId, runId));
}

/** Drops every checkpoint not of this session (one comparison is kept). */
export async function pruneCheckpoints(keepSessionId: string): Promise<void> {
  const d = await openAppDb();
  for (const key of await d.getAllKeys('checkpoints')) {
    if (!key.startsWith(`${keepSessionId}/`)) await d.delete('checkpoints', key);
  }
}
