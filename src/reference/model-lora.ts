// LoRA's part of a projection inside the whole-model oracles (gpt2.ts, llama.ts), shared by
// the two of them only: like them it imports nothing of the per-kernel references (./lora.ts is
// the kernel's), so a mistake in the LoRA kernels cannot hide in the model check.
//   y += s·(x Aᵀ) Bᵀ,   x (T,IC), A (r,IC), B (OC,r), u = s·x Aᵀ (T,r) kept for the backward
type Arr = ArrayLike<number>;

/**
 * The adapter's part of a whole model's projection, as the model references (gpt2.ts, llama.ts)
 * use it: adds s·(x Aᵀ) Bᵀ to y (T, OC) in place and returns u = s·x Aᵀ (T, r) for the backward.
 */
export function loraAddInto(y: Float64Array, x: Arr, A: Arr, B: Arr, s: number, T: number, IC: number, OC: number): Float64Array {
  const r = A.length / IC;
  const u = new Float64Array(T * r);
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < r; k++) {
      let acc = 0;
      for (let i = 0; i < IC; i++) acc += x[t * IC + i] * A[k * IC + i];
      u[t * r + k] = s * acc;
    }
  }
  for (let t = 0; t < T; t++) for (let o = 0; o < OC; o++) for (let k = 0; k < r; k++) y[t * OC + o] += u[t * r + k] * B[o * r + k];
  return u;
}

/** loraAddInto's backward: accumulates dA, dB and the adapter's part of dx, given dout and u. */
export function loraAddBack(dout: Arr, x: Arr, u: Arr, A: Arr, B: Arr, s: number, dA: Float64Array, dB: Float64Array, dx: Float64Array, T: number, IC: number, OC: number): void {
  const r = A.length / IC;
  const du = new Float64Array(T * r); // s · dout B
  for (let t = 0; t < T; t++) {
    for (let o = 0; o < OC; o++) {
      const d = dout[t * OC + o];
      for (let k = 0; k < r; k++) {
        du[t * r + k] += s * d * B[o * r + k];
        dB[o * r + k] += d * u[t * r + k];
      }
    }
  }
  for (let t = 0; t < T; t++) {
    for (let k = 0; k < r; k++) {
      for (let i = 0; i < IC; i++) {
        dA[k * IC + i] += du[t * r + k] * x[t * IC + i];
        dx[t * IC + i] += du[t * r + k] * A[k * IC + i];
      }
    }
  }
}
