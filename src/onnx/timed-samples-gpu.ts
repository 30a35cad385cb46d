// Samples over time on the GPU (README.md): ./timed-samples.ts's greedy samples, generated from a
// model already on the GPU — a run's live training model, LoRA adapters on, over an f32 or 16-bit
// packed base — in one batched, key/value-cached generateOnGpu call (src/model/decode.ts) instead
// of an ONNX export and one uncached onnxruntime-web pass per token and prompt. Same rows: at most
// TIMED_SAMPLE_TOKENS new tokens, the same stop ids (the tokenizer's eos and generationConfig's),
// the stop id left out of completion_ids and the text. The ONNX path stays the independent check
// (tests/gpu/timed-samples-gpu.test.ts: same ids and text) and the fallback for what the GPU
// decode refuses (gpuSamplesProblem) or has no memory for.
// Training state is left as it was: the decode runner has its own arena (activations, key/value
// cache, LoRA scratch) and records its own tape, freed when the call ends; only the adapters'
// on/off switch is touched (on for the call, then restored).
import { GptModel } from '../model/gpt';
import { LlamaModel } from '../model/llama';
import { generateOnGpu, type DecodeModel, type GpuRollouts } from '../model/decode';
import { isLlamaConfig, type ModelConfig, type TrainableModel } from '../model/family';
import { isRewardModel } from '../model/reward';
import { MAX_HEAD_SIZE } from '../kernels/attention';
import { MAX_STOP_IDS } from '../kernels/decode-sample';
import type { Tokenizer } from '../tokenizer/types';
import type { Judge } from '../judge';
import { generationConfig } from './export';
import { judgedSamples, timedSamples, TIMED_SAMPLE_TOKENS, type OpenLm, type TimedPrompt, type TimedSample } from './timed-samples';

/** What a prompt is continued from: its ids, or the tokenizer's beginning-of-text token when it has none (as continueIds). */
function context(p: TimedPrompt, tok: Tokenizer): number[] {
  return p.promptIds.length ? p.promptIds : [tok.bosTokenId];
}

/** The ONNX path's stop ids: the tokenizer's eos and the config's eos id(s). */
function stopIds(config: ModelConfig, tok: Tokenizer): number[] {
  return [...new Set([tok.eosTokenId, ...generationConfig(config).stopIds])];
}

function isDecodeModel(model: TrainableModel): model is DecodeModel {
  return model instanceof GptModel || model instanceof LlamaModel;
}

/**
 * Why `model` cannot give these prompts' timed samples on the GPU (null: it can): decode.ts's
 * refusals, checked before anything is allocated. A prompt whose context plus TIMED_SAMPLE_TOKENS
 * new tokens passes n_positions is the ONNX path's (it slides its window; the cache cannot).
 */
export function gpuSamplesProblem(model: TrainableModel, tok: Tokenizer, prompts: readonly TimedPrompt[]): string | null {
  if (!isDecodeModel(model)) return 'the model is not a GPT-2 or Llama-family model the GPU decode runs';
  const c = model.config;
  if (isRewardModel(c)) return 'a reward model has a score head, no LM head';
  const HS = isLlamaConfig(c) ? c.headDim : c.nEmbd / c.nHead;
  if (!Number.isInteger(HS) || HS % 4 !== 0 || HS > MAX_HEAD_SIZE) return `head size ${HS}: the GPU decode takes a multiple of 4, at most ${MAX_HEAD_SIZE}`;
  const stops = stopIds(c, tok);
  if (stops.length > MAX_STOP_IDS) return `${stops.length} stop ids, more than the GPU sampler's ${MAX_STOP_IDS}`;
  const P = generationConfig(c).nPositions;
  const longest = Math.max(0, ...prompts.map((p) => context(p, tok).length));
  if (longest + TIMED_SAMPLE_TOKENS - 1 > P) return `a prompt of ${longest} tokens plus ${TIMED_SAMPLE_TOKENS} new needs ${longest + TIMED_SAMPLE_TOKENS - 1} positions, more than the model's ${P}`;
  return null;
}

/**
 * Greedy samples of every prompt from `model` as it is now (LoRA: its adapters on), judged: one
 * TimedSample per prompt, equal to timedSamples' for the model's weights. Null when the device ran
 * out of memory for the decode runner (nothing stays allocated; the caller falls back to ONNX).
 * Throws what gpuSamplesProblem names; check it first.
 */
export async function timedSamplesOnGpu(model: TrainableModel, tok: Tokenizer, prompts: readonly TimedPrompt[], judge: Judge, step: number): Promise<TimedSample[] | null> {
  const problem = gpuSamplesProblem(model, tok, prompts);
  if (problem) throw new Error(`samples on the GPU: ${problem}`);
  if (!prompts.length) return [];
  const m = model as DecodeModel;
  const device = m.gpu.device;
  const lora = m.lora ?? null;
  const enabled = lora?.enabled ?? false;
  if (lora) lora.enabled = true; // the trained policy (read when the call records its commands)
  // the runner's arena is `separate`: its out-of-memory error lands in this scope, not the caller's
  device.pushErrorScope('out-of-memory');
  let out: GpuRollouts | null = null;
  let failure: unknown = null;
  try {
    out = await generateOnGpu(
      m,
      prompts.map((p) => context(p, tok)),
      { maxNewTokens: TIMED_SAMPLE_TOKENS, temperature: 0, stopIds: stopIds(m.config, tok), padId: generationConfig(m.config).padId },
    );
  } catch (e) {
    failure = e;
  } finally {
    if (lora) lora.enabled = enabled;
  }
  const oom = await device.popErrorScope().catch(() => null);
  if (oom) return null;
  if (failure) throw failure;
  const { generated, stopped } = out!;
  const gens = generated.map((g, b) => {
    const ids = stopped[b] ? g.slice(0, -1) : g;
    return { ids, text: tok.decode(ids), stop: stopped[b] ? ('eos' as const) : ('length' as const) };
  });
  return judgedSamples(prompts, gens, judge, step);
}

/**
 * A sample step's weights: a model on the GPU holding them (null: none), and the same weights as
 * tensors by name (only read when the step falls back to the ONNX path).
 */
export interface SampleSource {
  model: TrainableModel | null;
  params(): Promise<ReadonlyMap<string, Float32Array>>;
}

/**
 * Samples over time at `step`: on the GPU when the source has a model it can decode and memory
 * for the runner, else through the ONNX export (`open`; null: none, then this throws why).
 * `engine` says which ran.
 */
export async function samplesAt(src: SampleSource, open: OpenLm | null, base: { config: ModelConfig; tokenizer: Tokenizer }, prompts: readonly TimedPrompt[], judge: Judge, step: number): Promise<{ samples: TimedSample[]; engine: 'gpu' | 'onnx' }> {
  let why = 'no model on the GPU';
  if (src.model) {
    const problem = gpuSamplesProblem(src.model, base.tokenizer, prompts);
    if (problem) why = problem;
    else {
      const samples = await timedSamplesOnGpu(src.model, base.tokenizer, prompts, judge, step);
      if (samples) return { samples, engine: 'gpu' };
      why = 'the GPU had no memory for the decode runner';
    }
  }
  if (!open) throw new Error(`${why}, and there is no ONNX runtime to fall back to`);
  return { samples: await timedSamples(open, base, await src.params(), prompts, judge, step), engine: 'onnx' };
}
