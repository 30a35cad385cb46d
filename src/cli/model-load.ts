// --model DIR|builtin for the commands that run the model: the checkpoint folder (docs/export.md)
// on the GPU, plus its tokenizer. `builtin` is the folder shipped under public/models/builtin.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCheckpointDir } from '../model/checkpoint-node';
import type { LoadedCheckpoint, LoadOptions } from '../model/checkpoint';
import { UsageError } from './command';

export function builtinModelDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'public', 'models', 'builtin');
    if (existsSync(join(candidate, 'config.json'))) return candidate;
    dir = resolve(dir, '..');
  }
  throw new UsageError('the built-in model (public/models/builtin) is not in this checkout: pass --model DIR (create one with `npm run cli -- init`)');
}

/** `opts.limits`: the GPU's, when the caller already has a device (else the documented cap applies). */
export async function loadModelArg(model: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint & { dir: string }> {
  const dir = model === 'builtin' ? builtinModelDir() : model;
  if (!existsSync(dir)) throw new UsageError(`--model ${model}: no such folder`);
  try {
    return { ...(await readCheckpointDir(dir, opts)), dir };
  } catch (e) {
    throw new UsageError(`--model ${model}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}
