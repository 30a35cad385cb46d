// float64 reference for the encoder (token + position embedding):
// inp (B,T) token ids, wte (V,C), wpe (P,C) -> out (B,T,C) = wte[inp[b,t]] + wpe[t].
type Arr = ArrayLike<number>;

export function encoderForwardRef(inp: Arr, wte: Arr, wpe: Arr, B: number, T: number, C: number): Float64Array {
  const out = new Float64Array(B * T * C);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const id = inp[b * T + t];
      for (let c = 0; c < C; c++) out[(b * T + t) * C + c] = wte[id * C + c] + wpe[t * C + c];
    }
  }
  return out;
}

/** Gradients of sum(out · dout) with respect to wte (V,C) and wpe (P,C); rows never used stay 0. */
export function encoderBackwardRef(dout: Arr, inp: Arr, B: number, T: number, C: number, V: number, P: number): { dwte: Float64Array; dwpe: Float64Array } {
  const dwte = new Float64Array(V * C);
  const dwpe = new Float64Array(P * C);
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      const id = inp[b * T + t];
      for (let c = 0; c < C; c++) {
        const g = dout[(b * T + t) * C + c];
        dwte[id * C + c] += g;
        dwpe[t * C + c] += g;
      }
    }
  }
  return { dwte, dwpe };
}
