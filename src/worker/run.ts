// One run of a comparison: its model and Trainer on the GPU (rebuilt from a checkpoint after a
// lost device), its status and its timing (tokens/s, ETA).
import type { GpuContext } from '../engine/gpu';
import { GptModel } from '../model/gpt';
import type { GPTConfig } from '../model/config';
import type { TrainConfig } from '../train/config';
import { Trainer, type ReferenceLogps } from '../train/trainer';
import type { PairIds } from '../train/pairs';
import type { StoredCheckpoint } from './db';
import type { EngineEvent, RunSpec, RunStatus } from './protocol';

const FINAL: readonly RunStatus[] = ['done', 'stopped', 'failed'];

export class Run {
  status: RunStatus = 'queued';
  message: string | undefined;
  model: GptModel | null = null;
  trainer: Trainer | null = null;
  /** Updates done; kept when the GPU objects are gone. */
  step = 0;
  checkpointStep = 0;
  /** Every metrics row emitted (train and eval), so a checkpoint can carry the rows it covers. */
  rows: Record<string, number>[] = [];
  private lastAt = 0;
  private roundMs = 0;
  private tps = 0;

  constructor(
    readonly spec: RunSpec,
    readonly cfg: TrainConfig,
  ) {}

  get final(): boolean {
    return FINAL.includes(this.status);
  }

  get live(): boolean {
    return this.trainer !== null;
  }

  /** Fresh GPU state: the checkpoint's weights, step and moments, else the starting weights. */
  build(gpu: GpuContext, config: GPTConfig, weights: Map<string, Float32Array>, train: readonly PairIds[], evalSet: readonly PairIds[], ckpt: StoredCheckpoint | undefined, reference: { train: ReferenceLogps; eval: ReferenceLogps } | null): void {
    this.destroy();
    const model = new GptModel(gpu, config);
    try {
      model.upload(ckpt?.params ?? weights);
      const trainer = new Trainer(model, train, evalSet, this.cfg);
      if (ckpt) trainer.restore(ckpt.state, ckpt.moments);
      else trainer.restore({ step: 0, reference: trainer.objective.needsReference ? reference : null }, null);
      this.model = model;
      this.trainer = trainer;
    } catch (e) {
      model.destroy();
      throw e;
    }
    this.step = ckpt?.step ?? 0;
    this.checkpointStep = ckpt?.step ?? 0;
    this.rows = (ckpt?.rows ?? []).filter((m) => m.step <= this.step);
    this.lastAt = 0;
  }

  /** Called after each update: the time between two updates of this run is one round of all runs. */
  tick(tokensPerSecond: number): void {
    const now = performance.now();
    if (this.lastAt > 0) {
      const ms = now - this.lastAt;
      this.roundMs = this.roundMs ? 0.7 * this.roundMs + 0.3 * ms : ms;
    }
    this.lastAt = now;
    this.tps = this.tps ? 0.7 * this.tps + 0.3 * tokensPerSecond : tokensPerSecond;
  }

  /** The run's status as an event for the page. */
  event(): EngineEvent {
    const total = this.cfg.steps;
    const running = this.status === 'running';
    return {
      type: 'run',
      runId: this.spec.id,
      status: this.status,
      step: this.step,
      total,
      message: this.message,
      tokensPerSecond: this.tps || undefined,
      etaSeconds: running && this.roundMs ? ((total - this.step) * this.roundMs) / 1000 : undefined,
      checkpointStep: this.checkpointStep,
    };
  }

  destroy(): void {
    try {
      this.trainer?.destroy();
      this.model?.destroy();
    } catch {
      // buffers of a lost device may already be gone
    }
    this.trainer = null;
    this.model = null;
    this.lastAt = 0;
  }
}
