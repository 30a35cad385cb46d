// The optimizer's GPU state: Adam moments in arenas laid out like the parameters, the
// per-step hyperparameters, and the global gradient norm (read back once per update for the
// NaN guard and the `grad_norm` metric; clipping itself happens on the GPU).
import { Arena, createView, type View } from '../engine/arena';
import { StepEncoder } from '../engine/encoder';
import { readF32 } from '../engine/readback';
import type { GptModel } from '../model/gpt';
import { paramSpec } from '../model/config';
import { adamwStep, gradNormPartialsSize, gradNormSquared, OPTIMIZER_HP_SIZE, sgdStep, writeOptimizerHp } from '../kernels/optimizer';
import type { TrainConfig } from './config';

export type Moments = { m: Map<string, Float32Array>; v: Map<string, Float32Array> };

/** Hugging Face's decay rule: every weight but biases and LayerNorm gains. */
export function decays(name: string): boolean {
  return !name.endsWith('.bias') && !/(^|\.)ln_(1|2|f)\.weight$/.test(name);
}

export class OptimizerState {
  private m: Arena | null = null;
  private v: Arena | null = null;
  private hp: View;
  private hpNoDecay: View;
  private normSq: View;
  private partials: View;
  private n: number;

  constructor(private model: GptModel, private cfg: TrainConfig) {
    const d = model.gpu.device;
    this.n = model.params.whole().length;
    this.hp = createView(d, 'optimizer.hp', [OPTIMIZER_HP_SIZE]);
    this.hpNoDecay = createView(d, 'optimizer.hp_no_decay', [OPTIMIZER_HP_SIZE]);
    this.normSq = createView(d, 'optimizer.grad_norm_sq', [1]);
    this.partials = createView(d, 'optimizer.norm_partials', [gradNormPartialsSize(this.n)]);
    if (cfg.optimizer === 'adamw') {
      this.m = new Arena(d, 'adam.m', paramSpec(model.config));
      this.v = new Arena(d, 'adam.v', paramSpec(model.config));
      const enc = new StepEncoder(model.gpu, 'adam.init');
      enc.clear(this.m.whole());
      enc.clear(this.v.whole());
      enc.submit();
    }
  }

  /** ‖g‖ over every parameter gradient (one 4-byte readback). */
  async gradNorm(): Promise<number> {
    const enc = new StepEncoder(this.model.gpu, 'grad-norm');
    gradNormSquared(enc, this.normSq, this.partials, this.model.grads.whole(), this.n);
    enc.submit();
    return Math.sqrt((await readF32(this.model.gpu.device, this.normSq))[0]);
  }

  /** Update k (1-based `step`) with learning rate lr; clipping reads the norm on the GPU. */
  apply(lr: number, step: number): void {
    const { cfg, model } = this;
    const d = model.gpu.device;
    const hp = { lr, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, step, maxGradNorm: cfg.maxGradNorm };
    writeOptimizerHp(d, this.hp, hp);
    const enc = new StepEncoder(model.gpu, 'optimizer');
    const g = model.grads;
    if (cfg.optimizer === 'sgd') {
      sgdStep(enc, model.params.whole(), g.whole(), this.normSq, this.hp, this.n);
    } else if (cfg.weightDecay === 0) {
      adamwStep(enc, model.params.whole(), this.m!.whole(), this.v!.whole(), g.whole(), this.normSq, this.hp, this.n);
    } else {
      writeOptimizerHp(d, this.hpNoDecay, { ...hp, weightDecay: 0 });
      for (const name of model.params.names()) {
        const p = model.params.get(name);
        adamwStep(enc, p, this.m!.get(name), this.v!.get(name), g.get(name), this.normSq, decays(name) ? this.hp : this.hpNoDecay, p.length);
      }
    }
    enc.submit();
  }

  async moments(): Promise<Moments | null> {
    if (!this.m || !this.v) return null;
    return { m: await this.model.download(this.m), v: await this.model.download(this.v) };
  }

  restore(moments: Moments | null): void {
    if (!moments || !this.m || !this.v) return;
    for (const [arena, values] of [[this.m, moments.m], [this.v, moments.v]] as const) {
      for (const name of arena.names()) {
        const view = arena.get(name);
        const w = values.get(name);
        if (!w || w.length !== view.length) throw new Error(`checkpoint: optimizer state for "${name}" is missing or has the wrong size`);
        this.model.gpu.device.queue.writeBuffer(view.buffer, view.offset, w.buffer, w.byteOffset, w.byteLength);
      }
    }
  }

  get bytes(): number {
    return (this.m?.bytes ?? 0) + (this.v?.bytes ?? 0);
  }

  destroy(): void {
    this.m?.destroy();
    this.v?.destroy();
    for (const v of [this.hp, this.hpNoDecay, this.normSq, this.partials]) v.buffer.destroy();
  }
}
