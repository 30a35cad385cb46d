// The tail every model runner shares: per-position statistics of the LM head reduced to the
// per-sequence sums the trainer reads back (one small readback per micro-batch), and the
// per-position coefficients dL/dlogp the backward starts from. `a` names the runner's activation
// views: logp, mean_logit, entropy, correct, completion_mask, nll_mask (B,T) in; seq_* (B) out.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { readF32, readManyF32 } from '../engine/readback';
import type { ScoreHead } from './score-head';
import { sequenceSums } from '../kernels/logprob';

/** Per-sequence sums of the last forward, as the objectives consume them. */
export interface SequenceStats {
  /** (B,) Σ log-probs over completion tokens. */
  logp: Float64Array;
  /** (B,) Σ log-probs over the NLL tokens. */
  nll: Float64Array;
  /** (B,) Σ over completion tokens of the mean-over-vocabulary logit. */
  logitSum: Float64Array;
  /** (B,) Σ over completion tokens of the softmax entropy (nats). */
  entropySum: Float64Array;
  /** (B,) completion tokens whose argmax equals the target. */
  correctCount: Float64Array;
}

const SUMS = ['seq_logp', 'seq_nll', 'seq_logit', 'seq_entropy', 'seq_correct'] as const;

export function encodeSequenceSums(enc: StepEncoder, a: (name: string) => View, B: number, T: number): void {
  sequenceSums(enc, a('seq_logp'), a('logp'), a('completion_mask'), B, T);
  sequenceSums(enc, a('seq_nll'), a('logp'), a('nll_mask'), B, T);
  sequenceSums(enc, a('seq_logit'), a('mean_logit'), a('completion_mask'), B, T);
  sequenceSums(enc, a('seq_entropy'), a('entropy'), a('completion_mask'), B, T);
  sequenceSums(enc, a('seq_correct'), a('correct'), a('completion_mask'), B, T);
}

export async function readSequenceStats(device: GPUDevice, a: (name: string) => View): Promise<SequenceStats> {
  const [logp, nll, logitSum, entropySum, correctCount] = (await readManyF32(device, SUMS.map((n) => a(n)))).map((x) => Float64Array.from(x));
  return { logp, nll, logitSum, entropySum, correctCount };
}

/** Uploads per-position coefficients dL/dlogp (B,T) into `coef`. */
export function writeCoefficients(device: GPUDevice, coefView: View, coef: Float32Array, BT: number): void {
  if (coef.length !== BT) throw new Error(`coefficients: ${coef.length} values for ${BT} positions`);
  device.queue.writeBuffer(coefView.buffer, coefView.offset, coef.buffer, coef.byteOffset, coef.byteLength);
}

const REWARD_MODEL = 'log-probs: this is a reward model (a score head, no LM head): read its scores (readRewards)';

/**
 * The readbacks and uploads GptRunner and LlamaRunner share around their heads: the LM head's
 * per-sequence sums and per-position log-probs and coefficients, or a reward model's scores and
 * their gradients. A runner names its activations (`a`), its score head and its device.
 */
export abstract class RunnerTail {
  abstract readonly BT: number;
  abstract readonly score: ScoreHead | null;
  protected abstract get device(): GPUDevice;
  abstract a(name: string): View;

  /** Reward model: the score of every sequence of the last forward (B), read at its last non-padding token. */
  async readRewards(): Promise<Float64Array> {
    if (!this.score) throw new Error('readRewards: this model has no score head (not a reward model)');
    return this.score.readRewards();
  }

  /** Reward model: upload ∂loss/∂reward per sequence (B), where backward starts instead of the coefficients. */
  setRewardGradients(dReward: ArrayLike<number>): void {
    if (!this.score) throw new Error('setRewardGradients: this model has no score head (not a reward model)');
    this.score.setGradients(dReward);
  }

  /**
   * A value model (a reward model read at every position, PPO): the score head's output at every
   * position of the last forward, (B,T).
   */
  async readValues(): Promise<Float32Array> {
    if (!this.score) throw new Error('readValues: this model has no score head (not a reward model)');
    return this.score.readAll();
  }

  /** A value model: upload ∂loss/∂value at every position (B,T), where backward starts. */
  setValueGradients(dValue: Float32Array): void {
    if (!this.score) throw new Error('setValueGradients: this model has no score head (not a reward model)');
    this.score.setAllGradients(dValue);
  }

  /** Per-position entropies (nats) of the LM head's softmax at every position of the last forward, (B,T). */
  async readTokenEntropies(): Promise<Float32Array> {
    if (this.score) throw new Error(REWARD_MODEL);
    return readF32(this.device, this.a('entropy'));
  }

  /** Per-sequence sums of the last forward (one small readback). */
  async readStats(): Promise<SequenceStats> {
    if (this.score) throw new Error(REWARD_MODEL);
    return readSequenceStats(this.device, (n) => this.a(n));
  }

  /** Per-position log-probs of the last forward, (B,T) with 0 where there is no target. */
  async readTokenLogps(): Promise<Float32Array> {
    if (this.score) throw new Error(REWARD_MODEL);
    return readF32(this.device, this.a('logp'));
  }

  /** Upload per-position coefficients dL/dlogp (B,T). */
  setCoefficients(coef: Float32Array): void {
    writeCoefficients(this.device, this.a('coef'), coef, this.BT);
  }
}
