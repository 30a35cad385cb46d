// The optimizer's GPU state: Adam moments laid out like the parameters (f32 arenas, or bf16
// pairs in u32 words), the per-step hyperparameters, and the global gradient norm (read back
// once per update for the NaN guard and the `grad_norm` metric; clipping happens on the GPU).
// A parameter arena larger than one binding spans several buffers (src/engine/arena.ts): the
// optimizer then runs once per buffer — the same math — and the gradient norm is one sum over
// every buffer's partials, so clipping sees the global norm.
import { Arena, createView, type ArenaPart, type View } from '../engine/arena';
import { StepEncoder } from '../engine/encoder';
import { readF32, readU32 } from '../engine/readback';
import type { TrainableTarget } from '../model/family';
import { gptDecays } from '../model/config';
import { adamwStep, adamwStepBf16, bf16Words, gradNormFinish, gradNormPartials, gradNormPartialsSize, OPTIMIZER_HP_SIZE, packBf16, sgdStep, unpackBf16, writeOptimizerHp } from '../kernels/optimizer';
import type { TrainConfig } from './config';

export type Moments = { m: Map<string, Float32Array>; v: Map<string, Float32Array> };

/** The optimizer's part of a configuration (TrainConfig has it; pretraining passes its own). */
export type OptimizerHp = Pick<TrainConfig, 'optimizer' | 'beta1' | 'beta2' | 'eps' | 'weightDecay' | 'maxGradNorm' | 'momentsDtype'>;

/** Hugging Face's decay rule for GPT-2: every weight but biases and LayerNorm gains (each model family has its own: TrainableModel.decays). */
export const decays = gptDecays;

/** adamw_step_bf16's indexBase is a u32: arena element indices past 2³² wrap (they only seed rounding bits). */
const u32 = (x: number) => x % 2 ** 32;

/**
 * bf16 moments mirror the parameter arena at half size, buffer by buffer: word w of buffer k
 * holds the moments of that parameter buffer's elements 2w (low half) and 2w + 1 (high half).
 * Every tensor (or row part) starts at an aligned, so even, element offset, so no word straddles
 * two tensors — in particular not a decay and a no-decay one — and a per-tensor step with its
 * own word range touches no other tensor's moments (an odd-length tensor's last word pairs it
 * with padding, which the kernel leaves as is). Without weight decay a one-buffer arena is still
 * one dispatch, as with f32 moments; per-tensor (per-part) steps pass the part's arena element
 * index (its single-buffer offset: ArenaPart.index) as indexBase, so every form — one buffer or
 * many — draws the same stochastic-rounding bits.
 */
class Bf16Moments {
  /** One words view per parameter buffer. */
  readonly words: View[];

  constructor(private device: GPUDevice, label: string, private params: Arena) {
    for (const name of params.names()) {
      for (const p of params.parts(name)) {
        if ((p.view.offset / 4) % 2) throw new Error(`${label}: parameter "${name}" starts at odd element ${p.view.offset / 4}, so bf16 moment pairs would straddle tensors`);
      }
    }
    const chunks = params.chunks();
    this.words = chunks.map((c, k) => {
      const n = bf16Words(c.length);
      if (n * 4 > device.limits.maxBufferSize) throw new Error(`${label} needs ${n * 4} bytes, more than this device's maxBufferSize ${device.limits.maxBufferSize}`);
      return createView(device, chunks.length === 1 ? label : `${label}#${k}`, [n]);
    });
  }

  /** The words of one tensor part: bf16Words(its length) from word (its element offset in its buffer) / 2. */
  part(p: ArenaPart): View {
    const words = this.words[p.chunk];
    const length = bf16Words(p.view.length);
    return { buffer: words.buffer, offset: p.view.offset / 2, size: length * 4, length, name: `${words.name}.${p.view.name}`, shape: [length] };
  }

  /** Every tensor's moments widened to f32 (checkpoints keep the f32 format), split tensors reassembled. */
  async download(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    for (const name of this.params.names()) {
      const parts = this.params.parts(name);
      out.set(name, new Float32Array(parts.reduce((n, p) => n + p.view.length, 0)));
    }
    for (let k = 0; k < this.words.length; k++) {
      const all = await readU32(this.device, this.words[k]);
      for (const name of this.params.names()) {
        let at = 0;
        for (const p of this.params.parts(name)) {
          if (p.chunk === k) {
            const w = this.part(p);
            out.get(name)!.set(unpackBf16(all.subarray(w.offset / 4, w.offset / 4 + w.length), p.view.length), at);
          }
          at += p.view.length;
        }
      }
    }
    return out;
  }

