// Online training (GRPO, RLOO; docs/rlhf.md "Online methods on the GPU"). One update:
//   1. the step's P prompts (seeded permutations of the training prompts, as the other trainers
//      draw pairs) are repeated G times each (prompt-major, TRL's RepeatSampler order) and the
//      policy generates on the GPU (DecodeRunner, seed = the run's seed + updates done), each
//      completion cut after its first end-of-text;
//   2. reward functions score the decoded prompt and completion; the objective forms advantages;
//   3. per micro-batch (P·G / gradAccum completions): the reference's and the policy's per-token
//      log-probs of the completions (forward passes of prompt + completion, logits / temperature),
//      the objective's loss and per-token coefficients, the policy's backward;
//   4. the gradient norm, the NaN guard and the optimizer, as every other method.
// The reference is a second copy of the starting weights on the GPU (with LoRA, the adapters
// switched off would serve; generation does not take LoRA yet, so LoRA is refused).
//
// Temperature. TRL computes every training log-prob from logits / T. The LM head here is linear
// without bias on the final norm's output, so logits / T = head(norm(x)·(w/T) + b/T): the final
// norm's weight (and GPT-2's bias) are divided by T for the training forwards and backwards and
// put back before the optimizer runs, and their gradients, taken with respect to w/T, are divided
// by T. The reference copy keeps its final norm divided by T throughout.
import { StepEncoder } from '../engine/encoder';
import { readF32 } from '../engine/readback';
import { buildBatch, type HostBatch } from '../model/batch';
import { DecodeRunner, defaultStopIds, type DecodeModel } from '../model/decode';
import { createModel, isLlamaConfig, trainableOf, type ModelRunner, type TrainableModel } from '../model/family';
import type { TrainConfig } from './config';
import { createObjective, type OnlineObjective } from './objectives';
import { batchLength } from './pairs';
import { checkPrompts, promptInput, promptWhere, type PromptIds } from './prompts';
import { combineRewards, type AdvantageResult, type RewardTable } from './rl/advantages';
import { rewardFunctions, type RewardFunction } from './rl/rewards';
import { completionMetrics, cutAfterFirstEos, isTruncated } from './rl/rollout';
import { RunnerPool } from './runners';
import { getLr } from './schedule';
import { checkCancelled, type PassHooks } from './progress';
import { BaseTrainer, meanMetrics, prefixed, TrainingError, type Metrics, type MicroResult } from './trainer';

/** One generated completion as DIR/samples.jsonl holds it. */
export interface OnlineSample {
  /** The update the completion was generated for (1-based), from the weights after step − 1 updates. */
  step: number;
  prompt: string;
  completion: string;
  /** The ids the model read (an empty prompt: [bos]). */
  prompt_ids: number[];
  /** The completion as trained on: up to and including the first end-of-text. */
  completion_ids: number[];
  /** The combined reward Σ_f w_f·r_f. */
  reward: number;
  /** Each reward function's value, by its name. */
  rewards: Record<string, number>;
  advantage: number;
}

export interface OnlineTrainerOptions {
  /** Token ids → text (the tokenizer's decode), for the reward functions and the samples. */
  text: (ids: readonly number[]) => string;
  /** The reward functions, one per name of the objective's `rewards` (default: built from those names). */
  rewards?: readonly RewardFunction[];
}

interface Micro {
  rows: number[];
  batch: HostBatch;
  /** Prompt length per sequence (the completion starts there). */
  promptLens: number[];
  /** Completion width: the longest completion of the micro-batch. */
  Tc: number;
  mask: Float64Array;
  refLogps: Float64Array;
}

interface PolicyPass {
  runner: ModelRunner;
  logps: Float64Array;
  entropySums: Float64Array;
}

/** Generation seed of update `step` (0-based: updates done) of a run seeded `seed`. */
export function generationSeed(seed: number, step: number): number {
  return (seed + step) >>> 0;
}

/** The final norm's tensors: dividing them by T divides the logits by T (the LM head is linear, no bias). */
export function finalNormNames(model: TrainableModel): string[] {
  return isLlamaConfig(model.config) ? ['model.norm.weight'] : ['ln_f.weight', 'ln_f.bias'];
}

/** w / T as uploaded (one f32 rounding): the policy and the reference use this same function. */
function divided(w: Float32Array, T: number): Float32Array {
  return Float32Array.from(w, (x) => x / T);
}

