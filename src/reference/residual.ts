// float64 reference for the residual family: out (n) = inp1 (n) + inp2 (n); dst (n) += src (n).
type Arr = ArrayLike<number>;

export function residualForwardRef(inp1: Arr, inp2: Arr, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = inp1[i] + inp2[i];
  return out;
}

/** Gradients of sum(out · dout): both inputs receive dout unchanged. */
export function residualBackwardRef(dout: Arr, n: number): { dinp1: Float64Array; dinp2: Float64Array } {
  const dinp1 = Float64Array.from({ length: n }, (_, i) => dout[i]);
  return { dinp1, dinp2: dinp1.slice() };
}

/** dst + src, as a new array (the reference does not mutate its inputs). */
export function accumulateRef(dst: Arr, src: Arr, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = dst[i] + src[i];
  return out;
}
