// Random GPT-2 weights, sequences and preference pairs for tests: one place, so every test draws
// them the same way. Dimensions as src/model/config.ts.
import { paramSpec, type GPTConfig } from '../../src/model/config';
import type { SequenceSpec } from '../../src/model/batch';
import type { PairIds } from '../../src/train/pairs';
import type { Rng } from '../../src/util/rng';

export interface WeightScales {
  /** Standard deviation of matrices and embeddings. */
  scale: number;
  /** Standard deviation of biases. */
  biasScale: number;
  /** LayerNorm gains are 1 + lnSpread · normal. */
  lnSpread: number;
}

/** Defaults: a scale where every path matters (LayerNorm gains and biases too). */
export const PATH_SCALES: WeightScales = { scale: 0.3, biasScale: 0.05, lnSpread: 0.2 };

export function randomParams(config: GPTConfig, rng: Rng, s: Partial<WeightScales> = {}): Map<string, Float32Array> {
  const { scale, biasScale, lnSpread } = { ...PATH_SCALES, ...s };
  const m = new Map<string, Float32Array>();
  for (const spec of paramSpec(config)) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const isLnWeight = /ln_\w+\.weight$/.test(spec.name);
    const sd = spec.name.endsWith('bias') ? biasScale : scale;
    m.set(spec.name, Float32Array.from({ length: n }, () => (isLnWeight ? 1 + lnSpread * rng.normal() : sd * rng.normal())));
  }
  return m;
}

/** Sequences of the given lengths (≥ 2) with a prompt of 1 … length − 1 tokens. */
export function randomSeqs(rng: Rng, V: number, lengths: number[]): SequenceSpec[] {
  return lengths.map((n) => ({ ids: Array.from({ length: n }, () => rng.int(V)), promptLen: 1 + rng.int(n - 1) }));
}

/** n byte-level pairs: prompt 2–7 tokens, completions 1–8 tokens plus end-of-text. */
export function randomPairs(rng: Rng, n: number, eos: number): PairIds[] {
  const ids = (k: number) => Array.from({ length: k }, () => rng.int(256));
  return Array.from({ length: n }, (_, i) => ({ promptIds: ids(2 + rng.int(6)), chosenIds: [...ids(1 + rng.int(8)), eos], rejectedIds: [...ids(1 + rng.int(8)), eos], index: i }));
}
