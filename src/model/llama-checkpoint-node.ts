// Llama-family model folders on the Node file system (CLI, tests); the browser passes File
// objects to ./llama-checkpoint.ts instead (readerFromFiles in ./checkpoint.ts).
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadLlamaCheckpoint, loadLlamaWeights, type LlamaLoadOptions, type LoadedLlamaCheckpoint, type LoadedLlamaWeights, type ReadFile } from './llama-checkpoint';

export { writeCheckpointDir } from './checkpoint-node';

async function inFolder<T>(dir: string, load: (read: ReadFile) => Promise<T>): Promise<T> {
  const s = await stat(dir).catch(() => null);
  if (!s) throw new Error(`model folder "${dir}" does not exist`);
  if (!s.isDirectory()) throw new Error(`model path "${dir}" is a file; expected a folder with config.json and model.safetensors`);
  try {
    return await load(async (name) => {
      try {
        return new Uint8Array(await readFile(join(dir, name)));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw e;
      }
    });
  } catch (e) {
    throw new Error(`model folder "${dir}": ${(e as Error).message}`, { cause: e });
  }
}

/** config.json and the weights (one file or sharded), no tokenizer needed. */
export async function readLlamaWeightsDir(dir: string, opts: LlamaLoadOptions = {}): Promise<LoadedLlamaWeights> {
  return inFolder(dir, (read) => loadLlamaWeights(read, opts));
}

/** The whole folder: config.json, weights and tokenizer. */
export async function readLlamaCheckpointDir(dir: string, opts: LlamaLoadOptions = {}): Promise<LoadedLlamaCheckpoint> {
  return inFolder(dir, (read) => loadLlamaCheckpoint(read, opts));
}
