// The training loop (docs/design.md, docs/objectives.md): per update, for each micro-batch: GPU forward → per-sequence
// sums read back → the objective (pure float64) → per-token coefficients → GPU backward; then
// the global gradient norm is read back (NaN guard, `grad_norm`) and the optimizer runs on
// the GPU. The metrics of step k are those of the forward passes that produced update k.
// BaseTrainer owns that skeleton; Trainer (pairs) and KtoTrainer (unpaired) fill a micro-batch.
import { StepEncoder } from '../engine/encoder';
import type { SequenceStats } from '../model/gpt';
import { arithmeticDtypeProblem, defaultCheckpointActivations, trainableOf, type TrainableModel } from '../model/family';
import { arithmeticPlan } from '../kernels/plan';
import type { HostBatch } from '../model/batch';
import { createObjective, ObjectiveNumericError, type PairObjective, type PairResult } from './objectives';
import { validateTrainConfig, type TrainConfig } from './config';
import { getLr } from './schedule';
import { checkPairs, promptFor, type PairIds } from './pairs';
import { forwardPairs, pairLogps } from './logps';
import { RunnerPool } from './runners';
import { checkCancelled, subPass, type PassHooks } from './progress';
import { OptimizerState, type Moments } from './optimizer-state';
import { Rng } from '../util/rng';
import { batchTokens, pairTokenMetrics, RUNNING_METRICS } from './token-metrics';

export type Metrics = Record<string, number>;
export { decays } from './optimizer-state';

/** The NaN guard's stop: the update (1-based) and the data indices (and file lines, when known) of its examples. */
export class TrainingError extends Error {
  override name = 'TrainingError';
  constructor(message: string, readonly step: number, readonly pairs: number[], readonly lines: number[] = []) {
    super(message);
  }
}

/** Reference sums S_ref per pair, computed once from the starting (or --ref-model) weights. */
export interface ReferenceLogps {
  chosen: Float64Array;
  rejected: Float64Array;
}

/** What a resume snapshot holds besides weights and moments; R: the trainer's reference sums. */
export interface TrainerState<R = PairReference> {
  /** Updates done. */
  step: number;
  reference: R | null;
}

/** Reference sums of the train and eval pairs. */
export type PairReference = { train: ReferenceLogps; eval: ReferenceLogps };

export interface MicroResult {
  metrics: Metrics;
  /** Real tokens read by the forward passes (tokens_per_second). */
  tokens: number;
}

/** R: the reference sums this trainer's objective reads (null until prepare() or restore()). */
export abstract class BaseTrainer<R = unknown> {
  readonly cfg: TrainConfig;
  step = 0;
  /** Tokens read by training forwards so far (TRL's num_tokens); restore() recounts them. */
  numTokens = 0;
  reference: R | null = null;
  /** Activation arenas by batch shape; diagnostics passes between updates reuse them (src/train/pair-track.ts). */
  readonly runners: RunnerPool;
  protected optimizer: OptimizerState;
  private orders = new Map<number, number[]>();

  constructor(readonly model: TrainableModel, protected trainSize: number, cfg: TrainConfig) {
    validateTrainConfig(cfg);
    if (trainSize === 0) throw new Error('no training examples');
    this.cfg = cfg;
    // reference sums and the policy use the same runners: with f16 activations both are the
    // same rounded function, so the log-ratios start at exactly 0
    // f16 arithmetic: refused at start for a family without it, and (F16UnavailableError) on an
    // adapter without shader-f16 — never a silent fallback to f32
    const arithmetic = cfg.arithmeticDtype ?? 'f32';
    const arithmeticProblem = arithmeticDtypeProblem(model.config, arithmetic);
    if (arithmeticProblem) throw new Error(`arithmeticDtype: ${arithmeticProblem}`);
    arithmeticPlan(model.gpu, arithmetic);
    this.runners = new RunnerPool(model, undefined, undefined, cfg.activationsDtype ?? 'f32', cfg.checkpointActivations ?? defaultCheckpointActivations(model.config), arithmetic);
    // with LoRA the optimizer trains the adapters only (the base is frozen)
    this.optimizer = new OptimizerState(trainableOf(model), cfg);
  }

