// float64 reference for rotary position embedding (Hugging Face LlamaRotaryEmbedding +
// apply_rotary_pos_emb, the rotate_half convention, no rope_scaling).
// Dimensions: B batch, T time, NH heads (query heads for q, key/value heads for k: the same
// operation), HS head size (even; head_dim, which may differ from C/NH).
// inp (B,T,NH,HS) row-major, the layout of a q_proj/k_proj output; row t has position id t.
// inv_freq[i] = theta^(−2i/HS) for i < HS/2, angle(t, i) = t·inv_freq[i]. Hugging Face writes
// out = inp·cos + rotate_half(inp)·sin with cos/sin tables over emb = [f, f] and
// rotate_half([x1, x2]) = [−x2, x1] (halves, not interleaved pairs); that is the same as rotating
// each pair (x_i, x_{i+HS/2}) by angle(t, i), which is how it is computed here:
//   out_i = x_i·cos − x_{i+HS/2}·sin,   out_{i+HS/2} = x_{i+HS/2}·cos + x_i·sin.
type Arr = ArrayLike<number>;

function checkShape(fn: string, HS: number, theta: number): void {
  if (!Number.isInteger(HS) || HS <= 0 || HS % 2 !== 0) throw new Error(`${fn}: head size HS=${HS} must be a positive even integer`);
  if (!(theta > 0)) throw new Error(`${fn}: theta=${theta} must be > 0`);
}

/** inv_freq (HS/2) = theta^(−2i/HS). */
export function ropeInvFreqRef(HS: number, theta: number): Float64Array {
  checkShape('ropeInvFreqRef', HS, theta);
  return Float64Array.from({ length: HS / 2 }, (_, i) => Math.pow(theta, (-2 * i) / HS));
}

// Rotates every pair of every row of (B,T,NH,HS) by sign·angle(t, i).
function rotate(inp: Arr, B: number, T: number, NH: number, HS: number, theta: number, sign: number): Float64Array {
  const half = HS / 2;
  const invFreq = ropeInvFreqRef(HS, theta);
  const out = new Float64Array(B * T * NH * HS);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < half; i++) {
      const a = t * invFreq[i];
      const c = Math.cos(a);
      const s = sign * Math.sin(a);
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < NH; h++) {
          const o = ((b * T + t) * NH + h) * HS;
          const x1 = inp[o + i];
          const x2 = inp[o + half + i];
          out[o + i] = x1 * c - x2 * s;
          out[o + half + i] = x2 * c + x1 * s;
        }
      }
    }
  }
  return out;
}

/** out (B,T,NH,HS): every head of row t rotated by its position t. */
export function ropeForwardRef(inp: Arr, B: number, T: number, NH: number, HS: number, theta: number): Float64Array {
  checkShape('ropeForwardRef', HS, theta);
  return rotate(inp, B, T, NH, HS, theta, 1);
}

/** Gradient of sum(out · dout) with respect to inp: the transpose rotation (angle −t·inv_freq). */
export function ropeBackwardRef(dout: Arr, B: number, T: number, NH: number, HS: number, theta: number): Float64Array {
  checkShape('ropeBackwardRef', HS, theta);
  return rotate(dout, B, T, NH, HS, theta, -1);
}
