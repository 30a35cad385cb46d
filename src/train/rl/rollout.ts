// Rollout bookkeeping shared by the online trainers (docs/rlhf.md): where a generated completion
// ends, which tokens the loss sees, and TRL's completion-length metrics.
//
// GRPO / RLOO (trl/trainer/grpo_trainer.py 1867–1876, rloo_trainer.py 1267–1274): a completion is
// cut after its first end-of-text token, which is kept (mask = t ≤ first EOS); without one the
// whole generation is kept. A completion is "truncated" (`completions/clipped_ratio`) when its last
// kept token is neither EOS nor PAD. With `mask_truncated_completions` such completions get an
// all-zero loss mask.
//
// PPO (trl/experimental/ppo/ppo_trainer.py 168–188, 718–758): generated responses stay (B,T)
// with the generator's padding; `truncate_response` replaces every token after the first stop
// token with PAD; `sequence_length` = (index of the first PAD) − 1, the last real token; TRL's
// two masks are padding_mask = t > sequence_length (policy, KL) and padding_mask_p1 =
// t > sequence_length + 1 (value). When PAD = EOS (GPT-2 without a pad token) the EOS itself
// counts as padding there, exactly as in TRL.

/** Index of the first `id` in `tokens[from, from+len)`, relative to `from`; `len` when absent (TRL first_true_indices). */
export function firstIndex(tokens: ArrayLike<number>, id: number, from = 0, len = tokens.length - from): number {
  for (let t = 0; t < len; t++) if (tokens[from + t] === id) return t;
  return len;
}

/** The completion as GRPO/RLOO keep it: everything up to and including the first `eosId`. */
export function cutAfterFirstEos(tokens: readonly number[], eosId: number): number[] {
  const k = firstIndex(tokens, eosId);
  return tokens.slice(0, Math.min(k + 1, tokens.length));
}

/** TRL's is_truncated: the completion's last token is neither EOS nor PAD (an empty one counts as truncated). */
export function isTruncated(completion: readonly number[], eosId: number, padId: number): boolean {
  if (completion.length === 0) return true;
  const last = completion[completion.length - 1];
  return last !== eosId && last !== padId;
}

export interface CompletionBatch {
  B: number;
  /** Padded width: the longest completion. */
  T: number;
  /** (B,T) completion ids, right-padded with `padId`. */
  ids: Int32Array;
  /** (B,T) 1 on kept tokens (0 for truncated completions when `maskTruncated`). */
  mask: Float64Array;
  /** (B) kept lengths (before `maskTruncated`). */
  lengths: number[];
  /** (B) whether each completion ended without EOS/PAD. */
  truncated: boolean[];
}

/**
 * GRPO/RLOO completions from raw generations: cut after the first EOS, right-pad to the longest,
 * mask (TRL completion_mask, zeroed for truncated completions with `maskTruncated`).
 */
export function completionBatch(generated: readonly (readonly number[])[], eosId: number, padId: number, maskTruncated = false): CompletionBatch {
  const kept = generated.map((g) => cutAfterFirstEos(g as number[], eosId));
  const B = kept.length;
  const T = Math.max(1, ...kept.map((k) => k.length));
  const ids = new Int32Array(B * T).fill(padId);
  const mask = new Float64Array(B * T);
  const truncated = kept.map((k) => isTruncated(k, eosId, padId));
  kept.forEach((k, b) => {
    for (let t = 0; t < k.length; t++) {
      ids[b * T + t] = k[t];
      if (!(maskTruncated && truncated[b])) mask[b * T + t] = 1;
    }
  });
  return { B, T, ids, mask, lengths: kept.map((k) => k.length), truncated };
}

export const COMPLETION_METRICS = [
  'completions/mean_length',
  'completions/min_length',
  'completions/max_length',
  'completions/clipped_ratio',
  'completions/mean_terminated_length',
  'completions/min_terminated_length',
  'completions/max_terminated_length',
] as const;

/**
 * TRL's completion metrics of one generation batch (grpo_trainer.py 2216–2246, rloo_trainer.py
 * 1295–1322): lengths are the kept lengths (after the EOS cut, before masking); the terminated
 * ones are over completions that are not truncated, all 0 when every completion is truncated.
 * `tokens` = Σ prompt lengths + Σ completion lengths: what TRL adds to num_input_tokens_seen
 * (`num_tokens` is the running total of it, kept by the trainer).
 */
