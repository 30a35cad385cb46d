// Pair difficulty: CHES, the centered hidden embedding similarity of Razin et al. 2024
// ("Unintentional Unalignment: Likelihood Displacement in Direct Preference Optimization"):
//   CHES(x, y+, y−) = ⟨Σ_k h_{x,y+<k}, Σ_k' h_{x,y−<k'}⟩ − ‖Σ_k h_{x,y+<k}‖²
// where h_{x,y<k} is the model's final hidden state (after the final norm, what the LM head reads)
// at the position that predicts completion token k, i.e. exactly the positions of the batch's
// completion mask. The higher a pair's CHES, the more training on it tends to lower the chosen
// answer's likelihood. The length-normalised variant divides the inner product by |y+|·|y−| and the
// norm by |y+|². Sums are float64 over the f32 hidden states read back from the GPU.
import type { HostBatch } from '../model/batch';

export interface Ches {
  ches: number;
  /** Length-normalised CHES (the paper's variant for answers of different lengths). */
  normalized: number;
}

/** Σ over the completion positions of sequence b of hidden (B,T,C) rows, in float64. */
export function completionHiddenSum(hidden: ArrayLike<number>, mask: ArrayLike<number>, b: number, T: number, C: number): Float64Array {
  const s = new Float64Array(C);
  for (let t = 0; t < T; t++) {
    if (!mask[b * T + t]) continue;
    const row = (b * T + t) * C;
    for (let c = 0; c < C; c++) s[c] += hidden[row + c];
  }
  return s;
}

/** CHES of one pair from the summed hidden states of its chosen (w) and rejected (l) answers and their lengths. */
export function chesFromSums(sw: ArrayLike<number>, sl: ArrayLike<number>, lenW: number, lenL: number): Ches {
  let dot = 0;
  let norm = 0;
  for (let c = 0; c < sw.length; c++) {
    dot += sw[c] * sl[c];
    norm += sw[c] * sw[c];
  }
  return { ches: dot - norm, normalized: dot / (lenW * lenL) - norm / (lenW * lenW) };
}

/** CHES of the k pairs of a pair batch ([chosen_0..k−1, rejected_0..k−1]) from its final hidden states (B,T,C). */
export function batchChes(hidden: ArrayLike<number>, batch: HostBatch, C: number): Ches[] {
  const k = batch.B / 2;
  return Array.from({ length: k }, (_, j) => {
    const sw = completionHiddenSum(hidden, batch.completionMask, j, batch.T, C);
    const sl = completionHiddenSum(hidden, batch.completionMask, k + j, batch.T, C);
    return chesFromSums(sw, sl, batch.completionLens[j], batch.completionLens[k + j]);
  });
}
