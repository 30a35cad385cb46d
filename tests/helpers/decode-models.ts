// Models for the cached-decode tests (tests/gpu/decode.test.ts, decode-lora.test.ts): random
// weights, a model on the GPU (optionally with LoRA adapters over an f32 or 16-bit base), the
// float64 reference's log-probs, and the cached-decode check both files run: every decode step's
// logits against the full forward's (a prefill of prompt + generated prefix, no cache) within
// 1e-4, against the float64 model, and the rollout log-probs against the training runner's.
import { expect } from 'vitest';
import { expectClose } from './close';
import type { GpuContext } from '../../src/engine/gpu';
import { StepEncoder } from '../../src/engine/encoder';
import { generateOnGpu, type DecodeModel, type GenerateOptions } from '../../src/model/decode';
import type { GptModel } from '../../src/model/gpt';
import type { LlamaModel } from '../../src/model/llama';
import { createModel, isLlamaConfig, type ModelConfig } from '../../src/model/family';
import { buildBatch } from '../../src/model/batch';
import { paramSpec } from '../../src/model/config';
import { llamaParamSpec, llamaPresetConfig, llamaRefConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';
import { loraSpec, type BaseDtype, type LoraConfig } from '../../src/model/lora';
import { gpt2ForwardRef, type RefLora } from '../../src/reference/gpt2';
import { llamaForwardRef } from '../../src/reference/llama';
import { logSoftmaxAt } from '../../src/train/rl/sampling';
import type { Rng } from '../../src/util/rng';

export function randomWeights(c: ModelConfig, rng: Rng): Map<string, Float32Array> {
  const spec = isLlamaConfig(c) ? llamaParamSpec(c) : paramSpec(c);
  const m = new Map<string, Float32Array>();
  for (const s of spec) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const gain = /(ln_\w+|norm|layernorm)\.weight$/.test(s.name);
    const sd = s.name.endsWith('bias') ? 0.05 : 0.3;
    m.set(s.name, Float32Array.from({ length: n }, () => (gain ? 1 + 0.2 * rng.normal() : sd * rng.normal())));
  }
  return m;
}

/** Adapters with B ≠ 0 (PEFT starts at B = 0, where the adapters would change nothing). */
export function randomAdapters(c: ModelConfig, lora: LoraConfig, rng: Rng, sd = 0.3): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const s of loraSpec(c, lora)) m.set(s.name, Float32Array.from({ length: s.shape[0] * s.shape[1] }, () => sd * rng.normal()));
  return m;
}

export interface LoraSetup {
  lora: LoraConfig;
  adapters: Map<string, Float32Array>;
  baseDtype?: BaseDtype;
}

/** A model holding `w`; with `withLora`, adapters beside a frozen base stored as its baseDtype. */
export function makeModel(g: GpuContext, c: ModelConfig, w: Map<string, Float32Array>, withLora?: LoraSetup): DecodeModel {
  const m = createModel(g, { config: c }, withLora ? { lora: withLora.lora, baseDtype: withLora.baseDtype } : {}) as GptModel | LlamaModel;
  m.upload(w);
  if (withLora) m.lora!.upload(withLora.adapters);
  return m;
}

/** log-softmax of each row of the float64 model's logits at every position of `seq` (with LoRA adapters when given). */
export function refLogprobs(c: ModelConfig, w: Map<string, Float32Array>, seq: number[], lora?: RefLora): Float64Array {
  return isLlamaConfig(c) ? llamaForwardRef(w, llamaRefConfig(c), [seq], undefined, lora).cache.seqs[0].logprobs : gpt2ForwardRef(w, c, [seq], undefined, lora).cache.seqs[0].logprobs;
}

export function logSoftmax(row: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) m = Math.max(m, row[i]);
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i] - m);
  return Float64Array.from(row, (x) => x - m - Math.log(s));
}

/** head_dim 12 ≠ C/NH, 3 query heads over 1 key/value head, untied, llama attention biases; stacks scattered. */
export const ODD_LLAMA: LlamaFamilyConfig = {
  ...llamaPresetConfig('llama-tiny'),
  vocabSize: 101, hiddenSize: 20, intermediateSize: 36, numAttentionHeads: 3, numKeyValueHeads: 1, headDim: 12,
  tieWordEmbeddings: false, attentionBias: true, ropeTheta: 500000, bosTokenId: 1, eosTokenId: 2, maxPositionEmbeddings: 40,
};

