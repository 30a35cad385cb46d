// Starting weights for a comparison, on the host: the built-in model fetched from the page's own
// origin, a seeded fresh initialisation, or a Hugging Face folder the user picked (GPT-2, or
// Llama/Qwen2/Mistral: config.json's model_type decides).
import { loadCheckpoint, readerFromFiles, type ReadFile } from '../model/checkpoint';
import type { ParamLimits } from '../model/config';
import { isLlamaConfigJson, type LoadedModel } from '../model/family-checkpoint';
import { loadLlamaCheckpoint } from '../model/llama-checkpoint';
import { freshModel, modelSummary } from '../model/presets';
import { ByteTokenizer } from '../tokenizer/byte';
import type { ModelInfo, ModelSource } from './protocol';

/**
 * Files a model folder may hold that the loaders read, plus any `*.safetensors` (the shards a
 * model.safetensors.index.json names); anything else in a picked folder is ignored.
 */
export const MODEL_FILE_NAMES = [
  'config.json',
  'model.safetensors',
  'model.safetensors.index.json',
  'tokenizer.json',
  'vocab.json',
  'merges.txt',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
];

/** `limits`: the engine's device limits when it has a device (a folder must fit them), else null. */
export async function loadModelSource(src: ModelSource, limits: ParamLimits | null = null): Promise<{ ckpt: LoadedModel; info: ModelInfo }> {
  let ckpt: LoadedModel;
  let name: string;
  if (src.kind === 'fresh') {
    ckpt = { ...freshModel(src.preset, src.seed), tokenizer: new ByteTokenizer() } as LoadedModel;
    name = `fresh ${src.preset} (random init, seed ${src.seed})`;
  } else if (src.kind === 'builtin') {
    ckpt = await loadFolder(originReader(src.baseUrl, src.files), limits);
    name = 'built-in';
  } else {
    ckpt = await loadFolder(readerFromFiles(folderFiles(src.files)), limits);
    name = src.name;
  }
  const t = ckpt.tokenizer;
  const info: ModelInfo = {
    name,
    kind: src.kind,
    config: ckpt.config,
    ...modelSummary(ckpt.config),
    tokenizer: {
      kind: t.kind,
      vocabSize: t.vocabSize,
      description: t.kind === 'byte' ? `byte-level: one token per UTF-8 byte plus <|endoftext|> (${t.vocabSize} tokens)` : `Hugging Face BPE (${ckpt.tokenizerFiles.tokenizerJson ? 'tokenizer.json' : 'vocab.json + merges.txt'}, ${t.vocabSize.toLocaleString('en')} tokens)`,
    },
    ...(t.kind === 'hf' ? { tokenizerFiles: { ...ckpt.tokenizerFiles } as Record<string, string> } : {}),
  };
  return { ckpt, info };
}

/** A folder of either family: config.json's model_type picks the loader. */
async function loadFolder(read: ReadFile, limits: ParamLimits | null): Promise<LoadedModel> {
  const config = await read('config.json');
  return config && isLlamaConfigJson(config) ? loadLlamaCheckpoint(read, { limits }) : loadCheckpoint(read, { limits });
}

/** Same-origin files only: names not in the build's list are absent (no request, no 404). */
function originReader(baseUrl: string, files: readonly string[]): ReadFile {
  if (new URL(baseUrl).origin !== self.location.origin) throw new Error(`the built-in model must come from this page's origin, not ${baseUrl}`);
  return async (name) => {
    if (!files.includes(name)) return null;
    const res = await fetch(new URL(name, baseUrl));
    if (!res.ok) throw new Error(`built-in model: ${name}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

const isModelFile = (name: string) => MODEL_FILE_NAMES.includes(name) || name.endsWith('.safetensors');

/**
 * The model files of a picked folder: known names only, and for a name found at several depths
 * (a folder with an onnx/ subfolder) the shallowest one.
 */
export function folderFiles(files: readonly File[]): File[] {
  const best = new Map<string, File>();
  const depth = (f: File) => (f.webkitRelativePath || f.name).split('/').length;
  for (const f of files) {
    if (!isModelFile(f.name)) continue;
    const prev = best.get(f.name);
    if (prev && depth(prev) === depth(f)) throw new Error(`two files are named "${f.name}" at the same depth of the folder; pick one model folder`);
    if (!prev || depth(f) < depth(prev)) best.set(f.name, f);
  }
  if (!best.size) throw new Error(`no model files found: expected config.json, model.safetensors and a tokenizer (got ${files.length} file${files.length === 1 ? '' : 's'})`);
  return [...best.values()];
}
