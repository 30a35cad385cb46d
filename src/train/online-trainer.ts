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
// The reference is a second copy of the starting weights on the GPU; with LoRA (--lora-r) it is
// the policy's own base with the adapters switched off (TRL's PEFT path: no second copy of the
// weights; the policy's runners, forward recorded with model.lora.enabled false), and only the
// adapters train (the optimizer's target; the base, final norm included, is frozen). Generation
// runs the live adapters over the base, f32 or 16-bit packed (DecodeRunner). A reward model
// (`reward-model` among the rewards; the CLI's --reward-model DIR) scores the generated ids on the
// GPU as the `score` command does (src/train/reward-source.ts).
// GenerationTrainer holds what GRPO/RLOO and PPO (src/train/ppo-trainer.ts) share.
//
// Temperature. TRL computes every training log-prob from logits / T. The LM head here is linear
// without bias on the final norm's output, so logits / T = head(norm(x)·(w/T) + b/T): the final
// norm's weight (and GPT-2's bias) are divided by T for the training forwards and backwards and
// put back before the optimizer runs, and their gradients, taken with respect to w/T, are divided
// by T. The reference copy keeps its final norm divided by T throughout; with LoRA the frozen norm
// is divided for the reference's forward and put back after it (unless an update holds it divided).
import { StepEncoder } from '../engine/encoder';
import { readF32 } from '../engine/readback';
import { buildBatch, type HostBatch } from '../model/batch';
import { DecodeRunner, defaultStopIds, type DecodeModel } from '../model/decode';
import { createModel, isLlamaConfig, trainableOf, type ModelRunner, type TrainableModel } from '../model/family';
import type { View } from '../engine/arena';
import type { TrainConfig } from './config';
import { createObjective, type OnlineGeneration, type OnlineObjective } from './objectives';
import { REWARD_MODEL_REWARD } from './objectives/online';
import { RewardModelScorer, type RewardModelWeights } from './reward-source';
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
  /** The reward functions, one per name of the objective's `rewards` other than the reward model (default: built from those names). */
  rewards?: readonly RewardFunction[];
  /** The reward model, when the objective's rewards name REWARD_MODEL_REWARD. */
  rewardModel?: RewardModelWeights;
}

export interface Micro {
  rows: number[];
  batch: HostBatch;
  /** Prompt length per sequence (the completion starts there). */
  promptLens: number[];
  /** Completion width: the longest completion of the micro-batch. */
  Tc: number;
  mask: Float64Array;
  refLogps: Float64Array;
}

export interface PolicyPass {
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

/**
 * What every generating trainer (OnlineTrainer: GRPO, RLOO; PpoTrainer) shares: the prompts, the
 * reference copy on the GPU, the decoder, the temperature-scaled final norm, the per-token
 * log-prob layout and the NaN guard. `logitDivisor` is what training log-probs divide the logits
 * by (GRPO/RLOO: the temperature; PPO: temperature + 1e−7, as TRL).
 */
export abstract class GenerationTrainer extends BaseTrainer<null> {
  protected refModel: TrainableModel | null = null;
  protected refRunners: RunnerPool | null = null;
  /** LoRA: the frozen final norm as uploaded and divided by the logit divisor (the reference passes switch between them). */
  private loraNorm: { saved: Map<string, Float32Array>; divided: Map<string, Float32Array> } | null = null;
  /** Whether the policy's final norm is divided now (between scaleNorm and restoreNorm). */
  private normDivided = false;
  private decoder: DecodeRunner | null = null;
  protected readonly maxPrompt: number;

  constructor(model: TrainableModel, readonly train: readonly PromptIds[], readonly evalSet: readonly PromptIds[], cfg: TrainConfig, method: string, readonly generation: OnlineGeneration, readonly logitDivisor: number) {
    checkPrompts(train, model.seq, generation.maxNewTokens);
    checkPrompts(evalSet, model.seq, generation.maxNewTokens);
    super(model, train.length, cfg);
    this.maxPrompt = Math.max(...[...train, ...evalSet].map((p) => promptInput(p, model.seq.bosTokenId).length));
  }

  protected dataIndex(i: number): number {
    return this.train[i].index;
  }

  /** num_tokens counts generated tokens too, which only the run knows: TrainingRun restores it from the snapshot's rows. */
  protected exampleTokens(): number {
    return 0;
  }

  protected microStep(): Promise<MicroResult> {
    throw new Error('online trainers run whole updates (trainStep)');
  }

  /** Whether prepare() has set the reference up (a copy, or with LoRA the base with the adapters off). */
  protected get referenceReady(): boolean {
    return this.refModel !== null || this.loraNorm !== null;
  }

