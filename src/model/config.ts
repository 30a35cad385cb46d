// GPT-2 configuration and the one parameter size table (docs/design.md). Names are Hugging Face
// GPT2LMHeadModel's without the `transformer.` prefix; the LM head is tied to wte.
// Dimensions: V vocab, P positions, C channels, L layers, NH heads, HS = C/NH head size.
import type { TensorSpec } from '../engine/arena';

export interface GPTConfig {
  vocabSize: number; // V
  nPositions: number; // P, the longest sequence
  nEmbd: number; // C
  nLayer: number; // L
  nHead: number; // NH
  layerNormEpsilon: number;
  bosTokenId: number;
  eosTokenId: number;
}

/** The built-in byte-level tokenizer: 256 byte tokens plus <|endoftext|> = 256. */
export const BYTE_VOCAB = 257;
export const BYTE_EOT = 256;

export const MODEL_PRESETS = {
  /** ≤ 100k parameters, for tests on software WebGPU. */
  tiny: { vocabSize: BYTE_VOCAB, nPositions: 64, nEmbd: 32, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5, bosTokenId: BYTE_EOT, eosTokenId: BYTE_EOT },
  /**
   * The built-in model's size: byte-level, ~125k parameters, 128 positions. Sized so that its
   * pretraining (`npm run pretrain`) fits ~35 minutes on software WebGPU (SwiftShader, 2 CPU
   * cores); a training step at batch 16 × 128 takes milliseconds on an integrated GPU.
   */
  builtin: { vocabSize: BYTE_VOCAB, nPositions: 128, nEmbd: 64, nLayer: 2, nHead: 4, layerNormEpsilon: 1e-5, bosTokenId: BYTE_EOT, eosTokenId: BYTE_EOT },
  /** GPT-2 small (124M) layout. */
  gpt2: { vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12, layerNormEpsilon: 1e-5, bosTokenId: 50256, eosTokenId: 50256 },
} satisfies Record<string, GPTConfig>;


export function presetConfig(name: string): GPTConfig {
  const p = (MODEL_PRESETS as Record<string, GPTConfig>)[name];
  if (!p) throw new Error(`unknown preset "${name}" (presets: ${Object.keys(MODEL_PRESETS).join(', ')})`);
  return { ...p };
}

export function validateConfig(c: GPTConfig): void {
  const ints: Array<keyof GPTConfig> = ['vocabSize', 'nPositions', 'nEmbd', 'nLayer', 'nHead'];
  for (const k of ints) {
    if (!Number.isInteger(c[k]) || (c[k] as number) <= 0) throw new Error(`config.${k} must be a positive integer, got ${c[k]}`);
  }
  if (c.nEmbd % c.nHead !== 0) throw new Error(`config.n_embd (${c.nEmbd}) must be divisible by n_head (${c.nHead})`);
  if (!(c.layerNormEpsilon > 0)) throw new Error(`config.layer_norm_epsilon must be > 0, got ${c.layerNormEpsilon}`);
  for (const k of ['bosTokenId', 'eosTokenId'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 0 || c[k] >= c.vocabSize) throw new Error(`config.${k} ${c[k]} is outside the vocabulary [0, ${c.vocabSize})`);
  }
}

/** Every parameter tensor with its shape, in Hugging Face order. Conv1D weights are (in, out). */
export function paramSpec(c: GPTConfig): TensorSpec[] {
  const { vocabSize: V, nPositions: P, nEmbd: C, nLayer: L } = c;
  const specs: TensorSpec[] = [
    { name: 'wte.weight', shape: [V, C] },
    { name: 'wpe.weight', shape: [P, C] },
  ];
  for (let i = 0; i < L; i++) {
    const h = `h.${i}`;
    specs.push(
      { name: `${h}.ln_1.weight`, shape: [C] },
      { name: `${h}.ln_1.bias`, shape: [C] },
      { name: `${h}.attn.c_attn.weight`, shape: [C, 3 * C] },
      { name: `${h}.attn.c_attn.bias`, shape: [3 * C] },
      { name: `${h}.attn.c_proj.weight`, shape: [C, C] },
      { name: `${h}.attn.c_proj.bias`, shape: [C] },
      { name: `${h}.ln_2.weight`, shape: [C] },
      { name: `${h}.ln_2.bias`, shape: [C] },
      { name: `${h}.mlp.c_fc.weight`, shape: [C, 4 * C] },
      { name: `${h}.mlp.c_fc.bias`, shape: [4 * C] },
      { name: `${h}.mlp.c_proj.weight`, shape: [4 * C, C] },
      { name: `${h}.mlp.c_proj.bias`, shape: [C] },
    );
  }
  specs.push({ name: 'ln_f.weight', shape: [C] }, { name: 'ln_f.bias', shape: [C] });
  return specs;
}

export function paramCount(c: GPTConfig): number {
  return paramSpec(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** config.json (Hugging Face names) -> GPTConfig, naming the field that is wrong. */
export function configFromHF(json: Record<string, unknown>): GPTConfig {
  if (json.model_type !== undefined && json.model_type !== 'gpt2') throw new Error(`config.json: model_type "${String(json.model_type)}" is not supported (only "gpt2")`);
  const act = json.activation_function;
  if (act !== undefined && act !== 'gelu_new') throw new Error(`config.json: activation_function "${String(act)}" is not supported (only "gelu_new")`);
  if (json.tie_word_embeddings === false) throw new Error('config.json: tie_word_embeddings=false is not supported (the LM head is tied to wte)');
  const num = (k: string, fallback?: number): number => {
    const v = json[k] ?? fallback;
    if (typeof v !== 'number') throw new Error(`config.json: field "${k}" must be a number, got ${JSON.stringify(json[k])}`);
    return v;
  };
  const cfg: GPTConfig = {
    vocabSize: num('vocab_size'),
    nPositions: num('n_positions', json.n_ctx as number | undefined),
    nEmbd: num('n_embd'),
    nLayer: num('n_layer'),
    nHead: num('n_head'),
    layerNormEpsilon: num('layer_norm_epsilon', 1e-5),
    bosTokenId: num('bos_token_id', 50256),
    eosTokenId: num('eos_token_id', 50256),
  };
  validateConfig(cfg);
  return cfg;
}

export function configToHF(c: GPTConfig): Record<string, unknown> {
  return {
    architectures: ['GPT2LMHeadModel'],
    model_type: 'gpt2',
    vocab_size: c.vocabSize,
    n_positions: c.nPositions,
    n_ctx: c.nPositions,
    n_embd: c.nEmbd,
    n_layer: c.nLayer,
    n_head: c.nHead,
    n_inner: null,
    layer_norm_epsilon: c.layerNormEpsilon,
    activation_function: 'gelu_new',
    resid_pdrop: 0.0,
    embd_pdrop: 0.0,
    attn_pdrop: 0.0,
    initializer_range: 0.02,
    bos_token_id: c.bosTokenId,
    eos_token_id: c.eosTokenId,
    tie_word_embeddings: true,
    scale_attn_weights: true,
    torch_dtype: 'float32',
  };
}
