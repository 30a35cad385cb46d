// Next-token pretraining on the engine (no React, no Node APIs): packed rows of B×T tokens,
// loss = token-mean cross-entropy over every predicted position. Each update is recorded as
// zero-grad → forward → backward (constant per-position coefficients −1/N) → grad norm →
// AdamW (the trainer's OptimizerState: decay on every weight but biases and LayerNorm gains)
// in ONE queue submission; the only readback is the per-row log-prob sums (B floats)
// and the squared grad norm (1 float), awaited together.
// Dimensions: B rows, T tokens per row, N = B·(T−1) predicted tokens.
import { StepEncoder } from '../engine/encoder';
import { readF32 } from '../engine/readback';
import { buildBatch, type HostBatch } from '../model/batch';
import { GptModel, GptRunner } from '../model/gpt';
import { getLr } from '../train/schedule';
import { OptimizerState } from '../train/optimizer-state';

export interface PretrainHp {
  /** Rows per update. */
  batchSize: number;
  /** Tokens per row (≤ n_positions). */
  seqLen: number;
  steps: number;
  lr: number;
  warmupSteps: number;
  weightDecay: number;
  beta1: number;
  beta2: number;
  eps: number;
  maxGradNorm: number;
}

export const PRETRAIN_DEFAULTS: Omit<PretrainHp, 'batchSize' | 'seqLen' | 'steps'> = {
  lr: 3e-3,
  warmupSteps: 100,
  weightDecay: 0.1,
  beta1: 0.9,
  beta2: 0.95,
  eps: 1e-8,
  maxGradNorm: 1.0,
};

export interface StepResult {
  /** Token-mean cross-entropy of this update's batch (nats), before the update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  lr: number;
}

/** rows: B token rows of exactly T ids -> a batch where every position but the last predicts. */
export function rowsBatch(rows: readonly (readonly number[])[], T: number, padId: number): HostBatch {
  for (const [i, r] of rows.entries()) if (r.length !== T) throw new Error(`row ${i}: ${r.length} tokens, expected ${T}`);
  return buildBatch(rows.map((ids) => ({ ids, promptLen: 1 })), padId, T);
}

export class Pretrainer {
  readonly runner: GptRunner;
  step = 0;
  private optimizer: OptimizerState;
  /** Predicted tokens per batch. */
  readonly N: number;

  constructor(readonly model: GptModel, readonly cfg: PretrainHp) {
    const { batchSize: B, seqLen: T } = cfg;
    if (!Number.isInteger(B) || B < 1) throw new Error(`batchSize must be a positive integer, got ${B}`);
    if (!Number.isInteger(T) || T < 2) throw new Error(`seqLen must be an integer ≥ 2, got ${T}`);
    if (!Number.isInteger(cfg.steps) || cfg.steps < 1) throw new Error(`steps must be a positive integer, got ${cfg.steps}`);
    this.runner = new GptRunner(model, B, T);
    this.N = B * (T - 1);
    this.optimizer = new OptimizerState(model, { ...cfg, optimizer: 'adamw', momentsDtype: 'f32' });
  }

  /** Uploads the batch and its coefficients: −1/N at every predicted position (d loss / d logp). */
  private load(batch: HostBatch): void {
    this.runner.setBatch(batch);
    const coef = new Float32Array(batch.B * batch.T);
    for (let k = 0; k < coef.length; k++) coef[k] = -batch.completionMask[k] / this.N;
    this.runner.setCoefficients(coef);
  }

  private lossFromSums(sums: Float32Array): number {
    let s = 0;
    for (const x of sums) s += x;
    return -s / this.N;
  }

  /** One AdamW update on B rows of T tokens; returns the batch loss before the update. */
  async trainStep(rows: readonly (readonly number[])[]): Promise<StepResult> {
    const { model, cfg } = this;
    const batch = rowsBatch(rows, cfg.seqLen, model.config.eosTokenId);
    if (batch.B !== cfg.batchSize) throw new Error(`trainStep: ${batch.B} rows, expected ${cfg.batchSize}`);
    this.load(batch);
    const lr = getLr(this.step, { lr: cfg.lr, kind: 'cosine', warmupSteps: cfg.warmupSteps, totalSteps: cfg.steps });
    const enc = new StepEncoder(model.gpu, 'pretrain.step');
    enc.clear(model.grads.whole());
    this.runner.forward(enc);
    this.runner.backward(enc);
    this.optimizer.encodeGradNorm(enc);
    this.optimizer.encodeApply(enc, lr, this.step + 1);
    enc.submit();
    const [sums, gradNorm] = await Promise.all([readF32(model.gpu.device, this.runner.a('seq_logp')), this.optimizer.readGradNorm()]);
    this.step++;
    const loss = this.lossFromSums(sums);
    if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) throw new Error(`pretraining diverged at step ${this.step}: loss ${loss}, grad norm ${gradNorm}`);
    return { loss, gradNorm, lr };
  }

  /** Token-mean cross-entropy (nats) over rows, forward only, in batches of B (a short last batch is padded by repeating rows and not counted). */
  async evalLoss(rows: readonly (readonly number[])[]): Promise<number> {
    const { cfg, model } = this;
    let total = 0;
    let count = 0;
    for (let i = 0; i < rows.length; i += cfg.batchSize) {
      const part = rows.slice(i, i + cfg.batchSize);
      const real = part.length;
      while (part.length < cfg.batchSize) part.push(part[part.length % real]);
      this.load(rowsBatch(part, cfg.seqLen, model.config.eosTokenId));
      const enc = new StepEncoder(model.gpu, 'pretrain.eval');
      this.runner.forward(enc);
      enc.submit();
      const sums = await readF32(model.gpu.device, this.runner.a('seq_logp'));
      for (let b = 0; b < real; b++) total -= sums[b];
      count += real * (cfg.seqLen - 1);
    }
    return total / count;
  }

  destroy(): void {
    this.runner.destroy();
    this.optimizer.destroy();
  }
}
