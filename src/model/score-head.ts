// A reward model's score head on the GPU (issue 16, docs/rlhf.md "Reward model on the GPU"), the
// head GptRunner and LlamaRunner use instead of the LM head when the config has `scoreHead`:
// score.weight [1, C] (nn.Linear, no bias) applied to the final norm's output and read at each
// sequence's last non-padding token, transformers' *ForSequenceClassification convention.
//   forward:  all (BT) = lnf (BT,C) · wᵀ   (every position, as transformers' score does), then
//             rewards (B) = all[b·T + read_b], gathered by B copies of 4 bytes;
//   backward: d (BT) = 0 except d[b·T + read_b] = ∂loss/∂reward_b (uploaded, setGradients);
//             dlnf (BT,C) = d · w (written: the only gradient reaching the final norm),
//             dw (1,C) += dᵀ · lnf (accumulated, like every parameter gradient).
// No new kernel: both are the nn.Linear matmuls of src/kernels/matmul.ts with OC = 1.
// All-positions mode (PPO's value model, TRL's `value_model.score(hidden_states)`): the same
// forward's `all` (BT) is read whole (readAll), and the backward starts from a gradient at every
// position (setAllGradients) instead of one per sequence: the same two matmuls.
// Dimensions: B sequences, T positions, C channels, BT = B·T.
import type { GpuContext } from '../engine/gpu';
import { Arena, type TensorSpec, type View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { readF32 } from '../engine/readback';
import { linearBackward, linearForward } from '../kernels/matmul';
import type { HostBatch } from './batch';

/**
 * The position transformers' *ForSequenceClassification reads in one right-padded row:
 * argmax over t of t·1[ids[t] ≠ pad] (the last non-padding token; 0 when every token is padding),
 * over the row's `length` real tokens; with no pad id, the last real token (what transformers
 * does for a batch of one). With pad = eos (GPT-2, TRL's default) a completion that ends with
 * end-of-text is read at the token before it, exactly as transformers reads it.
 */
export function scoreIndex(ids: ArrayLike<number>, length: number, padId: number | null): number {
  if (padId === null) return Math.max(0, length - 1);
  for (let t = length - 1; t > 0; t--) if (ids[t] !== padId) return t;
  return 0;
}

/** scoreIndex of every row of a batch (B,). */
export function scoreIndices(batch: HostBatch, padId: number | null): Int32Array {
  const { B, T, tokens, lengths } = batch;
  return Int32Array.from({ length: B }, (_, b) => scoreIndex(tokens.subarray(b * T, (b + 1) * T), lengths[b], padId));
}

/** The score head's tensors for B sequences of T tokens: every position's score, the B read, their gradient. */
function scoreHeadSpec(B: number, T: number): TensorSpec[] {
  return [
    { name: 'all', shape: [B * T] },
    { name: 'rewards', shape: [B] },
    { name: 'dall', shape: [B * T] },
  ];
}

/** Bytes a ScoreHead allocates beside its runner's activation arena (memory estimates). */
export function scoreHeadBytes(B: number, T: number): number {
  return 4 * scoreHeadSpec(B, T).reduce((n, t) => n + t.shape[0], 0);
}

export class ScoreHead {
  private acts: Arena;
  private read: Int32Array | null = null;
  readonly BT: number;

  constructor(private gpu: GpuContext, readonly B: number, readonly T: number, readonly C: number, readonly padId: number | null, label: string) {
    this.BT = B * T;
    // separate buffers: the gather copies from `all` into `rewards` (a copy may not stay in one buffer)
    this.acts = new Arena(gpu.device, `${label}.score`, scoreHeadSpec(B, T), { separate: true });
  }

  get bytes(): number {
    return this.acts.bytes;
  }

  /** The positions read for the batch last set (B,). */
  get indices(): Int32Array {
    if (!this.read) throw new Error('score head: no batch');
    return this.read;
  }

  setBatch(batch: HostBatch): void {
    if (batch.B !== this.B || batch.T !== this.T) throw new Error(`score head: batch is ${batch.B}×${batch.T}, head is ${this.B}×${this.T}`);
    this.read = scoreIndices(batch, this.padId);
  }

  /** rewards (B) from lnf (BT,C) and weight (1,C). */
  forward(enc: StepEncoder, lnf: View, weight: View): void {
    const read = this.indices;
    const all = this.acts.get('all');
    const rewards = this.acts.get('rewards');
    linearForward(enc, all, lnf, weight, null, this.BT, this.C, 1);
    for (let b = 0; b < this.B; b++) enc.copy({ ...rewards, offset: rewards.offset + 4 * b, size: 4 }, { ...all, offset: all.offset + 4 * (b * this.T + read[b]), size: 4 }, 4);
  }

  /** The rewards of the last forward (one readback of B floats). */
  async readRewards(): Promise<Float64Array> {
    return Float64Array.from(await readF32(this.gpu.device, this.acts.get('rewards')));
  }

  /** Uploads ∂loss/∂reward per sequence (B,), placed at each sequence's read position. */
  setGradients(dReward: ArrayLike<number>): void {
    if (dReward.length !== this.B) throw new Error(`score head: ${dReward.length} reward gradients for ${this.B} sequences`);
    const read = this.indices;
    const d = new Float32Array(this.BT);
    for (let b = 0; b < this.B; b++) d[b * this.T + read[b]] = dReward[b];
    const v = this.acts.get('dall');
    this.gpu.device.queue.writeBuffer(v.buffer, v.offset, d.buffer, d.byteOffset, d.byteLength);
  }

  /** All-positions mode: the score at every position of the last forward, (B,T) row-major (one readback of B·T floats). */
  async readAll(): Promise<Float32Array> {
    return readF32(this.gpu.device, this.acts.get('all'));
  }

  /** All-positions mode: uploads ∂loss/∂score at every position (B,T), replacing setGradients' one per sequence. */
  setAllGradients(d: Float32Array): void {
    if (d.length !== this.BT) throw new Error(`score head: ${d.length} position gradients for ${this.B}×${this.T} positions`);
    const v = this.acts.get('dall');
    this.gpu.device.queue.writeBuffer(v.buffer, v.offset, d.buffer, d.byteOffset, d.byteLength);
  }

  /** dlnf (BT,C) = d · w (written); dweight (1,C) += dᵀ · lnf (null: a frozen head, no weight gradient). */
  backward(enc: StepEncoder, dlnf: View, dweight: View | null, lnf: View, weight: View): void {
    linearBackward(enc, dlnf, dweight, null, this.acts.get('dall'), lnf, weight, this.BT, this.C, 1);
  }

  destroy(): void {
    this.acts.destroy();
  }
}
