// The optimizer's GPU state: Adam moments laid out like the parameters (f32 arenas, or bf16
// pairs in u32 words), the per-step hyperparameters, and the global gradient norm (read back
// once per update for the NaN guard and the `grad_norm` metric; clipping happens on the GPU).
import { Arena, createView, type View } from '../engine/arena';
import { StepEncoder } from '../engine/encoder';
import { readF32, readU32 } from '../engine/readback';
import type { TrainableModel } from '../model/family';
import { gptDecays } from '../model/config';
import { adamwStep, adamwStepBf16, bf16Words, gradNormPartialsSize, gradNormSquared, OPTIMIZER_HP_SIZE, packBf16, sgdStep, unpackBf16, writeOptimizerHp } from '../kernels/optimizer';
import type { TrainConfig } from './config';

export type Moments = { m: Map<string, Float32Array>; v: Map<string, Float32Array> };

/** The optimizer's part of a configuration (TrainConfig has it; pretraining passes its own). */
export type OptimizerHp = Pick<TrainConfig, 'optimizer' | 'beta1' | 'beta2' | 'eps' | 'weightDecay' | 'maxGradNorm' | 'momentsDtype'>;

/** Hugging Face's decay rule for GPT-2: every weight but biases and LayerNorm gains (each model family has its own: TrainableModel.decays). */
export const decays = gptDecays;

/**
 * bf16 moments mirror the parameter arena at half size: word w holds the moments of arena
 * elements 2w (low half) and 2w + 1 (high half). Every tensor starts at an aligned, so even,
 * element offset, so no word straddles two tensors — in particular not a decay and a no-decay
 * one — and a per-tensor step with its own word range touches no other tensor's moments (an
 * odd-length tensor's last word pairs it with padding, which the kernel leaves as is). Without
 * weight decay the whole arena is still one dispatch, as with f32 moments; per-tensor steps
 * pass the tensor's arena offset as indexBase, so both draw the same stochastic-rounding bits.
 */
class Bf16Moments {
  readonly words: View;

  constructor(private device: GPUDevice, label: string, private params: Arena) {
    const n = bf16Words(params.whole().length);
    if (n * 4 > device.limits.maxBufferSize) throw new Error(`${label} needs ${n * 4} bytes, more than this device's maxBufferSize ${device.limits.maxBufferSize}`);
    for (const [name, off] of params.layout.offsets) {
      if (off % 2) throw new Error(`${label}: parameter "${name}" starts at odd element ${off}, so bf16 moment pairs would straddle tensors`);
    }
    this.words = createView(device, label, [n]);
  }

  /** The words of one tensor: bf16Words(its length) from word (its arena element offset) / 2. */
  get(name: string): View {
    const p = this.params.get(name);
    const word = this.params.layout.offsets.get(name)! / 2;
    const length = bf16Words(p.length);
    return { buffer: this.words.buffer, offset: word * 4, size: length * 4, length, name: `${this.words.name}.${name}`, shape: [length] };
  }

  /** Every tensor's moments widened to f32 (checkpoints keep the f32 format). */
  async download(): Promise<Map<string, Float32Array>> {
    const all = await readU32(this.device, this.words);
    const out = new Map<string, Float32Array>();
    for (const name of this.params.names()) {
      const w = this.get(name);
      out.set(name, unpackBf16(all.subarray(w.offset / 4, w.offset / 4 + w.length), this.params.get(name).length));
    }
    return out;
  }

  /** One tensor's moments from f32, rounded to nearest even bf16 (once, so no bias builds up: see packBf16). */
  upload(name: string, values: Float32Array): void {
    const w = this.get(name);
    const words = packBf16(values);
    this.device.queue.writeBuffer(w.buffer, w.offset, words.buffer, words.byteOffset, words.byteLength);
  }

  destroy(): void {
    this.words.buffer.destroy();
  }
}

export class OptimizerState {
  private m: Arena | null = null;
  private v: Arena | null = null;
  private m16: Bf16Moments | null = null;
  private v16: Bf16Moments | null = null;
  private hp: View;
  private hpNoDecay: View;
  private normSq: View;
  private partials: View;
  private n: number;

  constructor(private model: TrainableModel, private cfg: OptimizerHp) {
    const d = model.gpu.device;
    this.n = model.params.whole().length;
    this.hp = createView(d, 'optimizer.hp', [OPTIMIZER_HP_SIZE]);
    this.hpNoDecay = createView(d, 'optimizer.hp_no_decay', [OPTIMIZER_HP_SIZE]);
    this.normSq = createView(d, 'optimizer.grad_norm_sq', [1]);
    this.partials = createView(d, 'optimizer.norm_partials', [gradNormPartialsSize(this.n)]);
    if (cfg.optimizer !== 'adamw') return;
    const enc = new StepEncoder(model.gpu, 'adam.init');
    if (cfg.momentsDtype === 'bf16') {
      this.m16 = new Bf16Moments(d, 'adam.m.bf16', model.params);
      this.v16 = new Bf16Moments(d, 'adam.v.bf16', model.params);
      enc.clear(this.m16.words);
      enc.clear(this.v16.words);
    } else {
      this.m = new Arena(d, 'adam.m', model.spec);
      this.v = new Arena(d, 'adam.v', model.spec);
      enc.clear(this.m.whole());
      enc.clear(this.v.whole());
    }
    enc.submit();
  }

