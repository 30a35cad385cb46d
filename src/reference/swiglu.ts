// float64 reference for the SwiGLU MLP (Hugging Face LlamaMLP / Qwen2MLP, hidden_act "silu"):
// out = down_proj(silu(gate_proj(x)) · up_proj(x)), silu(g) = g·σ(g), no biases.
// Dimensions: N rows (= B·T), C channels (hidden_size), I intermediate size.
// nn.Linear layout: weight (OC,IC), y = x·Wᵀ; so wGate, wUp (I,C) and wDown (C,I).
// Two levels: the elementwise product swiglu(gate, up) = silu(gate)·up (n elements), the part a
// kernel of its own computes, and the whole MLP with its three projections.
type Arr = ArrayLike<number>;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** out (n) = silu(gate)·up = gate·σ(gate)·up. */
export function swigluForwardRef(gate: Arr, up: Arr, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = gate[i] * sigmoid(gate[i]) * up[i];
  return out;
}

/** Gradients of sum(out · dout): dgate = dout·up·σ(g)·(1 + g·(1 − σ(g))), dup = dout·silu(g). */
export function swigluBackwardRef(dout: Arr, gate: Arr, up: Arr, n: number): { dgate: Float64Array; dup: Float64Array } {
  const dgate = new Float64Array(n);
  const dup = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const s = sigmoid(g);
    dgate[i] = dout[i] * up[i] * s * (1 + g * (1 - s));
    dup[i] = dout[i] * g * s;
  }
  return { dgate, dup };
}

// inp (N,IC), weight (OC,IC) -> out (N,OC) = inp·weightᵀ
function linearT(inp: Arr, weight: Arr, N: number, IC: number, OC: number): Float64Array {
  const out = new Float64Array(N * OC);
  for (let r = 0; r < N; r++) {
    for (let o = 0; o < OC; o++) {
      let s = 0;
      for (let i = 0; i < IC; i++) s += inp[r * IC + i] * weight[o * IC + i];
      out[r * OC + o] = s;
    }
  }
  return out;
}

// dout (N,OC) -> dinp (N,IC) += dout·weight, dweight (OC,IC) += doutᵀ·inp
function linearTBack(dinp: Float64Array, dweight: Float64Array, dout: Arr, inp: Arr, weight: Arr, N: number, IC: number, OC: number): void {
  for (let r = 0; r < N; r++) {
    for (let o = 0; o < OC; o++) {
      const g = dout[r * OC + o];
      for (let i = 0; i < IC; i++) {
        dinp[r * IC + i] += g * weight[o * IC + i];
        dweight[o * IC + i] += g * inp[r * IC + i];
      }
    }
  }
}

/**
 * inp (N,C), wGate (I,C), wUp (I,C), wDown (C,I) -> out (N,C); also returns the activations the
 * backward needs: gate, up (N,I) the two projections and h (N,I) = swiglu(gate, up).
 */
export function swigluMlpForwardRef(inp: Arr, wGate: Arr, wUp: Arr, wDown: Arr, N: number, C: number, I: number): { out: Float64Array; gate: Float64Array; up: Float64Array; h: Float64Array } {
  const gate = linearT(inp, wGate, N, C, I);
  const up = linearT(inp, wUp, N, C, I);
  const h = swigluForwardRef(gate, up, N * I);
  const out = linearT(h, wDown, N, I, C);
  return { out, gate, up, h };
}

/** Gradients of sum(out · dout) with respect to inp and the three weights. */
export function swigluMlpBackwardRef(dout: Arr, inp: Arr, wGate: Arr, wUp: Arr, wDown: Arr, gate: Arr, up: Arr, h: Arr, N: number, C: number, I: number): { dinp: Float64Array; dwGate: Float64Array; dwUp: Float64Array; dwDown: Float64Array } {
  const dh = new Float64Array(N * I);
  const dwDown = new Float64Array(C * I);
  linearTBack(dh, dwDown, dout, h, wDown, N, I, C);
  const { dgate, dup } = swigluBackwardRef(dh, gate, up, N * I);
  const dinp = new Float64Array(N * C);
  const dwGate = new Float64Array(I * C);
  const dwUp = new Float64Array(I * C);
  linearTBack(dinp, dwGate, dgate, inp, wGate, N, C, I);
  linearTBack(dinp, dwUp, dup, inp, wUp, N, C, I);
  return { dinp, dwGate, dwUp, dwDown };
}
