// `init`: a randomly initialised model folder (docs/export.md layout) from a named preset.
import type { Command } from '../command';
import { intOption, requireString, UsageError } from '../command';
import { BYTE_VOCAB, MODEL_PRESETS, paramCount, presetConfig } from '../../model/config';
import { initParams } from '../../model/init';
import { saveCheckpoint } from '../../model/checkpoint';
import { writeCheckpointDir } from '../../model/checkpoint-node';

export const init: Command = {
  name: 'init',
  summary: 'Write a randomly initialised GPT-2 model folder (config.json, model.safetensors, tokenizer) from a preset.',
  options: {
    preset: { type: 'string', valueName: 'NAME', description: `Model size: ${Object.keys(MODEL_PRESETS).join(', ')}` },
    seed: { type: 'string', valueName: 'N', description: 'Random seed; the same seed gives the same weights', default: '0' },
    out: { type: 'string', valueName: 'DIR', description: 'Folder to write (created if missing; its model files are overwritten)' },
  },
  details: [
    'Example: npm run cli -- init --preset tiny --seed 1 --out models/tiny',
    'Byte-level presets (tiny, builtin) get the built-in byte tokenizer; gpt2 gets no tokenizer files:',
    'copy tokenizer.json (or vocab.json + merges.txt) from a GPT-2 checkpoint into the folder.',
  ],
  async run(opts) {
    const name = requireString(opts, 'preset');
    if (!Object.hasOwn(MODEL_PRESETS, name)) throw new UsageError(`unknown preset "${name}" (presets: ${Object.keys(MODEL_PRESETS).join(', ')})`);
    const seed = intOption(opts, 'seed', 0, 0);
    if (seed > 0xffffffff) throw new UsageError(`--seed must be an integer from 0 to 4294967295, got "${String(opts.seed)}"`);
    const out = requireString(opts, 'out');
    const config = presetConfig(name);
    const params = initParams(config, seed);
    const byte = config.vocabSize === BYTE_VOCAB;
    const files = saveCheckpoint(config, params, byte ? 'byte' : null);
    try {
      await writeCheckpointDir(out, files);
    } catch (e) {
      throw new UsageError(`--out ${out}: ${(e as Error).message.split('\n')[0]}`);
    }
    const n = paramCount(config);
    console.log(`Initialised ${name} (${n.toLocaleString('en-US')} parameters, seed ${seed}) in ${out}${byte ? '' : ' — no tokenizer files written: add tokenizer.json'}`);
  },
};
