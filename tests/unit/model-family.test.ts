// The model-family seam: which config is which family, what batches read of it, and AdamW's
// decay rule per family (Linear and Embedding weights only, as Hugging Face's Trainer and TRL).
import { describe, it, expect } from 'vitest';
import { isLlamaConfig, sequenceConfig, activationsDtypeProblem } from '../../src/model/family';
import { isLlamaConfigJson } from '../../src/model/family-checkpoint';
import { gptDecays, paramSpec, presetConfig } from '../../src/model/config';
import { llamaDecays, llamaParamSpec, llamaPresetConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';

describe('model families', () => {
  it('tells the families apart and reads the sequence fields of each', () => {
    const gpt = presetConfig('tiny');
    const llama = llamaPresetConfig('llama-tiny');
    expect(isLlamaConfig(gpt)).toBe(false);
    expect(isLlamaConfig(llama)).toBe(true);
    expect(sequenceConfig(gpt)).toEqual({ vocabSize: 257, nPositions: 64, bosTokenId: 256, eosTokenId: 256 });
    expect(sequenceConfig(llama)).toEqual({ vocabSize: 257, nPositions: 64, bosTokenId: 256, eosTokenId: 256 });
    // Qwen2 without bos starts an empty prompt with eos; several eos ids: the first pads
    const qwen: LlamaFamilyConfig = { ...llamaPresetConfig('qwen-tiny'), bosTokenId: null, eosTokenId: [7, 9] };
    expect(sequenceConfig(qwen)).toMatchObject({ bosTokenId: 7, eosTokenId: 7 });
  });

  it('takes f32 and f16 activations in both families', () => {
    expect(activationsDtypeProblem(presetConfig('tiny'), 'f16')).toBeNull();
    expect(activationsDtypeProblem(llamaPresetConfig('qwen-tiny'), 'f32')).toBeNull();
    expect(activationsDtypeProblem(llamaPresetConfig('qwen-tiny'), 'f16')).toBeNull();
  });

  it('decays exactly the Linear and Embedding weights: no biases, no LayerNorm or RMSNorm gains', () => {
    for (const s of paramSpec(presetConfig('tiny'))) expect(gptDecays(s.name), s.name).toBe(s.shape.length === 2);
    const withBiases: LlamaFamilyConfig = { ...llamaPresetConfig('llama-tiny'), attentionBias: true, tieWordEmbeddings: false };
    for (const c of [llamaPresetConfig('llama-tiny'), llamaPresetConfig('qwen-tiny'), withBiases]) {
      for (const s of llamaParamSpec(c)) expect(llamaDecays(s.name), s.name).toBe(s.shape.length === 2);
    }
  });

  it('recognises a Llama-family config.json by model_type', () => {
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    for (const t of ['llama', 'qwen2', 'mistral']) expect(isLlamaConfigJson(enc({ model_type: t }))).toBe(true);
    expect(isLlamaConfigJson(enc({ model_type: 'gpt2' }))).toBe(false);
    expect(isLlamaConfigJson(new TextEncoder().encode('{nope'))).toBe(false);
  });
});
