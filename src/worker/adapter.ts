// An imported PEFT adapter folder on the page (README.md, "LoRA"): the Model tab's files, read by
// the very function the CLI's `--lora-adapter` uses (src/export/peft.ts loadPeftAdapter: config,
// every tensor's shape against the loaded model, target modules), plus the page's own refusals:
// the page trains and samples causal LMs, so a reward model's adapter (SEQ_CLS, its score head
// saved) or a loaded reward model is refused, as the CLI's logps/generate do. Pure TypeScript
// over Blobs: the worker and the Node tests run it alike.
import { loadPeftAdapter, type LoadedAdapter } from '../export/peft';
import type { ModelConfig } from '../model/family';
import { loraModules, type LoraConfig } from '../model/lora';
import { isRewardModel } from '../model/reward';
import { SCORE_WEIGHT } from '../model/score-config';
import { ADAPTER_FILES, type AdapterInfo, type AdapterSource } from './protocol';

/** `source`'s adapter for `config`'s model, or an Error naming what does not fit (one line). */
export async function readAdapter(source: AdapterSource, config: ModelConfig): Promise<LoadedAdapter> {
  if (isRewardModel(config)) throw new Error('the loaded model is a reward model (a score head, no LM head): load the causal LM the adapter was trained on');
  const read = async (name: string) => {
    const blob = source.files[name];
    return blob ? new Uint8Array(await blob.arrayBuffer()) : null;
  };
  let loaded: LoadedAdapter;
  try {
    loaded = await loadPeftAdapter(read, config);
  } catch (e) {
    throw new Error((e as Error).message.split('\n')[0], { cause: e });
  }
  if (loaded.adapters.has(SCORE_WEIGHT)) throw new Error("a reward model's adapter (task_type SEQ_CLS, its score head saved): the page continues a causal LM's adapter (task_type CAUSAL_LM)");
  return loaded;
}

/** What the Model tab shows of an adapter (`fingerprint`: adapterFingerprint's). */
export function adapterInfo(name: string, loaded: LoadedAdapter, fingerprint: Pick<AdapterInfo, 'bytes' | 'hash'>): AdapterInfo {
  let params = 0;
  for (const w of loaded.adapters.values()) params += w.length;
  return { name, r: loaded.lora.r, alpha: loaded.lora.alpha, targets: [...(loaded.lora.targets ?? [])], tensors: loaded.adapters.size, params, baseModel: loaded.baseModel, ...fingerprint };
}

/** Bytes hashed from each end and the middle of a large weights file (all of a smaller one). */
const HASH_SPAN = 64 * 1024;

/**
 * adapter_model.safetensors' size and a cheap hash of it (32-bit FNV-1a over the whole file up to
 * 3 × HASH_SPAN, else over HASH_SPAN bytes from its start, middle and end): two adapters with the
 * same config and shapes (two checkpoints of one run) tell apart by it (store/adapter.ts sameAdapter).
 */
export async function adapterFingerprint(source: AdapterSource): Promise<Pick<AdapterInfo, 'bytes' | 'hash'>> {
  const blob = source.files[ADAPTER_FILES[1]];
  if (!blob) return { bytes: 0, hash: '' };
  const K = HASH_SPAN;
  const mid = Math.floor(blob.size / 2);
  const parts = blob.size <= 3 * K ? [blob] : [blob.slice(0, K), blob.slice(mid - K / 2, mid + K / 2), blob.slice(blob.size - K)];
  let h = 0x811c9dc5;
  for (const part of parts) for (const b of new Uint8Array(await part.arrayBuffer())) h = Math.imul(h ^ b, 0x01000193);
  return { bytes: blob.size, hash: (h >>> 0).toString(16).padStart(8, '0') };
}

/**
 * Why LoRA settings cannot continue the adapter (the CLI's --lora-r / --lora-targets against
 * --lora-adapter): another rank, or other modules. lora_alpha may differ (the CLI's --lora-alpha
 * overrides the adapter's); the page sends the adapter's own.
 */
export function adapterLoraProblem(config: ModelConfig, lora: LoraConfig, imported: LoraConfig): string | null {
  if (lora.r !== imported.r) return `LoRA rank r ${lora.r} differs from the imported adapter's r ${imported.r}`;
  const mods = (l: LoraConfig) => loraModules(config, l).map((m) => m.module).sort().join(',');
  if (mods(lora) !== mods(imported)) return `LoRA target modules ${lora.targets?.join(', ') ?? 'all linear layers'} differ from the imported adapter's target_modules ${(imported.targets ?? []).join(', ')}`;
  return null;
}