export const PROMPT_LENS = [5, 1, 8]; // odd, one of length 1, all different in one batch
export const NEW = 6;

/** The float64 model the GPU model should compute: its weights (16-bit base: rounded as packed) and adapters. */
export interface DecodeReference {
  weights: Map<string, Float32Array>;
  lora?: RefLora;
}

/**
 * Samples NEW tokens after PROMPT_LENS prompts (drawn from rng) with the logits of every step kept,
 * then checks: each step's logits equal the full forward's (every prefix prefilled without a cache)
 * within 1e-4; their log-softmax equals the float64 model's within 1e-4; each rollout log-prob is
 * log softmax(logits / T) of its token; a greedy rollout's log-probs equal the training runner's
 * per-token log-probs (the training forward: adapters, packed base and all) within 1e-4.
 * Returns the prompts and the sampled rollout.
 */
export async function expectCachedDecode(gpu: GpuContext, model: DecodeModel, config: ModelConfig, ref: DecodeReference, rng: Rng, what: string) {
  const V = config.vocabSize;
  const prompts = PROMPT_LENS.map((n) => Array.from({ length: n }, () => rng.int(V)));
  const opts: GenerateOptions = { maxNewTokens: NEW, temperature: 0.9, topK: 50, seed: rng.int(2 ** 32), stopIds: [], captureLogits: true };
  const out = await generateOnGpu(model, prompts, opts);
  expect(out.generated.map((g) => g.length)).toEqual([NEW, NEW, NEW]);
  // the full forward: every prefix prompt + generated[:s] prefilled without a cache, logits at its last position
  const prefixes: number[][] = [];
  for (let b = 0; b < prompts.length; b++) for (let s = 0; s < NEW; s++) prefixes.push([...prompts[b], ...out.generated[b].slice(0, s)]);
  const full = await generateOnGpu(model, prefixes, { maxNewTokens: 1, temperature: 0, stopIds: [], captureLogits: true });
  for (let b = 0; b < prompts.length; b++) {
    const seq = [...prompts[b], ...out.generated[b]];
    const lp = refLogprobs(config, ref.weights, seq.slice(0, -1), ref.lora);
    for (let s = 0; s < NEW; s++) {
      const step = out.logits![s].subarray(b * V, (b + 1) * V);
      const k = b * NEW + s;
      expectClose(step, full.logits![0].subarray(k * V, (k + 1) * V), { rtol: 1e-4, atol: 1e-4, what: `${what} row ${b} step ${s}: cached vs full-forward logits` });
      const pos = prompts[b].length - 1 + s;
      expectClose(logSoftmax(step), lp.subarray(pos * V, (pos + 1) * V), { rtol: 1e-4, atol: 1e-4, what: `${what} row ${b} step ${s}: log-softmax vs float64` });
      expectClose([out.logprobs[b][s]], [logSoftmaxAt(step, out.generated[b][s], opts.temperature)], { atol: 1e-5, what: `${what} row ${b} step ${s}: logprob` });
    }
  }
  // the training forward's per-token log-probs of the same sequences, at temperature 1
  const greedy = await generateOnGpu(model, prompts, { maxNewTokens: NEW, temperature: 0, stopIds: [] });
  const seqs = prompts.map((p, b) => ({ ids: [...p, ...greedy.generated[b]], promptLen: p.length }));
  const batch = buildBatch(seqs, 0);
  const runner = model.createRunner(batch.B, batch.T, 'f32');
  try {
    runner.setBatch(batch);
    const enc = new StepEncoder(gpu);
    runner.forward(enc);
    enc.submit();
    const lp = await runner.readTokenLogps();
    prompts.forEach((p, b) => {
      const want = greedy.generated[b].map((_, s) => lp[b * batch.T + p.length - 1 + s]);
      expectClose(greedy.logprobs[b], want, { rtol: 1e-4, atol: 1e-4, what: `${what} row ${b}: rollout vs training log-probs` });
    });
  } finally {
    runner.destroy();
  }
  return { prompts, out, opts };
}