  /** ‖g‖ over every parameter gradient (one 4-byte readback). */
  async gradNorm(): Promise<number> {
    const enc = new StepEncoder(this.model.gpu, 'grad-norm');
    this.encodeGradNorm(enc);
    enc.submit();
    return this.readGradNorm();
  }

  /** Records ‖g‖² into the norm buffer (apply's clipping reads it there). */
  encodeGradNorm(enc: StepEncoder): void {
    gradNormSquared(enc, this.normSq, this.partials, this.model.grads.whole(), this.n);
  }

  /** ‖g‖ as last recorded by encodeGradNorm, once its submission is done. */
  async readGradNorm(): Promise<number> {
    return Math.sqrt((await readF32(this.model.gpu.device, this.normSq))[0]);
  }

  /** Update k (1-based `step`) with learning rate lr; clipping reads the norm on the GPU. */
  apply(lr: number, step: number): void {
    const enc = new StepEncoder(this.model.gpu, 'optimizer');
    this.encodeApply(enc, lr, step);
    enc.submit();
  }

  /**
   * Records update k into `enc` (after encodeGradNorm, in the same or an earlier submission).
   * The hyperparameters are written to their buffers now, so submit before the next call.
   */
  encodeApply(enc: StepEncoder, lr: number, step: number): void {
    const { cfg, model, m16, v16 } = this;
    const d = model.gpu.device;
    const hp = { lr, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, step, maxGradNorm: cfg.maxGradNorm };
    writeOptimizerHp(d, this.hp, hp);
    const g = model.grads;
    if (cfg.optimizer === 'sgd') {
      sgdStep(enc, model.params.whole(), g.whole(), this.normSq, this.hp, this.n);
    } else if (cfg.weightDecay === 0) {
      if (m16 && v16) adamwStepBf16(enc, model.params.whole(), m16.words, v16.words, g.whole(), this.normSq, this.hp, this.n);
      else adamwStep(enc, model.params.whole(), this.m!.whole(), this.v!.whole(), g.whole(), this.normSq, this.hp, this.n);
    } else {
      writeOptimizerHp(d, this.hpNoDecay, { ...hp, weightDecay: 0 });
      for (const name of model.params.names()) {
        const p = model.params.get(name);
        const h = model.decays(name) ? this.hp : this.hpNoDecay;
        if (m16 && v16) adamwStepBf16(enc, p, m16.get(name), v16.get(name), g.get(name), this.normSq, h, p.length, model.params.layout.offsets.get(name)!);
        else adamwStep(enc, p, this.m!.get(name), this.v!.get(name), g.get(name), this.normSq, h, p.length);
      }
    }
  }

  /** Both moments as f32 maps by parameter name, whatever the storage (checkpoint format). */
  async moments(): Promise<Moments | null> {
    if (this.m16 && this.v16) return { m: await this.m16.download(), v: await this.v16.download() };
    if (!this.m || !this.v) return null;
    return { m: await this.model.download(this.m), v: await this.model.download(this.v) };
  }

  /** Load moments from f32 maps; bf16 storage rounds them to nearest even. */
  restore(moments: Moments | null): void {
    if (!moments) return;
    for (const [store, values] of [[this.m16, moments.m], [this.v16, moments.v]] as const) {
      if (!store) continue;
      for (const name of this.model.params.names()) store.upload(name, checked(name, values, this.model.params.get(name).length));
    }
    for (const [arena, values] of [[this.m, moments.m], [this.v, moments.v]] as const) {
      if (!arena) continue;
      for (const name of arena.names()) {
        const view = arena.get(name);
        const w = checked(name, values, view.length);
        this.model.gpu.device.queue.writeBuffer(view.buffer, view.offset, w.buffer, w.byteOffset, w.byteLength);
      }
    }
  }

  get bytes(): number {
    return (this.m?.bytes ?? 0) + (this.v?.bytes ?? 0) + (this.m16?.words.buffer.size ?? 0) + (this.v16?.words.buffer.size ?? 0);
  }

  destroy(): void {
    this.m?.destroy();
    this.v?.destroy();
    this.m16?.destroy();
    this.v16?.destroy();
    for (const v of [this.hp, this.hpNoDecay, this.normSq, this.partials]) v.buffer.destroy();
  }
}

function checked(name: string, values: Map<string, Float32Array>, length: number): Float32Array {
  const w = values.get(name);
  if (!w || w.length !== length) throw new Error(`checkpoint: optimizer state for "${name}" is missing or has the wrong size`);
  return w;
}