  /**
   * Runs `pass` on the reference model: the base with its LoRA adapters switched off (TRL's PEFT
   * path: no second copy of the weights), or with `refWeights` (--ref-model) in place of the
   * starting weights, or the starting weights themselves.
   */
  protected async withReference<T>(refWeights: Map<string, Float32Array> | undefined, pass: () => Promise<T>): Promise<T> {
    const lora = this.model.lora ?? null;
    let policy: Map<string, Float32Array> | null = null;
    if (refWeights) {
      policy = await this.model.download();
      this.model.upload(refWeights);
    }
    if (lora) lora.enabled = false;
    try {
      return await pass();
    } finally {
      if (lora) lora.enabled = true;
      if (policy) this.model.upload(policy);
    }
  }

  /**
   * Reference sums for train and eval examples from the weights on the GPU, or from `refWeights`;
   * `hooks` see one pass over train then eval examples and may cancel it between batches.
   */
  abstract prepare(refWeights?: Map<string, Float32Array>, hooks?: PassHooks): Promise<void>;
  /** Held-out metrics (prefix `eval_`); {} without eval examples. `hooks`: as prepare's. */
  abstract evaluate(hooks?: PassHooks): Promise<Metrics>;

  /** Restore a snapshot's step, reference sums and optimizer moments. */
  restore(state: TrainerState<R>, moments: Moments | null): void {
    this.step = state.step;
    this.numTokens = this.tokensBefore(state.step);
    this.reference = state.reference;
    this.optimizer.restore(moments);
  }

  /** Forward, objective and backward of micro-batch `idx` (gradients += 1/gradAccum of its loss). */
  protected abstract microStep(idx: number[]): Promise<MicroResult>;
  /** Data indices of training examples, for error messages. */
  protected abstract dataIndex(i: number): number;
  /** Tokens training example i adds to num_tokens: prompt + completion, both sides of a pair. */
  protected abstract exampleTokens(i: number): number;

  /** num_tokens after `steps` updates, counted on the host over the same seeded micro-batches. */
  private tokensBefore(steps: number): number {
    let n = 0;
    for (let g = 0; g < steps * this.cfg.gradAccum; g++) for (const i of this.microBatch(g)) n += this.exampleTokens(i);
    return n;
  }

  /** Example indices of micro-batch g: consecutive slices of per-epoch seeded permutations. */
  protected microBatch(g: number): number[] {
    const n = this.trainSize;
    const out: number[] = [];
    for (let pos = g * this.cfg.batchSize; out.length < Math.min(this.cfg.batchSize, n); pos++) {
      out.push(this.epochOrder(Math.floor(pos / n))[pos % n]);
    }
    return out;
  }

  private epochOrder(epoch: number): number[] {
    let o = this.orders.get(epoch);
    if (!o) {
      o = new Rng((this.cfg.seed * 1_000_003 + epoch) >>> 0).shuffle(Array.from({ length: this.trainSize }, (_, i) => i));
      this.orders.clear();
      this.orders.set(epoch, o);
    }
    return o;
  }

  /** Throws a TrainingError naming the step and the examples whose value is not finite. */
  protected check(values: ArrayLike<number>, what: string, idx: readonly number[]): void {
    const bad = new Set<number>();
    for (let j = 0; j < values.length; j++) if (!Number.isFinite(values[j])) bad.add(this.dataIndex(idx[j % idx.length]));
    if (bad.size) {
      const list = [...bad];
      throw new TrainingError(`non-finite ${what} at step ${this.step + 1} (pairs ${list.join(', ')}): lower the learning rate or check these rows`, this.step + 1, list);
    }
  }

  /**
   * Runs the objective; a non-finite loss or derivative (ObjectiveNumericError, positions within
   * the micro-batch) becomes a TrainingError naming the step and the examples' data indices.
   */
  protected objectiveResult<T>(compute: () => T, idx: readonly number[]): T {
    try {
      return compute();
    } catch (e) {
      if (!(e instanceof ObjectiveNumericError)) throw e;
      const list = [...new Set(e.indices.map((j) => this.dataIndex(idx[j])))];
      throw new TrainingError(`${e.message.replace(/ for (pairs?|examples?) [\d, ]+$/, '')} at step ${this.step + 1} (pairs ${list.join(', ')}): lower the learning rate or check these rows`, this.step + 1, list);
    }
  }

