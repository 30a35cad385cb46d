// KTO on unpaired examples (x, y, desirable?) — TRL KTOTrainer. Each example also gets a
// mismatched "KL" sequence x_i‖y_j whose log-probs (policy, no gradient, and reference) give
// the detached KL estimate z₀. As TRL's _get_kl_dataset, y_j is the completion of the previous
// example within fixed chunks of batch_size in data order, so the pairing — and its reference
// log-probs, computed once before training — does not depend on the shuffle.
import { StepEncoder } from '../engine/encoder';
import { buildBatch, type HostBatch, type SequenceSpec } from '../model/batch';
import type { SequenceConfig, TrainableModel } from '../model/family';
import { createObjective, type UnpairedObjective } from './objectives';
import type { TrainConfig } from './config';
import { batchLength, promptFor } from './pairs';
import { BaseTrainer, meanMetrics, prefixed, type Metrics, type MicroResult } from './trainer';
import { batchTokens, unpairedTokenMetrics } from './token-metrics';
import { checkCancelled, subPass, type PassHooks } from './progress';

export interface UnpairedIds {
  promptIds: readonly number[];
  completionIds: readonly number[];
  /** true: desirable (TRL label True). */
  label: boolean;
  index: number;
  line?: number;
}

/** (N) reference sums of the main sequences x_i‖y_i and of the KL sequences x_i‖y_partner(i). */
export interface UnpairedLogps {
  main: Float64Array;
  kl: Float64Array;
}

type Reference = UnpairedLogps;

/** Reference sums of the train and eval examples. */
export type UnpairedReference = { train: Reference; eval: Reference };

/** KL partner of example i: the previous example's completion within its chunk of `bs` (wrapping). */
export function klPartner(i: number, n: number, bs: number): number {
  const start = Math.floor(i / bs) * bs;
  const end = Math.min(start + bs, n);
  return i === start ? end - 1 : i - 1;
}

export function checkUnpaired(xs: readonly UnpairedIds[], model: { seq: SequenceConfig }): void {
  const c = model.seq;
  for (const x of xs) {
    const where = x.line !== undefined ? `example at line ${x.line}` : `example ${x.index}`;
    if (!x.completionIds.length) throw new Error(`${where}: empty completion`);
    const n = Math.max(1, x.promptIds.length) + x.completionIds.length;
    if (n > c.nPositions) throw new Error(`${where}: ${n} tokens exceed the model's n_positions ${c.nPositions}; lower --max-length`);
  }
}

export class KtoTrainer extends BaseTrainer<UnpairedReference> {
  readonly objective: UnpairedObjective;

  constructor(model: TrainableModel, readonly train: readonly UnpairedIds[], readonly evalSet: readonly UnpairedIds[], cfg: TrainConfig) {
    const objective = createObjective(cfg.objective);
    if (objective.kind !== 'unpaired') throw new Error(`method "${objective.method}" trains on preference pairs: use Trainer`);
    checkUnpaired(train, model);
    checkUnpaired(evalSet, model);
    super(model, train.length, cfg);
    this.objective = objective;
  }

  protected dataIndex(i: number): number {
    return this.train[i].index;
  }

  protected exampleTokens(i: number): number {
    return Math.max(1, this.train[i].promptIds.length) + this.train[i].completionIds.length; // an empty prompt reads BOS
  }

  /** Main sequences x_i‖y_i, then KL sequences x_i‖y_partner(i), for examples `idx` of `xs`. */
  private batch(xs: readonly UnpairedIds[], idx: readonly number[]): HostBatch {
    const bos = this.model.seq.bosTokenId;
    const seqs: SequenceSpec[] = [];
    for (const kl of [false, true]) {
      for (const i of idx) {
        const prompt = promptFor({ promptIds: xs[i].promptIds, chosenIds: [], rejectedIds: [], index: 0 }, bos);
        const completion = xs[kl ? klPartner(i, xs.length, this.cfg.batchSize) : i].completionIds;
        seqs.push({ ids: [...prompt, ...completion], promptLen: prompt.length });
      }
    }
    const T = batchLength(Math.max(...seqs.map((s) => s.ids.length)), this.model.seq.nPositions);
    return buildBatch(seqs, this.model.seq.eosTokenId, T);
  }

  private async forward(xs: readonly UnpairedIds[], idx: readonly number[]) {
    const batch = this.batch(xs, idx);
    const runner = this.runners.get(batch.B, batch.T);
    runner.setBatch(batch);
    const enc = new StepEncoder(this.model.gpu, 'forward');
    runner.forward(enc);
    enc.submit();
    return { batch, runner, stats: await runner.readStats() };
  }

