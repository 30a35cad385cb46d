// Token-level metrics of TRL's DPOTrainer and KTOTrainer (docs/objectives.md, "Token metrics"),
// from the per-sequence sums one forward reads back (GptRunner.readStats):
//   entropy             Σ entropy / Σ |y| over the completion tokens of every scored sequence
//                       (pairs: chosen and rejected; KTO: the examples, not the KL sequences)
//   mean_token_accuracy Σ 1[argmax = token] / Σ |y_w| over the chosen completion tokens (pairs only)
//   num_tokens          running total of the tokens read in training (prompt + completion, no padding)
// Each is one micro-batch's token-weighted value; the trainer averages micro-batches and eval
// batches as it does every metric, except num_tokens, which is a running total (meanMetrics keeps
// its last value). Eval rows repeat the training total, as TRL's `eval_num_tokens` does.
type Vec = ArrayLike<number>;
type Metrics = Record<string, number>;

/** Per-sequence sums over completion tokens (a SequenceStats subset). */
export interface TokenSums {
  /** (B) Σ entropy of the predicted distribution, nats. */
  entropySum: Vec;
  /** (B) tokens whose argmax prediction is the token itself. */
  correctCount: Vec;
}

/** Σ num[i] / Σ den[i] over the first `n` sequences; 0 when they hold no tokens (as TRL). */
function ratio(num: Vec, den: Vec, n: number): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < n; i++) {
    s += num[i];
    c += den[i];
  }
  return c > 0 ? s / c : 0;
}

/** Tokens of the first `n` sequences as the model reads them (TRL's attention_mask.sum()). */
export function batchTokens(lengths: Vec, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += lengths[i];
  return s;
}

/**
 * A pair batch of sequences [chosen (n), rejected (n)] with completion lengths `len` (2n).
 * `numTokens` is the running total including this batch when training.
 */
export function pairTokenMetrics(s: TokenSums, len: Vec, n: number, numTokens: number): Metrics {
  return { entropy: ratio(s.entropySum, len, 2 * n), mean_token_accuracy: ratio(s.correctCount, len, n), num_tokens: numTokens };
}

/** An unpaired (KTO) batch: the n examples come first; the KL sequences after them do not count. */
export function unpairedTokenMetrics(s: TokenSums, len: Vec, n: number, numTokens: number): Metrics {
  return { entropy: ratio(s.entropySum, len, n), num_tokens: numTokens };
}

/** Metrics that are running totals: a step reports the last micro-batch's value, not the mean. */
export const RUNNING_METRICS: ReadonlySet<string> = new Set(['num_tokens']);