export class OnlineTrainer extends BaseTrainer<null> {
  readonly objective: OnlineObjective;
  readonly rewardFns: readonly RewardFunction[];
  /** The last update's completions (TrainingRun hands them to its events: samples.jsonl). */
  samples: OnlineSample[] = [];
  private refModel: TrainableModel | null = null;
  private refRunners: RunnerPool | null = null;
  private decoder: DecodeRunner | null = null;
  private readonly rowsPerStep: number;
  private readonly maxPrompt: number;

  constructor(model: TrainableModel, readonly train: readonly PromptIds[], readonly evalSet: readonly PromptIds[], cfg: TrainConfig, private o: OnlineTrainerOptions) {
    const objective = createObjective(cfg.objective);
    if (objective.kind !== 'online') throw new Error(`method "${objective.method}" does not generate: use Trainer, KtoTrainer or RewardTrainer`);
    if (model.lora || model.packed) throw new Error(`method ${objective.method}: LoRA is not available for online methods yet (generation does not take adapters); train the whole model`);
    const gen = objective.generation;
    checkPrompts(train, model.seq, gen.maxNewTokens);
    checkPrompts(evalSet, model.seq, gen.maxNewTokens);
    super(model, train.length, cfg);
    this.objective = objective;
    const rows = Math.min(cfg.batchSize, train.length) * gen.numGenerations;
    if (rows % cfg.gradAccum !== 0) throw new Error(`gradAccum ${cfg.gradAccum} must divide the ${rows} completions of an update (${Math.min(cfg.batchSize, train.length)} prompts × ${gen.numGenerations} generations)`);
    this.rowsPerStep = rows;
    this.rewardFns = o.rewards ?? rewardFunctions(objective.rewards.names);
    if (this.rewardFns.length !== objective.rewards.names.length) throw new Error(`${this.rewardFns.length} reward functions for ${objective.rewards.names.length} names (${objective.rewards.names.join(', ')})`);
    this.maxPrompt = Math.max(...[...train, ...evalSet].map((p) => promptInput(p, model.seq.bosTokenId).length));
    // a prompt a reward function cannot read (arithmetic: no expression) fails now, not mid-run
    for (const p of [...train, ...evalSet]) {
      const text = o.text(p.promptIds);
      for (const f of this.rewardFns) {
        try {
          f.score(text, '');
        } catch (e) {
          throw new Error(`${promptWhere(p)}: reward ${f.name} cannot score it: ${(e as Error).message}`, { cause: e });
        }
      }
    }
  }

  protected dataIndex(i: number): number {
    return this.train[i].index;
  }

  /** num_tokens counts generated tokens too, which only the run knows: TrainingRun restores it from the snapshot's rows. */
  protected exampleTokens(): number {
    return 0;
  }

  protected microStep(): Promise<MicroResult> {
    throw new Error('OnlineTrainer runs whole updates (trainStep)');
  }

  /**
   * The reference: a second copy of `refWeights` (default: the weights now on the GPU) whose final
   * norm is divided by the temperature. Call before training, and after a resume with the
   * starting weights.
   */
  async prepare(refWeights?: Map<string, Float32Array>, hooks?: PassHooks): Promise<void> {
    checkCancelled(hooks);
    if (this.refModel) return;
    const weights = refWeights ?? (await this.model.download());
    const T = this.objective.generation.temperature;
    const ref = createModel(this.model.gpu, { config: this.model.config });
    try {
      ref.upload(T === 1 ? weights : new Map([...weights].map(([k, v]) => [k, finalNormNames(this.model).includes(k) ? divided(v, T) : v])));
      await ref.params.allocated();
    } catch (e) {
      ref.destroy();
      throw e;
    }
    this.refModel = ref;
    this.refRunners = new RunnerPool(ref, undefined, undefined, this.runners.activationsDtype, this.runners.checkpoint);
  }

  private decoderFor(B: number): DecodeRunner {
    if (!this.decoder || this.decoder.B !== B) {
      this.decoder?.destroy();
      this.decoder = new DecodeRunner(this.model as DecodeModel, B, this.maxPrompt, this.objective.generation.maxNewTokens);
    }
    return this.decoder;
  }