  private async sums(xs: readonly UnpairedIds[], hooks?: PassHooks): Promise<Reference> {
    const main = new Float64Array(xs.length);
    const kl = new Float64Array(xs.length);
    hooks?.progress?.({ done: 0, total: xs.length });
    for (let s = 0; s < xs.length; s += this.cfg.batchSize) {
      checkCancelled(hooks);
      const idx = Array.from({ length: Math.min(this.cfg.batchSize, xs.length - s) }, (_, j) => s + j);
      const { stats } = await this.forward(xs, idx);
      idx.forEach((i, j) => {
        main[i] = stats.logp[j];
        kl[i] = stats.logp[idx.length + j];
      });
      hooks?.progress?.({ done: s + idx.length, total: xs.length });
    }
    return { main, kl };
  }

  /** Reference sums (main and KL sequences) from the weights on the GPU, or `refWeights`; with LoRA, of the base model (adapters off). */
  async prepare(refWeights?: Map<string, Float32Array>, hooks?: PassHooks): Promise<void> {
    if (this.reference) return;
    const total = this.train.length + this.evalSet.length;
    this.reference = await this.withReference(refWeights, async () => ({
      train: await this.sums(this.train, subPass(hooks, 0, total)),
      eval: await this.sums(this.evalSet, subPass(hooks, this.train.length, total)),
    }));
  }

  private input(xs: readonly UnpairedIds[], idx: readonly number[], batch: HostBatch, stats: { logp: Float64Array; logitSum: Float64Array }, ref: Reference) {
    const n = idx.length;
    return {
      logp: stats.logp.subarray(0, n),
      refLogp: Float64Array.from(idx, (i) => ref.main[i]),
      len: batch.completionLens.slice(0, n),
      desirable: idx.map((i) => xs[i].label),
      logitSum: stats.logitSum.subarray(0, n),
      logitCount: batch.completionLens.slice(0, n),
      klLogp: stats.logp.subarray(n, 2 * n),
      klRefLogp: Float64Array.from(idx, (i) => ref.kl[i]),
    };
  }

  protected async microStep(idx: number[]): Promise<MicroResult> {
    if (!this.reference) throw new Error('KtoTrainer: call prepare() before training');
    const { batch, runner, stats } = await this.forward(this.train, idx);
    this.check(stats.logp, 'log-probs', idx);
    const ref = this.reference.train;
    const res = this.objectiveResult(() => this.objective.compute(this.input(this.train, idx, batch, stats, ref)), idx);
    this.check([res.loss], 'loss', idx);
    // Only the main sequences carry gradient; the KL rows (b ≥ n) get zero coefficients.
    const n = idx.length;
    const coef = new Float32Array(batch.B * batch.T);
    for (let b = 0; b < n; b++) {
      for (let t = 0; t < batch.T; t++) coef[b * batch.T + t] = (batch.completionMask[b * batch.T + t] * res.dLogp[b]) / this.cfg.gradAccum;
    }
    runner.setCoefficients(coef);
    const enc = new StepEncoder(this.model.gpu, 'backward');
    runner.backward(enc);
    enc.submit();
    this.numTokens += batchTokens(batch.lengths, n); // the examples, not their KL sequences (TRL)
    return { metrics: { ...res.metrics, ...unpairedTokenMetrics(stats, batch.completionLens, n, this.numTokens) }, tokens: batch.lengths.reduce((a, b) => a + b, 0) };
  }

  async evaluate(hooks?: PassHooks): Promise<Metrics> {
    if (!this.evalSet.length || !this.reference) return {};
    const all: Metrics[] = [];
    const n = this.evalSet.length;
    hooks?.progress?.({ done: 0, total: n });
    for (let s = 0; s < n; s += this.cfg.batchSize) {
      checkCancelled(hooks);
      const idx = Array.from({ length: Math.min(this.cfg.batchSize, this.evalSet.length - s) }, (_, j) => s + j);
      const { batch, stats } = await this.forward(this.evalSet, idx);
      all.push({ ...this.objective.compute(this.input(this.evalSet, idx, batch, stats, this.reference.eval)).metrics, ...unpairedTokenMetrics(stats, batch.completionLens, idx.length, this.numTokens) });
      hooks?.progress?.({ done: s + idx.length, total: n });
    }
    return prefixed(meanMetrics(all), 'eval_');
  }
}
