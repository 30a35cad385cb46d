// `generate`: continue a prompt with the model exported to ONNX and run by onnxruntime-web (its
// wasm backend in Node): temperature, top-k and a seed; greedy at temperature 0 (README.md).
import type { Command } from '../command';
import { intOption, numberOption, requireString, UsageError } from '../command';
import { loadModelArg } from '../model-load';
import { exportModelOnnx, generationConfig } from '../../onnx/export';
import { createNodeOnnxLm } from '../../onnx/session-node';
import { generate as generateText, SAMPLING_DEFAULTS, validateSampling, type SamplingOptions } from '../../onnx/generate';

export const generate: Command = {
  name: 'generate',
  summary: 'Continue a prompt with a model (ONNX export run by onnxruntime-web): temperature, top-k and a seed; stops at end-of-text.',
  options: {
    model: { type: 'string', valueName: 'DIR|builtin', description: 'Model folder (GPT-2, Llama, Qwen2 or Mistral), or builtin' },
    prompt: { type: 'string', valueName: 'TEXT', description: "Text to continue (empty: start from the tokenizer's BOS, GPT-2's <|endoftext|>)" },
    'max-new-tokens': { type: 'string', valueName: 'N', description: 'Tokens to generate at most', default: String(SAMPLING_DEFAULTS.maxNewTokens) },
    temperature: { type: 'string', valueName: 'T', description: 'Softmax temperature; 0 is greedy (argmax)', default: String(SAMPLING_DEFAULTS.temperature) },
    'top-k': { type: 'string', valueName: 'K', description: 'Sample among the K most likely tokens; 0 = all', default: String(SAMPLING_DEFAULTS.topK) },
    seed: { type: 'string', valueName: 'S', description: 'Sampling seed; the same seed gives the same text', default: String(SAMPLING_DEFAULTS.seed) },
    json: { type: 'boolean', description: 'Print one JSON object {prompt, text, ids, stop} instead of the text' },
  },
  details: ['Example: npm run cli -- generate --model builtin --prompt "The capital of France is" --temperature 0'],
  async run(opts) {
    const model = requireString(opts, 'model');
    if (typeof opts.prompt !== 'string') throw new UsageError('missing required option --prompt');
    const sampling: SamplingOptions = {
      maxNewTokens: intOption(opts, 'max-new-tokens', SAMPLING_DEFAULTS.maxNewTokens, 0),
      temperature: numberOption(opts, 'temperature', SAMPLING_DEFAULTS.temperature),
      topK: intOption(opts, 'top-k', SAMPLING_DEFAULTS.topK, 0),
      seed: intOption(opts, 'seed', SAMPLING_DEFAULTS.seed, 0),
    };
    try {
      validateSampling(sampling);
    } catch (e) {
      throw new UsageError((e as Error).message, { cause: e });
    }
    const ckpt = await loadModelArg(model);
    const gen = generationConfig(ckpt.config);
    const lm = await createNodeOnnxLm(exportModelOnnx(ckpt.config, ckpt.params), gen);
    try {
      const g = await generateText(lm, ckpt.tokenizer, opts.prompt, { ...sampling, stopIds: gen.stopIds });
      if (opts.json) console.log(JSON.stringify({ prompt: g.prompt, text: g.text, ids: g.ids, stop: g.stop }));
      else console.log(g.prompt + g.text);
    } finally {
      await lm.release();
    }
  },
};