  /** One optimizer update; returns its metrics (TRL names, docs/objectives.md). */
  async trainStep(): Promise<Metrics> {
    const { cfg, model } = this;
    const t0 = performance.now();
    const enc = new StepEncoder(model.gpu, 'zero-grad');
    for (const g of trainableOf(model).grads.chunks()) enc.clear(g);
    enc.submit();
    const parts: MicroResult[] = [];
    const all: number[] = [];
    for (let j = 0; j < cfg.gradAccum; j++) {
      const idx = this.microBatch(this.step * cfg.gradAccum + j);
      all.push(...idx);
      parts.push(await this.microStep(idx));
    }
    const gradNorm = await this.optimizer.gradNorm();
    if (!Number.isFinite(gradNorm)) {
      const list = [...new Set(all.map((i) => this.dataIndex(i)))];
      throw new TrainingError(`non-finite gradient norm at step ${this.step + 1} (pairs ${list.join(', ')}): lower the learning rate or check these rows`, this.step + 1, list);
    }
    const lr = getLr(this.step, { lr: cfg.lr, kind: cfg.schedule, warmupSteps: cfg.warmupSteps, totalSteps: cfg.steps });
    this.optimizer.apply(lr, this.step + 1);
    this.step++;
    await model.gpu.device.queue.onSubmittedWorkDone();
    const seconds = (performance.now() - t0) / 1000;
    return {
      ...meanMetrics(parts.map((p) => p.metrics)),
      grad_norm: gradNorm,
      learning_rate: lr,
      tokens_per_second: parts.reduce((n, p) => n + p.tokens, 0) / seconds,
      epoch: (this.step * cfg.gradAccum * cfg.batchSize) / this.trainSize,
      step: this.step,
    };
  }

  /**
   * Resolves once the parameters, gradients and optimizer state exist on the device; rejects with
   * a message naming what could not be allocated (WebGPU reports no total memory, so running out
   * shows only here, when the buffers are made).
   */
  async allocated(): Promise<void> {
    await this.model.params.allocated();
    await trainableOf(this.model).params.allocated();
    await trainableOf(this.model).grads.allocated();
    await this.optimizer.allocated();
  }

  /** Optimizer moments (for checkpoints). */
  optimizerState(): Promise<Moments | null> {
    return this.optimizer.moments();
  }

  /** GPU bytes held: parameters (and a 16-bit base), gradients (LoRA: with the adapters), optimizer state, activations. */
  get gpuBytes(): number {
    const m = this.model;
    const grads = m.lora ? m.lora.bytes : m.grads.bytes;
    return m.params.bytes + (m.packed?.bytes ?? 0) + grads + this.optimizer.bytes + this.runners.bytes;
  }

  destroy(): void {
    this.runners.destroy();
    this.optimizer.destroy();
  }
}

export class Trainer extends BaseTrainer<PairReference> {
  readonly objective: PairObjective;

  constructor(model: TrainableModel, readonly train: readonly PairIds[], readonly evalSet: readonly PairIds[], cfg: TrainConfig) {
    const objective = createObjective(cfg.objective);
    if (objective.kind !== 'pair') throw new Error(`method "${objective.method}" trains on unpaired data: use KtoTrainer`);
    checkPairs(train, model.seq);
    checkPairs(evalSet, model.seq);
    super(model, train.length, cfg);
    this.objective = objective;
  }

  protected dataIndex(i: number): number {
    return this.train[i].index;
  }

  protected exampleTokens(i: number): number {
    const p = this.train[i];
    return 2 * promptFor(p, this.model.seq.bosTokenId).length + p.chosenIds.length + p.rejectedIds.length;
  }

  private forwardPairs(pairs: readonly PairIds[]) {
    return forwardPairs(this.model, this.runners, pairs, this.objective.nll === 'prompt_and_completion');
  }

  /** S_ref for every pair, from the weights now on the GPU (call before training). */
  async computeReference(pairs: readonly PairIds[], hooks?: PassHooks): Promise<ReferenceLogps> {
    const r = await pairLogps(this.model, this.runners, pairs, this.cfg.batchSize, hooks);
    return { chosen: r.chosen, rejected: r.rejected };
  }

  /**
   * Reference sums for train and eval pairs; `refWeights` replaces the starting weights as the
   * reference; with LoRA the reference is the base model (adapters off: withReference).
   */
  async prepare(refWeights?: Map<string, Float32Array>, hooks?: PassHooks): Promise<void> {
    if (!this.objective.needsReference || this.reference) return;
    const total = this.train.length + this.evalSet.length;
    this.reference = await this.withReference(refWeights, async () => ({
      train: await this.computeReference(this.train, subPass(hooks, 0, total)),
      eval: await this.computeReference(this.evalSet, subPass(hooks, this.train.length, total)),
    }));
  }

