// The Llama-family config (src/model/llama-config.ts): its parameter table equals the float64
// reference's (src/reference/llama.ts) for every family and switch; closed-form counts and
// arena bytes equal the table's; config.json round trips, transformers' defaults and the
// RoPE forms of transformers 4 and 5; every refusal, with its exact one-line message; presets
// and the seeded Hugging Face-style init.
import { describe, it, expect } from 'vitest';
import {
  checkLlamaParamBytes, initLlamaParams, llamaConfigFromHF, llamaConfigToHF, llamaParamArenaBytes, llamaParamCount, llamaParamSpec, llamaPresetConfig,
  llamaRefConfig, LLAMA_PRESETS, validateLlamaConfig, type LlamaFamilyConfig,
} from '../../src/model/llama-config';
import { llamaParamSpec as refParamSpec } from '../../src/reference/llama';
import { layoutArena } from '../../src/engine/arena';

const LLAMA_TINY = llamaPresetConfig('llama-tiny');
const QWEN_TINY = llamaPresetConfig('qwen-tiny');

/** Variants covering every family and switch (head_dim ≠ C/NH, G = 1, 2, 3, 4, biases, tied/untied). */
const VARIANTS: Array<[string, LlamaFamilyConfig]> = [
  ['llama-tiny', LLAMA_TINY],
  ['qwen-tiny', QWEN_TINY],
  ['llama attention_bias untied', { ...LLAMA_TINY, attentionBias: true, tieWordEmbeddings: false, numKeyValueHeads: 4 }],
  ['llama head_dim 6 ≠ C/NH, G=3', { ...LLAMA_TINY, hiddenSize: 20, numAttentionHeads: 6, numKeyValueHeads: 2, headDim: 6, intermediateSize: 30 }],
  ['qwen2 tied, one layer', { ...QWEN_TINY, tieWordEmbeddings: true, numHiddenLayers: 1 }],
  ['mistral', { ...LLAMA_TINY, family: 'mistral', numKeyValueHeads: 1, tieWordEmbeddings: false }],
];

/** Hugging Face config.json of SmolLM2-135M (the fields that matter). */
const SMOLLM2_135M = {
  architectures: ['LlamaForCausalLM'], model_type: 'llama', vocab_size: 49152, hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
  num_attention_heads: 9, num_key_value_heads: 3, head_dim: 64, hidden_act: 'silu', max_position_embeddings: 8192, rms_norm_eps: 1e-5,
  rope_theta: 100000, rope_scaling: null, tie_word_embeddings: true, attention_bias: false, mlp_bias: false, pretraining_tp: 1,
  bos_token_id: 0, eos_token_id: 0, initializer_range: 0.041666666666666664, torch_dtype: 'bfloat16', transformers_version: '4.42.3', use_cache: true,
};
/** Hugging Face config.json of Qwen2.5-0.5B. */
const QWEN25_05B = {
  architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', vocab_size: 151936, hidden_size: 896, intermediate_size: 4864, num_hidden_layers: 24,
  num_attention_heads: 14, num_key_value_heads: 2, hidden_act: 'silu', max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000,
  sliding_window: 32768, use_sliding_window: false, max_window_layers: 24, tie_word_embeddings: true, attention_dropout: 0.0,
  bos_token_id: 151643, eos_token_id: 151643, torch_dtype: 'bfloat16', use_cache: true,
};

const hf = (over: Record<string, unknown> = {}, base: Record<string, unknown> = llamaConfigToHF(LLAMA_TINY)): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...base, ...over };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete out[k];
  return out;
};