  /** Generates G completions of each prompt (the decoder's B = prompts·G rows); kept = cut after the first end-of-text. */
  private async rollouts(prompts: readonly PromptIds[], seed: number) {
    const { numGenerations: G, maxNewTokens, temperature, topK, topP } = this.objective.generation;
    const bos = this.model.seq.bosTokenId;
    const eos = this.model.seq.eosTokenId;
    const inputs = prompts.flatMap((p) => Array.from({ length: G }, () => promptInput(p, bos)));
    const rows = Math.max(inputs.length, this.rowsPerStep);
    // an eval chunk smaller than an update fills the decoder's rows with copies of its last prompt
    const padded = [...inputs, ...Array.from({ length: rows - inputs.length }, () => inputs[inputs.length - 1])];
    const gen = await this.decoderFor(rows).generate(padded, { maxNewTokens, temperature, topK, topP, seed });
    const kept = gen.generated.slice(0, inputs.length).map((g) => cutAfterFirstEos(g, eos));
    const stops = new Set([...defaultStopIds(this.model as DecodeModel), eos]);
    const promptText = prompts.map((p) => this.o.text(p.promptIds));
    const completionText = kept.map((c) => this.o.text(c.filter((id) => !stops.has(id))));
    const table: RewardTable = {
      names: this.rewardFns.map((f) => f.name),
      weights: this.objective.rewards.weights,
      values: kept.map((_, r) => {
        const p = Math.floor(r / G);
        return this.rewardFns.map((f) => {
          try {
            return f.score(promptText[p], completionText[r]);
          } catch (e) {
            throw new Error(`${promptWhere(prompts[p])}: reward ${f.name} failed on a completion: ${(e as Error).message}`, { cause: e });
          }
        });
      }),
    };
    const truncated = kept.map((c) => isTruncated(c, eos, this.model.seq.eosTokenId));
    return { inputs, kept, promptText, completionText, table, truncated };
  }

  /** The micro-batch of rows `rows`: host batch, completion mask and the reference's log-probs. */
  private async micro(rows: number[], inputs: number[][], kept: number[][]): Promise<Micro> {
    const seq = this.model.seq;
    const seqs = rows.map((r) => ({ ids: [...inputs[r], ...kept[r]], promptLen: inputs[r].length }));
    const batch = buildBatch(seqs, seq.eosTokenId, batchLength(Math.max(...seqs.map((s) => s.ids.length)), seq.nPositions));
    const promptLens = seqs.map((s) => s.promptLen);
    const Tc = Math.max(...rows.map((r) => kept[r].length));
    const mask = new Float64Array(rows.length * Tc);
    rows.forEach((r, b) => mask.fill(1, b * Tc, b * Tc + kept[r].length));
    const runner = this.refRunners!.get(batch.B, batch.T);
    runner.setBatch(batch);
    const enc = new StepEncoder(this.model.gpu, 'reference forward');
    runner.forward(enc);
    enc.submit();
    const refLogps = this.gather(await runner.readTokenLogps(), batch.T, promptLens, Tc, mask);
    return { rows, batch, promptLens, Tc, mask, refLogps };
  }

  /** Per-token log-probs (B, runner T) → completion layout (B, Tc): token t of completion b is predicted at prompt_len − 1 + t. */
  private gather(tok: Float32Array, T: number, promptLens: number[], Tc: number, mask: Float64Array): Float64Array {
    const out = new Float64Array(promptLens.length * Tc);
    promptLens.forEach((pl, b) => {
      for (let t = 0; t < Tc; t++) if (mask[b * Tc + t]) out[b * Tc + t] = tok[b * T + pl - 1 + t];
    });
    return out;
  }

  private async policyForward(m: Micro): Promise<PolicyPass> {
    const runner = this.runners.get(m.batch.B, m.batch.T);
    runner.setBatch(m.batch);
    const enc = new StepEncoder(this.model.gpu, 'forward');
    runner.forward(enc);
    enc.submit();
    const stats = await runner.readStats();
    const logps = this.gather(await runner.readTokenLogps(), m.batch.T, m.promptLens, m.Tc, m.mask);
    return { runner, logps, entropySums: stats.entropySum };
  }

  /** Divides the policy's final norm by T (returns what to put back); T = 1: nothing. */
  private async scaleNorm(T: number): Promise<Map<string, Float32Array> | null> {
    if (T === 1) return null;
    const device = this.model.gpu.device;
    const saved = new Map<string, Float32Array>();
    for (const name of finalNormNames(this.model)) {
      const v = this.model.params.get(name);
      const w = await readF32(device, v);
      saved.set(name, w);
      const d = divided(w, T);
      device.queue.writeBuffer(v.buffer, v.offset, d.buffer, d.byteOffset, d.byteLength);
    }
    return saved;
  }

  private restoreNorm(saved: Map<string, Float32Array>): void {
    const device = this.model.gpu.device;
    for (const [name, w] of saved) {
      const v = this.model.params.get(name);
      device.queue.writeBuffer(v.buffer, v.offset, w.buffer, w.byteOffset, w.byteLength);
    }
  }

