// Which files of a Hub model repository make a PrefPlay model folder: config.json, the safetensors
// weights (one file, or the index and every shard it names), and the tokenizer and generation
// files that exist. Pure.
import { HubError } from './errors';

export const CONFIG_FILE = 'config.json';
export const WEIGHTS_FILE = 'model.safetensors';
export const WEIGHTS_INDEX_FILE = 'model.safetensors.index.json';
/** Taken when the repository has them. */
export const OPTIONAL_FILES = [
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'chat_template.jinja',
  'vocab.json',
  'merges.txt',
  'generation_config.json',
] as const;

/** A file of the repository; `size` in bytes when the listing gives it, `blobId` its content's git id. */
export interface HubFile {
  path: string;
  size: number | null;
  blobId?: string;
}

/** The files to fetch, from the repository's listing; shards come later, from the index (shardsOf). */
export function selectFiles(listing: readonly HubFile[], label: string): { files: HubFile[]; index: HubFile | null } {
  const byName = new Map(listing.map((f) => [f.path, f]));
  const config = byName.get(CONFIG_FILE);
  if (!config) throw new HubError('unsupported', `${label}: the repository has no config.json (files: ${listSample(listing)})`);
  const files: HubFile[] = [config];
  const weights = byName.get(WEIGHTS_FILE);
  const index = weights ? null : (byName.get(WEIGHTS_INDEX_FILE) ?? null);
  if (weights) files.push(weights);
  else if (index) files.push(index);
  else {
    const other = listing.filter((f) => /\.(bin|pt|pth|h5|msgpack|gguf|onnx|safetensors)$/.test(f.path)).map((f) => f.path);
    throw new HubError('unsupported', `${label}: no model.safetensors or model.safetensors.index.json at the top of the repository (PrefPlay reads safetensors weights only${other.length ? `; it has ${other.slice(0, 4).join(', ')}` : ''})`);
  }
  for (const name of OPTIONAL_FILES) {
    const f = byName.get(name);
    if (f) files.push(f);
  }
  return { files, index };
}

/**
 * The shard files model.safetensors.index.json's weight_map names, in first-use order. Names are
 * plain file names in the repository's top folder (anything else is refused: they become paths).
 */
export function shardsOf(indexBytes: Uint8Array, label: string): string[] {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(indexBytes));
  } catch (e) {
    throw new HubError('unsupported', `${label}: ${WEIGHTS_INDEX_FILE} is not JSON (${(e as Error).message.split('\n')[0]})`, null, { cause: e });
  }
  const wm = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) throw new HubError('unsupported', `${label}: ${WEIGHTS_INDEX_FILE} has no "weight_map" object`);
  const shards: string[] = [];
  for (const [tensor, shard] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof shard !== 'string' || !/^[^/\\]+$/.test(shard) || shard === '.' || shard === '..' || shard === WEIGHTS_INDEX_FILE || shard === CONFIG_FILE) {
      throw new HubError('unsupported', `${label}: ${WEIGHTS_INDEX_FILE}: weight_map["${tensor.slice(0, 80)}"] = ${JSON.stringify(shard)?.slice(0, 80)} is not a shard file name in the repository's top folder`);
    }
    if (!shards.includes(shard)) shards.push(shard);
  }
  if (!shards.length) throw new HubError('unsupported', `${label}: ${WEIGHTS_INDEX_FILE}: weight_map is empty`);
  return shards;
}

function listSample(listing: readonly HubFile[]): string {
  if (!listing.length) return 'none';
  const names = listing.slice(0, 6).map((f) => f.path);
  return names.join(', ') + (listing.length > 6 ? `, … ${listing.length} in all` : '');
}
