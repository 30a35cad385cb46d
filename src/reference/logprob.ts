// float64 reference for the LM-head log-prob family: the specification shaders/logprob.wgsl
// must match. N rows (tokens), C channels, V vocabulary; the head is tied to wte (V,C):
// logits[r,v] = hidden[r]·wte[v].  hidden (N,C), wte (V,C), targets (N) -> logp, lse, meanLogit,
// entropy, correct (N).
type Arr = ArrayLike<number>;

/** A target id meaning "no next token here": logp 0 and no gradient. */
export const IGNORE = 0xffffffff;

function rowLogits(hidden: Arr, wte: Arr, r: number, C: number, V: number): Float64Array {
  const z = new Float64Array(V);
  for (let v = 0; v < V; v++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += hidden[r * C + c] * wte[v * C + c];
    z[v] = s;
  }
  return z;
}

function logSumExp(z: Float64Array): number {
  let m = -Infinity;
  for (const x of z) m = Math.max(m, x);
  let s = 0;
  for (const x of z) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** Index of the first maximum (torch.argmax's tie rule). */
function argmax(z: Float64Array): number {
  let best = 0;
  for (let v = 1; v < z.length; v++) if (z[v] > z[best]) best = v;
  return best;
}

/**
 * logp = logit[target] − lse (0 at IGNORE), lse = logsumexp, meanLogit = mean_v logit,
 * entropy = −Σ_v p_v log p_v of the softmax (nats), correct = 1 when argmax = target (first
 * maximum wins a tie; 0 at IGNORE).
 */
export function logprobForwardRef(hidden: Arr, wte: Arr, targets: Arr, N: number, C: number, V: number): { logp: Float64Array; lse: Float64Array; meanLogit: Float64Array; entropy: Float64Array; correct: Float64Array } {
  const logp = new Float64Array(N);
  const lse = new Float64Array(N);
  const meanLogit = new Float64Array(N);
  const entropy = new Float64Array(N);
  const correct = new Float64Array(N);
  for (let r = 0; r < N; r++) {
    const z = rowLogits(hidden, wte, r, C, V);
    lse[r] = logSumExp(z);
    meanLogit[r] = z.reduce((a, b) => a + b, 0) / V;
    let h = 0;
    for (const x of z) {
      const lp = x - lse[r];
      h -= Math.exp(lp) * lp;
    }
    entropy[r] = h;
    const t = targets[r];
    logp[r] = t === IGNORE ? 0 : z[t] - lse[r];
    correct[r] = t !== IGNORE && argmax(z) === t ? 1 : 0;
  }
  return { logp, lse, meanLogit, entropy, correct };
}

/** Gradients of Σ_r coef[r]·logp[r] with respect to hidden (N,C) and wte (V,C). */
export function logprobBackwardRef(coef: Arr, hidden: Arr, wte: Arr, targets: Arr, N: number, C: number, V: number): { dhidden: Float64Array; dwte: Float64Array } {
  const dhidden = new Float64Array(N * C);
  const dwte = new Float64Array(V * C);
  for (let r = 0; r < N; r++) {
    const t = targets[r];
    if (t === IGNORE) continue;
    const z = rowLogits(hidden, wte, r, C, V);
    const l = logSumExp(z);
    for (let v = 0; v < V; v++) {
      const g = coef[r] * ((v === t ? 1 : 0) - Math.exp(z[v] - l));
      for (let c = 0; c < C; c++) {
        dhidden[r * C + c] += g * wte[v * C + c];
        dwte[v * C + c] += g * hidden[r * C + c];
      }
    }
  }
  return { dhidden, dwte };
}

/** values, weights (B,T) -> out (B): out[b] = Σ_t values[b,t]·weights[b,t]. */
export function sequenceSumsRef(values: Arr, weights: Arr, B: number, T: number): Float64Array {
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let t = 0; t < T; t++) s += values[b * T + t] * weights[b * T + t];
    out[b] = s;
  }
  return out;
}