describe('llamaParamSpec', () => {
  for (const [what, cfg] of VARIANTS) {
    it(`equals the float64 reference's table: ${what}`, () => {
      validateLlamaConfig(cfg);
      expect(llamaParamSpec(cfg)).toEqual(refParamSpec(llamaRefConfig(cfg)));
    });
    it(`closed-form count and arena bytes equal the table's: ${what}`, () => {
      const specs = llamaParamSpec(cfg);
      expect(llamaParamCount(cfg)).toBe(specs.reduce((a, s) => a + s.shape.reduce((x, d) => x * d, 1), 0));
      for (const align of [4, 16, 256]) expect(llamaParamArenaBytes(cfg, align)).toBe(layoutArena(specs, align).bytes);
    });
  }

  it('names the families\' biases: qwen2 q/k/v only, llama attention_bias q/k/v/o, mistral none', () => {
    const biases = (c: LlamaFamilyConfig) => llamaParamSpec(c).filter((s) => s.name.endsWith('.bias') && s.name.startsWith('model.layers.0.')).map((s) => s.name.split('.')[4]);
    expect(biases(QWEN_TINY)).toEqual(['q_proj', 'k_proj', 'v_proj']);
    expect(biases({ ...LLAMA_TINY, attentionBias: true })).toEqual(['q_proj', 'k_proj', 'v_proj', 'o_proj']);
    expect(biases(LLAMA_TINY)).toEqual([]);
    expect(biases({ ...LLAMA_TINY, family: 'mistral' })).toEqual([]);
  });

  it('counts real models exactly (SmolLM2-135M 134,515,008; Qwen2.5-0.5B 494,032,768)', () => {
    expect(llamaParamCount(llamaConfigFromHF(SMOLLM2_135M))).toBe(134_515_008);
    expect(llamaParamCount(llamaConfigFromHF(QWEN25_05B))).toBe(494_032_768);
  });

  it('bounds the table it builds', () => {
    expect(() => llamaParamSpec({ ...LLAMA_TINY, numHiddenLayers: 1e9 })).toThrow('config: num_hidden_layers = 1000000000 must be an integer from 0 to 1024');
  });
});

