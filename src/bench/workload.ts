// The benchmark's workload, identical for the engine and the peer: GPT-2 initial weights
// (normal(0, 0.02), LayerNorm gains 1, biases 0) or a Llama-family model's Hugging Face
// initialisation (initLlamaParams; no peer runs those), B full-length random sequences of T
// tokens whose second half is the completion, and random per-position coefficients dL/dlogp
// standing in for an objective's (the trainer derives them from DPO/ORPO statistics).
import { paramSpec, type GPTConfig } from '../model/config';
import { initLlamaParams } from '../model/llama-config';
import { isLlamaConfig, sequenceConfig, type ModelConfig } from '../model/family';
import { buildBatch, type HostBatch } from '../model/batch';
import { IGNORE_TARGET } from '../model/constants';
import { Rng } from '../util/rng';

export type BenchBatch = HostBatch;

/** Starting weights of a bench model: GPT-2's as below (what the TF.js peer also gets), a Llama-family model's initLlamaParams. */
export function benchModelWeights(config: ModelConfig, seed: number): Map<string, Float32Array> {
  return isLlamaConfig(config) ? initLlamaParams(config, seed) : benchWeights(config, seed);
}

export function benchWeights(config: GPTConfig, seed: number): Map<string, Float32Array> {
  const rng = new Rng(seed);
  const out = new Map<string, Float32Array>();
  for (const s of paramSpec(config)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const w = new Float32Array(n);
    if (/ln_\w+\.weight$/.test(s.name)) w.fill(1);
    else if (!s.name.endsWith('bias')) for (let i = 0; i < n; i++) w[i] = 0.02 * rng.normal();
    out.set(s.name, w);
  }
  return out;
}

export function benchBatch(config: ModelConfig, B: number, T: number, seed: number): BenchBatch {
  if (T < 2) throw new Error(`bench: sequence length ${T} must be ≥ 2`);
  const { vocabSize, eosTokenId } = sequenceConfig(config);
  const rng = new Rng(seed);
  const seqs = Array.from({ length: B }, () => ({
    ids: Array.from({ length: T }, () => rng.int(vocabSize)),
    promptLen: Math.max(1, T >> 1),
  }));
  return buildBatch(seqs, eosTokenId, T);
}

/** Per-position coefficients (B·T): uniform in ±1/(B·T) where a target exists, else 0. */
export function benchCoefficients(batch: BenchBatch, rng: Rng): Float32Array {
  const n = batch.B * batch.T;
  const coef = new Float32Array(n);
  for (let i = 0; i < n; i++) if (batch.targets[i] !== IGNORE_TARGET) coef[i] = rng.uniform(-1, 1) / n;
  return coef;
}