  /**
   * The reference: a second copy of `refWeights` (default: the weights now on the GPU) whose final
   * norm is divided by the logit divisor. Call before training, and after a resume with the
   * starting weights. With LoRA: the base model with the adapters off (no copy); `refWeights`
   * are refused then (the base is the reference).
   */
  async prepare(refWeights?: Map<string, Float32Array>, hooks?: PassHooks): Promise<void> {
    checkCancelled(hooks);
    if (this.referenceReady) return;
    if (this.model.lora) {
      if (refWeights) throw new Error('with LoRA, the reference of an online method is the base model with the adapters off: other reference weights (--ref-model) are not supported');
      const saved = new Map<string, Float32Array>();
      for (const name of finalNormNames(this.model)) saved.set(name, await readF32(this.model.gpu.device, this.model.params.get(name)));
      this.loraNorm = { saved, divided: new Map([...saved].map(([k, v]) => [k, divided(v, this.logitDivisor)])) };
      return;
    }
    const weights = refWeights ?? (await this.model.download());
    const T = this.logitDivisor;
    const ref = createModel(this.model.gpu, { config: this.model.config });
    try {
      ref.upload(T === 1 ? weights : new Map([...weights].map(([k, v]) => [k, finalNormNames(this.model).includes(k) ? divided(v, T) : v])));
      await ref.params.allocated();
    } catch (e) {
      ref.destroy();
      throw e;
    }
    this.refModel = ref;
    this.refRunners = new RunnerPool(ref, undefined, undefined, this.runners.activationsDtype, this.runners.checkpoint, this.runners.arithmeticDtype);
  }

  protected decoderFor(B: number): DecodeRunner {
    if (!this.decoder || this.decoder.B !== B) {
      this.decoder?.destroy();
      this.decoder = new DecodeRunner(this.model as DecodeModel, B, this.maxPrompt, this.generation.maxNewTokens);
    }
    return this.decoder;
  }

  /** Generates one completion per input row on the policy's current weights; kept = cut after the first end-of-text. */
  protected async generateRows(inputs: readonly number[][], rows: number, seed: number, temperature: number): Promise<number[][]> {
    const { maxNewTokens, topK, topP } = this.generation;
    // a chunk smaller than the decoder fills its rows with copies of its last input
    const padded = [...inputs, ...Array.from({ length: rows - inputs.length }, () => inputs[inputs.length - 1])];
    const gen = await this.decoderFor(rows).generate(padded, { maxNewTokens, temperature, topK, topP, seed });
    return gen.generated.slice(0, inputs.length).map((g) => cutAfterFirstEos(g, this.model.seq.eosTokenId));
  }

  /** The completion's text without end-of-text or other stop tokens (what reward functions and samples read). */
  protected completionText(ids: readonly number[], text: (ids: readonly number[]) => string): string {
    const stops = new Set([...defaultStopIds(this.model as DecodeModel), this.model.seq.eosTokenId]);
    return text(ids.filter((id) => !stops.has(id)));
  }

  /**
   * The micro-batch of rows `rows`: host batch, completion mask and the reference's log-probs.
   * `width` (PPO: the rollout batch's response width) widens the completion layout, and the
   * batch so that every row has all `width` positions after its prompt (padding beyond its end).
   */
  protected async micro(rows: number[], inputs: number[][], kept: number[][], width?: number): Promise<Micro> {
    const seq = this.model.seq;
    const seqs = rows.map((r) => ({ ids: [...inputs[r], ...kept[r]], promptLen: inputs[r].length }));
    const Tc = width ?? Math.max(1, ...rows.map((r) => kept[r].length));
    const longest = Math.max(...seqs.map((s) => (width === undefined ? s.ids.length : Math.max(s.ids.length, s.promptLen + width))));
    const batch = buildBatch(seqs, seq.eosTokenId, batchLength(longest, seq.nPositions));
    const promptLens = seqs.map((s) => s.promptLen);
    const mask = new Float64Array(rows.length * Tc);
    rows.forEach((r, b) => mask.fill(1, b * Tc, b * Tc + kept[r].length));
    // with LoRA the policy's runners (the same model, adapters off): no second activation arena
    const runner = (this.model.lora ? this.runners : this.refRunners!).get(batch.B, batch.T);
    runner.setBatch(batch);
    this.referenceForward(runner);
    const refLogps = this.gather(await runner.readTokenLogps(), batch.T, promptLens, Tc, mask);
    return { rows, batch, promptLens, Tc, mask, refLogps };
  }

