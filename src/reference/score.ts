// float64 reward model (transformers' GPT2ForSequenceClassification / LlamaForSequenceClassification
// with num_labels 1, eval mode): the oracle for the engine's score head (src/model/score-head.ts).
// The trunk is ./gpt2.ts or ./llama.ts; the head is written here, independently of the engine:
//   logits (T,1) = h (T,C) · score.weightᵀ, h the final norm's output (ln_f / model.norm);
//   reward = logits[i], i = argmax_t t·1[ids[t] ≠ pad_token_id] (transformers' last non-padding
//   token: 0 when every token is padding; without a pad id, the last token).
// Backward of Σ_s dReward[s]·reward[s]: score.weight += dReward[s]·h[i_s], and h's gradient
// dReward[s]·score.weight at position i_s (zero elsewhere) enters the trunk's backward below the
// LM head (gpt2BackwardRef / llamaBackwardRef with zero log-prob coefficients).
// With LoRA adapters (the trunk references' RefLora) a reward model trains its score head in full
// (PEFT's modules_to_save): a `score.weight` among the adapters' weights is the head read (and
// its gradient is reported under that name, beside every adapter's).
// Dimensions: T time (one sequence), C channels.
import type { GPTConfig } from '../model/config';
import { gpt2BackwardRef, gpt2ForwardRef, type ParamMap, type RefLora } from './gpt2';
import { llamaBackwardRef, llamaDims, llamaForwardRef, type LlamaConfig } from './llama';

const SCORE = 'score.weight';

/** transformers' read position, as written there: argmax over t of t·(ids[t] ≠ pad), first maximum. */
export function scoreIndexRef(ids: readonly number[], padId: number | null): number {
  if (padId === null) return ids.length - 1;
  let best = 0;
  let arg = 0;
  ids.forEach((id, t) => {
    const v = t * (id !== padId ? 1 : 0);
    if (v > best) [best, arg] = [v, t];
  });
  return arg;
}

export interface ScoreRefResult {
  /** One reward per sequence. */
  rewards: number[];
  /** The position each reward was read at. */
  index: number[];
  /** Gradients of Σ dReward[s]·rewards[s] with respect to every parameter of the reward model, by name. */
  backward(dReward: readonly number[]): Map<string, Float64Array>;
}

function scoreWeight(params: ParamMap, C: number, lora?: RefLora): Float64Array {
  const w = lora?.weights.get(SCORE) ?? params.get(SCORE);
  if (!w) throw new Error(`score reference: missing parameter ${SCORE}`);
  if (w.length !== C) throw new Error(`score reference: ${SCORE} has ${w.length} elements, expected [1, ${C}]`);
  return Float64Array.from(w);
}

/** The head on per-sequence hidden states h[s] (T_s·C), given the trunk's backward from dh. */
function head(hidden: ArrayLike<number>[], seqs: number[][], w: Float64Array, C: number, padId: number | null, trunkBackward: (dh: Float64Array[]) => Map<string, Float64Array>): ScoreRefResult {
  const index = seqs.map((ids) => scoreIndexRef(ids, padId));
  const rewards = seqs.map((_, s) => {
    let r = 0;
    for (let c = 0; c < C; c++) r += hidden[s][index[s] * C + c] * w[c];
    return r;
  });
  return {
    rewards,
    index,
    backward(dReward) {
      if (dReward.length !== seqs.length) throw new Error(`score reference: ${dReward.length} reward gradients for ${seqs.length} sequences`);
      const dh = seqs.map((ids, s) => {
        const d = new Float64Array(ids.length * C);
        for (let c = 0; c < C; c++) d[index[s] * C + c] = dReward[s] * w[c];
        return d;
      });
      const grads = trunkBackward(dh);
      const dw = new Float64Array(C);
      seqs.forEach((_, s) => {
        for (let c = 0; c < C; c++) dw[c] += dReward[s] * hidden[s][index[s] * C + c];
      });
      grads.set(SCORE, dw);
      return grads;
    },
  };
}

const zeroCoef = (seqs: number[][]) => seqs.map((q) => new Array<number>(Math.max(0, q.length - 1)).fill(0));

/**
 * GPT-2 reward model: `params` by the names of paramSpec (`config.scoreHead`: with score.weight);
 * `padId` the config's pad_token_id (null: the last token); `lora` adapters (and the trained head).
 */
export function gpt2ScoreRef(params: ParamMap, config: GPTConfig, seqs: number[][], padId: number | null, lora?: RefLora): ScoreRefResult {
  const C = config.nEmbd;
  const w = scoreWeight(params, C, lora);
  const { cache } = gpt2ForwardRef(params, config, seqs, undefined, lora);
  const hidden = cache.seqs.map((sc) => sc.lnf.out);
  return head(hidden, seqs, w, C, padId, (dh) => gpt2BackwardRef(cache, zeroCoef(seqs), dh));
}

/**
 * Llama-family reward model: `params` by the Hugging Face names of the trunk plus score.weight
 * (no lm_head.weight: a *ForSequenceClassification has none; the trunk reference, which also
 * computes an LM head, is given a zero one and its gradient is left out); `lora` as gpt2ScoreRef's.
 */
export function llamaScoreRef(params: ParamMap, config: LlamaConfig, seqs: number[][], padId: number | null, lora?: RefLora): ScoreRefResult {
  const d = llamaDims(config);
  const w = scoreWeight(params, d.C, lora);
  const trunk = new Map(params);
  const placeholder = !d.tied && !trunk.has('lm_head.weight');
  if (placeholder) trunk.set('lm_head.weight', new Float64Array(d.V * d.C));
  const { cache } = llamaForwardRef(trunk, config, seqs, undefined, lora);
  const hidden = cache.seqs.map((sc) => sc.rmsf.out);
  return head(hidden, seqs, w, d.C, padId, (dh) => {
    const grads = llamaBackwardRef(cache, zeroCoef(seqs), dh);
    if (placeholder) grads.delete('lm_head.weight');
    return grads;
  });
}
