// float64 token statistics of one sequence from a reference model's full log-softmax (GPT-2's or
// the Llama family's): the entropy sum and argmax-hit count over its completion positions (what
// the runners' readStats sums).

/** What both references keep per sequence: the [T × V] log-softmax. */
interface RefLogSoftmax {
  cache: { seqs: ReadonlyArray<{ logprobs: Float64Array }> };
}

/** Sequence s of `r`, completion tokens from `promptLen` on. */
export function refTokenStats(r: RefLogSoftmax, s: number, ids: readonly number[], promptLen: number, V: number): { entropySum: number; correctCount: number } {
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