export function completionMetrics(lengths: readonly number[], truncated: readonly boolean[], promptLengths: readonly number[] = []): { metrics: Record<(typeof COMPLETION_METRICS)[number], number>; tokens: number } {
  if (lengths.length === 0) throw new Error('completionMetrics: no completions');
  if (truncated.length !== lengths.length) throw new Error(`completionMetrics: ${truncated.length} truncated flags for ${lengths.length} completions`);
  const term = lengths.filter((_, i) => !truncated[i]);
  const t = term.length ? term : [0];
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    metrics: {
      'completions/mean_length': sum(lengths) / lengths.length,
      'completions/min_length': Math.min(...lengths),
      'completions/max_length': Math.max(...lengths),
      'completions/clipped_ratio': truncated.filter(Boolean).length / truncated.length,
      'completions/mean_terminated_length': sum(t) / t.length,
      'completions/min_terminated_length': Math.min(...t),
      'completions/max_terminated_length': Math.max(...t),
    },
    tokens: sum(promptLengths) + sum(lengths),
  };
}

/**
 * The (B,T) response tensor as transformers' generate returns it: each sequence's generated ids
 * (stopped at its first EOS, or at max_new_tokens), right-padded with `padId` to the longest.
 * T = the number of decode steps the batch ran. TRL's PPO reads this tensor as `responses`.
 */
export function padResponses(generated: readonly (readonly number[])[], padId: number): { B: number; T: number; responses: Int32Array } {
  const B = generated.length;
  const T = Math.max(1, ...generated.map((g) => g.length));
  const responses = new Int32Array(B * T).fill(padId);
  generated.forEach((g, b) => g.forEach((id, t) => (responses[b * T + t] = id)));
  return { B, T, responses };
}

export interface PpoResponseMasks {
  /** (B,T) TRL truncate_response: tokens after the first stop token replaced by PAD (a copy when no stop token). */
  postprocessed: Int32Array;
  /** (B) TRL sequence_lengths: index of the first PAD in `postprocessed`, minus 1 (−1 … T−1). */
  sequenceLengths: Int32Array;
  /** (B,T) 1 where t ≤ sequence_length: the tokens of the policy loss and of the KL (TRL ~padding_mask). */
  responseMask: Float64Array;
  /** (B,T) 1 where t ≤ sequence_length + 1: the value loss's tokens (TRL ~padding_mask_p1). */
  valueMask: Float64Array;
  /** (B) TRL contain_eos_token: whether `postprocessed` holds an EOS anywhere. */
  containEos: boolean[];
}

/**
 * TRL PPO's response processing (ppo_trainer.py 718–758): `stopTokenId` null is TRL's default
 * `stop_token=None` (no truncation; generation does not stop at EOS either); PPOConfig
 * `stop_token='eos'` means stopTokenId = eosId, the rule this project uses.
 */
export function ppoResponseMasks(responses: ArrayLike<number>, B: number, T: number, opts: { eosId: number; padId: number; stopTokenId: number | null }): PpoResponseMasks {
  if (responses.length !== B * T) throw new Error(`ppoResponseMasks: ${responses.length} tokens, expected B·T = ${B * T}`);
  const postprocessed = Int32Array.from(responses);
  const sequenceLengths = new Int32Array(B);
  const responseMask = new Float64Array(B * T);
  const valueMask = new Float64Array(B * T);
  const containEos: boolean[] = [];
  for (let b = 0; b < B; b++) {
    if (opts.stopTokenId !== null) {
      const k = firstIndex(responses, opts.stopTokenId, b * T, T);
      for (let t = k + 1; t < T; t++) postprocessed[b * T + t] = opts.padId;
    }
    const L = firstIndex(postprocessed, opts.padId, b * T, T) - 1;
    sequenceLengths[b] = L;
    let eos = false;
    for (let t = 0; t < T; t++) {
      if (t <= L) responseMask[b * T + t] = 1;
      if (t <= L + 1) valueMask[b * T + t] = 1;
      if (postprocessed[b * T + t] === opts.eosId) eos = true;
    }
    containEos.push(eos);
  }
  return { postprocessed, sequenceLengths, responseMask, valueMask, containEos };
}
