// The family-neutral ONNX entry points (src/onnx/export.ts): exportModelOnnx picks GPT-2's or the
// Llama family's graph from the config; generationConfig reads vocabulary, context, padding and
// stop ids of either family (a list of eos ids included); generate() stops at any stop id; and the
// TRL script names the starting model's family.
import { describe, it, expect } from 'vitest';
import { presetConfig } from '../../src/model/config';
import { initParams } from '../../src/model/init';
import { initLlamaParams, llamaPresetConfig } from '../../src/model/llama-config';
import { exportModelOnnx, generationConfig, onnxParamCount } from '../../src/onnx/export';
import { exportGpt2Onnx } from '../../src/onnx/gpt2';
import { exportLlamaOnnx } from '../../src/onnx/llama';
import { generate, validateSampling, type LogitsModel } from '../../src/onnx/generate';
import type { BatchLogits } from '../../src/onnx/session';
import { ByteTokenizer } from '../../src/tokenizer/byte';
import { trlReadme, trlScript, type TrlRun } from '../../src/export/trl-script';
import { TRAIN_DEFAULTS } from '../../src/train/config';

describe('exportModelOnnx / generationConfig', () => {
  it('picks the family from the config: the same bytes as the family exporter', () => {
    const count = (params: Map<string, Float32Array>) => [...params.values()].reduce((s, p) => s + p.length, 0);
    const gpt = presetConfig('tiny');
    const gptParams = initParams(gpt, 3);
    expect(new Uint8Array(exportModelOnnx(gpt, gptParams, { metadata: { k: 'v' } }))).toEqual(new Uint8Array(exportGpt2Onnx(gpt, gptParams, { metadata: { k: 'v' } })));
    expect(onnxParamCount(gpt)).toBe(count(gptParams));
    for (const preset of ['llama-tiny', 'qwen-tiny']) {
      const config = llamaPresetConfig(preset);
      const params = initLlamaParams(config, 3);
      expect(new Uint8Array(exportModelOnnx(config, params, { metadata: { k: 'v' } })), preset).toEqual(new Uint8Array(exportLlamaOnnx(config, params, { metadata: { k: 'v' } })));
      expect(onnxParamCount(config), preset).toBe(count(params));
    }
  });

  it('vocabulary, context, padding and stop ids of either family', () => {
    expect(generationConfig(presetConfig('tiny'))).toEqual({ vocabSize: 257, nPositions: presetConfig('tiny').nPositions, padId: 256, stopIds: [256] });
    const llama = llamaPresetConfig('llama-tiny');
    expect(generationConfig(llama)).toEqual({ vocabSize: 257, nPositions: 64, padId: 256, stopIds: [256] });
    // Llama 3 / Qwen2.5-instruct style: several eos ids, the first pads; no bos
    expect(generationConfig({ ...llama, bosTokenId: null, eosTokenId: [7, 9] })).toMatchObject({ padId: 7, stopIds: [7, 9] });
    expect(generationConfig({ ...llama, bosTokenId: 5, eosTokenId: null })).toMatchObject({ padId: 5, stopIds: [] });
  });
});

describe('generate with stop ids', () => {
  // greedy picks (context length mod 5) + 65: 'A', 'B', ... so the stop id is reached on a known step
  const model: LogitsModel = {
    vocabSize: 257,
    nPositions: 64,
    async logits(seqs): Promise<BatchLogits> {
      const T = seqs[0].length;
      const logits = new Float32Array(T * 257);
      logits[(T - 1) * 257 + 65 + (T % 5)] = 10;
      return { B: 1, T, V: 257, lengths: [T], logits };
    },
  };
  const tok = new ByteTokenizer();

  it('stops at the tokenizer eos or any stop id, which is not part of the text', async () => {
    const opts = { maxNewTokens: 10, temperature: 0, topK: 0, seed: 0 };
    const free = await generate(model, tok, 'xy', opts);
    expect(free.text).toBe('CDEABCDEAB');
    expect(free.stop).toBe('length');
    const stopped = await generate(model, tok, 'xy', { ...opts, stopIds: [69] });
    expect(stopped).toMatchObject({ text: 'CD', stop: 'eos' });
    expect(() => validateSampling({ ...opts, stopIds: [-1] })).toThrow(/stopIds must be token ids/);
  });
});

describe('TRL script: the starting model\'s family', () => {
  const run = (modelType?: string): TrlRun => ({ config: { ...TRAIN_DEFAULTS, objective: { method: 'dpo' } }, maxLength: 64, maxPromptLength: 32, modelType });

  it('names the model_type, its transformers class and a Hub checkpoint of the family', () => {
    expect(trlScript(run())).toContain('# Starting model: model (model_type gpt2, GPT2LMHeadModel)');
    expect(trlScript(run())).toContain('a Hub id such as "gpt2"');
    expect(trlScript(run('qwen2'))).toContain('# Starting model: model (model_type qwen2, Qwen2ForCausalLM)');
    expect(trlScript(run('qwen2'))).toContain('a Hub id such as "Qwen/Qwen2.5-0.5B"');
    expect(trlReadme(run('llama'))).toContain('a larger Llama-family checkpoint (e.g. "HuggingFaceTB/SmolLM2-135M")');
    expect(trlReadme(run('mistral'))).toContain('(mistral, MistralForCausalLM; from_pretrained loads it)');
    expect(() => trlScript(run('gemma'))).toThrow(/unknown model_type "gemma"/);
  });
});
