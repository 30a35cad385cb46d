// Text generation from any model that returns next-token logits (the ONNX session, or a float64
// reference in tests): temperature, top-k and a seeded RNG, greedy at temperature 0, stopping at
// end-of-text. No KV cache: each new token re-runs the whole (short) context.
import type { Tokenizer } from '../tokenizer/types';
import { Rng } from '../util/rng';
import type { BatchLogits } from './session';

/** What generation needs from a model (OnnxLm satisfies it). */
export interface LogitsModel {
  readonly vocabSize: number;
  readonly nPositions: number;
  logits(seqs: readonly (readonly number[])[]): Promise<BatchLogits>;
}

export interface SamplingOptions {
  /** New tokens at most (end-of-text stops earlier). */
  maxNewTokens: number;
  /** 0 = greedy (argmax); otherwise logits are divided by it before the softmax. */
  temperature: number;
  /** Sample among the k most likely tokens; 0 = the whole vocabulary. */
  topK: number;
  seed: number;
  /** Ids that end the generation besides the tokenizer's eos (config.json's eos_token_id list). */
  stopIds?: readonly number[];
}

export const SAMPLING_DEFAULTS: SamplingOptions = { maxNewTokens: 64, temperature: 0.8, topK: 40, seed: 0 };

export interface Generation {
  prompt: string;
  promptIds: number[];
  /** Generated ids, end-of-text excluded. */
  ids: number[];
  /** The generated ids decoded (the prompt is not repeated). */
  text: string;
  /** Why generation stopped: end-of-text (or another stop id) sampled, or maxNewTokens reached. */
  stop: 'eos' | 'length';
}

export function validateSampling(o: SamplingOptions): void {
  if (!Number.isInteger(o.maxNewTokens) || o.maxNewTokens < 0) throw new Error(`maxNewTokens must be an integer ≥ 0, got ${o.maxNewTokens}`);
  if (!(Number.isFinite(o.temperature) && o.temperature >= 0)) throw new Error(`temperature must be a number ≥ 0, got ${o.temperature}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new Error(`topK must be an integer ≥ 0 (0 = no limit), got ${o.topK}`);
  if (!Number.isInteger(o.seed) || o.seed < 0 || o.seed > 0xffffffff) throw new Error(`seed must be an integer from 0 to 4294967295, got ${o.seed}`);
  if (o.stopIds?.some((id) => !Number.isInteger(id) || id < 0)) throw new Error(`stopIds must be token ids (integers ≥ 0), got [${o.stopIds.join(', ')}]`);
}

/** Index of the largest value (the first one on ties). */
export function argmax(row: ArrayLike<number>, offset = 0, n = row.length - offset): number {
  let best = 0;
  for (let v = 1; v < n; v++) if (row[offset + v] > row[offset + best]) best = v;
  return best;
}

/**
 * One draw from softmax(row/temperature) restricted to the top-k entries (ties broken by the
 * lower id, so exactly k candidates); greedy when temperature is 0.
 */
export function sampleToken(row: ArrayLike<number>, offset: number, V: number, temperature: number, topK: number, rng: Rng): number {
  if (temperature === 0) return argmax(row, offset, V);
  let ids = Array.from({ length: V }, (_, v) => v);
  if (topK > 0 && topK < V) {
    ids.sort((a, b) => row[offset + b] - row[offset + a] || a - b);
    ids = ids.slice(0, topK);
  }
  let max = -Infinity;
  for (const v of ids) max = Math.max(max, row[offset + v] / temperature);
  const w = ids.map((v) => Math.exp(row[offset + v] / temperature - max));
  const total = w.reduce((a, b) => a + b, 0);
  let u = rng.next() * total;
  for (let i = 0; i < ids.length; i++) {
    u -= w[i];
    if (u < 0) return ids[i];
  }
  return ids[ids.length - 1];
}

/**
 * Continues `prompt`. An empty prompt starts from the tokenizer's beginning-of-text token (GPT-2's
 * <|endoftext|>). Contexts longer than n_positions keep their last n_positions tokens. Stops at the
 * tokenizer's eos or any of opts.stopIds.
 */
export async function generate(model: LogitsModel, tokenizer: Tokenizer, prompt: string, opts: SamplingOptions): Promise<Generation> {
  return continueIds(model, tokenizer, tokenizer.encode(prompt), opts, prompt);
}

/** As generate(), from token ids (a training prompt as tokenized); `prompt` is only reported back. */
export async function continueIds(model: LogitsModel, tokenizer: Tokenizer, promptIds: number[], opts: SamplingOptions, prompt = tokenizer.decode(promptIds)): Promise<Generation> {
  validateSampling(opts);
  const context = promptIds.length ? [...promptIds] : [tokenizer.bosTokenId];
  const rng = new Rng(opts.seed);
  const stops = new Set([tokenizer.eosTokenId, ...(opts.stopIds ?? [])]);
  const ids: number[] = [];
  let stop: Generation['stop'] = 'length';
  for (let n = 0; n < opts.maxNewTokens; n++) {
    const window = context.length > model.nPositions ? context.slice(context.length - model.nPositions) : context;
    const out = await model.logits([window]);
    const next = sampleToken(out.logits, (window.length - 1) * out.V, out.V, opts.temperature, opts.topK, rng);
    if (stops.has(next)) {
      stop = 'eos';
      break;
    }
    ids.push(next);
    context.push(next);
  }
  return { prompt, promptIds, ids, text: tokenizer.decode(ids), stop };
}

export interface SideBySideRow {
  prompt: string;
  /** One generation per model, in the order given; each starts from the same seed. */
  outputs: Array<{ label: string; generation: Generation }>;
}

/**
 * The same prompts and the same seed through several models (e.g. the starting weights and each
 * method's trained weights), so differences come from the models, not from the sampler.
 */
export async function generateSideBySide(models: ReadonlyArray<{ label: string; model: LogitsModel }>, tokenizer: Tokenizer, prompts: readonly string[], opts: SamplingOptions): Promise<SideBySideRow[]> {
  validateSampling(opts);
  const rows: SideBySideRow[] = [];
  for (const prompt of prompts) {
    const outputs: SideBySideRow['outputs'] = [];
    for (const { label, model } of models) outputs.push({ label, generation: await generate(model, tokenizer, prompt, opts) });
    rows.push({ prompt, outputs });
  }
  return rows;
}
