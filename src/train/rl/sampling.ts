// Sampling a next token from a row of logits, as transformers' generate(do_sample=True) does it,
// seeded through src/util/rng.ts (docs/rlhf.md). This is the float64 specification that GPU
// generation follows. The warpers run in transformers' order (GenerationMixin._get_logits_processor):
//   1. temperature   scores / T                     (skipped when T = 1)
//   2. top-k         keep scores ≥ the k-th largest (ties at the k-th value survive; k = 0 off)
//   3. top-p         sort ascending, cumulative softmax; drop entries whose cumulative
//                    probability ≤ 1 − p; the largest min_tokens_to_keep always stay (p = 1 off)
// Dropped entries become −∞; then softmax and one categorical draw. Top-k before top-p matters:
// top-p's cumulative sum is over the top-k-renormalised distribution.
// The draw: one u = rng.next() ∈ [0, 1) per row and decode step; the token is the first index (in
// vocabulary order) whose running probability sum exceeds u (probabilities normalised to Σ = 1).
// In a batch every row draws at every step, finished rows included (their draw is discarded, as
// transformers samples every row and then writes PAD into the finished ones), so step s, row b
// always uses draw number s·B + b. torch.multinomial's stream differs: the same seed gives the
// same tokens here and on the GPU, not in PyTorch.
import type { Rng } from '../../util/rng';

export interface SamplingOptions {
  /** > 0 (transformers rejects 0: use greedyToken). Default 1. */
  temperature?: number;
  /** Keep the k largest; 0 (default) disables, as GenerationConfig top_k = 0. */
  topK?: number;
  /** Nucleus mass in [0, 1]; 1 (default) disables. */
  topP?: number;
  /** transformers' min_tokens_to_keep: 1 for sampling without beams. */
  minTokensToKeep?: number;
}

function checkOpts(o: SamplingOptions): Required<SamplingOptions> {
  const temperature = o.temperature ?? 1;
  const topK = o.topK ?? 0;
  const topP = o.topP ?? 1;
  const minTokensToKeep = o.minTokensToKeep ?? 1;
  if (!(temperature > 0) || !Number.isFinite(temperature)) throw new Error(`sampling: temperature ${temperature} must be a finite number > 0 (greedy decoding is greedyToken)`);
  if (!Number.isInteger(topK) || topK < 0) throw new Error(`sampling: topK ${topK} must be an integer ≥ 0 (0 = off)`);
  if (!(topP >= 0 && topP <= 1)) throw new Error(`sampling: topP ${topP} must be in [0, 1]`);
  if (!Number.isInteger(minTokensToKeep) || minTokensToKeep < 1) throw new Error(`sampling: minTokensToKeep ${minTokensToKeep} must be an integer ≥ 1`);
  return { temperature, topK, topP, minTokensToKeep };
}

function checkRow(logits: ArrayLike<number>): void {
  if (logits.length === 0) throw new Error('sampling: empty logits row');
  for (let i = 0; i < logits.length; i++) {
    if (Number.isNaN(logits[i]) || logits[i] === Infinity) throw new Error(`sampling: logit ${i} is ${logits[i]}`);
  }
}

/** Softmax of a row that may hold −∞ (probability 0); at least one entry must be finite. */
export function softmax(scores: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i] > m) m = scores[i];
  if (m === -Infinity) throw new Error('softmax: every entry is −∞');
  const p = new Float64Array(scores.length);
  let s = 0;
  for (let i = 0; i < scores.length; i++) {
    p[i] = scores[i] === -Infinity ? 0 : Math.exp(scores[i] - m);
    s += p[i];
  }
  for (let i = 0; i < p.length; i++) p[i] /= s;
  return p;
}

/** log-softmax of (logits / temperature) at `token` (TRL's selective_log_softmax after the temperature division). */
export function logSoftmaxAt(logits: ArrayLike<number>, token: number, temperature = 1): number {
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) if (logits[i] / temperature > m) m = logits[i] / temperature;
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += logits[i] === -Infinity ? 0 : Math.exp(logits[i] / temperature - m);
  return logits[token] / temperature - m - Math.log(s);
}

/** Entropy in nats of softmax(logits / temperature) (TRL entropy_from_logits). */
export function entropyOf(logits: ArrayLike<number>, temperature = 1): number {
  const z = Float64Array.from(logits, (x) => x / temperature);
  const p = softmax(z);
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) if (z[i] > m) m = z[i];
  let s = 0;
  for (let i = 0; i < z.length; i++) s += z[i] === -Infinity ? 0 : Math.exp(z[i] - m);
  const lse = m + Math.log(s);
  let h = 0;
  for (let i = 0; i < z.length; i++) if (p[i] > 0) h -= p[i] * (z[i] - lse);
  return h;
}

