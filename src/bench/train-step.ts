// The engine's training step as the trainer runs it, driven directly on a model's runner
// (GptRunner or LlamaRunner, through the TrainableModel interface): forward → per-sequence
// stats readback → coefficients (random, standing in for an objective's) → zero grads +
// backward + grad norm + AdamW in one command buffer.
// A step is two submissions: the coefficients depend on the read-back statistics.
import type { GpuContext } from '../engine/gpu';
import { Arena, createView, type View } from '../engine/arena';
import { StepEncoder } from '../engine/encoder';
import { LlamaModel } from '../model/llama';
import { createModel, type ModelConfig, type ModelRunner, type TrainableModel } from '../model/family';
import { adamwStep, gradNormPartialsSize, gradNormSquared, OPTIMIZER_HP_SIZE, writeOptimizerHp } from '../kernels/optimizer';
import { Rng } from '../util/rng';
import { benchCoefficients, type BenchBatch } from './workload';
import type { PhaseTimes } from './stats';
import { ProfilingEncoder } from './profile';

const HP = { lr: 1e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, maxGradNorm: 1.0 };

export class EngineStep {
  readonly model: TrainableModel;
  readonly runner: ModelRunner;
  private m: Arena;
  private v: Arena;
  private normSq: View;
  private partials: View;
  private hp: View;
  private n: number;
  private step = 0;
  private rng: Rng;

  constructor(readonly gpu: GpuContext, readonly config: ModelConfig, weights: Map<string, Float32Array>, readonly batch: BenchBatch, seed: number) {
    const d = gpu.device;
    this.model = createModel(gpu, { config });
    this.model.upload(weights);
    this.runner = this.model.createRunner(batch.B, batch.T, 'f32');
    this.runner.setBatch(batch);
    this.m = new Arena(d, 'adam_m', this.model.spec);
    this.v = new Arena(d, 'adam_v', this.model.spec);
    this.n = this.model.params.whole().length;
    this.normSq = createView(d, 'bench.norm_sq', [1]);
    this.partials = createView(d, 'bench.norm_partials', [gradNormPartialsSize(this.n)]);
    this.hp = createView(d, 'bench.hp', [OPTIMIZER_HP_SIZE]);
    this.rng = new Rng(seed);
  }

  /** Bytes held on the GPU by this step's arenas and buffers (activations with the token buckets; a Llama model's stacking scratch). */
  get bytes(): number {
    const g = this.model;
    const scratch = g instanceof LlamaModel ? g.stackScratchBytes : 0;
    return g.params.bytes + g.grads.bytes + this.m.bytes + this.v.bytes + scratch + this.runner.bytes + this.normSq.buffer.size + this.partials.buffer.size + this.hp.buffer.size;
  }

  private recordUpdate(enc: StepEncoder): void {
    const g = this.model.grads.whole();
    gradNormSquared(enc, this.normSq, this.partials, g, this.n);
    adamwStep(enc, this.model.params.whole(), this.m.whole(), this.v.whole(), g, this.normSq, this.hp, this.n);
  }

  /** One training step; with `phases`, each phase is waited for and timed on its own. */
  async run(phases?: PhaseTimes): Promise<number> {
    const d = this.gpu.device;
    let t0 = performance.now();
    let enc = new StepEncoder(this.gpu, 'forward');
    this.runner.forward(enc);
    enc.submit();
    if (phases) {
      await d.queue.onSubmittedWorkDone();
      phases.forward.push(performance.now() - t0);
      t0 = performance.now();
    }
    const stats = await this.runner.readStats();
    if (phases) {
      phases.readback.push(performance.now() - t0);
      t0 = performance.now();
    }
    this.runner.setCoefficients(benchCoefficients(this.batch, this.rng));
    writeOptimizerHp(d, this.hp, { ...HP, step: ++this.step });
    enc = new StepEncoder(this.gpu, 'backward');
    enc.clear(this.model.grads.whole());
    this.runner.backward(enc);
    if (phases) {
      enc.submit();
      await d.queue.onSubmittedWorkDone();
      phases.backward.push(performance.now() - t0);
      t0 = performance.now();
      enc = new StepEncoder(this.gpu, 'optimizer');
    }
    this.recordUpdate(enc);
    enc.submit();
    await d.queue.onSubmittedWorkDone();
    if (phases) phases.optimizer.push(performance.now() - t0);
    return stats.logp[0];
  }

  /** GPU time of every dispatch of one step, by phase (timestamp queries). */
  async profile(): Promise<Record<'forward' | 'backward' | 'optimizer', Array<{ kernel: string; ms: number }>>> {
    let enc = new ProfilingEncoder(this.gpu, 'profile:forward');
    this.runner.forward(enc);
    const forward = await enc.submitAndTime();
    await this.runner.readStats();
    this.runner.setCoefficients(benchCoefficients(this.batch, this.rng));
    writeOptimizerHp(this.gpu.device, this.hp, { ...HP, step: ++this.step });
    enc = new ProfilingEncoder(this.gpu, 'profile:backward');
    enc.clear(this.model.grads.whole());
    this.runner.backward(enc);
    const backward = await enc.submitAndTime();
    enc = new ProfilingEncoder(this.gpu, 'profile:optimizer');
    this.recordUpdate(enc);
    const optimizer = await enc.submitAndTime();
    return { forward, backward, optimizer };
  }

  destroy(): void {
    this.runner.destroy();
    this.model.destroy();
    this.m.destroy();
    this.v.destroy();
    for (const x of [this.normSq, this.partials, this.hp]) x.buffer.destroy();
  }
}
