// Model folders on the Node file system (CLI, tests); the browser passes File objects to
// ./checkpoint.ts instead.
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCheckpoint, type LoadedCheckpoint, type LoadOptions } from './checkpoint';

export async function readCheckpointDir(dir: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint> {
  const s = await stat(dir).catch(() => null);
  if (!s) throw new Error(`model folder "${dir}" does not exist`);
  if (!s.isDirectory()) throw new Error(`model path "${dir}" is a file; expected a folder with config.json and model.safetensors`);
  try {
    return await loadCheckpoint(async (name) => {
      try {
        return new Uint8Array(await readFile(join(dir, name)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    }, opts);
  } catch (e) {
    throw new Error(`model folder "${dir}": ${(e as Error).message}`, { cause: e });
  }
}

/** Creates the folder if needed and writes (overwrites) each file. */
export async function writeCheckpointDir(dir: string, files: ReadonlyMap<string, Uint8Array>): Promise<void> {
  const s = await stat(dir).catch(() => null);
  if (s && !s.isDirectory()) throw new Error(`"${dir}" exists and is not a folder`);
  await mkdir(dir, { recursive: true });
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
}
