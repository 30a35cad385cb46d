// PPO on the GPU (TRL v1.9.0 PPOTrainer.train, trl/experimental/ppo/ppo_trainer.py 669–904;
// docs/rlhf.md "PPO on the GPU"). One update (TRL: one rollout batch):
//   1. the step's P prompts (seeded permutations, as every trainer draws its data) and one response
//      each from the policy (DecodeRunner, seed = the run's seed + updates done, temperature
//      T + 1e−7 as TRL passes it to generate), cut after the first end-of-text;
//   2. without gradients, per micro-batch: the policy's and the reference's per-token log-probs of
//      the responses (logits / (T + 1e−7)), the value model's output at every position (the score
//      head of the value model applied at every position), the reward model's score of prompt +
//      response at its last non-padding token (exactly the `score` command's reading);
//   3. the objective's rollout (src/train/rl/ppo.ts ppoRollout): k1 KL × kl_coef as the per-token
//      non-score reward, the score at the end, GAE (γ, λ), whitened advantages, returns;
//   4. num_ppo_epochs passes, each over a fresh seeded permutation of the batch split into
//      num_mini_batches mini-batches (one optimizer step each) of gradAccum micro-batches: the
//      policy's forward (log-probs, per-position entropies) and the value model's forward, the
//      clipped policy and value losses (ppoMicroLoss), both backwards, then the joint gradient
//      norm, the NaN guard, clipping and AdamW on the policy and the value model at the same lr.
// The policy's logits are divided by T + 1e−7 as GRPO's are by T (GenerationTrainer: the final
// norm scaled). The reference is a frozen copy of the starting weights (GenerationTrainer; with
// LoRA, --lora-r, the base with the adapters off, and only the adapters train), so
// `objective/kl` is exactly 0 at step 1; the rollout's log-probs come from the same training
// forward (TRL takes them from generate's scores: the same function, another rounding), so the
// first epoch's ratio is exactly 1. The value model starts from the reward model (TRL's default
// value_model = the reward folder) and is trained; the reward model stays frozen. With LoRA the
// value model stays a full f32 copy of the reward model, fully trained (TRL with a peft_config
// adapts the policy only: its value model is a separate full model); it is small next to the policy
// in the playground's presets. No Node-only imports: the worker drives it too.
import { StepEncoder } from '../engine/encoder';
import { createModel, trainableOf, type ModelRunner, type TrainableModel } from '../model/family';
import { rewardPadId } from '../model/reward';
import type { TrainConfig } from './config';
import { createObjective, type PpoObjective } from './objectives';
import { GenerationTrainer, generationSeed, type Micro } from './online-trainer';
import { OptimizerState, type Moments } from './optimizer-state';
import { checkCancelled, type PassHooks } from './progress';
import { promptInput, type PromptIds } from './prompts';
import { RewardModelScorer, type RewardModelWeights } from './reward-source';
import { ppoMicroBatch, type PpoMicroStats, type PpoRollout } from './rl/ppo';
import { completionMetrics, isTruncated, padResponses } from './rl/rollout';
import { mean } from './rl/stats';
import { RunnerPool } from './runners';
import { getLr } from './schedule';
import { prefixed, TrainingError, type Metrics } from './trainer';
import { Rng } from '../util/rng';

/** One PPO response as DIR/samples.jsonl holds it. */
export interface PpoSample {
  /** The update the response was generated for (1-based), from the weights after step − 1 updates. */
  step: number;
  prompt: string;
  completion: string;
  /** The ids the model read (an empty prompt: [bos]). */
  prompt_ids: number[];
  /** The response as scored and trained on: up to and including the first end-of-text. */
  completion_ids: number[];
  /** The reward model's score of prompt_ids + completion_ids (before any missing-EOS penalty). */
  score: number;
}

export interface PpoTrainerOptions {
  /** Token ids → text (the tokenizer's decode), for the samples. */
  text: (ids: readonly number[]) => string;
  /** The reward model (frozen). */
  rewardModel: RewardModelWeights;
  /** The value model's starting weights (default: the reward model's, TRL's default). */
  valueModel?: RewardModelWeights;
}