/** torch.argmax: the first maximum. */
export function greedyToken(logits: ArrayLike<number>): number {
  checkRow(logits);
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

/**
 * The processed scores transformers samples from: temperature, then top-k, then top-p, dropped
 * entries −∞ (TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper). Ties in top-p's
 * ascending sort are ordered by vocabulary index (torch.sort is not stable; the order only matters
 * when equal scores straddle the cut).
 */
export function warpLogits(logits: ArrayLike<number>, opts: SamplingOptions = {}): Float64Array {
  checkRow(logits);
  const o = checkOpts(opts);
  const V = logits.length;
  const s = Float64Array.from(logits, (x) => (o.temperature === 1 ? x : x / o.temperature));
  if (o.topK !== 0) {
    const k = Math.min(Math.max(o.topK, o.minTokensToKeep), V);
    const sorted = Float64Array.from(s).sort().reverse();
    const kth = sorted[k - 1];
    for (let i = 0; i < V; i++) if (s[i] < kth) s[i] = -Infinity;
  }
  if (o.topP < 1) {
    const order = Array.from({ length: V }, (_, i) => i).sort((a, b) => s[a] - s[b] || a - b);
    const p = softmax(s);
    let cum = 0;
    const drop = new Uint8Array(V);
    for (let j = 0; j < V; j++) {
      cum += p[order[j]];
      if (cum <= 1 - o.topP && j < V - o.minTokensToKeep) drop[order[j]] = 1;
    }
    for (let i = 0; i < V; i++) if (drop[i]) s[i] = -Infinity;
  }
  return s;
}

/** One categorical draw from softmax(scores) with u ∈ [0, 1): the first index whose running probability exceeds u. */
export function drawFromScores(scores: ArrayLike<number>, u: number): number {
  const p = softmax(scores);
  let last = -1;
  let acc = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] <= 0) continue;
    acc += p[i];
    last = i;
    if (acc > u) return i;
  }
  return last; // u·Σp at the rounding edge of 1
}

export interface SampledToken {
  token: number;
  /** log-probability of `token` under the processed (warped) distribution: transformers' output.scores, TRL PPO's rollout logprob. */
  logprob: number;
}

/** Samples one token from a logits row: warpLogits, then one rng.next() draw. */
export function sampleToken(logits: ArrayLike<number>, opts: SamplingOptions, rng: Rng): SampledToken {
  const s = warpLogits(logits, opts);
  const token = drawFromScores(s, rng.next());
  return { token, logprob: logSoftmaxAt(s, token) };
}

export interface RolloutSpec {
  maxNewTokens: number;
  eosId: number;
  padId: number;
  sampling: SamplingOptions;
  /** Whether generation stops at EOS (GRPO/RLOO: yes; TRL PPO with stop_token=None: no). Default true. */
  stopAtEos?: boolean;
}

export interface Rollouts {
  /** Per sequence, the sampled ids (up to and including its EOS when it stopped there). */
  generated: number[][];
  /** Per sequence, the processed-distribution log-prob of each generated id. */
  logprobs: number[][];
  /** (B,T) the generated ids right-padded with PAD, T = decode steps run (transformers' output). */
  responses: Int32Array;
  T: number;
}

/**
 * The reference decode loop (transformers' _sample): at each step every sequence draws one
 * uniform, in sequence order; unfinished ones sample with it, finished ones discard it and get PAD;
 * a sequence finishes at EOS (with stopAtEos); the loop ends when all have finished or after
 * maxNewTokens steps.
 * `nextLogits(b, ids)` returns the logits row that predicts the next token of sequence b after
 * `ids` (its prompt plus what it generated so far).
 */
export function sampleRollouts(prompts: readonly (readonly number[])[], nextLogits: (b: number, ids: readonly number[]) => ArrayLike<number>, spec: RolloutSpec, rng: Rng): Rollouts {
  const B = prompts.length;
  if (!Number.isInteger(spec.maxNewTokens) || spec.maxNewTokens < 1) throw new Error(`sampleRollouts: maxNewTokens ${spec.maxNewTokens} must be an integer ≥ 1`);
  const stop = spec.stopAtEos ?? true;
  const generated: number[][] = prompts.map(() => []);
  const logprobs: number[][] = prompts.map(() => []);
  const done = new Array<boolean>(B).fill(false);
  let steps = 0;
  while (steps < spec.maxNewTokens && done.some((d) => !d)) {
    for (let b = 0; b < B; b++) {
      if (done[b]) {
        rng.next();
        continue;
      }
      const { token, logprob } = sampleToken(nextLogits(b, [...prompts[b], ...generated[b]]), spec.sampling, rng);
      generated[b].push(token);
      logprobs[b].push(logprob);
      if (stop && token === spec.eosId) done[b] = true;
    }
    steps++;
  }
  const T = Math.max(1, steps);
  const responses = new Int32Array(B * T).fill(spec.padId);
  generated.forEach((g, b) => g.forEach((id, t) => (responses[b * T + t] = id)));
  return { generated, logprobs, responses, T };
}