  /**
   * The reference's forward of the batch set on `runner`: the copy's runner as it is; with LoRA the
   * policy's runner recorded with the adapters off, the final norm divided while it runs (queue
   * order: the writes land before and after the submitted forward).
   */
  private referenceForward(runner: ModelRunner): void {
    const lora = this.model.lora;
    const enc = new StepEncoder(this.model.gpu, 'reference forward');
    if (!lora) {
      runner.forward(enc);
      enc.submit();
      return;
    }
    if (!this.loraNorm) throw new Error('GenerationTrainer: call prepare() before training (the reference model)');
    const swap = !this.normDivided && this.logitDivisor !== 1;
    lora.enabled = false;
    try {
      runner.forward(enc);
    } finally {
      lora.enabled = true;
    }
    if (swap) this.writeNorm(this.loraNorm.divided);
    enc.submit();
    if (swap) this.writeNorm(this.loraNorm.saved);
  }

  private writeNorm(values: ReadonlyMap<string, Float32Array>): void {
    const device = this.model.gpu.device;
    for (const [name, w] of values) {
      const v: View = this.model.params.get(name);
      device.queue.writeBuffer(v.buffer, v.offset, w.buffer, w.byteOffset, w.byteLength);
    }
  }

  /** Per-token values (B, runner T) → completion layout (B, Tc): token t of completion b is predicted at prompt_len − 1 + t. */
  protected gather(tok: Float32Array, T: number, promptLens: number[], Tc: number, mask: Float64Array | null): Float64Array {
    const out = new Float64Array(promptLens.length * Tc);
    promptLens.forEach((pl, b) => {
      for (let t = 0; t < Tc; t++) if (!mask || mask[b * Tc + t]) out[b * Tc + t] = tok[b * T + pl - 1 + t];
    });
    return out;
  }

  /** Completion layout (B, Tc) → runner layout (B, T), zero elsewhere (coefficients, value gradients). */
  protected scatter(x: ArrayLike<number>, T: number, promptLens: number[], Tc: number): Float32Array {
    const out = new Float32Array(promptLens.length * T);
    promptLens.forEach((pl, b) => {
      for (let t = 0; t < Tc && pl - 1 + t < T; t++) out[b * T + pl - 1 + t] = x[b * Tc + t];
    });
    return out;
  }

