// Float64 logits for the ONNX tests, from the independent GPT-2 in src/reference/gpt2.ts:
// logits (T,V) = ln_f output (T,C) · wteᵀ, taken from the reference's forward cache.
import { gpt2ForwardRef } from '../../src/reference/gpt2';
import type { GPTConfig } from '../../src/model/config';
import type { BatchLogits } from '../../src/onnx/session';
import type { LogitsModel } from '../../src/onnx/generate';
import { Rng } from '../../src/util/rng';
export { randomParams } from './random-model';

/** Per sequence, its (len, V) logits row-major. */
export function refLogits(params: Map<string, Float32Array>, config: GPTConfig, seqs: number[][]): Float64Array[] {
  const { cache } = gpt2ForwardRef(params, config, seqs);
  const { nEmbd: C, vocabSize: V } = config;
  const wte = cache.params.get('wte.weight')!;
  return cache.seqs.map((sc) => {
    const T = sc.tokens.length;
    const out = new Float64Array(T * V);
    for (let t = 0; t < T; t++) {
      for (let v = 0; v < V; v++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += sc.lnf.out[t * C + c] * wte[v * C + c];
        out[t * V + v] = s;
      }
    }
    return out;
  });
}

/** The float64 reference as a LogitsModel, so generate() can run on it. */
export function refLogitsModel(params: Map<string, Float32Array>, config: GPTConfig): LogitsModel {
  return {
    vocabSize: config.vocabSize,
    nPositions: config.nPositions,
    async logits(seqs): Promise<BatchLogits> {
      const rows = refLogits(params, config, seqs.map((s) => [...s]));
      const T = Math.max(...seqs.map((s) => s.length));
      const V = config.vocabSize;
      const logits = new Float32Array(seqs.length * T * V);
      rows.forEach((r, b) => logits.set(r, b * T * V));
      return { B: seqs.length, T, V, lengths: seqs.map((s) => s.length), logits };
    },
  };
}

export function randomIds(rng: Rng, V: number, lengths: number[]): number[][] {
  return lengths.map((n) => Array.from({ length: n }, () => rng.int(V)));
}

/** Largest absolute difference, and it relative to the largest |want| (for reporting). */
export function worstDiff(got: ArrayLike<number>, want: ArrayLike<number>): { maxAbs: number; relToMax: number } {
  let maxAbs = 0;
  let maxRef = 0;
  for (let i = 0; i < want.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(got[i] - want[i]));
    maxRef = Math.max(maxRef, Math.abs(want[i]));
  }
  return { maxAbs, relToMax: maxAbs / maxRef };
}
