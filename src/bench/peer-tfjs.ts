// The peer a user would otherwise pick: the same GPT-2 training step written with
// TensorFlow.js ops on its WebGPU backend, as a tfjs user would write it — log-softmax over
// the full (BT,V) logits, gather by one-hot, tf.variableGrads, global-norm clipping and
// tf.train.adam. Same config, weights layout (Conv1D, tied LM head), batch and coefficients
// as src/bench/train-step.ts. Dimensions: B batch, T time, C channels, NH heads, V vocab.
// `tf` is passed in (tfjs-core with the webgpu backend set), so this runs in Node and pages.
import type * as TF from '@tensorflow/tfjs-core';
import type { GPTConfig } from '../model/config';
import { paramSpec } from '../model/config';
import type { BenchBatch } from './workload';
import type { PhaseTimes } from './stats';

type Tf = typeof TF;

/** Adam hyperparameters of the step (torch defaults, as the engine's AdamW with decay 0). */
const LR = 1e-4;
const MAX_GRAD_NORM = 1.0;

export interface PeerStepResult {
  ms: number[];
  phases: PhaseTimes;
  bytes: number;
  dispatchesPerStep: number | null;
}

/** The tfjs backend's device queue, to wait for GPU work the same way the engine does. */
export async function peerIdle(tf: Tf): Promise<void> {
  const backend = tf.backend() as unknown as { commandEncoder?: GPUCommandEncoder | null; endComputePassEncoder?: () => void; submitQueue?: () => void; device?: GPUDevice };
  if (backend.commandEncoder && backend.endComputePassEncoder && backend.submitQueue) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  if (backend.device) await backend.device.queue.onSubmittedWorkDone();
}

function layerNorm(tf: Tf, x: TF.Tensor2D, w: TF.Tensor, b: TF.Tensor, eps: number): TF.Tensor2D {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), w), b) as TF.Tensor2D;
}

