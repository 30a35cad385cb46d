// Samples over time (README.md): greedy continuations of a few fixed held-out prompts from a run's
// weights every N updates (and at step 0 and the last), each scored by the data set's judge
// (src/judge). The CLI's `train --sample-every N` (DIR/samples.jsonl) and the page's engine worker
// generate them on the GPU from the run's live model (./timed-samples-gpu.ts); timedSamples here
// is the same greedy decode through this app's ONNX export and onnxruntime-web, prompt by prompt
// without a cache: the independent check, and the fallback for what the GPU decode refuses.
// Greedy decoding of a seeded run, so the same seed gives the same samples.
import type { ModelConfig } from '../model/family';
import type { Tokenizer } from '../tokenizer/types';
import type { PairIds } from '../train/pairs';
import type { UnpairedIds } from '../train/kto-trainer';
import { judgeSamples, type Judge, type PairRef } from '../judge';
import { exportModelOnnx, generationConfig, type GenerationConfig } from './export';
import { continueIds, type Generation, type LogitsModel } from './generate';

/** Prompts sampled at each sample step, and new tokens at most per sample. */
export const TIMED_SAMPLE_PROMPTS = 3;
export const TIMED_SAMPLE_TOKENS = 40;

export interface TimedPrompt {
  /** As displayed (end-of-text tokens left out). */
  prompt: string;
  /** As trained on (truncated from the left like the data). */
  promptIds: number[];
  /** The prompt's answers in the data (the reference judge compares with them). */
  pair: PairRef;
}

/** One line of DIR/samples.jsonl (TRL-style names, as the online methods' samples.jsonl). */
export interface TimedSample {
  step: number;
  prompt: string;
  completion: string;
  prompt_ids: number[];
  completion_ids: number[];
  /** The judge's score in [0, 1] and why. */
  score: number;
  reason: string;
  /** Why generation ended: end-of-text, or the token limit. */
  stop: 'eos' | 'length';
}

/** A run's samples at one step as the page keeps them (one entry per prompt, in prompt order). */
export interface SamplesAtStep {
  step: number;
  prompts: string[];
  judge: { name: string; description: string };
  completions: string[];
  /** Completion tokens generated (end-of-text not counted). */
  tokens: number[];
  scores: number[];
  reasons: string[];
  /** Mean completion tokens of the run's training answers: chosen and rejected (KTO: desirable, undesirable). */
  data: { chosen: number; rejected: number };
}

/** Whether a run samples after update `step` (step 0: the starting weights). */
export function isSampleStep(step: number, every: number, total: number): boolean {
  return every > 0 && (step === 0 || step % every === 0 || step === total);
}

type Example = PairIds | UnpairedIds;
const isPair = (x: Example): x is PairIds => 'chosenIds' in x;

/**
 * The first `n` prompts of the held-out examples (the training ones when nothing is held out).
 * Unpaired (KTO) examples are grouped by prompt: its desirable completion is the judge's chosen
 * answer and its undesirable one the rejected answer ('' when the data has none).
 */
export function timedPrompts(train: readonly Example[], evalSet: readonly Example[], tok: Tokenizer, n = TIMED_SAMPLE_PROMPTS): TimedPrompt[] {
  const text = (ids: readonly number[]) => tok.decode(ids.filter((id) => id !== tok.eosTokenId));
  const from = evalSet.length ? evalSet : train;
  const out: TimedPrompt[] = [];
  const byKey = new Map<string, TimedPrompt>();
  for (const x of from) {
    if (isPair(x)) {
      if (out.length < n) out.push({ prompt: text(x.promptIds), promptIds: [...x.promptIds], pair: { chosen: text(x.chosenIds), rejected: text(x.rejectedIds) } });
      continue;
    }
    const key = x.promptIds.join(',');
    let p = byKey.get(key);
    if (!p) {
      if (out.length >= n) continue;
      p = { prompt: text(x.promptIds), promptIds: [...x.promptIds], pair: { chosen: '', rejected: '' } };
      byKey.set(key, p);
      out.push(p);
    }
    const side = x.label ? 'chosen' : 'rejected';
    if (!p.pair[side]) p.pair[side] = text(x.completionIds);
  }
  return out;
}

/** Mean completion length in tokens of the chosen and rejected answers (KTO: desirable, undesirable). */
export function dataLengths(xs: readonly Example[]): { chosen: number; rejected: number } {
  const acc = { chosen: [0, 0], rejected: [0, 0] };
  for (const x of xs) {
    if (isPair(x)) {
      acc.chosen[0] += x.chosenIds.length;
      acc.chosen[1]++;
      acc.rejected[0] += x.rejectedIds.length;
      acc.rejected[1]++;
    } else {
      const a = acc[x.label ? 'chosen' : 'rejected'];
      a[0] += x.completionIds.length;
      a[1]++;
    }
  }
  const mean = ([s, k]: number[]) => (k ? s / k : 0);
  return { chosen: mean(acc.chosen), rejected: mean(acc.rejected) };
}

/** Opens the exported graph (onnxruntime-web's wasm backend in Node or in the browser). */
export type OpenLm = (onnx: Uint8Array, dims: GenerationConfig) => Promise<LogitsModel & { release(): Promise<void> }>;

/** Greedy samples of every prompt under `params` (either family), judged: one TimedSample per prompt. */
export async function timedSamples(open: OpenLm, base: { config: ModelConfig; tokenizer: Tokenizer }, params: ReadonlyMap<string, Float32Array>, prompts: readonly TimedPrompt[], judge: Judge, step: number): Promise<TimedSample[]> {
  const gen = generationConfig(base.config);
  const lm = await open(exportModelOnnx(base.config, params), gen);
  try {
    const outs: Generation[] = [];
    for (const p of prompts) outs.push(await continueIds(lm, base.tokenizer, p.promptIds, { maxNewTokens: TIMED_SAMPLE_TOKENS, temperature: 0, topK: 0, seed: 0, stopIds: gen.stopIds }, p.prompt));
    return judgedSamples(prompts, outs, judge, step);
  } finally {
    await lm.release();
  }
}

/** One TimedSample per prompt from its generation (ids and text without the stop id), judged: both engines' rows (./timed-samples-gpu.ts). */
export function judgedSamples(prompts: readonly TimedPrompt[], outs: readonly Pick<Generation, 'ids' | 'text' | 'stop'>[], judge: Judge, step: number): TimedSample[] {
  const judged = judgeSamples(judge, prompts.map((p, i) => ({ prompt: p.prompt, completion: outs[i].text, pair: p.pair })));
  return prompts.map((p, i) => ({ step, prompt: p.prompt, completion: outs[i].text, prompt_ids: [...p.promptIds], completion_ids: [...outs[i].ids], score: judged[i].score, reason: judged[i].reason, stop: outs[i].stop }));
}
