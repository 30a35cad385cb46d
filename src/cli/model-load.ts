// --model DIR|builtin for the commands that run the model: the checkpoint folder (docs/export.md)
// on the GPU, plus its tokenizer. `builtin` is the folder shipped under public/models/builtin.
// config.json's model_type picks the family: llama, qwen2 and mistral folders load through
// llama-checkpoint-node, anything else as GPT-2; every command that runs a model takes both.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCheckpointDir } from '../model/checkpoint-node';
import { readLlamaCheckpointDir } from '../model/llama-checkpoint-node';
import type { LoadOptions } from '../model/checkpoint';
import { isLlamaConfigJson, type LoadedModel } from '../model/family-checkpoint';
import { UsageError } from './command';
import { hubModelDir } from './hub-model';
import { isHubId } from '../hub/id';

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
  if (!existsSync(dir)) throw new UsageError(`--model ${model}: no such folder${/^[\w.-]+\/[\w.-]+(@\S+)?$/.test(model) ? ` (for a model on the Hugging Face Hub, write hf:${model})` : ''}`);
  return dir;
}

/**
 * The folder a model argument names: DIR, builtin, or hf:ORG/NAME[@REVISION] — the Hub model's
 * snapshot folder in the Hugging Face cache, downloaded first when needed (./hub-model.ts).
 */
export async function resolveModelDir(model: string): Promise<string> {
  return isHubId(model) ? hubModelDir(model) : modelDir(model);
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
  const dir = await resolveModelDir(model);
  try {
    return { ...(await ((await isLlamaDir(dir)) ? readLlamaCheckpointDir(dir, opts) : readCheckpointDir(dir, opts))), dir };
  } catch (e) {
    throw new UsageError(`--model ${model}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}