  protected async policyForward(m: Micro): Promise<PolicyPass> {
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
  protected async scaleNorm(T: number): Promise<Map<string, Float32Array> | null> {
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
    this.normDivided = true;
    return saved;
  }

  protected restoreNorm(saved: Map<string, Float32Array>): void {
    this.writeNorm(saved);
    this.normDivided = false;
  }

  /** ∂/∂w = (∂/∂(w/T))/T for the final norm's gradients (none with LoRA: the norm is frozen). */
  protected async scaleNormGrads(T: number): Promise<void> {
    if (this.model.lora) return;
    const device = this.model.gpu.device;
    const grads = trainableOf(this.model).grads;
    for (const name of finalNormNames(this.model)) {
      const v = grads.get(name);
      const g = await readF32(device, v);
      for (let i = 0; i < g.length; i++) g[i] /= T;
      device.queue.writeBuffer(v.buffer, v.offset, g.buffer, g.byteOffset, g.byteLength);
    }
  }

  protected checkFinite(values: ArrayLike<number>, what: string, rowPrompt: readonly number[], width: number): void {
    const bad = new Set<number>();
    for (let k = 0; k < values.length; k++) if (!Number.isFinite(values[k])) bad.add(this.dataIndex(rowPrompt[Math.floor(k / width)]));
    if (bad.size) {
      const list = [...bad];
      throw new TrainingError(`non-finite ${what} at step ${this.step + 1} (examples ${list.join(', ')}): lower the learning rate or check these rows`, this.step + 1, list);
    }
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

export class OnlineTrainer extends GenerationTrainer {
  readonly objective: OnlineObjective;
  /** The rule-based reward functions, in the order of the objective's names (the reward model's column excluded). */
  readonly rewardFns: readonly RewardFunction[];
  /** The reward model's column (objective reward name REWARD_MODEL_REWARD), or null. */
  readonly rewardModel: RewardModelScorer | null = null;
  /** rewards/<name> of every column, in the objective's order. */
  readonly rewardNames: readonly string[];
  /** The last update's completions (TrainingRun hands them to its events: samples.jsonl). */
  samples: OnlineSample[] = [];
  private readonly rowsPerStep: number;

  constructor(model: TrainableModel, train: readonly PromptIds[], evalSet: readonly PromptIds[], cfg: TrainConfig, private o: OnlineTrainerOptions) {
    const objective = createObjective(cfg.objective);
    if (objective.kind !== 'online') throw new Error(`method "${objective.method}" is not GRPO or RLOO: use ${objective.kind === 'ppo' ? 'PpoTrainer' : 'Trainer, KtoTrainer or RewardTrainer'}`);
    super(model, train, evalSet, cfg, objective.method, objective.generation, objective.generation.temperature);
    const gen = objective.generation;
    this.objective = objective;
    const rows = Math.min(cfg.batchSize, train.length) * gen.numGenerations;
    if (rows % cfg.gradAccum !== 0) throw new Error(`gradAccum ${cfg.gradAccum} must divide the ${rows} completions of an update (${Math.min(cfg.batchSize, train.length)} prompts × ${gen.numGenerations} generations)`);
    this.rowsPerStep = rows;
    const names = objective.rewards.names;
    const textNames = names.filter((n) => n !== REWARD_MODEL_REWARD);
    this.rewardFns = o.rewards ?? rewardFunctions(textNames);
    if (this.rewardFns.length !== textNames.length) throw new Error(`${this.rewardFns.length} reward functions for ${textNames.length} names (${textNames.join(', ')})`);
    // a prompt a reward function cannot read (arithmetic: no expression) fails now, not mid-run
    for (const p of [...train, ...evalSet]) {
      const text = o.text(p.promptIds);
      for (const fn of this.rewardFns) {
        try {
          fn.score(text, '');
        } catch (e) {
          throw new Error(`${promptWhere(p)}: reward ${fn.name} cannot score it: ${(e as Error).message}`, { cause: e });
        }
      }
    }
    if (names.includes(REWARD_MODEL_REWARD)) {
      if (!o.rewardModel) throw new Error(`method ${objective.method}: reward "${REWARD_MODEL_REWARD}" needs a reward model (the CLI's --reward-model DIR)`);
      this.rewardModel = new RewardModelScorer(model, o.rewardModel);
    } else if (o.rewardModel) throw new Error(`method ${objective.method}: a reward model was given but the rewards (${names.join(', ')}) do not name "${REWARD_MODEL_REWARD}"`);
    let f = 0;
    this.rewardNames = names.map((n) => (n === REWARD_MODEL_REWARD ? this.rewardModel!.name : this.rewardFns[f++].name));
  }

  override async allocated(): Promise<void> {
    await super.allocated();
    await this.rewardModel?.allocated();
  }

  /** Generates G completions of each prompt (the decoder's B = prompts·G rows); kept = cut after the first end-of-text. */
  private async rollouts(prompts: readonly PromptIds[], seed: number) {
    const { numGenerations: G, temperature } = this.objective.generation;
    const bos = this.model.seq.bosTokenId;
    const eos = this.model.seq.eosTokenId;
    const inputs = prompts.flatMap((p) => Array.from({ length: G }, () => promptInput(p, bos)));
    const kept = await this.generateRows(inputs, Math.max(inputs.length, this.rowsPerStep), seed, temperature);
    const promptText = prompts.map((p) => this.o.text(p.promptIds));
    const completionText = kept.map((c) => this.completionText(c, this.o.text));
    // the reward model scores the ids the policy generated (prompt + completion, end-of-text kept)
    const modelScores = this.rewardModel ? await this.rewardModel.score(inputs, kept, this.rowsPerStep) : null;
    const names = this.objective.rewards.names;
    const table: RewardTable = {
      names: this.rewardNames,
      weights: this.objective.rewards.weights,
      values: kept.map((_, r) => {
        const p = Math.floor(r / G);
        let f = 0;
        return names.map((n) => {
          if (n === REWARD_MODEL_REWARD) return modelScores![r];
          const fn = this.rewardFns[f++];
          try {
            return fn.score(promptText[p], completionText[r]);
          } catch (e) {
            throw new Error(`${promptWhere(prompts[p])}: reward ${fn.name} failed on a completion: ${(e as Error).message}`, { cause: e });
          }
        });
      }),
    };
    const truncated = kept.map((c) => isTruncated(c, eos, this.model.seq.eosTokenId));
    return { inputs, kept, promptText, completionText, table, truncated };
  }

  override async trainStep(): Promise<Metrics> {
    if (!this.referenceReady) throw new Error('OnlineTrainer: call prepare() before training (the reference model)');
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
    return super.gpuBytes + (this.rewardModel?.bytes ?? 0);
  }

  override destroy(): void {
    super.destroy();
    this.rewardModel?.destroy();
  }
}
