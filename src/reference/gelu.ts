// float64 reference for GPT-2's gelu_new, elementwise over n:
// out = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
type Arr = ArrayLike<number>;

const S = Math.sqrt(2 / Math.PI);
const K = 0.044715;

export function geluForwardRef(inp: Arr, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    out[i] = 0.5 * x * (1 + Math.tanh(S * (x + K * x * x * x)));
  }
  return out;
}

/** Gradient of sum(out · dout) with respect to inp. */
export function geluBackwardRef(inp: Arr, dout: Arr, n: number): Float64Array {
  const dinp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = inp[i];
    const t = Math.tanh(S * (x + K * x * x * x));
    const sech2 = 1 - t * t;
    dinp[i] = (0.5 * (1 + t) + 0.5 * x * sech2 * S * (1 + 3 * K * x * x)) * dout[i];
  }
  return dinp;
}