  /** One tensor's moments from f32, rounded to nearest even bf16 (once, so no bias builds up: see packBf16). */
  upload(name: string, values: Float32Array): void {
    let at = 0;
    for (const p of this.params.parts(name)) {
      const w = this.part(p);
      const words = packBf16(values.subarray(at, at + p.view.length));
      this.device.queue.writeBuffer(w.buffer, w.offset, words.buffer, words.byteOffset, words.byteLength);
      at += p.view.length;
    }
  }

  get bytes(): number {
    return this.words.reduce((n, w) => n + w.buffer.size, 0);
  }

  destroy(): void {
    for (const w of this.words) w.buffer.destroy();
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
  /** Each parameter buffer's first element in `partials` (aligned for binding) and its partial count. */
  private normRanges: Array<{ start: number; count: number }> = [];
  private allocation: Promise<GPUError | null>;

  /** model: what the optimizer trains — a model's parameters, or its LoRA adapters (trainableOf). */
  constructor(private model: TrainableTarget, private cfg: OptimizerHp) {
    const d = model.gpu.device;
    const step = d.limits.minStorageBufferOffsetAlignment / 4;
    let total = 0;
    for (const c of model.params.chunks()) {
      const start = Math.ceil(total / step) * step;
      const count = gradNormPartialsSize(c.length);
      this.normRanges.push({ start, count });
      total = start + count;
    }
    d.pushErrorScope('out-of-memory');
    this.hp = createView(d, 'optimizer.hp', [OPTIMIZER_HP_SIZE]);
    this.hpNoDecay = createView(d, 'optimizer.hp_no_decay', [OPTIMIZER_HP_SIZE]);
    this.normSq = createView(d, 'optimizer.grad_norm_sq', [1]);
    // new buffers are zeroed, so the alignment gaps between buffers' ranges add 0 to the norm
    this.partials = createView(d, 'optimizer.norm_partials', [total]);
    try {
      if (cfg.optimizer !== 'adamw') return;
      const enc = new StepEncoder(model.gpu, 'adam.init');
      if (cfg.momentsDtype === 'bf16') {
        this.m16 = new Bf16Moments(d, 'adam.m.bf16', model.params);
        this.v16 = new Bf16Moments(d, 'adam.v.bf16', model.params);
        for (const w of [...this.m16.words, ...this.v16.words]) enc.clear(w);
      } else {
        this.m = model.params.twin('adam.m');
        this.v = model.params.twin('adam.v');
        for (const c of [...this.m.chunks(), ...this.v.chunks()]) enc.clear(c);
      }
      enc.submit();
    } finally {
      this.allocation = d.popErrorScope().then(
        (e) => {
          if (e) console.error(`optimizer state: out of memory: ${e.message}`); // seen even where nobody awaits allocated()
          return e;
        },
        () => null,
      );
    }
  }

  /** Resolves once every optimizer buffer exists; rejects with a clear message when the device ran out of memory. */
  async allocated(): Promise<void> {
    await this.m?.allocated();
    await this.v?.allocated();
    const e = await this.allocation;
    if (e) throw new Error(`optimizer state (${this.bytes.toLocaleString('en-US')} bytes of moments): the device could not allocate it (out of memory: ${e.message}). WebGPU does not say how much memory a GPU has; use bf16 moments, SGD, or a smaller model`);
  }

  /** ‖g‖ over every parameter gradient (one 4-byte readback). */
  async gradNorm(): Promise<number> {
    const enc = new StepEncoder(this.model.gpu, 'grad-norm');
    this.encodeGradNorm(enc);
    enc.submit();
    return this.readGradNorm();
  }

  /** Records ‖g‖² into the norm buffer (apply's clipping reads it there): partials per gradient buffer, one sum over all. */
  encodeGradNorm(enc: StepEncoder): void {
    const grads = this.model.grads.chunks();
    grads.forEach((g, k) => {
      const { start, count } = this.normRanges[k];
      gradNormPartials(enc, { ...this.partials, offset: start * 4, size: count * 4, length: count }, g, g.length);
    });
    const last = this.normRanges[this.normRanges.length - 1];
    gradNormFinish(enc, this.normSq, this.partials, last.start + last.count);
  }

  /** ‖g‖ as last recorded by encodeGradNorm, once its submission is done. */
  async readGradNorm(): Promise<number> {
    return Math.sqrt((await readF32(this.model.gpu.device, this.normSq))[0]);
  }

  /**
   * Replaces the recorded ‖g‖² (after readGradNorm) by `normSq`: clipping several models' gradients
   * by one global norm (PPO's policy and value model, clipped jointly as one nn.Module).
   */
  setGradNormSq(normSq: number): void {
    const x = Float32Array.of(normSq);
    this.model.gpu.device.queue.writeBuffer(this.normSq.buffer, this.normSq.offset, x.buffer, x.byteOffset, x.byteLength);
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
   * One dispatch per parameter buffer, or per tensor (part) with weight decay.
   */
  encodeApply(enc: StepEncoder, lr: number, step: number): void {
    const { cfg, model, m16, v16 } = this;
    const d = model.gpu.device;
    const hp = { lr, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, step, maxGradNorm: cfg.maxGradNorm };
    writeOptimizerHp(d, this.hp, hp);
    const params = model.params.chunks();
    const grads = model.grads.chunks();
    // bf16 over several buffers goes tensor by tensor, so its rounding bits follow the
    // single-buffer element indices (ArenaPart.index) and the run does not depend on the split
    const perTensor = cfg.weightDecay !== 0 || (m16 !== null && params.length > 1);
    if (cfg.optimizer === 'sgd') {
      params.forEach((p, k) => sgdStep(enc, p, grads[k], this.normSq, this.hp, p.length));
    } else if (!perTensor) {
      if (m16 && v16) adamwStepBf16(enc, params[0], m16.words[0], v16.words[0], grads[0], this.normSq, this.hp, params[0].length);
      else {
        const m = this.m!.chunks(), v = this.v!.chunks();
        params.forEach((p, k) => adamwStep(enc, p, m[k], v[k], grads[k], this.normSq, this.hp, p.length));
      }
    } else {
      writeOptimizerHp(d, this.hpNoDecay, { ...hp, weightDecay: 0 });
      for (const name of model.params.names()) {
        const h = model.decays(name) ? this.hp : this.hpNoDecay;
        const gp = model.grads.parts(name);
        const mp = this.m?.parts(name), vp = this.v?.parts(name);
        model.params.parts(name).forEach((p, i) => {
          if (m16 && v16) adamwStepBf16(enc, p.view, m16.part(p), v16.part(p), gp[i].view, this.normSq, h, p.view.length, u32(p.index));
          else adamwStep(enc, p.view, mp![i].view, vp![i].view, gp[i].view, this.normSq, h, p.view.length);
        });
      }
    }
  }

  /** Both moments as f32 maps by parameter name, whatever the storage (checkpoint format). */
  async moments(): Promise<Moments | null> {
    if (this.m16 && this.v16) return { m: await this.m16.download(), v: await this.v16.download() };
    if (!this.m || !this.v) return null;
    return { m: await this.m.readAll(), v: await this.v.readAll() };
  }

  /** Load moments from f32 maps; bf16 storage rounds them to nearest even. */
  restore(moments: Moments | null): void {
    if (!moments) return;
    const length = (name: string) => this.model.params.parts(name).reduce((n, p) => n + p.view.length, 0);
    for (const [store, values] of [[this.m16, moments.m], [this.v16, moments.v]] as const) {
      if (!store) continue;
      for (const name of this.model.params.names()) store.upload(name, checked(name, values, length(name)));
    }
    for (const [arena, values] of [[this.m, moments.m], [this.v, moments.v]] as const) {
      if (!arena) continue;
      for (const name of arena.names()) arena.write(name, checked(name, values, length(name)));
    }
  }

  get bytes(): number {
    return (this.m?.bytes ?? 0) + (this.v?.bytes ?? 0) + (this.m16?.bytes ?? 0) + (this.v16?.bytes ?? 0);
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