describe('llamaConfigFromHF / llamaConfigToHF', () => {
  for (const [what, cfg] of VARIANTS) {
    it(`round trips config -> config.json -> config: ${what}`, () => {
      const json = JSON.parse(JSON.stringify(llamaConfigToHF(cfg))) as Record<string, unknown>;
      expect(llamaConfigFromHF(json)).toEqual(cfg);
      expect(llamaConfigToHF(llamaConfigFromHF(json))).toEqual(json);
    });
  }

  it('writes what transformers reads for each family', () => {
    expect(llamaConfigToHF(LLAMA_TINY)).toMatchObject({ architectures: ['LlamaForCausalLM'], model_type: 'llama', torch_dtype: 'float32', attention_bias: false, mlp_bias: false, head_dim: 8, num_key_value_heads: 2, tie_word_embeddings: true, rope_scaling: null });
    expect(llamaConfigToHF(QWEN_TINY)).toMatchObject({ architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', torch_dtype: 'float32', use_sliding_window: false, sliding_window: null, tie_word_embeddings: false });
    expect(llamaConfigToHF({ ...LLAMA_TINY, family: 'mistral' })).toMatchObject({ architectures: ['MistralForCausalLM'], model_type: 'mistral', sliding_window: null });
    expect(llamaConfigToHF(QWEN_TINY)).not.toHaveProperty('attention_bias');
  });

  it('reads Hugging Face files (SmolLM2-135M, Qwen2.5-0.5B) and writes back the same model', () => {
    const smol = llamaConfigFromHF(SMOLLM2_135M);
    expect(smol).toEqual({
      family: 'llama', vocabSize: 49152, hiddenSize: 576, intermediateSize: 1536, numHiddenLayers: 30, numAttentionHeads: 9, numKeyValueHeads: 3, headDim: 64,
      rmsNormEps: 1e-5, ropeTheta: 100000, maxPositionEmbeddings: 8192, tieWordEmbeddings: true, attentionBias: false, bosTokenId: 0, eosTokenId: 0, padTokenId: null, torchDtype: 'bfloat16',
    });
    const qwen = llamaConfigFromHF(QWEN25_05B);
    expect(qwen).toMatchObject({ family: 'qwen2', headDim: 64, numKeyValueHeads: 2, ropeTheta: 1e6, tieWordEmbeddings: true, attentionBias: false, torchDtype: 'bfloat16' });
    for (const c of [smol, qwen]) expect(llamaConfigFromHF(llamaConfigToHF(c))).toEqual({ ...c, torchDtype: 'float32' });
  });

  it('fills in transformers\' defaults per family', () => {
    const bare = { vocab_size: 300, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 2, num_attention_heads: 4 };
    const llama = llamaConfigFromHF({ model_type: 'llama', ...bare });
    expect(llama).toEqual({
      family: 'llama', ...{ vocabSize: 300, hiddenSize: 32, intermediateSize: 64, numHiddenLayers: 2, numAttentionHeads: 4 }, numKeyValueHeads: 4, headDim: 8,
      rmsNormEps: 1e-6, ropeTheta: 10000, maxPositionEmbeddings: 2048, tieWordEmbeddings: false, attentionBias: false, bosTokenId: 1, eosTokenId: 2, padTokenId: null, torchDtype: null,
    });
    // MistralConfig's num_key_value_heads defaults to 8, Qwen2Config's to 32; null means the head count
    expect(llamaConfigFromHF({ model_type: 'mistral', ...bare, num_attention_heads: 8, sliding_window: null })).toMatchObject({ numKeyValueHeads: 8, maxPositionEmbeddings: 131072, bosTokenId: 1, eosTokenId: 2 });
    expect(llamaConfigFromHF({ model_type: 'qwen2', ...bare, num_attention_heads: 32, hidden_size: 1024 })).toMatchObject({ numKeyValueHeads: 32, headDim: 32, maxPositionEmbeddings: 32768, bosTokenId: null, eosTokenId: null });
    expect(llamaConfigFromHF({ model_type: 'qwen2', ...bare, num_key_value_heads: null })).toMatchObject({ numKeyValueHeads: 4 });
    expect(llamaConfigFromHF({ model_type: 'llama', ...bare, head_dim: null })).toMatchObject({ headDim: 8 });
  });

  it('accepts what is the same computation: rope_parameters "default" (transformers 5), dtype, windows no shorter than the context, eos lists, negative pad', () => {
    expect(llamaConfigFromHF(hf({ rope_theta: undefined, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }))).toMatchObject({ ropeTheta: 5e5 });
    expect(llamaConfigFromHF(hf({ rope_theta: 5e5, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }))).toMatchObject({ ropeTheta: 5e5 });
    expect(llamaConfigFromHF(hf({ torch_dtype: undefined, dtype: 'bfloat16' }))).toMatchObject({ torchDtype: 'bfloat16' });
    const mistral = llamaConfigToHF({ ...LLAMA_TINY, family: 'mistral' });
    expect(llamaConfigFromHF(hf({ sliding_window: 64 }, mistral)).family).toBe('mistral');
    expect(llamaConfigFromHF(hf({ sliding_window: 4096 }, mistral)).family).toBe('mistral');
    const qwen = llamaConfigToHF(QWEN_TINY);
    expect(llamaConfigFromHF(hf({ use_sliding_window: false, sliding_window: 4 }, qwen)).family).toBe('qwen2');
    // use_sliding_window with every layer below max_window_layers: full attention everywhere
    expect(llamaConfigFromHF(hf({ use_sliding_window: true, sliding_window: 4, max_window_layers: 2 }, qwen)).family).toBe('qwen2');
    // sliding_window is not a Llama option: LlamaConfig ignores it
    expect(llamaConfigFromHF(hf({ sliding_window: 4 })).family).toBe('llama');
    expect(llamaConfigFromHF(hf({ eos_token_id: [1, 2, 256] }))).toMatchObject({ eosTokenId: [1, 2, 256] });
    expect(llamaConfigFromHF(hf({ pad_token_id: -1 }))).toMatchObject({ padTokenId: -1 });
    // transformers' Qwen2 and Mistral attention fix their biases whatever attention_bias says
    expect(llamaConfigFromHF(hf({ attention_bias: true }, qwen))).toMatchObject({ attentionBias: false });
  });

  const refusals: Array<[string, Record<string, unknown>, string]> = [
    ['no model_type', hf({ model_type: undefined }), 'config.json: field "model_type" is missing (expected "llama", "qwen2", "mistral")'],
    ['gpt2', hf({ model_type: 'gpt2' }), 'config.json: model_type "gpt2" is not a Llama-family model (only "llama", "qwen2", "mistral")'],
    ['quantized', hf({ quantization_config: { quant_method: 'gptq' } }), 'config.json: quantization_config is present: quantized checkpoints are not supported (only F32, F16 and BF16 weights)'],
    ['gelu', hf({ hidden_act: 'gelu' }), 'config.json: hidden_act "gelu" is not supported (only "silu")'],
    ['rope_scaling', hf({ rope_scaling: { rope_type: 'llama3', factor: 32 } }), 'config.json: rope_scaling {"rope_type":"llama3","factor":32} is not supported (scaled RoPE changes the rotary frequencies; only plain RoPE, rope_scaling null)'],
    ['rope_parameters linear', hf({ rope_parameters: { rope_type: 'linear', factor: 2, rope_theta: 10000 } }), 'config.json: rope_parameters {"rope_type":"linear","factor":2,"rope_theta":10000} is not supported (scaled or partial RoPE changes the rotary frequencies; only rope_type "default" with rope_theta)'],
    ['rope_theta disagreement', hf({ rope_theta: 10000, rope_parameters: { rope_type: 'default', rope_theta: 5e5 } }), 'config.json: rope_theta = 10000 and rope_parameters.rope_theta = 500000 disagree'],
    ['mlp_bias', hf({ mlp_bias: true }), 'config.json: mlp_bias true is not supported (only false: the MLP projections have no biases)'],
    ['mistral window', hf({ sliding_window: 16 }, llamaConfigToHF({ ...LLAMA_TINY, family: 'mistral' })), 'config.json: sliding_window = 16 is less than max_position_embeddings (64): sliding-window attention is not supported (a window of at least max_position_embeddings, or null, is plain causal attention)'],
    ['mistral default window', hf({ sliding_window: undefined, max_position_embeddings: 32768 }, llamaConfigToHF({ ...LLAMA_TINY, family: 'mistral' })), 'config.json: sliding_window = 4096 is less than max_position_embeddings (32768): sliding-window attention is not supported (a window of at least max_position_embeddings, or null, is plain causal attention)'],
    ['qwen2 window', hf({ use_sliding_window: true, sliding_window: 16, max_window_layers: 1 }, llamaConfigToHF(QWEN_TINY)), 'config.json: sliding_window = 16 is less than max_position_embeddings (64): sliding-window attention is not supported (a window of at least max_position_embeddings, or null, is plain causal attention)'],
    ['qwen2 layer_types', hf({ use_sliding_window: true, sliding_window: 16, layer_types: ['full_attention', 'sliding_attention'] }, llamaConfigToHF(QWEN_TINY)), 'config.json: sliding_window = 16 is less than max_position_embeddings (64): sliding-window attention is not supported (a window of at least max_position_embeddings, or null, is plain causal attention)'],
    ['missing size', hf({ intermediate_size: undefined }), 'config.json: field "intermediate_size" is missing'],
    ['string size', hf({ hidden_size: '32' }), 'config.json: field "hidden_size" must be a number, got "32"'],
    ['tie not boolean', hf({ tie_word_embeddings: 1 }), 'config.json: field "tie_word_embeddings" must be true or false, got 1'],
    ['bos not an id', hf({ bos_token_id: 'x' }), 'config.json: field "bos_token_id" must be a token id or null, got "x"'],
    ['heads do not divide', hf({ head_dim: undefined, num_attention_heads: 3, num_key_value_heads: 3 }), 'config.json: num_attention_heads = 3 must divide hidden_size (32) when head_dim is absent'],
    ['zero layers', hf({ num_hidden_layers: 0 }), 'config.json: num_hidden_layers = 0 must be a positive integer'],
    ['fractional vocab', hf({ vocab_size: 257.5 }), 'config.json: vocab_size = 257.5 must be a positive integer'],
    ['vocab limit', hf({ vocab_size: 2 ** 20 + 1 }), 'config.json: vocab_size = 1048577 is more than 1,048,576, the largest PrefPlay supports'],
    ['hidden limit', hf({ hidden_size: 2 ** 14 + 2 }), 'config.json: hidden_size = 16386 is more than 16,384, the largest PrefPlay supports'],
    ['intermediate limit', hf({ intermediate_size: 2 ** 16 + 1 }), 'config.json: intermediate_size = 65537 is more than 65,536, the largest PrefPlay supports'],
    ['layer limit', hf({ num_hidden_layers: 1025 }), 'config.json: num_hidden_layers = 1025 is more than 1,024, the largest PrefPlay supports'],
    ['position limit', hf({ max_position_embeddings: 2 ** 18 + 1 }), 'config.json: max_position_embeddings = 262145 is more than 262,144, the largest PrefPlay supports'],
    ['head_dim limit', hf({ head_dim: 256 }), 'config.json: head_dim = 256 is more than 128 (the attention kernels\' limit; SmolLM2 and Qwen2.5 use 64 and 128)'],
    ['odd head_dim', hf({ head_dim: 7 }), 'config.json: head_dim = 7 must be even (rotary embeddings rotate the two halves of a head)'],
    ['attention width', hf({ num_attention_heads: 256, num_key_value_heads: 2, head_dim: 128 }), 'config.json: num_attention_heads = 256 times head_dim (128) is 32,768, more than 16,384, the largest attention width PrefPlay supports'],
    ['GQA ratio', hf({ num_key_value_heads: 3 }), 'config.json: num_key_value_heads = 3 must divide num_attention_heads (4): query head h reads key/value head h // (num_attention_heads / num_key_value_heads)'],
    ['more kv heads', hf({ num_key_value_heads: 8 }), 'config.json: num_key_value_heads = 8 must divide num_attention_heads (4): query head h reads key/value head h // (num_attention_heads / num_key_value_heads)'],
    ['eps zero', hf({ rms_norm_eps: 0 }), 'config.json: rms_norm_eps = 0 must be a finite number > 0'],
    ['eps subnormal', hf({ rms_norm_eps: 1e-40 }), 'config.json: rms_norm_eps = 1e-40 is below 1.175e-38, the smallest normal f32 (it would be 0 or subnormal on the GPU)'],
    ['eps large', hf({ rms_norm_eps: 2 }), 'config.json: rms_norm_eps = 2 is more than 1 (it is added to a mean square; these families use 1e-5 or 1e-6)'],
    ['theta', hf({ rope_theta: -1 }), 'config.json: rope_theta = -1 must be a finite number > 0'],
    ['theta f32', hf({ rope_theta: 1e39 }), 'config.json: rope_theta = 1e+39 is not representable in f32 (it rounds to Infinity there; transformers computes inv_freq in f32)'],
    ['bos outside', hf({ bos_token_id: 257 }), 'config.json: bos_token_id = 257 is outside the vocabulary [0, 257)'],
    ['eos list outside', hf({ eos_token_id: [1, 300] }), 'config.json: eos_token_id = [1,300] is outside the vocabulary [0, 257)'],
    ['eos list of strings', hf({ eos_token_id: ['a'] }), 'config.json: field "eos_token_id" must be a token id, a list of them, or null, got ["a"]'],
    ['pad outside', hf({ pad_token_id: 257 }), 'config.json: pad_token_id = 257 is outside the vocabulary [−257, 257) (nn.Embedding\'s padding_idx)'],
    ['too many parameters', hf({ vocab_size: 2 ** 20, hidden_size: 2 ** 14, num_attention_heads: 128, num_key_value_heads: 8, head_dim: 128, bos_token_id: 0, eos_token_id: 0 }),
      'config.json: vocab_size 1,048,576, hidden_size 16,384, intermediate_size 64 and num_hidden_layers 2 imply 18,327,093,248 parameters, 73,308,372,992 bytes as f32, more than 68,719,476,736 bytes, PrefPlay\'s cap (64 GiB of f32 parameters: training holds four times that, more than any single GPU)'],
    // bound whole by one matmul: the stacked gate|up projection must fit one storage binding
    ['a projection larger than a binding', hf({ hidden_size: 2 ** 14, intermediate_size: 2 ** 16, num_attention_heads: 128, num_key_value_heads: 8, head_dim: 128 }),
      'config.json: intermediate_size 65,536 and hidden_size 16,384 make model.layers.0.mlp.gate_proj|up_proj.weight (stacked) [131,072, 16,384] 8,589,934,592 bytes as f32, more than 4,294,967,292 bytes, the largest storage binding with no GPU known (4 GiB − 4; a kernel binds this tensor whole)'],
  ];
  for (const [what, json, message] of refusals) {
    it(`refuses ${what} in one line`, () => {
      let err: Error | null = null;
      try {
        llamaConfigFromHF(json);
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).toBe(message);
      expect(message).not.toContain('\n');
    });
  }

  it('checks the tensors bound whole against a device\'s limits (the arenas and the embedding split)', () => {
    const limits = { maxBufferSize: 1 << 20, maxStorageBufferBindingSize: 1 << 30 };
    expect(() => checkLlamaParamBytes(LLAMA_TINY, limits)).not.toThrow();
    // a 2.6 MB model on a 1 MiB device: arenas of several buffers, the embedding split by rows
    expect(() => checkLlamaParamBytes({ ...LLAMA_TINY, vocabSize: 20000 }, limits)).not.toThrow();
    expect(() => checkLlamaParamBytes(LLAMA_TINY, { maxBufferSize: 1 << 13, maxStorageBufferBindingSize: 1 << 30 })).toThrow(
      'config: intermediate_size 64 and hidden_size 32 make model.layers.0.mlp.gate_proj|up_proj.weight (stacked) [128, 32] 16,384 bytes as f32, more than 8,192 bytes, this GPU\'s limit (maxBufferSize 8192, maxStorageBufferBindingSize 1073741824; a kernel binds this tensor whole)',
    );
    // SmolLM2-135M and Qwen2.5-0.5B (an f32 embedding of 544 MB) fit 128 MiB bindings
    for (const name of ['smollm2-135m', 'qwen2.5-0.5b']) expect(() => checkLlamaParamBytes(llamaPresetConfig(name), { maxBufferSize: 2 ** 27, maxStorageBufferBindingSize: 2 ** 27 })).not.toThrow();
  });
});

describe('presets and initLlamaParams', () => {
  it('has llama-tiny (GQA 4/2, head_dim 8, tied) and qwen-tiny (q/k/v biases, NKV 1, untied)', () => {
    expect(LLAMA_TINY).toMatchObject({ family: 'llama', numAttentionHeads: 4, numKeyValueHeads: 2, headDim: 8, tieWordEmbeddings: true });
    expect(QWEN_TINY).toMatchObject({ family: 'qwen2', numKeyValueHeads: 1, tieWordEmbeddings: false });
    for (const name of Object.keys(LLAMA_PRESETS)) validateLlamaConfig(llamaPresetConfig(name));
    expect(() => llamaPresetConfig('gpt2')).toThrow('unknown preset "gpt2" (Llama-family presets: llama-tiny, qwen-tiny, smollm2-135m, qwen2.5-0.5b)');
  });

  it('has SmolLM2-135M and Qwen2.5-0.5B shaped presets with the real models\' parameter counts', () => {
    // counts as transformers reports them (sum of numel over named parameters, tied head counted once)
    const smol = llamaPresetConfig('smollm2-135m');
    const qwen = llamaPresetConfig('qwen2.5-0.5b');
    expect(llamaParamCount(smol)).toBe(134_515_008);
    expect(llamaParamCount(qwen)).toBe(494_032_768);
    for (const c of [smol, qwen]) expect(llamaParamSpec(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0)).toBe(llamaParamCount(c));
    expect(smol).toMatchObject({ family: 'llama', numKeyValueHeads: 3, headDim: 64, ropeTheta: 100000, rmsNormEps: 1e-5, maxPositionEmbeddings: 8192, tieWordEmbeddings: true, bosTokenId: 1, eosTokenId: 2 });
    expect(qwen).toMatchObject({ family: 'qwen2', numKeyValueHeads: 2, headDim: 64, ropeTheta: 1e6, rmsNormEps: 1e-6, maxPositionEmbeddings: 32768, tieWordEmbeddings: true, bosTokenId: 151643, eosTokenId: 151645 });
    // config.json round trip, and within the no-GPU parameter cap
    for (const c of [smol, qwen]) {
      expect(llamaConfigFromHF(llamaConfigToHF(c))).toEqual(c);
      expect(() => checkLlamaParamBytes(c, null)).not.toThrow();
    }
  });

  it('is reproducible from the seed and differs between seeds', () => {
    const a = initLlamaParams(QWEN_TINY, 7);
    const b = initLlamaParams(QWEN_TINY, 7);
    const c = initLlamaParams(QWEN_TINY, 8);
    for (const [name, v] of a) expect(Array.from(b.get(name)!), name).toEqual(Array.from(v));
    expect(Array.from(c.get('model.embed_tokens.weight')!)).not.toEqual(Array.from(a.get('model.embed_tokens.weight')!));
  });

  it('follows Hugging Face: N(0, 0.02) linear and embedding weights, unit RMSNorm weights, zero biases, zero padding row', () => {
    for (const cfg of [LLAMA_TINY, QWEN_TINY]) {
      const p = initLlamaParams(cfg, 3);
      expect([...p.keys()]).toEqual(llamaParamSpec(cfg).map((s) => s.name));
      const drawn: number[] = [];
      for (const [name, v] of p) {
        if (/norm\.weight$/.test(name)) expect(v.every((x) => x === 1), name).toBe(true);
        else if (name.endsWith('.bias')) expect(v.every((x) => x === 0), name).toBe(true);
        else drawn.push(...v);
      }
      const mean = drawn.reduce((a, b) => a + b, 0) / drawn.length;
      const sd = Math.sqrt(drawn.reduce((a, b) => a + (b - mean) ** 2, 0) / drawn.length);
      expect(Math.abs(mean)).toBeLessThan(0.001);
      expect(sd).toBeGreaterThan(0.0195);
      expect(sd).toBeLessThan(0.0205);
    }
    const padded = initLlamaParams({ ...LLAMA_TINY, padTokenId: -1 }, 3).get('model.embed_tokens.weight')!;
    const C = LLAMA_TINY.hiddenSize;
    expect(padded.subarray(256 * C).every((x) => x === 0)).toBe(true);
    expect(padded.subarray(255 * C, 256 * C).some((x) => x !== 0)).toBe(true);
  });
});
