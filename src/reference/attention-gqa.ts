// float64 reference for causal grouped-query self-attention (Hugging Face LlamaAttention /
// Qwen2Attention, eager, after RoPE): the specification a GQA attention kernel must match.
// Dimensions: B batch, T time, NH query heads, NKV key/value heads (NH % NKV == 0; NKV = NH is
// multi-head attention, NKV = 1 multi-query), G = NH/NKV query heads per group, HS head size.
// q (B,T,NH,HS), k and v (B,T,NKV,HS): the layouts of the q_proj/k_proj/v_proj outputs.
// Query head h reads key/value head floor(h / G) (Hugging Face repeat_kv). Scale 1/√HS.
// lengths (B): real length of each right-padded sequence; rows t ≥ lengths[b] are padding,
// with out = 0 and att = 0 there (constants, so they pass no gradient back).
type Arr = ArrayLike<number>;

function checkShape(fn: string, lengths: Arr, B: number, T: number, NH: number, NKV: number, HS: number): number {
  for (const [k, v] of [['B', B], ['T', T], ['NH', NH], ['NKV', NKV], ['HS', HS]] as const) {
    if (!Number.isInteger(v) || v < (k === 'B' || k === 'T' ? 0 : 1)) throw new Error(`${fn}: ${k}=${v} is not a valid size`);
  }
  if (NH % NKV !== 0) throw new Error(`${fn}: NH=${NH} is not a multiple of NKV=${NKV}`);
  if (lengths.length < B) throw new Error(`${fn}: lengths has ${lengths.length} entries, needs B=${B}`);
  for (let b = 0; b < B; b++) {
    const n = lengths[b];
    if (!Number.isInteger(n) || n < 0 || n > T) throw new Error(`${fn}: lengths[${b}] = ${n} is not an integer in [0, T=${T}]`);
  }
  return NH / NKV;
}

/**
 * out (B,T,NH,HS) = per query head h: softmax_{t2 ≤ t}(q_t·k_t2 / √HS) · v over kv head floor(h/G);
 * att (B,NH,T,T) the probabilities; lse (B,NH,T) each row's log Σ exp(score) (0 on padded rows).
 */
export function attentionGqaForwardRef(q: Arr, k: Arr, v: Arr, lengths: Arr, B: number, T: number, NH: number, NKV: number, HS: number): { out: Float64Array; att: Float64Array; lse: Float64Array } {
  const G = checkShape('attentionGqaForwardRef', lengths, B, T, NH, NKV, HS);
  const scale = 1 / Math.sqrt(HS);
  const out = new Float64Array(B * T * NH * HS);
  const att = new Float64Array(B * NH * T * T);
  const lse = new Float64Array(B * NH * T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const kvh = Math.floor(h / G);
      for (let t = 0; t < lengths[b]; t++) {
        const row = ((b * NH + h) * T + t) * T;
        const qo = ((b * T + t) * NH + h) * HS;
        // subtract the row max for numerical stability
        let max = -Infinity;
        for (let t2 = 0; t2 <= t; t2++) {
          const ko = ((b * T + t2) * NKV + kvh) * HS;
          let s = 0;
          for (let d = 0; d < HS; d++) s += q[qo + d] * k[ko + d];
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
          for (let t2 = 0; t2 <= t; t2++) s += att[row + t2] * v[((b * T + t2) * NKV + kvh) * HS + d];
          out[qo + d] = s;
        }
      }
    }
  }
  return { out, att, lse };
}

/**
 * dq (B,T,NH,HS), dk and dv (B,T,NKV,HS): the gradients of sum(out · dout) given the forward's att.
 * A key/value head's gradient is the sum over the G query heads of its group.
 */
export function attentionGqaBackwardRef(dout: Arr, q: Arr, k: Arr, v: Arr, att: Arr, lengths: Arr, B: number, T: number, NH: number, NKV: number, HS: number): { dq: Float64Array; dk: Float64Array; dv: Float64Array } {
  const G = checkShape('attentionGqaBackwardRef', lengths, B, T, NH, NKV, HS);
  const scale = 1 / Math.sqrt(HS);
  const dq = new Float64Array(B * T * NH * HS);
  const dk = new Float64Array(B * T * NKV * HS);
  const dv = new Float64Array(B * T * NKV * HS);
  const datt = new Float64Array(T);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < NH; h++) {
      const kvh = Math.floor(h / G);
      for (let t = 0; t < lengths[b]; t++) {
        const row = ((b * NH + h) * T + t) * T;
        const qo = ((b * T + t) * NH + h) * HS;
        // out_t = Σ att[t2] v_t2  ->  datt[t2] = dout_t · v_t2,  dv_t2 += att[t2] dout_t
        let dot = 0;
        for (let t2 = 0; t2 <= t; t2++) {
          const vo = ((b * T + t2) * NKV + kvh) * HS;
          let s = 0;
          for (let d = 0; d < HS; d++) {
            s += dout[qo + d] * v[vo + d];
            dv[vo + d] += att[row + t2] * dout[qo + d];
          }
          datt[t2] = s;
          dot += att[row + t2] * s;
        }
        // softmax backward, then the scaled dot product q_t · k_t2
        for (let t2 = 0; t2 <= t; t2++) {
          const dpre = att[row + t2] * (datt[t2] - dot) * scale;
          const ko = ((b * T + t2) * NKV + kvh) * HS;
          for (let d = 0; d < HS; d++) {
            dq[qo + d] += dpre * k[ko + d];
            dk[ko + d] += dpre * q[qo + d];
          }
        }
      }
    }
  }
  return { dq, dk, dv };
}