  /** ∂/∂w = (∂/∂(w/T))/T for the final norm's gradients. */
  private async scaleNormGrads(T: number): Promise<void> {
    const device = this.model.gpu.device;
    const grads = trainableOf(this.model).grads;
    for (const name of finalNormNames(this.model)) {
      const v = grads.get(name);
      const g = await readF32(device, v);
      for (let i = 0; i < g.length; i++) g[i] /= T;
      device.queue.writeBuffer(v.buffer, v.offset, g.buffer, g.byteOffset, g.byteLength);
    }
  }

  private checkFinite(values: ArrayLike<number>, what: string, rowPrompt: readonly number[], width: number): void {
    const bad = new Set<number>();
    for (let k = 0; k < values.length; k++) if (!Number.isFinite(values[k])) bad.add(this.dataIndex(rowPrompt[Math.floor(k / width)]));
    if (bad.size) {
      const list = [...bad];
      throw new TrainingError(`non-finite ${what} at step ${this.step + 1} (examples ${list.join(', ')}): lower the learning rate or check these rows`, this.step + 1, list);
    }
  }

  override async trainStep(): Promise<Metrics> {
    if (!this.refModel) throw new Error('OnlineTrainer: call prepare() before training (the reference model)');
    const { cfg, model, objective: obj } = this;
    const { numGenerations: G, temperature } = obj.generation;
    const t0 = performance.now();
    const idx = this.microBatch(this.step);
    const r = await this.rollouts(idx.map((i) => this.train[i]), generationSeed(cfg.seed, this.step));
    const rows = r.kept.length;
    const rowPrompt = Array.from({ length: rows }, (_, k) => idx[Math.floor(k / G)]);
    const GA = cfg.gradAccum;
    const m = rows / GA;
    const micros: Micro[] = [];
    for (let j = 0; j < GA; j++) micros.push(await this.micro(Array.from({ length: m }, (_, k) => j * m + k), r.inputs, r.kept));
    micros.forEach((mi) => this.checkFinite(mi.refLogps, 'reference log-probs', mi.rows.map((k) => rowPrompt[k]), mi.Tc));
    const lengths = r.kept.map((c) => c.length);
    const activeTokens = lengths.reduce((a, b) => a + b, 0);

    const enc0 = new StepEncoder(model.gpu, 'zero-grad');
    for (const g of trainableOf(model).grads.chunks()) enc0.clear(g);
    enc0.submit();
    const saved = await this.scaleNorm(temperature);
    let loss = 0;
    let tokens = 0;
    const parts: Metrics[] = [];
    let adv: AdvantageResult | undefined;
    try {
      // RLOO: the KL penalty enters the rewards, so every completion's Σ(old − ref) comes first
      const first: PolicyPass[] = [];
      let kl: { sums: Float64Array; counts: Float64Array } | undefined;
      if (obj.klInReward) {
        kl = { sums: new Float64Array(rows), counts: Float64Array.from(lengths) };
        for (const mi of micros) {
          const pol = await this.policyForward(mi);
          this.checkFinite(pol.logps, 'log-probs', mi.rows.map((k) => rowPrompt[k]), mi.Tc);
          first.push(pol);
          mi.rows.forEach((row, b) => {
            let s = 0;
            for (let t = 0; t < mi.Tc; t++) s += mi.mask[b * mi.Tc + t] * (pol.logps[b * mi.Tc + t] - mi.refLogps[b * mi.Tc + t]);
            kl!.sums[row] = s;
          });
        }
      }
      adv = this.objectiveResult(() => obj.advantages(r.table, kl), rowPrompt);
      for (let j = 0; j < GA; j++) {
        const mi = micros[j];
        const pol = GA === 1 && first.length ? first[0] : await this.policyForward(mi);
        const promptsOf = mi.rows.map((k) => rowPrompt[k]);
        this.checkFinite(pol.logps, 'log-probs', promptsOf, mi.Tc);
        const res = this.objectiveResult(
          () => obj.microLoss({ B: mi.rows.length, T: mi.Tc, logps: pol.logps, refLogps: mi.refLogps, mask: mi.mask, advantages: mi.rows.map((k) => adv!.advantages[k]), entropySums: pol.entropySums, tokenCounts: mi.rows.map((k) => lengths[k]), activeTokens, gradAccum: GA }),
          promptsOf,
        );
        const { B, T } = mi.batch;
        const coef = new Float32Array(B * T);
        mi.promptLens.forEach((pl, b) => {
          for (let t = 0; t < mi.Tc; t++) if (mi.mask[b * mi.Tc + t]) coef[b * T + pl - 1 + t] = res.coef[b * mi.Tc + t];
        });
        pol.runner.setCoefficients(coef);
        const enc = new StepEncoder(model.gpu, 'backward');
        pol.runner.backward(enc);
        enc.submit();
        loss += res.loss;
        parts.push(res.metrics);
        tokens += mi.batch.lengths.reduce((a, b) => a + b, 0);
      }
    } finally {
      if (saved) this.restoreNorm(saved);
    }
    if (saved) await this.scaleNormGrads(temperature);
    const gradNorm = await this.optimizer.gradNorm();
    if (!Number.isFinite(gradNorm)) {
      const list = [...new Set(idx.map((i) => this.dataIndex(i)))];
      throw new TrainingError(`non-finite gradient norm at step ${this.step + 1} (examples ${list.join(', ')}): lower the learning rate or check these rows`, this.step + 1, list);
    }
    const lr = getLr(this.step, { lr: cfg.lr, kind: cfg.schedule, warmupSteps: cfg.warmupSteps, totalSteps: cfg.steps });
    this.optimizer.apply(lr, this.step + 1);
    const combined = combineRewards(r.table);
    this.samples = r.kept.map((c, k) => ({
      step: this.step + 1,
      prompt: r.promptText[Math.floor(k / G)],
      completion: r.completionText[k],
      prompt_ids: r.inputs[k],
      completion_ids: c,
      reward: combined[k],
      rewards: Object.fromEntries(r.table.names.map((n, f) => [n, r.table.values[k][f]])),
      advantage: adv!.advantages[k],
    }));
    const comp = completionMetrics(lengths, r.truncated, r.inputs.map((x) => x.length));
    this.numTokens += comp.tokens;
    this.step++;
    await model.gpu.device.queue.onSubmittedWorkDone();
    const seconds = (performance.now() - t0) / 1000;
    const micro = meanMetrics(parts);
    return {
      loss,
      ...adv!.metrics,
      ...micro,
      ...comp.metrics,
      num_tokens: this.numTokens,
      grad_norm: gradNorm,
      learning_rate: lr,
      tokens_per_second: tokens / seconds,
      epoch: (this.step * Math.min(cfg.batchSize, this.train.length)) / this.train.length,
      step: this.step,
    };
  }

