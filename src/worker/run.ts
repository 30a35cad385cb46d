// One run of a comparison as the page sees it: its TrainingRun (src/train/training-run.ts: the
// model, trainer, cadence and snapshots; rebuilt from its last resume snapshot after a lost
// device), its status and its timing (tokens/s, ETA).
import type { TrainableModel } from '../model/family';
import type { TrainConfig } from '../train/config';
import type { Metrics } from '../train/trainer';
import type { TrainingRun } from '../train/training-run';
import type { EngineEvent, RunSpec, RunStatus } from './protocol';

const FINAL: readonly RunStatus[] = ['done', 'stopped', 'failed'];

export class Run {
  status: RunStatus = 'queued';
  message: string | undefined;
  /** Set once the session has its data (Session.start); a later RLHF stage's once its inputs have ended. */
  training: TrainingRun | null = null;
  /**
   * A later RLHF stage (Session.stageOf): the runs whose final weights it starts from (null: the
   * loaded model) and scores with; it waits, queued, until they end. Null: an ordinary run.
   */
  stage: { policy: Run | null; reward: Run } | null = null;
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

  /** Whether the GPU state exists. */
  get live(): boolean {
    return this.training?.live ?? false;
  }

  get model(): TrainableModel | null {
    return this.training?.model ?? null;
  }

  /** Updates done; kept when the GPU objects are gone. */
  get step(): number {
    return this.training?.step ?? 0;
  }

  get checkpointStep(): number {
    return this.training?.checkpointStep ?? 0;
  }

  /** Every metrics row of the run (train and eval). */
  get rows(): Metrics[] {
    return this.training?.rows ?? [];
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

  /** Frees the GPU state (TrainingRun.release); the run's step and rows stay. */
  destroy(): void {
    this.training?.release();
    this.lastAt = 0;
  }
}