/** Prefix of the value model's tensors in a run's snapshot (params and moments beside the policy's). */
export const VALUE_PREFIX = 'value_model.';

/** PPO's logit divisor: TRL divides by temperature + 1e−7 (ppo_trainer.py 621, 713, 822). */
export function ppoLogitDivisor(temperature: number): number {
  return temperature + 1e-7;
}

export class PpoTrainer extends GenerationTrainer {
  readonly objective: PpoObjective;
  readonly scorer: RewardModelScorer;
  /** The value model (a reward model read at every position), trained beside the policy. */
  readonly value: TrainableModel;
  /** The last update's responses (TrainingRun hands them to its events: samples.jsonl). */
  samples: PpoSample[] = [];
  private valueRunners: RunnerPool;
  private valueOptimizer: OptimizerState;
  private readonly batch: number;
  private readonly padId: number;
  private startTime: number | null = null;

  constructor(model: TrainableModel, train: readonly PromptIds[], evalSet: readonly PromptIds[], cfg: TrainConfig, private o: PpoTrainerOptions) {
    const objective = createObjective(cfg.objective);
    if (objective.kind !== 'ppo') throw new Error(`method "${objective.method}" is not PPO: use ${objective.kind === 'online' ? 'OnlineTrainer' : 'Trainer, KtoTrainer or RewardTrainer'}`);
    super(model, train, evalSet, cfg, 'ppo', objective.generation, ppoLogitDivisor(objective.generation.temperature));
    this.objective = objective;
    const B = Math.min(cfg.batchSize, train.length);
    const M = objective.numMiniBatches;
    if (B % M !== 0) throw new Error(`numMiniBatches ${M} must divide the ${B} responses of an update (batch size)`);
    if ((B / M) % cfg.gradAccum !== 0) throw new Error(`gradAccum ${cfg.gradAccum} must divide the ${B / M} responses of a mini-batch (batch size ${B} / ${M} mini-batches)`);
    this.batch = B;
    this.padId = rewardPadId(model.config);
    this.scorer = new RewardModelScorer(model, o.rewardModel);
    const init = o.valueModel ?? o.rewardModel;
    if (JSON.stringify(init.config) !== JSON.stringify(o.rewardModel.config)) throw new Error(`value model ${init.name}: its configuration differs from the reward model's (PPO's value model starts from the reward model)`);
    this.value = createModel(model.gpu, { config: init.config });
    this.value.upload(init.params);
    this.valueRunners = new RunnerPool(this.value, undefined, undefined, this.runners.activationsDtype, this.runners.checkpoint, this.runners.arithmeticDtype);
    this.valueOptimizer = new OptimizerState(this.value, cfg);
  }

  override async allocated(): Promise<void> {
    await super.allocated();
    await this.value.params.allocated();
    await this.value.grads.allocated();
    await this.valueOptimizer.allocated();
    await this.scorer.allocated();
  }

  /** Rows per forward: a micro-batch (the update's responses / num_mini_batches / gradAccum). */
  private get microRows(): number {
    return this.batch / this.objective.numMiniBatches / this.cfg.gradAccum;
  }

  /** The value model's outputs at the response positions of micro-batch `m`, (B, Tc) in its completion layout. */
  private async valueForward(m: Micro): Promise<{ runner: ModelRunner; values: Float64Array }> {
    const runner = this.valueRunners.get(m.batch.B, m.batch.T);
    runner.setBatch(m.batch);
    const enc = new StepEncoder(this.value.gpu, 'value forward');
    runner.forward(enc);
    enc.submit();
    return { runner, values: this.gather(await runner.readValues!(), m.batch.T, m.promptLens, m.Tc, null) };
  }

