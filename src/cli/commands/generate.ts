// `generate`: continue a prompt on the GPU with the engine's key/value-cached decode (default,
// src/cli/gpu-generate.ts: temperature, top-k, top-p, seeded, the sampler RL rollouts use), or with
// the model exported to ONNX and run by onnxruntime-web (its wasm backend in Node; `--engine onnx`,
// the independent check: temperature, top-k, seed); greedy at temperature 0 (README.md).
import type { Command } from '../command';
import { intOption, numberOption, requireString, UsageError } from '../command';
import { LORA_ADAPTER_OPTION, loadModelWithAdapter } from '../lora-flags';
import { exportModelOnnx, generationConfig } from '../../onnx/export';
import { createNodeOnnxLm } from '../../onnx/session-node';
import { generate as generateText, SAMPLING_DEFAULTS, validateSampling, type SamplingOptions } from '../../onnx/generate';
import { generateOnGpuCli } from '../gpu-generate';

const ENGINES = ['gpu', 'onnx'] as const;

export const generate: Command = {
  name: 'generate',
  summary: 'Continue a prompt with a model (on the GPU with a key/value cache, or its ONNX export run by onnxruntime-web): temperature, top-k, top-p and a seed; stops at end-of-text.',
  options: {
    model: { type: 'string', valueName: 'DIR|builtin', description: 'Model folder (GPT-2, Llama, Qwen2 or Mistral), or builtin' },
    'lora-adapter': LORA_ADAPTER_OPTION,
    prompt: { type: 'string', valueName: 'TEXT', description: "Text to continue (empty: start from the tokenizer's BOS, GPT-2's <|endoftext|>)" },
    'max-new-tokens': { type: 'string', valueName: 'N', description: 'Tokens to generate at most', default: String(SAMPLING_DEFAULTS.maxNewTokens) },
    temperature: { type: 'string', valueName: 'T', description: 'Softmax temperature; 0 is greedy (argmax)', default: String(SAMPLING_DEFAULTS.temperature) },
    'top-k': { type: 'string', valueName: 'K', description: 'Sample among the K most likely tokens; 0 = all', default: String(SAMPLING_DEFAULTS.topK) },
    'top-p': { type: 'string', valueName: 'P', description: 'Sample among the most likely tokens holding mass P (after top-k); 1 = all (gpu engine only)', default: '1' },
    seed: { type: 'string', valueName: 'S', description: 'Sampling seed; the same seed gives the same text', default: String(SAMPLING_DEFAULTS.seed) },
    engine: { type: 'string', valueName: 'gpu|onnx', description: 'gpu: the WGSL engine with a key/value cache (what RL rollouts use); onnx: the ONNX export in onnxruntime-web, the independent check (the two samplers draw differently; greedy agrees)', default: 'gpu' },
    json: { type: 'boolean', description: 'Print one JSON object {prompt, text, ids, stop} instead of the text' },
  },
  details: ['Example: npm run cli -- generate --model builtin --prompt "The capital of France is" --temperature 0'],
  async run(opts) {
    requireString(opts, 'model');
    if (typeof opts.prompt !== 'string') throw new UsageError('missing required option --prompt');
    const sampling: SamplingOptions = {
      maxNewTokens: intOption(opts, 'max-new-tokens', SAMPLING_DEFAULTS.maxNewTokens, 0),
      temperature: numberOption(opts, 'temperature', SAMPLING_DEFAULTS.temperature),
      topK: intOption(opts, 'top-k', SAMPLING_DEFAULTS.topK, 0),
      seed: intOption(opts, 'seed', SAMPLING_DEFAULTS.seed, 0),
    };
    const engine = typeof opts.engine === 'string' ? opts.engine : 'gpu';
    if (!(ENGINES as readonly string[]).includes(engine)) throw new UsageError(`--engine must be ${ENGINES.join(' or ')}, got "${engine}"`);
    const topP = numberOption(opts, 'top-p', 1);
    try {
      validateSampling(sampling);
      if (!(topP >= 0 && topP <= 1)) throw new Error(`--top-p must be in [0, 1], got ${topP}`);
      if (engine === 'onnx' && topP !== 1) throw new Error('--top-p needs --engine gpu (the ONNX engine samples with temperature and top-k only)');
    } catch (e) {
      throw new UsageError((e as Error).message, { cause: e });
    }
    const ckpt = await loadModelWithAdapter(opts, 'lm');
    if (engine === 'gpu') {
      const g = await generateOnGpuCli(ckpt, opts.prompt, { ...sampling, topP });
      if (opts.json) console.log(JSON.stringify({ prompt: g.prompt, text: g.text, ids: g.ids, stop: g.stop }));
      else console.log(g.prompt + g.text);
      return;
    }
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
