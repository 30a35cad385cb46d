// The training loop (SPEC §2, §5): per update, for each micro-batch: GPU forward → per-sequence
// sums read back → the objective (pure float64) → per-token coefficients → GPU backward; then
// the global gradient norm is read back (NaN guard, `grad_norm`) and the optimizer runs on
// the GPU. The metrics of step k are those of the forward passes that produced update k.
import { Arena, createView, type View } from '../engine/arena';
import { StepEncoder } from '../engine/encoder';
import { readF32 } from '../engine/readback';
import type { GptModel, SequenceStats } from '../model/gpt';
import { forwardPairs, pairLogps } from './logps';
import type { HostBatch } from '../model/batch';
import { paramSpec } from '../model/config';
import { adamwStep, gradNormPartialsSize, gradNormSquared, OPTIMIZER_HP_SIZE, sgdStep, writeOptimizerHp } from '../kernels/optimizer';
import { createObjective, type PairObjective, type PairResult } from './objectives';
import { validateTrainConfig, type TrainConfig } from './config';
import { getLr } from './schedule';
import { checkPairs, type PairIds } from './pairs';
import { RunnerPool } from './runners';
import { Rng } from '../util/rng';

export type Metrics = Record<string, number>;

export class TrainingError extends Error {
  override name = 'TrainingError';
  constructor(message: string, readonly step: number, readonly pairs: number[]) {
    super(message);
  }
}

/** Reference sums S_ref per pair, computed once from the starting (or --ref-model) weights. */
export interface ReferenceLogps {
  chosen: Float64Array;
  rejected: Float64Array;
}

export interface TrainerState {
  /** Updates done. */
  step: number;
  reference: { train: ReferenceLogps; eval: ReferenceLogps } | null;
}

export class Trainer {
  readonly objective: PairObjective;
  readonly cfg: TrainConfig;
  step = 0;
  reference: TrainerState['reference'] = null;
  private runners: RunnerPool;
  private m: Arena | null = null;
  private v: Arena | null = null;
  private hp: View;
  private hpNoDecay: View;
  private normSq: View;
  private partials: View;
  private nParams: number;

  constructor(readonly model: GptModel, readonly train: readonly PairIds[], readonly evalSet: readonly PairIds[], cfg: TrainConfig) {
    validateTrainConfig(cfg);
    this.cfg = cfg;
    const objective = createObjective(cfg.objective);
    if (objective.kind !== 'pair') throw new Error(`method "${objective.method}" trains on unpaired data, which this trainer does not take`);
    this.objective = objective;
    if (train.length === 0) throw new Error('no training pairs');
    checkPairs(train, model.config);
    checkPairs(evalSet, model.config);
    const d = model.gpu.device;
    this.runners = new RunnerPool(model);
    this.nParams = model.params.whole().length;
    this.hp = createView(d, 'optimizer.hp', [OPTIMIZER_HP_SIZE]);
    this.hpNoDecay = createView(d, 'optimizer.hp_no_decay', [OPTIMIZER_HP_SIZE]);
    this.normSq = createView(d, 'optimizer.grad_norm_sq', [1]);
    this.partials = createView(d, 'optimizer.norm_partials', [gradNormPartialsSize(this.nParams)]);
    if (cfg.optimizer === 'adamw') {
      this.m = new Arena(d, 'adam.m', paramSpec(model.config));
      this.v = new Arena(d, 'adam.v', paramSpec(model.config));
      const enc = new StepEncoder(model.gpu, 'adam.init');
      enc.clear(this.m.whole());
      enc.clear(this.v.whole());
      enc.submit();
    }
  }

  private get nllIncludesPrompt(): boolean {
    return this.objective.nll === 'prompt_and_completion';
  }

  private forwardPairs(pairs: readonly PairIds[]) {
    return forwardPairs(this.model, this.runners, pairs, this.nllIncludesPrompt);
  }

  /** S_ref for every pair, from the weights now on the GPU (call before training). */
  async computeReference(pairs: readonly PairIds[]): Promise<ReferenceLogps> {
    const r = await pairLogps(this.model, this.runners, pairs, this.cfg.batchSize);
    return { chosen: r.chosen, rejected: r.rejected };
  }

