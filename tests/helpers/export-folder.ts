// A folder inside an export's files (the page's TRL export: model/, reward_model/), read back as a checkpoint.
import { loadCheckpoint } from '../../src/model/checkpoint';

/** The folder under `prefix` of an export, as a checkpoint (config and weights). */
export function exportedFolder(files: ReadonlyMap<string, Uint8Array | string>, prefix: string) {
  const inside = new Map([...files].filter(([k]) => k.startsWith(`${prefix}/`)).map(([k, v]) => [k.slice(prefix.length + 1), typeof v === 'string' ? new TextEncoder().encode(v) : v]));
  return loadCheckpoint(async (name) => inside.get(name) ?? null);
}