// gelu_new: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))
function geluNew(tf: Tf, x: TF.Tensor): TF.Tensor {
  const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

export class TfjsGpt {
  readonly vars = new Map<string, TF.Variable>();
  private optimizer: TF.AdamOptimizer;
  private causal: TF.Tensor2D;

  constructor(private tf: Tf, readonly config: GPTConfig, weights: Map<string, Float32Array>, readonly B: number, readonly T: number) {
    for (const s of paramSpec(config)) {
      const w = weights.get(s.name);
      if (!w) throw new Error(`peer: missing tensor "${s.name}"`);
      this.vars.set(s.name, tf.variable(tf.tensor(w, [...s.shape]), true, `peer/${s.name}`));
    }
    this.optimizer = tf.train.adam(LR, 0.9, 0.999, 1e-8);
    // additive causal mask (T,T): 0 on and below the diagonal, −1e9 above
    const mask = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) mask[i * T + j] = -1e9;
    this.causal = tf.tensor2d(mask, [T, T]);
  }

  private v(name: string): TF.Variable {
    return this.vars.get(name)!;
  }

  /** Σ coef·log p(target) over the batch (targets < 0 are masked through coef = 0). */
  private loss(tokens: TF.Tensor1D, positions: TF.Tensor1D, targets: TF.Tensor1D, coef: TF.Tensor1D): TF.Scalar {
    const tf = this.tf;
    const { nEmbd: C, nHead: NH, nLayer: L, vocabSize: V, layerNormEpsilon: eps } = this.config;
    const { B, T } = this;
    const HS = C / NH;
    let x = tf.add(tf.gather(this.v('wte.weight'), tokens), tf.gather(this.v('wpe.weight'), positions)) as TF.Tensor2D;
    const heads = (t: TF.Tensor) => tf.reshape(tf.transpose(tf.reshape(t, [B, T, NH, HS]), [0, 2, 1, 3]), [B * NH, T, HS]) as TF.Tensor3D;
    for (let l = 0; l < L; l++) {
      const h = `h.${l}`;
      const ln1 = layerNorm(tf, x, this.v(`${h}.ln_1.weight`), this.v(`${h}.ln_1.bias`), eps);
      const qkv = tf.add(tf.matMul(ln1, this.v(`${h}.attn.c_attn.weight`) as TF.Tensor2D), this.v(`${h}.attn.c_attn.bias`));
      const [q, k, vv] = tf.split(qkv, 3, 1);
      const scores = tf.add(tf.mul(tf.matMul(heads(q), heads(k), false, true), 1 / Math.sqrt(HS)), this.causal);
      const y = tf.matMul(tf.softmax(scores), heads(vv));
      const merged = tf.reshape(tf.transpose(tf.reshape(y, [B, NH, T, HS]), [0, 2, 1, 3]), [B * T, C]) as TF.Tensor2D;
      x = tf.add(x, tf.add(tf.matMul(merged, this.v(`${h}.attn.c_proj.weight`) as TF.Tensor2D), this.v(`${h}.attn.c_proj.bias`))) as TF.Tensor2D;
      const ln2 = layerNorm(tf, x, this.v(`${h}.ln_2.weight`), this.v(`${h}.ln_2.bias`), eps);
      const fc = geluNew(tf, tf.add(tf.matMul(ln2, this.v(`${h}.mlp.c_fc.weight`) as TF.Tensor2D), this.v(`${h}.mlp.c_fc.bias`))) as TF.Tensor2D;
      x = tf.add(x, tf.add(tf.matMul(fc, this.v(`${h}.mlp.c_proj.weight`) as TF.Tensor2D), this.v(`${h}.mlp.c_proj.bias`))) as TF.Tensor2D;
    }
    const lnf = layerNorm(tf, x, this.v('ln_f.weight'), this.v('ln_f.bias'), eps);
    const logits = tf.matMul(lnf, this.v('wte.weight') as TF.Tensor2D, false, true);
    const logp = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, V)), 1);
    return tf.sum(tf.mul(logp, coef));
  }

  /** One step: forward + backward (variableGrads), clip by global norm, Adam, read the loss back. */
  async step(batch: BenchBatch, coef: Float32Array, phases?: PhaseTimes): Promise<number> {
    const tf = this.tf;
    const { B, T } = this;
    const inputs = tf.tidy(() => ({
      tokens: tf.tensor1d(Int32Array.from(batch.tokens), 'int32'),
      positions: tf.tensor1d(Int32Array.from({ length: B * T }, (_, i) => i % T), 'int32'),
      targets: tf.tensor1d(Int32Array.from(batch.targets, (t) => (t > 0x7fffffff ? 0 : t)), 'int32'),
      coef: tf.tensor1d(coef),
    }));
    let t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => this.loss(inputs.tokens, inputs.positions, inputs.targets, inputs.coef));
    if (phases) {
      await peerIdle(tf);
      phases.forward_backward.push(performance.now() - t0);
      t0 = performance.now();
    }
    tf.tidy(() => {
      // clip_grad_norm_: scale = min(1, max / (‖g‖ + 1e-6))
      // pairwise adds: tf.addN of ~50 tensors exceeds the storage buffers a shader may bind
      const norm = tf.sqrt(Object.values(grads).map((g) => tf.sum(tf.square(g))).reduce((x, y) => tf.add(x, y)));
      const scale = tf.minimum(tf.div(MAX_GRAD_NORM, tf.add(norm, 1e-6)), 1);
      this.optimizer.applyGradients(Object.entries(grads).map(([name, g]) => ({ name, tensor: tf.mul(g, scale) })));
    });
    if (phases) {
      await peerIdle(tf);
      phases.optimizer.push(performance.now() - t0);
      t0 = performance.now();
    }
    const loss = (await value.data())[0];
    if (phases) phases.readback.push(performance.now() - t0);
    tf.dispose([value, ...Object.values(grads), ...Object.values(inputs)]);
    await peerIdle(tf);
    return loss;
  }

  destroy(): void {
    this.tf.dispose([...this.vars.values(), this.causal]);
    this.optimizer.dispose();
  }
}

/** GPU bytes the tfjs backend holds now (its own accounting). */
export function peerBytes(tf: Tf): number {
  const m = tf.memory() as { numBytesInGPU?: number; numBytes: number };
  return m.numBytesInGPU ?? m.numBytes;
}

