// float64 reference for GPT-2 LayerNorm over rows N (= B·T) of C channels:
// inp (N,C), weight (C), bias (C) -> out (N,C), mean (N), rstd (N) = 1/√(var + eps)
// with the biased variance (divide by C), as torch.nn.LayerNorm.
type Arr = ArrayLike<number>;

export function layernormForwardRef(inp: Arr, weight: Arr, bias: Arr, N: number, C: number, eps: number): { out: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const out = new Float64Array(N * C);
  const mean = new Float64Array(N);
  const rstd = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const b = n * C;
    let m = 0;
    for (let c = 0; c < C; c++) m += inp[b + c];
    m /= C;
    let v = 0;
    for (let c = 0; c < C; c++) v += (inp[b + c] - m) ** 2;
    const rs = 1 / Math.sqrt(v / C + eps);
    for (let c = 0; c < C; c++) out[b + c] = (inp[b + c] - m) * rs * weight[c] + bias[c];
    mean[n] = m;
    rstd[n] = rs;
  }
  return { out, mean, rstd };
}

/** Gradients of sum(out · dout) with respect to inp, weight and bias. */
export function layernormBackwardRef(dout: Arr, inp: Arr, weight: Arr, mean: Arr, rstd: Arr, N: number, C: number): { dinp: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const dinp = new Float64Array(N * C);
  const dweight = new Float64Array(C);
  const dbias = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const b = n * C;
    let dnormMean = 0;
    let dnormNormMean = 0;
    for (let c = 0; c < C; c++) {
      const norm = (inp[b + c] - mean[n]) * rstd[n];
      const dnorm = weight[c] * dout[b + c];
      dnormMean += dnorm;
      dnormNormMean += dnorm * norm;
      dweight[c] += dout[b + c] * norm;
      dbias[c] += dout[b + c];
    }
    dnormMean /= C;
    dnormNormMean /= C;
    for (let c = 0; c < C; c++) {
      const norm = (inp[b + c] - mean[n]) * rstd[n];
      dinp[b + c] = (weight[c] * dout[b + c] - dnormMean - norm * dnormNormMean) * rstd[n];
    }
  }
  return { dinp, dweight, dbias };
}