  /**
   * Held-out prompts: G completions of each, sampled as in training (seeded the same at every
   * evaluation, so evaluations differ only by the weights), scored: eval_reward, eval_reward_std,
   * eval_rewards/<name>/mean and /std, eval_frac_reward_zero_std and the completion metrics. No
   * loss: TRL's eval loss needs the reference pass too, and says little on-policy.
   */
  async evaluate(hooks?: PassHooks): Promise<Metrics> {
    return this.evaluatePrompts(this.evalSet, hooks);
  }

  /** evaluate()'s metrics (`eval_…`) for any prompts: the held-out ones, or the training prompts before training. */
  async evaluatePrompts(prompts: readonly PromptIds[], hooks?: PassHooks): Promise<Metrics> {
    if (!prompts.length) return {};
    const per = this.rowsPerStep / this.objective.generation.numGenerations;
    const values: number[][] = [];
    const lengths: number[] = [];
    const truncated: boolean[] = [];
    const promptLens: number[] = [];
    let names: readonly string[] = [];
    hooks?.progress?.({ done: 0, total: prompts.length });
    for (let i = 0; i < prompts.length; i += per) {
      checkCancelled(hooks);
      const chunk = prompts.slice(i, i + per);
      const r = await this.rollouts(chunk, generationSeed(this.cfg.seed ^ 0x5bd1e995, i));
      names = r.table.names;
      values.push(...r.table.values.map((v) => [...v]));
      lengths.push(...r.kept.map((c) => c.length));
      truncated.push(...r.truncated);
      promptLens.push(...r.inputs.map((x) => x.length));
      hooks?.progress?.({ done: i + chunk.length, total: prompts.length });
    }
    const adv = this.objective.advantages({ names, weights: this.objective.rewards.weights, values }, this.objective.klInReward ? { sums: new Float64Array(values.length), counts: Float64Array.from(lengths) } : undefined);
    const { kl: _kl, ...rewardMetrics } = adv.metrics;
    return prefixed({ ...rewardMetrics, ...completionMetrics(lengths, truncated, promptLens).metrics }, 'eval_');
  }

  override get gpuBytes(): number {
    return super.gpuBytes + (this.refModel?.params.bytes ?? 0) + (this.refRunners?.bytes ?? 0) + (this.decoder?.bytes ?? 0);
  }

  override destroy(): void {
    super.destroy();
    this.decoder?.destroy();
    this.refRunners?.destroy();
    this.refModel?.destroy();
    this.decoder = null;
    this.refRunners = null;
    this.refModel = null;
  }
}
