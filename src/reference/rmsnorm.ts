// float64 reference for RMSNorm (Hugging Face LlamaRMSNorm / Qwen2RMSNorm) over rows N (= B·T) of
// C channels: inp (N,C), weight (C) -> out (N,C) = inp · rstd · weight, rstd (N) = 1/√(mean(inp²) + eps).
// No mean subtraction and no bias, unlike LayerNorm (layernorm.ts).
type Arr = ArrayLike<number>;

export function rmsnormForwardRef(inp: Arr, weight: Arr, N: number, C: number, eps: number): { out: Float64Array; rstd: Float64Array } {
  const out = new Float64Array(N * C);
  const rstd = new Float64Array(N);
  for (let n = 0; n < N; n++) {
    const b = n * C;
    let ms = 0;
    for (let c = 0; c < C; c++) ms += inp[b + c] * inp[b + c];
    const rs = 1 / Math.sqrt(ms / C + eps);
    for (let c = 0; c < C; c++) out[b + c] = inp[b + c] * rs * weight[c];
    rstd[n] = rs;
  }
  return { out, rstd };
}

/**
 * Gradients of sum(out · dout) with respect to inp and weight. With g = dout·weight and
 * xhat = inp·rstd: dinp = rstd·(g − xhat·mean(g·xhat)) per row; dweight = Σ_rows dout·xhat.
 */
export function rmsnormBackwardRef(dout: Arr, inp: Arr, weight: Arr, rstd: Arr, N: number, C: number): { dinp: Float64Array; dweight: Float64Array } {
  const dinp = new Float64Array(N * C);
  const dweight = new Float64Array(C);
  for (let n = 0; n < N; n++) {
    const b = n * C;
    let gxMean = 0;
    for (let c = 0; c < C; c++) {
      const xhat = inp[b + c] * rstd[n];
      gxMean += dout[b + c] * weight[c] * xhat;
      dweight[c] += dout[b + c] * xhat;
    }
    gxMean /= C;
    for (let c = 0; c < C; c++) {
      const xhat = inp[b + c] * rstd[n];
      dinp[b + c] = rstd[n] * (dout[b + c] * weight[c] - xhat * gxMean);
    }
  }
  return { dinp, dweight };
}
