// float64 reference of one projection with a LoRA adapter (PEFT's LoraLayer, eval mode, no
// dropout): the specification src/kernels/lora.ts must match.
//   y (R,OC) = x (R,IC) · Wᵀ + b + s · (x Aᵀ) Bᵀ,   A (r,IC), B (OC,r), s = lora_alpha / r
// W in nn.Linear layout (OC,IC); the base product is included so a test checks the whole
// projection, and its gradient flows through base and adapter alike (the base is frozen: no dW).
type Arr = ArrayLike<number>;

export interface LoraRefResult {
  y: Float64Array;
  /** s · x Aᵀ (R, r): what the backward reads. */
  u: Float64Array;
}

export function loraForwardRef(x: Arr, W: Arr, b: Arr | null, A: Arr, B: Arr, s: number, R: number, IC: number, OC: number, r: number): LoraRefResult {
  const u = new Float64Array(R * r);
  for (let i = 0; i < R; i++) {
    for (let k = 0; k < r; k++) {
      let acc = 0;
      for (let c = 0; c < IC; c++) acc += x[i * IC + c] * A[k * IC + c];
      u[i * r + k] = s * acc;
    }
  }
  const y = new Float64Array(R * OC);
  for (let i = 0; i < R; i++) {
    for (let o = 0; o < OC; o++) {
      let acc = b ? b[o] : 0;
      for (let c = 0; c < IC; c++) acc += x[i * IC + c] * W[o * IC + c];
      for (let k = 0; k < r; k++) acc += u[i * r + k] * B[o * r + k];
      y[i * OC + o] = acc;
    }
  }
  return { y, u };
}

/** Gradients of Σ y·dy with respect to x, A and B (W and b frozen). */
export function loraBackwardRef(dy: Arr, x: Arr, W: Arr, A: Arr, B: Arr, s: number, R: number, IC: number, OC: number, r: number): { dx: Float64Array; dA: Float64Array; dB: Float64Array } {
  const { u } = loraForwardRef(x, W, null, A, B, s, R, IC, OC, r);
  const du = new Float64Array(R * r); // s · dy B
  const dB = new Float64Array(OC * r);
  for (let i = 0; i < R; i++) {
    for (let o = 0; o < OC; o++) {
      const g = dy[i * OC + o];
      for (let k = 0; k < r; k++) {
        du[i * r + k] += s * g * B[o * r + k];
        dB[o * r + k] += g * u[i * r + k];
      }
    }
  }
  const dx = new Float64Array(R * IC);
  const dA = new Float64Array(r * IC);
  for (let i = 0; i < R; i++) {
    for (let c = 0; c < IC; c++) {
      let acc = 0;
      for (let o = 0; o < OC; o++) acc += dy[i * OC + o] * W[o * IC + c];
      for (let k = 0; k < r; k++) {
        acc += du[i * r + k] * A[k * IC + c];
        dA[k * IC + c] += du[i * r + k] * x[i * IC + c];
      }
      dx[i * IC + c] = acc;
    }
  }
  return { dx, dA, dB };
}