  /** Reference sums for train and eval pairs; `refWeights` replaces the starting weights as the reference. */
  async prepare(refWeights?: Map<string, Float32Array>): Promise<void> {
    if (!this.objective.needsReference || this.reference) return;
    let policy: Map<string, Float32Array> | null = null;
    if (refWeights) {
      policy = await this.model.download();
      this.model.upload(refWeights);
    }
    this.reference = { train: await this.computeReference(this.train), eval: await this.computeReference(this.evalSet) };
    if (policy) this.model.upload(policy);
  }

  /** Pair indices of micro-batch g: consecutive slices of per-epoch seeded permutations. */
  private microBatch(g: number): number[] {
    const n = this.train.length;
    const out: number[] = [];
    for (let pos = g * this.cfg.batchSize; out.length < Math.min(this.cfg.batchSize, n); pos++) {
      const epoch = Math.floor(pos / n);
      out.push(this.epochOrder(epoch)[pos % n]);
    }
    return out;
  }

  private orders = new Map<number, number[]>();
  private epochOrder(epoch: number): number[] {
    let o = this.orders.get(epoch);
    if (!o) {
      o = new Rng((this.cfg.seed * 1_000_003 + epoch) >>> 0).shuffle(Array.from({ length: this.train.length }, (_, i) => i));
      this.orders.clear();
      this.orders.set(epoch, o);
    }
    return o;
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

  private check(values: ArrayLike<number>, what: string, idx: readonly number[], pairs: readonly PairIds[]): void {
    const bad: number[] = [];
    const n = idx.length;
    for (let j = 0; j < values.length; j++) if (!Number.isFinite(values[j])) bad.push(pairs[idx[j % n]].index);
    if (bad.length) {
      const unique = [...new Set(bad)];
      throw new TrainingError(`non-finite ${what} at step ${this.step + 1} (pairs ${unique.join(', ')}): lower the learning rate or check these rows`, this.step + 1, unique);
    }
  }

  /** One optimizer update; returns its metrics (TRL names, SPEC §5). */
  async trainStep(): Promise<Metrics> {
    const { cfg, model } = this;
    const t0 = performance.now();
    const enc0 = new StepEncoder(model.gpu, 'zero-grad');
    enc0.clear(model.grads.whole());
    enc0.submit();
    const results: PairResult[] = [];
    let tokens = 0;
    for (let j = 0; j < cfg.gradAccum; j++) {
      const idx = this.microBatch(this.step * cfg.gradAccum + j);
      const { batch, stats, runner } = await this.forwardPairs(idx.map((i) => this.train[i]));
      this.check(stats.logp, 'log-probs', idx, this.train);
      const res = this.objective.compute(this.objectiveInput(idx, batch, stats, this.reference?.train ?? null));
      if (!Number.isFinite(res.loss)) this.check([res.loss], 'loss', idx, this.train);
      results.push(res);
      tokens += batch.lengths.reduce((a, b) => a + b, 0);
      runner.setCoefficients(coefficients(batch, res, idx.length, 1 / cfg.gradAccum));
      const enc = new StepEncoder(model.gpu, 'backward');
      runner.backward(enc);
      enc.submit();
    }
    const enc = new StepEncoder(model.gpu, 'grad-norm');
    gradNormSquared(enc, this.normSq, this.partials, model.grads.whole(), this.nParams);
    enc.submit();
    const normSq = (await readF32(model.gpu.device, this.normSq))[0];
    const gradNorm = Math.sqrt(normSq);
    if (!Number.isFinite(gradNorm)) {
      const idx = Array.from({ length: cfg.gradAccum }, (_, j) => this.microBatch(this.step * cfg.gradAccum + j)).flat();
      throw new TrainingError(`non-finite gradient norm at step ${this.step + 1} (pairs ${idx.map((i) => this.train[i].index).join(', ')}): lower the learning rate or check these rows`, this.step + 1, idx.map((i) => this.train[i].index));
    }
    const lr = getLr(this.step, { lr: cfg.lr, kind: cfg.schedule, warmupSteps: cfg.warmupSteps, totalSteps: cfg.steps });
    this.applyUpdate(lr);
    this.step++;
    await model.gpu.device.queue.onSubmittedWorkDone();
    const seconds = (performance.now() - t0) / 1000;
    return {
      ...meanMetrics(results.map((r) => r.metrics)),
      grad_norm: gradNorm,
      learning_rate: lr,
      tokens_per_second: tokens / seconds,
      epoch: (this.step * cfg.gradAccum * cfg.batchSize) / this.train.length,
      step: this.step,
    };
  }

  private applyUpdate(lr: number): void {
    const { cfg, model } = this;
    const d = model.gpu.device;
    writeOptimizerHp(d, this.hp, { lr, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: cfg.weightDecay, step: this.step + 1, maxGradNorm: cfg.maxGradNorm });
    const enc = new StepEncoder(model.gpu, 'optimizer');
    if (cfg.optimizer === 'sgd') {
      sgdStep(enc, model.params.whole(), model.grads.whole(), this.normSq, this.hp, this.nParams);
    } else if (cfg.weightDecay === 0) {
      adamwStep(enc, model.params.whole(), this.m!.whole(), this.v!.whole(), model.grads.whole(), this.normSq, this.hp, this.nParams);
    } else {
      // As Hugging Face's Trainer: no weight decay on biases and LayerNorm weights.
      writeOptimizerHp(d, this.hpNoDecay, { lr, beta1: cfg.beta1, beta2: cfg.beta2, eps: cfg.eps, weightDecay: 0, step: this.step + 1, maxGradNorm: cfg.maxGradNorm });
      for (const name of model.params.names()) {
        const hp = decays(name) ? this.hp : this.hpNoDecay;
        const p = model.params.get(name);
        adamwStep(enc, p, this.m!.get(name), this.v!.get(name), model.grads.get(name), this.normSq, hp, p.length);
      }
    }
    enc.submit();
  }

  /** Held-out metrics (prefix `eval_`), averaged over batches as TRL's evaluation loop does. */
  async evaluate(): Promise<Metrics> {
    if (this.evalSet.length === 0) return {};
    const all: Metrics[] = [];
    const bs = this.cfg.batchSize;
    for (let i = 0; i < this.evalSet.length; i += bs) {
      const idx = Array.from({ length: Math.min(bs, this.evalSet.length - i) }, (_, j) => i + j);
      const { batch, stats } = await this.forwardPairs(idx.map((k) => this.evalSet[k]));
      all.push(this.objective.compute(this.objectiveInput(idx, batch, stats, this.reference?.eval ?? null)).metrics);
    }
    const mean = meanMetrics(all);
    return Object.fromEntries(Object.entries(mean).map(([k, v]) => [`eval_${k}`, v]));
  }

  /** Optimizer moments (for checkpoints). */
  async optimizerState(): Promise<{ m: Map<string, Float32Array>; v: Map<string, Float32Array> } | null> {
    if (!this.m || !this.v) return null;
    return { m: await this.model.download(this.m), v: await this.model.download(this.v) };
  }

  /** Restore a checkpoint's step, reference sums and optimizer moments. */
  restore(state: TrainerState, moments: { m: Map<string, Float32Array>; v: Map<string, Float32Array> } | null): void {
    this.step = state.step;
    this.reference = state.reference;
    if (moments && this.m && this.v) {
      for (const [arena, values] of [[this.m, moments.m], [this.v, moments.v]] as const) {
        for (const name of arena.names()) {
          const view = arena.get(name);
          const w = values.get(name);
          if (!w || w.length !== view.length) throw new Error(`checkpoint: optimizer state for "${name}" is missing or has the wrong size`);
          this.model.gpu.device.queue.writeBuffer(view.buffer, view.offset, w.buffer, w.byteOffset, w.byteLength);
        }
      }
    }
  }

  /** GPU bytes held: parameters, gradients, optimizer state, activations. */
  get gpuBytes(): number {
    return this.model.params.bytes + this.model.grads.bytes + (this.m?.bytes ?? 0) + (this.v?.bytes ?? 0) + this.runners.bytes;
  }

  destroy(): void {
    this.runners.destroy();
    this.m?.destroy();
    this.v?.destroy();
    for (const v of [this.hp, this.hpNoDecay, this.normSq, this.partials]) v.buffer.destroy();
  }
}

/** Hugging Face's decay rule: every weight but biases and LayerNorm gains. */
export function decays(name: string): boolean {
  return !name.endsWith('.bias') && !/(^|\.)ln_(1|2|f)\.weight$/.test(name);
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

export function meanMetrics(all: readonly Metrics[]): Metrics {
  const out: Metrics = {};
  if (!all.length) return out;
  for (const k of Object.keys(all[0])) out[k] = all.reduce((s, m) => s + m[k], 0) / all.length;
  return out;
}
