// Small model folders for the Hub stand-in (tests/helpers/hub-server.ts): a single-file GPT-2
// (preset tiny) and a sharded Llama (preset llama-tiny, model.safetensors.index.json + shards),
// both with the byte-level tokenizer's files. Random weights from a seed.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { presetConfig } from '../../src/model/config';
import { initParams } from '../../src/model/init';
import { saveCheckpoint } from '../../src/model/checkpoint';
import { initLlamaParams, llamaPresetConfig } from '../../src/model/llama-config';
import { saveLlamaCheckpoint } from '../../src/model/llama-checkpoint';

function write(dir: string, files: ReadonlyMap<string, Uint8Array>, extra: Record<string, string> = {}): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text);
  return dir;
}

/** GPT-2 tiny, one model.safetensors, plus a README and a .gitattributes as a Hub repository has. */
export function writeGptFolder(dir: string, seed = 1): string {
  const config = presetConfig('tiny');
  return write(dir, saveCheckpoint(config, initParams(config, seed), 'byte'), { 'README.md': '# tiny\n', '.gitattributes': '*.safetensors filter=lfs\n' });
}

/** llama-tiny with its weights in shards of at most `maxShardBytes` (several shards by default). */
export function writeShardedLlamaFolder(dir: string, seed = 2, maxShardBytes = 40_000): string {
  const config = llamaPresetConfig('llama-tiny');
  const files = saveLlamaCheckpoint(config, initLlamaParams(config, seed), 'byte', { maxShardBytes });
  return write(dir, files, { 'generation_config.json': JSON.stringify({ bos_token_id: 256, eos_token_id: 256 }) + '\n' });
}
