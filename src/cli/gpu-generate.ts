// `generate --engine gpu`: one prompt continued by the WGSL engine's cached decode
// (src/model/decode.ts), with src/train/rl/sampling.ts's sampler (temperature → top-k → top-p,
// seeded) — what RL rollouts use. The ONNX engine (src/onnx/generate.ts) stays the independent
// check: greedy continuations agree; sampled ones differ, the two samplers drawing differently.
import { nodeGpu } from '../engine/node';
import { createModel } from '../model/family';
import { DecodeRunner, type DecodeModel } from '../model/decode';
import type { LoadedModel } from '../model/family-checkpoint';
import { generationConfig } from '../onnx/export';
import type { Generation, SamplingOptions } from '../onnx/generate';

export interface GpuGeneration extends Generation {
  /** Per generated id (the stop id excluded), log softmax(logits / temperature); temperature 1 when greedy. */
  logprobs: number[];
}

/**
 * Continues `promptIds` (empty: the tokenizer's BOS). The context is capped at n_positions: a longer
 * prompt keeps its last n_positions tokens, and generation stops with 'length' when the context is
 * full (the ONNX engine slides its window instead).
 */
export async function generateOnGpuCli(ckpt: LoadedModel, prompt: string, sampling: SamplingOptions & { topP: number }): Promise<GpuGeneration> {
  const { tokenizer } = ckpt;
  const promptIds = tokenizer.encode(prompt);
  const gen = generationConfig(ckpt.config);
  const P = gen.nPositions;
  const context = (promptIds.length ? promptIds : [tokenizer.bosTokenId]).slice(-P);
  const maxNew = Math.min(sampling.maxNewTokens, P - context.length + 1);
  const stopIds = [...new Set([tokenizer.eosTokenId, ...gen.stopIds])];
  const empty: GpuGeneration = { prompt, promptIds, ids: [], text: '', stop: 'length', logprobs: [] };
  if (maxNew < 1) return empty;
  const gpu = await nodeGpu('generate');
  const model = createModel(gpu, ckpt) as DecodeModel;
  try {
    model.upload(ckpt.params);
    const runner = new DecodeRunner(model, 1, context.length, maxNew);
    try {
      const out = await runner.generate([context], { maxNewTokens: maxNew, temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP, seed: sampling.seed, stopIds, padId: gen.padId });
      const stopped = out.stopped[0];
      const ids = stopped ? out.generated[0].slice(0, -1) : out.generated[0];
      const logprobs = out.logprobs[0].slice(0, ids.length);
      return { prompt, promptIds, ids, text: tokenizer.decode(ids), stop: stopped ? 'eos' : 'length', logprobs };
    } finally {
      runner.destroy();
    }
  } finally {
    model.destroy();
    gpu.device.destroy();
  }
}