  /** The policy's per-token log-probs (B, Tc) and per-position entropies (every position, padding included). */
  private async policyPass(m: Micro): Promise<{ runner: ModelRunner; logps: Float64Array; entropies: Float64Array }> {
    const runner = this.runners.get(m.batch.B, m.batch.T);
    runner.setBatch(m.batch);
    const enc = new StepEncoder(this.model.gpu, 'forward');
    runner.forward(enc);
    enc.submit();
    const logps = this.gather(await runner.readTokenLogps(), m.batch.T, m.promptLens, m.Tc, m.mask);
    const entropies = this.gather(await runner.readTokenEntropies!(), m.batch.T, m.promptLens, m.Tc, null);
    return { runner, logps, entropies };
  }

  /** Copies micro-batch rows (B_m, T) into rollout rows `rows` of a (B, T) array. */
  private static put(dst: Float64Array, src: Float64Array, rows: readonly number[], T: number): void {
    rows.forEach((r, b) => dst.set(src.subarray(b * T, (b + 1) * T), r * T));
  }

  /** The responses to `prompts`, the rollout (no gradients) and the raw scores. */
  private async rollout(prompts: readonly PromptIds[], seed: number): Promise<{ inputs: number[][]; kept: number[][]; rollout: PpoRollout; scores: Float64Array }> {
    const bos = this.model.seq.bosTokenId;
    const eos = this.model.seq.eosTokenId;
    const inputs = prompts.map((p) => promptInput(p, bos));
    const kept = await this.generateRows(inputs, this.batch, seed, this.logitDivisor);
    const { T, responses } = padResponses(kept, this.padId);
    const B = inputs.length;
    const logprobs = new Float64Array(B * T);
    const refLogprobs = new Float64Array(B * T);
    const values = new Float64Array(B * T);
    const scores = await this.scorer.score(inputs, kept, this.microRows);
    const saved = await this.scaleNorm(this.logitDivisor);
    try {
      for (let i = 0; i < B; i += this.microRows) {
        const rows = Array.from({ length: Math.min(this.microRows, B - i) }, (_, k) => i + k);
        const m = await this.micro(rows, inputs, kept, T);
        const pol = await this.policyPass(m);
        const val = await this.valueForward(m);
        PpoTrainer.put(logprobs, pol.logps, rows, T);
        PpoTrainer.put(refLogprobs, m.refLogps, rows, T);
        PpoTrainer.put(values, val.values, rows, T);
      }
    } finally {
      if (saved) this.restoreNorm(saved);
    }
    const rowPrompt = prompts.map((_, b) => b);
    for (const [x, what] of [[logprobs, 'log-probs'], [refLogprobs, 'reference log-probs'], [values, 'values']] as const) this.checkFinite(x, what, rowPrompt, T);
    this.checkFinite(scores, 'reward model scores', rowPrompt, 1);
    const rollout = this.objective.rollout({ B, T, responses, logprobs, refLogprobs, values, scores }, { eosId: eos, padId: this.padId });
    return { inputs, kept, rollout, scores };
  }

