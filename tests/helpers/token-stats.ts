// float64 token statistics of one sequence from the reference GPT-2's full log-softmax: the
// entropy sum and argmax-hit count over its completion positions (what GptRunner.readStats sums).
import type { GPT2RefResult } from '../../src/reference/gpt2';

/** Sequence s of `r`, completion tokens from `promptLen` on. */
export function refTokenStats(r: GPT2RefResult, s: number, ids: readonly number[], promptLen: number, V: number): { entropySum: number; correctCount: number } {
  let entropySum = 0;
  let correctCount = 0;
  for (let t = promptLen - 1; t + 1 < ids.length; t++) {
    const lp = r.cache.seqs[s].logprobs.subarray(t * V, (t + 1) * V);
    let arg = 0;
    for (let v = 0; v < V; v++) {
      entropySum -= Math.exp(lp[v]) * lp[v];
      if (lp[v] > lp[arg]) arg = v;
    }
    if (arg === ids[t + 1]) correctCount++;
  }
  return { entropySum, correctCount };
}
