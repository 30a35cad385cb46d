// --model DIR|builtin for the commands that run the model: the checkpoint folder (docs/export.md)
// on the GPU, plus its tokenizer. `builtin` is the folder shipped under public/models/builtin.
// config.json's model_type picks the family: llama, qwen2 and mistral folders load through
// llama-checkpoint-node (train and logps take them), anything else as GPT-2.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCheckpointDir } from '../model/checkpoint-node';
import { readLlamaCheckpointDir } from '../model/llama-checkpoint-node';
import type { LoadedCheckpoint, LoadOptions } from '../model/checkpoint';
import { isLlamaConfigJson, type LoadedModel } from '../model/family-checkpoint';
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

function modelDir(model: string): string {
  const dir = model === 'builtin' ? builtinModelDir() : model;
  if (!existsSync(dir)) throw new UsageError(`--model ${model}: no such folder`);
  return dir;
}

/** Whether the folder's config.json names a Llama-family model_type. */
async function isLlamaDir(dir: string): Promise<boolean> {
  const bytes = await readFile(join(dir, 'config.json')).catch(() => null);
  return bytes !== null && isLlamaConfigJson(new Uint8Array(bytes));
}

/**
 * A model folder of either family (config.json's model_type decides). `opts.limits`: the GPU's,
 * when the caller already has a device (else the documented cap applies).
 */
export async function loadModelArg(model: string, opts: LoadOptions = {}): Promise<LoadedModel & { dir: string }> {
  const dir = modelDir(model);
  try {
    return { ...(await ((await isLlamaDir(dir)) ? readLlamaCheckpointDir(dir, opts) : readCheckpointDir(dir, opts))), dir };
  } catch (e) {
    throw new UsageError(`--model ${model}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}

/** A GPT-2 model folder, for the commands that run GPT-2 only; a Llama-family folder is refused in one line. */
export async function loadGptModelArg(model: string, opts: LoadOptions = {}): Promise<LoadedCheckpoint & { dir: string }> {
  const dir = modelDir(model);
  if (await isLlamaDir(dir)) throw new UsageError(`--model ${model}: a Llama-family model (config.json model_type llama, qwen2 or mistral); this command runs GPT-2 models only (train and logps take Llama-family folders)`);
  try {
    return { ...(await readCheckpointDir(dir, opts)), dir };
  } catch (e) {
    throw new UsageError(`--model ${model}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}
