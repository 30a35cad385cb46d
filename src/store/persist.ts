// Page state in IndexedDB (README.md): settings, the data file, the model's files, the last
// comparison with its metrics and the runs history (./history.ts). Saves are debounced; failures are reported, never fatal.
import { openAppDb } from '../worker/db';

export async function saveKv(key: string, value: unknown): Promise<void> {
  await (await openAppDb()).put('kv', value, key);
}

export async function loadKv<T>(key: string): Promise<T | undefined> {
  return (await (await openAppDb()).get('kv', key)) as T | undefined;
}

export async function saveBlob(key: string, blob: Blob): Promise<void> {
  await (await openAppDb()).put('blobs', blob, key);
}

export async function loadBlob(key: string): Promise<Blob | undefined> {
  return (await openAppDb()).get('blobs', key);
}

/** Every blob whose key starts with `prefix`, by key. */
export async function loadBlobs(prefix: string): Promise<Map<string, Blob>> {
  const db = await openAppDb();
  const out = new Map<string, Blob>();
  for (const key of await db.getAllKeys('blobs')) {
    if (key.startsWith(prefix)) out.set(key, (await db.get('blobs', key))!);
  }
  return out;
}

export async function deleteBlobs(prefix: string): Promise<void> {
  const db = await openAppDb();
  for (const key of await db.getAllKeys('blobs')) if (key.startsWith(prefix)) await db.delete('blobs', key);
}

const timers = new Map<string, ReturnType<typeof setTimeout>>();
let pending = 0;

/** The number of saves scheduled or under way, also shown as `<html data-pending-saves>` so that
 * a test (or a curious user) can tell when a reload will find the latest state. */
function setPending(delta: number): void {
  pending += delta;
  if (typeof document !== 'undefined') document.documentElement.dataset.pendingSaves = String(pending);
}

/** Saves `value()` under `key` at most once per `ms`, the latest value winning. */
export function saveSoon(key: string, value: () => unknown, ms = 500): void {
  if (timers.has(key)) return;
  setPending(1);
  timers.set(
    key,
    setTimeout(() => {
      timers.delete(key);
      saveKv(key, value())
        .catch((e: unknown) => console.warn(`could not save ${key} to IndexedDB: ${(e as Error).message}`))
        .finally(() => setPending(-1));
    }, ms),
  );
}