  private objectiveInput(idx: readonly number[], batch: HostBatch, stats: SequenceStats, ref: ReferenceLogps | null) {
    const n = idx.length;
    const lens = batch.completionLens;
    return {
      chosenLogp: stats.logp.subarray(0, n),
      rejectedLogp: stats.logp.subarray(n, 2 * n),
      chosenRefLogp: ref ? Float64Array.from(idx, (i) => ref.chosen[i]) : undefined,
      rejectedRefLogp: ref ? Float64Array.from(idx, (i) => ref.rejected[i]) : undefined,
      chosenLen: lens.slice(0, n),
      rejectedLen: lens.slice(n, 2 * n),
      chosenLogitSum: stats.logitSum.subarray(0, n),
      chosenLogitCount: lens.slice(0, n),
      rejectedLogitSum: stats.logitSum.subarray(n, 2 * n),
      rejectedLogitCount: lens.slice(n, 2 * n),
      chosenNllSum: stats.nll.subarray(0, n),
      chosenNllCount: batch.nllLens.slice(0, n),
    };
  }

  protected async microStep(idx: number[]): Promise<MicroResult> {
    const { batch, stats, runner } = await this.forwardPairs(idx.map((i) => this.train[i]));
    this.check(stats.logp, 'log-probs', idx);
    const res = this.objectiveResult(() => this.objective.compute(this.objectiveInput(idx, batch, stats, this.reference?.train ?? null)), idx);
    this.check([res.loss], 'loss', idx);
    runner.setCoefficients(coefficients(batch, res, idx.length, 1 / this.cfg.gradAccum));
    const enc = new StepEncoder(this.model.gpu, 'backward');
    runner.backward(enc);
    enc.submit();
    this.numTokens += batchTokens(batch.lengths, batch.B);
    return { metrics: { ...res.metrics, ...pairTokenMetrics(stats, batch.completionLens, idx.length, this.numTokens) }, tokens: batch.lengths.reduce((a, b) => a + b, 0) };
  }

  /** Held-out metrics (prefix `eval_`), averaged over batches as TRL's evaluation loop does. */
  async evaluate(hooks?: PassHooks): Promise<Metrics> {
    if (this.evalSet.length === 0) return {};
    const all: Metrics[] = [];
    const bs = this.cfg.batchSize;
    const n = this.evalSet.length;
    hooks?.progress?.({ done: 0, total: n });
    for (let i = 0; i < n; i += bs) {
      checkCancelled(hooks);
      const idx = Array.from({ length: Math.min(bs, this.evalSet.length - i) }, (_, j) => i + j);
      const { batch, stats } = await this.forwardPairs(idx.map((k) => this.evalSet[k]));
      all.push({ ...this.objective.compute(this.objectiveInput(idx, batch, stats, this.reference?.eval ?? null)).metrics, ...pairTokenMetrics(stats, batch.completionLens, idx.length, this.numTokens) });
      hooks?.progress?.({ done: i + idx.length, total: n });
    }
    return prefixed(meanMetrics(all), 'eval_');
  }
}

/** Per-position dL/dlogp: completion tokens get dL/dS, NLL tokens add dL/dNllSum. */
export function coefficients(batch: HostBatch, res: PairResult, n: number, scale: number): Float32Array {
  const { B, T, completionMask, nllMask } = batch;
  const coef = new Float32Array(B * T);
  for (let b = 0; b < B; b++) {
    const chosen = b < n;
    const dS = chosen ? res.dChosenLogp[b] : res.dRejectedLogp[b - n];
    const dN = chosen ? res.dChosenNllSum[b] : 0;
    for (let t = 0; t < T; t++) {
      const k = b * T + t;
      coef[k] = scale * (completionMask[k] * dS + nllMask[k] * dN);
    }
  }
  return coef;
}

/** Mean of each metric over the records that report it (KTO omits sides a batch lacks). */
export function meanMetrics(all: readonly Metrics[]): Metrics {
  const sum: Metrics = {};
  const count: Metrics = {};
  for (const m of all) {
    for (const [k, v] of Object.entries(m)) {
      const last = RUNNING_METRICS.has(k); // a running total: the last value, not the mean
      sum[k] = (last ? 0 : (sum[k] ?? 0)) + v;
      count[k] = (last ? 0 : (count[k] ?? 0)) + 1;
    }
  }
  return Object.fromEntries(Object.keys(sum).map((k) => [k, sum[k] / count[k]]));
}

export function prefixed(m: Metrics, prefix: string): Metrics {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [`${prefix}${k}`, v]));
}