  override async trainStep(): Promise<Metrics> {
    if (!this.referenceReady) throw new Error('PpoTrainer: call prepare() before training (the reference model)');
    const { cfg, model, objective: obj } = this;
    const t0 = performance.now();
    this.startTime ??= t0;
    const idx = this.microBatch(this.step);
    const prompts = idx.map((i) => this.train[i]);
    const where = (rows: readonly number[]) => rows.map((r) => idx[r]);
    let r;
    try {
      r = await this.rollout(prompts, generationSeed(cfg.seed, this.step));
    } catch (e) {
      // rows of the rollout are the step's prompts: name their data indices
      if (e instanceof TrainingError) throw new TrainingError(e.message.replace(/\(examples [\d, ]+\)/, `(examples ${[...new Set(e.pairs.map((b) => this.dataIndex(idx[b])))].join(', ')})`), e.step, e.pairs.map((b) => this.dataIndex(idx[b])));
      throw e;
    }
    const { inputs, kept, rollout } = r;
    const B = inputs.length;
    const T = rollout.T;
    const E = obj.numPpoEpochs;
    const M = obj.numMiniBatches;
    const GA = cfg.gradAccum;
    const mini = B / M;
    const lr = getLr(this.step, { lr: cfg.lr, kind: cfg.schedule, warmupSteps: cfg.warmupSteps, totalSteps: cfg.steps });
    const stats: PpoMicroStats[] = [];
    const norms: number[] = [];
    let tokens = 0;
    for (let e = 0; e < E; e++) {
      // TRL: np.random.permutation(local_batch_size) per epoch; here a seeded stream per (update, epoch)
      const order = new Rng((cfg.seed * 1_000_003 + this.step * 7919 + e * 104_729 + 0x9e3779b9) >>> 0).shuffle(Array.from({ length: B }, (_, k) => k));
      for (let mb = 0; mb < M; mb++) {
        this.zeroGrads();
        const saved = await this.scaleNorm(this.logitDivisor);
        try {
          for (let j = 0; j < GA; j++) {
            const rows = order.slice(mb * mini + j * this.microRows, mb * mini + (j + 1) * this.microRows);
            const m = await this.micro(rows, inputs, kept, T);
            const pol = await this.policyPass(m);
            const val = await this.valueForward(m);
            this.checkFinite(pol.logps, 'log-probs', where(rows), T);
            this.checkFinite(val.values, 'values', where(rows), T);
            const res = this.objectiveResult(() => obj.microLoss(ppoMicroBatch(rollout, rows, { newLogprobs: pol.logps, vpred: val.values, entropies: pol.entropies }), GA), where(rows));
            pol.runner.setCoefficients(this.scatter(res.coefLogp, m.batch.T, m.promptLens, T));
            val.runner.setValueGradients!(this.scatter(res.dValue, m.batch.T, m.promptLens, T));
            const enc = new StepEncoder(model.gpu, 'backward');
            pol.runner.backward(enc);
            val.runner.backward(enc);
            enc.submit();
            stats.push(res.stats);
            tokens += m.batch.lengths.reduce((a, b) => a + b, 0);
          }
        } finally {
          if (saved) this.restoreNorm(saved);
        }
        if (saved) await this.scaleNormGrads(this.logitDivisor);
        norms.push(await this.optimizerStep(lr, this.step * E * M + e * M + mb + 1, idx));
      }
    }
    this.samples = kept.map((c, b) => ({ step: this.step + 1, prompt: this.o.text(prompts[b].promptIds), completion: this.completionText(c, this.o.text), prompt_ids: inputs[b], completion_ids: c, score: r.scores[b] }));
    const eos = model.seq.eosTokenId;
    const comp = completionMetrics(kept.map((c) => c.length), kept.map((c) => isTruncated(c, eos, this.padId)), inputs.map((x) => x.length));
    this.numTokens += comp.tokens;
    this.step++;
    await model.gpu.device.queue.onSubmittedWorkDone();
    const now = performance.now();
    const episode = this.step * B;
    return {
      ...obj.metrics(rollout, stats),
      lr,
      episode,
      // TRL: int(episode / seconds since training started)
      eps: Math.floor(episode / Math.max(1e-9, (now - this.startTime) / 1000)),
      ...comp.metrics,
      num_tokens: this.numTokens,
      grad_norm: mean(norms),
      learning_rate: lr,
      tokens_per_second: tokens / ((now - t0) / 1000),
      epoch: episode / this.train.length,
      step: this.step,
    };
  }

  private zeroGrads(): void {
    const enc = new StepEncoder(this.model.gpu, 'zero-grad');
    for (const g of [...trainableOf(this.model).grads.chunks(), ...this.value.grads.chunks()]) enc.clear(g);
    enc.submit();
  }

