// float64 reference for the matmul family (Conv1D layout): the specification the WGSL
// must match. inp (R,IC), weight (IC,OC), bias (OC) -> out (R,OC).
type Arr = ArrayLike<number>;

export function matmulForwardRef(inp: Arr, weight: Arr, bias: Arr | null, R: number, IC: number, OC: number): Float64Array {
  const out = new Float64Array(R * OC);
  for (let r = 0; r < R; r++) {
    for (let o = 0; o < OC; o++) {
      let s = bias ? bias[o] : 0;
      for (let i = 0; i < IC; i++) s += inp[r * IC + i] * weight[i * OC + o];
      out[r * OC + o] = s;
    }
  }
  return out;
}

/** Gradients of sum(out · dout) with respect to inp, weight and bias. */
export function matmulBackwardRef(dout: Arr, inp: Arr, weight: Arr, R: number, IC: number, OC: number): { dinp: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const dinp = new Float64Array(R * IC);
  const dweight = new Float64Array(IC * OC);
  const dbias = new Float64Array(OC);
  for (let r = 0; r < R; r++) {
    for (let o = 0; o < OC; o++) {
      const g = dout[r * OC + o];
      dbias[o] += g;
      for (let i = 0; i < IC; i++) {
        dinp[r * IC + i] += g * weight[i * OC + o];
        dweight[i * OC + o] += g * inp[r * IC + i];
      }
    }
  }
  return { dinp, dweight, dbias };
}
