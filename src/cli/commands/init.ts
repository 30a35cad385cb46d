// `init`: a randomly initialised model folder (docs/export.md layout) from a named preset: a GPT-2
// one (MODEL_PRESETS) or a Llama-family one (LLAMA_PRESETS, Hugging Face's initialisation).
import type { Command } from '../command';
import { intOption, requireString, UsageError } from '../command';
import { BYTE_VOCAB, MODEL_PRESETS, paramCount, presetConfig } from '../../model/config';
import { initParams } from '../../model/init';
import { saveCheckpoint } from '../../model/checkpoint';
import { writeCheckpointDir } from '../../model/checkpoint-node';
import { initLlamaParams, LLAMA_PRESETS, llamaParamCount, llamaPresetConfig } from '../../model/llama-config';
import { saveLlamaCheckpoint } from '../../model/llama-checkpoint';
import { rewardConfig } from '../../model/reward';

const PRESET_NAMES = [...Object.keys(MODEL_PRESETS), ...Object.keys(LLAMA_PRESETS)];

export const init: Command = {
  name: 'init',
  summary: 'Write a randomly initialised model folder (config.json, model.safetensors, tokenizer) from a GPT-2 or Llama-family preset.',
  options: {
    preset: { type: 'string', valueName: 'NAME', description: `Model size: ${PRESET_NAMES.join(', ')}` },
    seed: { type: 'string', valueName: 'N', description: 'Random seed; the same seed gives the same weights', default: '0' },
    'reward-head': { type: 'boolean', description: 'A reward model instead of a causal LM: GPT2ForSequenceClassification or LlamaForSequenceClassification (Qwen2…, Mistral…) with num_labels 1, score.weight [1, C] in place of the LM head, pad_token_id = end-of-text' },
    out: { type: 'string', valueName: 'DIR', description: 'Folder to write (created if missing; its model files are overwritten)' },
  },
  details: [
    'Example: npm run cli -- init --preset tiny --seed 1 --out models/tiny',
    'With --reward-head the folder is a reward model that `score` reads and `train --method reward` trains.',
    'Byte-level presets (tiny, builtin) get the built-in byte tokenizer; gpt2 gets no tokenizer files:',
    'copy tokenizer.json (or vocab.json + merges.txt) from a GPT-2 checkpoint into the folder.',
    'llama-tiny (Llama, grouped-query attention, tied head) and qwen-tiny (Qwen2, q/k/v biases, untied head) are',
    'byte-level Llama-family folders that every command takes.',
    'smollm2-135m (134.5 M parameters, 0.54 GB) and qwen2.5-0.5b (494 M, 1.98 GB) have the real models\' shapes',
    'with random weights and no tokenizer files (for bench and memory plans); to fine-tune the real ones, pass',
    'their Hugging Face folder to --model instead.',
  ],
  async run(opts) {
    const name = requireString(opts, 'preset');
    if (!PRESET_NAMES.includes(name)) throw new UsageError(`unknown preset "${name}" (presets: ${PRESET_NAMES.join(', ')})`);
    const seed = intOption(opts, 'seed', 0, 0);
    if (seed > 0xffffffff) throw new UsageError(`--seed must be an integer from 0 to 4294967295, got "${String(opts.seed)}"`);
    const out = requireString(opts, 'out');
    const llama = Object.hasOwn(LLAMA_PRESETS, name);
    let files: Map<string, Uint8Array>, n: number, byte: boolean;
    const reward = opts['reward-head'] === true;
    if (llama) {
      const config = reward ? rewardConfig(llamaPresetConfig(name)) : llamaPresetConfig(name);
      byte = config.vocabSize === BYTE_VOCAB;
      files = saveLlamaCheckpoint(config, initLlamaParams(config, seed), byte ? 'byte' : null);
      n = llamaParamCount(config);
    } else {
      const config = reward ? rewardConfig(presetConfig(name)) : presetConfig(name);
      byte = config.vocabSize === BYTE_VOCAB;
      files = saveCheckpoint(config, initParams(config, seed), byte ? 'byte' : null);
      n = paramCount(config);
    }
    try {
      await writeCheckpointDir(out, files);
    } catch (e) {
      throw new UsageError(`--out ${out}: ${(e as Error).message.split('\n')[0]}`);
    }
    console.log(`Initialised ${name}${reward ? ' reward model' : ''} (${n.toLocaleString('en-US')} parameters, seed ${seed}) in ${out}${byte ? '' : ' — no tokenizer files written: add tokenizer.json'}`);
  },
};