  /**
   * One AdamW step of the policy and the value model at the same lr, clipped by their joint
   * gradient norm (one nn.Module in TRL: PolicyAndValueWrapper); returns that norm.
   */
  private async optimizerStep(lr: number, k: number, idx: readonly number[]): Promise<number> {
    const [p, v] = [await this.optimizer.gradNorm(), await this.valueOptimizer.gradNorm()];
    const normSq = p * p + v * v;
    if (!Number.isFinite(normSq)) {
      const list = [...new Set(idx.map((i) => this.dataIndex(i)))];
      throw new TrainingError(`non-finite gradient norm at step ${this.step + 1} (examples ${list.join(', ')}): lower the learning rate or check these rows`, this.step + 1, list);
    }
    this.optimizer.setGradNormSq(normSq);
    this.valueOptimizer.setGradNormSq(normSq);
    this.optimizer.apply(lr, k);
    this.valueOptimizer.apply(lr, k);
    return Math.sqrt(normSq);
  }

  /**
   * Held-out prompts: one response each, sampled as in training (the same seed at every
   * evaluation), scored by the reward model: `eval_objective/scores` and the completion lengths.
   */
  async evaluate(hooks?: PassHooks): Promise<Metrics> {
    return this.evaluatePrompts(this.evalSet, hooks);
  }

  async evaluatePrompts(prompts: readonly PromptIds[], hooks?: PassHooks): Promise<Metrics> {
    if (!prompts.length) return {};
    const scores: number[] = [];
    const lengths: number[] = [];
    const truncated: boolean[] = [];
    const promptLens: number[] = [];
    hooks?.progress?.({ done: 0, total: prompts.length });
    for (let i = 0; i < prompts.length; i += this.batch) {
      checkCancelled(hooks);
      const chunk = prompts.slice(i, i + this.batch);
      const inputs = chunk.map((p) => promptInput(p, this.model.seq.bosTokenId));
      const kept = await this.generateRows(inputs, this.batch, generationSeed(this.cfg.seed ^ 0x5bd1e995, i), this.logitDivisor);
      scores.push(...(await this.scorer.score(inputs, kept, this.microRows)));
      lengths.push(...kept.map((c) => c.length));
      truncated.push(...kept.map((c) => isTruncated(c, this.model.seq.eosTokenId, this.padId)));
      promptLens.push(...inputs.map((x) => x.length));
      hooks?.progress?.({ done: i + chunk.length, total: prompts.length });
    }
    return prefixed({ 'objective/scores': mean(scores), ...completionMetrics(lengths, truncated, promptLens).metrics }, 'eval_');
  }

  /** The value model's weights and AdamW moments, prefixed VALUE_PREFIX (for a run's snapshot). */
  async valueState(): Promise<{ params: Map<string, Float32Array>; moments: Moments | null }> {
    const pre = <V>(m: Map<string, V>) => new Map([...m].map(([k, x]) => [VALUE_PREFIX + k, x]));
    const moments = await this.valueOptimizer.moments();
    return { params: pre(await this.value.download()), moments: moments && { m: pre(moments.m), v: pre(moments.v) } };
  }

  /** Restores valueState()'s output (the entries prefixed VALUE_PREFIX of a snapshot's maps). */
  restoreValue(params: Map<string, Float32Array>, moments: Moments | null): void {
    const un = <V>(m: Map<string, V>) => new Map([...m].filter(([k]) => k.startsWith(VALUE_PREFIX)).map(([k, x]) => [k.slice(VALUE_PREFIX.length), x]));
    this.value.upload(un(params));
    if (moments) this.valueOptimizer.restore({ m: un(moments.m), v: un(moments.v) });
  }

  /** The value model's current weights (a *ForSequenceClassification folder's tensors). */
  valueWeights(): Promise<Map<string, Float32Array>> {
    return this.value.download();
  }

  override get gpuBytes(): number {
    return super.gpuBytes + this.scorer.bytes + this.value.params.bytes + this.value.grads.bytes + this.valueOptimizer.bytes + this.valueRunners.bytes;
  }

  override destroy(): void {
    super.destroy();
    this.scorer.destroy();
    this.valueRunners.destroy();
    this.valueOptimizer.destroy();
    this.value.destroy();
  }
}
