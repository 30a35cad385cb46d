// float64 reference for causal multi-head self-attention (Hugging Face GPT2Attention):
// the specification of shaders/attention.wgsl for GPT-2 (NKV = NH, HS = C/NH); grouped-query
// attention with its own head size is src/reference/attention-gqa.ts.
// Dimensions: B batch, T time, C channels, NH heads, HS = C/NH head size.
// qkv (B,T,3C) from c_attn: q = [0,C), k = [C,2C), v = [2C,3C); head h owns channels h·HS..(h+1)·HS.
// lengths (B): real length of each right-padded sequence; rows t ≥ lengths[b] are padding,
// with out = 0 and att = 0 there (constants, so they pass no gradient back).
type Arr = ArrayLike<number>;

function checkShape(fn: string, lengths: Arr, B: number, T: number, C: number, NH: number): number {
  if (NH <= 0 || C % NH !== 0) throw new Error(`${fn}: C=${C} is not a multiple of NH=${NH}`);
  if (lengths.length < B) throw new Error(`${fn}: lengths has ${lengths.length} entries, needs B=${B}`);
  for (let b = 0; b < B; b++) {
    const n = lengths[b];
    if (!Number.isInteger(n) || n < 0 || n > T) throw new Error(`${fn}: lengths[${b}] = ${n} is not an integer in [0, T=${T}]`);
  }
  return C / NH;
}

/**
 * out (B,T,C) = per head softmax_{t2 ≤ t}(q_t·k_t2 / sqrt(HS)) · v, heads concatenated; att (B,NH,T,T) the
 * probabilities; lse (B,NH,T) each row's log Σ exp(score) (0 on padded rows).
 */
export function attentionForwardRef(qkv: Arr, lengths: Arr, B: number, T: number, C: number, NH: number): { out: Float64Array; att: Float64Array; lse: Float64Array } {
  const HS = checkShape('attentionForwardRef', lengths, B, T, C, NH);
  const C3 = 3 * C;
  const scale = 1 / Math.sqrt(HS);
  const out = new Float64Array(B * T * C);
  const att = new Float64Array(B * NH * T * T);
  const lse = new Float64Array(B * NH * T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < lengths[b]; t++) {
        const row = ((b * NH + h) * T + t) * T;
        const q = (b * T + t) * C3 + h * HS;
        // subtract the row max for numerical stability
        let max = -Infinity;
        for (let t2 = 0; t2 <= t; t2++) {
          const k = (b * T + t2) * C3 + C + h * HS;
          let s = 0;
          for (let d = 0; d < HS; d++) s += qkv[q + d] * qkv[k + d];
          att[row + t2] = s * scale;
          max = Math.max(max, s * scale);
        }
        let sum = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          att[row + t2] = Math.exp(att[row + t2] - max);
          sum += att[row + t2];
        }
        for (let t2 = 0; t2 <= t; t2++) att[row + t2] /= sum;
        lse[(b * NH + h) * T + t] = max + Math.log(sum);
        for (let d = 0; d < HS; d++) {
          let s = 0;
          for (let t2 = 0; t2 <= t; t2++) s += att[row + t2] * qkv[(b * T + t2) * C3 + 2 * C + h * HS + d];
          out[(b * T + t) * C + h * HS + d] = s;
        }
      }
    }
  }
  return { out, att, lse };
}

/** dqkv (B,T,3C): the gradient of sum(out · dout) with respect to qkv, given the forward's att. */
export function attentionBackwardRef(dout: Arr, qkv: Arr, att: Arr, lengths: Arr, B: number, T: number, C: number, NH: number): { dqkv: Float64Array } {
  const HS = checkShape('attentionBackwardRef', lengths, B, T, C, NH);
  const C3 = 3 * C;
  const scale = 1 / Math.sqrt(HS);
  const dqkv = new Float64Array(B * T * C3);
  const datt = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      for (let t = 0; t < lengths[b]; t++) {
        const row = ((b * NH + h) * T + t) * T;
        const o = (b * T + t) * C + h * HS;
        const q = (b * T + t) * C3 + h * HS;
        // out_t = Σ att[t2] v_t2  ->  datt[t2] = dout_t · v_t2,  dv_t2 += att[t2] dout_t
        let dot = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const v = (b * T + t2) * C3 + 2 * C + h * HS;
          let s = 0;
          for (let d = 0; d < HS; d++) {
            s += dout[o + d] * qkv[v + d];
            dqkv[v + d] += att[row + t2] * dout[o + d];
          }
          datt[t2] = s;
          dot += att[row + t2] * s;
        }
        // softmax backward, then the scaled dot product q_t · k_t2
        for (let t2 = 0; t2 <= t; t2++) {
          const dpre = att[row + t2] * (datt[t2] - dot) * scale;
          const k = (b * T + t2) * C3 + C + h * HS;
          for (let d = 0; d < HS; d++) {
            dqkv[q + d] += dpre * qkv[k + d];
            dqkv[k + d] += dpre * qkv[q + d];
          }
        }
      }
    }
  }
  return { dqkv };
}
