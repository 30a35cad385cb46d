// One training run, whoever drives it: the CLI's `train`, each run of the page's comparison (the
// engine worker) and the tests. It owns what every driver used to repeat: the seeded train/eval
// split, the reference sums (computed once, from the starting weights or separate reference
// weights, or handed over by another run of the same comparison), the cadence (an eval every
// `evalEvery` updates and after the last; a resume snapshot every `checkpointEvery` updates and at
// the end), the NaN guard's error (naming the update and the file lines) and a validated config.
// Passes over a whole data set (reference sums, eval) report progress between batches and stop
// when cancel() asks them to. Storage and event delivery are injected — a SnapshotStore
// (IndexedDB in the worker, memory in tests, none in the CLI) and RunEvents (metrics.jsonl and
// progress lines, worker messages) — so pause, resume and device loss can be tested in Node.
// Layering: docs/design.md.
import type { GpuContext } from '../engine/gpu';
import { activationsDtypeProblem, createModel, sequenceConfig, type ModelConfig, type TrainableModel } from '../model/family';
import { loraInit, loraProblem, mergeLora } from '../model/lora';
import { splitTrainEval } from '../data/split';
import { validateTrainConfig, type TrainConfig } from './config';
import { Trainer, TrainingError, type BaseTrainer, type Metrics, type PairReference, type TrainerState } from './trainer';
import { checkUnpaired, KtoTrainer, type UnpairedIds, type UnpairedReference } from './kto-trainer';
import { checkPairs, type PairIds } from './pairs';
import { unpairPairs } from './unpair';
import { createObjective } from './objectives';
import { RewardTrainer } from './reward-trainer';
import { isRewardModel, toRewardModel } from '../model/reward';
import { SCORE_WEIGHT } from '../model/score-config';
import type { Moments } from './optimizer-state';
import { PassCancelled, type PassHooks, type PassPhase, type PassProgress } from './progress';
import { GenerationTrainer, OnlineTrainer, type OnlineSample } from './online-trainer';
import { PpoTrainer, VALUE_PREFIX, type PpoSample } from './ppo-trainer';
import type { RewardModelWeights } from './reward-source';
import { checkPrompts, promptsOf, type PromptIds } from './prompts';
import type { RewardFunction } from './rl/rewards';

/**
 * Preference pairs (DPO, ORPO, …; KTO splits them into desirable and undesirable), unpaired
 * examples (KTO) or prompts alone (online methods, which also take the prompts of the other two),
 * as tokenized from one file.
 */
export type Examples = { kind: 'pairs'; items: readonly PairIds[] } | { kind: 'unpaired'; items: readonly UnpairedIds[] } | { kind: 'prompts'; items: readonly PromptIds[] };

/** Reference sums of the train and eval examples, as the run's trainer reads them. */
export type RunReference = PairReference | UnpairedReference;

/** Everything needed to continue a run after its GPU state is gone (a lost device, a reload). */
export interface ResumeSnapshot {
  /** Updates done. */
  step: number;
  config: ModelConfig;
  /** The trained tensors: every parameter, or with LoRA the adapters only (the base is the run's starting weights). */
  params: Map<string, Float32Array>;
  /** f32 AdamW moments by parameter name; null with SGD. */
  moments: Moments | null;
  state: TrainerState<RunReference>;
  /**
   * The run's metrics rows up to `step` (train rows, and eval rows carrying step and epoch); a
   * driver's own copy may lag (the page saves its copy on a timer). Absent in old snapshots.
   */
  rows?: Metrics[];
  /**
   * A later RLHF stage's links (the page's Session writes them, src/worker/session.ts): the ids of
   * the runs whose final weights it started from (null: the loaded model) and whose reward model
   * scored it, so its TRL export knows them after a reload. Absent for other runs.
   */
  stage?: StageLinks;
}

/** Which runs of its comparison a later RLHF stage started from and scored with, by run id. */
export interface StageLinks {
  policy: string | null;
  reward: string;
}

/** Where one run's resume snapshots go; load() returns the last one saved. */
export interface SnapshotStore {
  load(): Promise<ResumeSnapshot | undefined>;
  save(s: ResumeSnapshot): Promise<void>;
}

/** What a run reports besides metrics. */
export type RunStatus =
  /** Reference sums are being computed (a forward pass over every example). */
  | { kind: 'reference' }
  | { kind: 'snapshot'; step: number }
  /** Saving failed; training goes on, and a resume would restart from `checkpointStep`. */
  | { kind: 'snapshot-failed'; step: number; checkpointStep: number; error: Error };

export interface RunEvents {
  /** The rows of one update, in order: its train row, then its eval row when one was due. */
  metrics?(rows: Metrics[]): void;
  /** Online methods (GRPO, RLOO): every completion generated for an update, before its metrics. */
  samples?(rows: OnlineSample[]): void;
  /** PPO: every response generated for an update, with the reward model's score, before its metrics. */
  ppoSamples?(rows: PpoSample[]): void;
  status?(s: RunStatus): void;
  /**
   * A pass over the whole data set (the reference sums: train then eval examples as one pass; an
   * eval pass), after every batch; done 0 starts a pass.
   */
  progress?(p: PassProgress): void;
}

export interface TrainingRunOptions {
  /** The starting weights and their model shape (its family picks the model: createModel). */
  base: { config: ModelConfig; params: Map<string, Float32Array> };
  data: Examples;
  /** Online methods: token ids → text (the tokenizer's decode), for the reward functions and samples. */
  text?: (ids: readonly number[]) => string;
  /** Online methods: reward functions in place of those the method's `reward` option names (tests). */
  rewards?: readonly RewardFunction[];
  /**
   * A reward model (a *ForSequenceClassification folder's weights, the policy's tokenizer): GRPO and
   * RLOO's `reward-model` reward function; PPO's reward model, and its value model's starting weights.
   */
  rewardModel?: RewardModelWeights;
  config: TrainConfig;
  /** Reference weights (the CLI's --ref-model); default: the starting weights (with LoRA: the base, adapters off). */
  refWeights?: Map<string, Float32Array>;
  /** LoRA (config.lora): adapters to start from (an imported PEFT adapter folder); default: PEFT's init, seeded by config.seed. */
  adapters?: Map<string, Float32Array>;
  /** Resume snapshots every N updates (and at the end); 0 or absent: only at the end. */
  checkpointEvery?: number;
  store?: SnapshotStore;
  events?: RunEvents;
}

export interface StartOptions {
  /** Continue from the store's last snapshot when there is one. */
  resume?: boolean;
  /** Reference sums another run of the same comparison computed (same split, same starting weights). */
  reference?: RunReference | null;
}

/** A memory SnapshotStore: keeps the last snapshot (tests, and drivers with nowhere to persist). */
export function memorySnapshotStore(): SnapshotStore & { last: ResumeSnapshot | undefined; saves: number } {
  return {
    last: undefined,
    saves: 0,
    async load() {
      return this.last;
    },
    async save(s) {
      this.last = { ...s, rows: s.rows?.map((r) => ({ ...r })) };
      this.saves++;
    },
  };
}

export class TrainingRun {
  readonly cfg: TrainConfig;
  readonly kind: Examples['kind'];
  readonly train: readonly (PairIds | UnpairedIds)[];
  readonly evalSet: readonly (PairIds | UnpairedIds)[];
  /** Online methods: the train and eval prompts (then `train` and `evalSet` are empty); null otherwise. */
  readonly prompts: { readonly train: readonly PromptIds[]; readonly eval: readonly PromptIds[] } | null;
  readonly checkpointEvery: number;
  /** Updates done (kept while the GPU state is gone). */
  step = 0;
  /** Step of the last resume snapshot saved (0: none). */
  checkpointStep = 0;
  /** Every metrics row of this run so far. */
  rows: Metrics[] = [];
  model: TrainableModel | null = null;
  trainer: Trainer | KtoTrainer | RewardTrainer | OnlineTrainer | PpoTrainer | null = null;
  /** The method trains a score head (a reward model: RewardTrainer) instead of the LM head. */
  readonly scoreHead: boolean;
  private ref: RunReference | null = null;
  private cancelRequested = false;

  constructor(private o: TrainingRunOptions) {
    validateTrainConfig({ ...o.config, checkpointEvery: o.checkpointEvery || undefined });
    const dtypeProblem = activationsDtypeProblem(o.base.config, o.config.activationsDtype);
    if (dtypeProblem) throw new Error(`activationsDtype: ${dtypeProblem}`);
    const loraTargets = o.config.lora ? loraProblem(o.base.config, o.config.lora) : null;
    if (loraTargets) throw new Error(`loraTargets: ${loraTargets}`);
    if (o.adapters && !o.config.lora) throw new Error('adapters were given but the run has no LoRA config');
    this.cfg = o.config;
    const objective = createObjective(o.config.objective);
    const unpairedMethod = objective.kind === 'unpaired';
    this.scoreHead = objective.kind === 'score';
    // a reward model: a causal LM gets a score head (seeded as TRL's RewardTrainer seeds its init)
    // in place of its LM head; a model that already has one trains only as a reward model
    if (this.scoreHead) this.o = { ...o, base: toRewardModel(o.base, o.config.seed) };
    else if (isRewardModel(o.base.config)) throw new Error(`method ${o.config.objective.method} trains the LM head, and this model is a reward model (a score head, no LM head): use --method reward, or start from a causal LM`);
    if (!this.scoreHead && o.adapters?.has(SCORE_WEIGHT)) throw new Error(`method ${o.config.objective.method} trains the LM head, and the adapters are a reward model's (SEQ_CLS, with a score head): use --method reward, or a causal-LM adapter`);
    const online = objective.kind === 'online' || objective.kind === 'ppo';
    if (objective.kind === 'ppo' && !o.rewardModel) throw new Error('method ppo scores its responses with a reward model: give one (the CLI\'s --reward-model DIR; train one with --method reward)');
    if (online && !o.text) throw new Error(`method ${o.config.objective.method} generates and scores text: the run needs a text decoder (TrainingRunOptions.text)`);
    if (!online && o.data.kind === 'prompts') throw new Error(`method ${o.config.objective.method} trains on ${unpairedMethod ? 'unpaired examples or pairs' : 'preference pairs'}; this data holds prompts only (online methods take them: --method grpo, rloo or ppo)`);
    if (!unpairedMethod && !online && o.data.kind === 'unpaired') throw new Error(`method ${o.config.objective.method} trains on preference pairs; this data holds unpaired (KTO) examples`);
    // an unpaired method (KTO) on pairs: the pairs' split, each side unpaired as TRL's KTOTrainer does
    this.kind = online ? 'prompts' : unpairedMethod ? 'unpaired' : 'pairs';
    this.checkpointEvery = o.checkpointEvery ?? 0;
    // an online method generates from the prompts of whatever the file holds
    const items = online ? promptsOf(o.data.items) : o.data.items;
    const split = splitTrainEval<PairIds | UnpairedIds | PromptIds>(items, o.config.evalFraction, o.config.seed);
    if (!split.train.length) throw new Error(`no training ${o.data.kind === 'pairs' ? 'pairs' : 'examples'} left after the eval split: lower the eval fraction or add ${o.data.kind === 'pairs' ? 'pairs' : 'examples'}`);
    if (unpairedMethod && o.data.kind === 'pairs') {
      split.train = unpairPairs(split.train as PairIds[]);
      split.eval = unpairPairs(split.eval as PairIds[]);
    }
    // fail before any GPU work on an example this model cannot take
    const seq = sequenceConfig(o.base.config);
    const check = (xs: readonly (PairIds | UnpairedIds | PromptIds)[]) =>
      objective.kind === 'online' || objective.kind === 'ppo' ? checkPrompts(xs, seq, objective.generation.maxNewTokens) : this.kind === 'pairs' ? checkPairs(xs as PairIds[], seq) : checkUnpaired(xs as UnpairedIds[], { seq });
    check(split.train);
    check(split.eval);
    if (objective.kind === 'online') {
      const rows = Math.min(o.config.batchSize, split.train.length) * objective.generation.numGenerations;
      if (rows % o.config.gradAccum !== 0) throw new Error(`gradAccum ${o.config.gradAccum} must divide the ${rows} completions of an update (batch size ${Math.min(o.config.batchSize, split.train.length)} prompts × ${objective.generation.numGenerations} generations)`);
    }
    if (objective.kind === 'ppo') {
      const B = Math.min(o.config.batchSize, split.train.length);
      const M = objective.numMiniBatches;
      if (B % M !== 0) throw new Error(`numMiniBatches ${M} must divide the ${B} responses of an update (batch size)`);
      if ((B / M) % o.config.gradAccum !== 0) throw new Error(`gradAccum ${o.config.gradAccum} must divide the ${B / M} responses of a mini-batch (batch size ${B} / ${M} mini-batches)`);
    }
    this.prompts = online ? { train: split.train as PromptIds[], eval: split.eval as PromptIds[] } : null;
    this.train = online ? [] : (split.train as (PairIds | UnpairedIds)[]);
    this.evalSet = online ? [] : (split.eval as (PairIds | UnpairedIds)[]);
  }

  /** Whether the GPU state (model, trainer) exists. */
  get live(): boolean {
    return this.trainer !== null;
  }

  get done(): boolean {
    return this.step >= this.cfg.steps;
  }

  /**
   * The model this run trains: the starting one, or for a reward model started from a causal LM,
   * that LM with a score head (what `weights()` are saved as).
   */
  get modelConfig(): ModelConfig {
    return this.o.base.config;
  }

  /** The reference sums in use (null before start(), or for an objective without a reference). */
  get reference(): RunReference | null {
    return this.ref;
  }

  /**
   * Builds the GPU state: from the store's last snapshot (resume), else from the starting weights
   * with reference sums (handed over, kept from an earlier start, or computed here). Returns the
   * snapshot it resumed from.
   */
  async start(gpu: GpuContext, so: StartOptions = {}): Promise<ResumeSnapshot | undefined> {
    this.release();
    const snap = so.resume && this.o.store ? await this.o.store.load() : undefined;
    if (snap && JSON.stringify(snap.config) !== JSON.stringify(this.o.base.config)) throw new Error('the saved snapshot is of another model shape: start the run again');
    const { lora, baseDtype } = this.cfg;
    const model = createModel(gpu, this.o.base, { lora, baseDtype });
    let trainer: Trainer | KtoTrainer | RewardTrainer | OnlineTrainer | PpoTrainer | null = null;
    try {
      // LoRA: the base is always the starting weights; a snapshot holds the adapters
      // a PPO snapshot holds the value model's tensors too (VALUE_PREFIX)
      model.upload(snap && !model.lora ? new Map([...snap.params].filter(([k]) => !k.startsWith(VALUE_PREFIX))) : this.o.base.params);
      // a reward model's adapters carry its score head (modules_to_save): from the snapshot, the
      // imported folder (a SEQ_CLS adapter's), else the starting weights' head
      if (model.lora && lora) model.lora.upload(snap?.params ?? withSavedModules(this.o.adapters, this.o.base.params) ?? loraInit(this.o.base.config, lora, this.cfg.seed, this.o.base.params));
      if (this.prompts && createObjective(this.cfg.objective).kind === 'ppo') trainer = new PpoTrainer(model, this.prompts.train, this.prompts.eval, this.cfg, { text: this.o.text!, rewardModel: this.o.rewardModel! });
      else if (this.prompts) trainer = new OnlineTrainer(model, this.prompts.train, this.prompts.eval, this.cfg, { text: this.o.text!, rewards: this.o.rewards, rewardModel: this.o.rewardModel });
      else if (this.scoreHead) trainer = new RewardTrainer(model, this.train as PairIds[], this.evalSet as PairIds[], this.cfg);
      else trainer = this.kind === 'pairs' ? new Trainer(model, this.train as PairIds[], this.evalSet as PairIds[], this.cfg) : new KtoTrainer(model, this.train as UnpairedIds[], this.evalSet as UnpairedIds[], this.cfg);
      await trainer.allocated(); // out of device memory: a clear message now, not invalid buffers later
      // a pairs trainer gets pair sums and an unpaired one unpaired sums: both come from a run of the same kind
      const t = trainer as BaseTrainer<RunReference>;
      if (trainer instanceof GenerationTrainer) {
        if (snap) {
          trainer.restore({ step: snap.state.step, reference: null }, snap.moments);
          if (trainer instanceof PpoTrainer) trainer.restoreValue(snap.params, snap.moments);
          // num_tokens counts generated tokens: the snapshot's last row has it
          trainer.numTokens = (snap.rows ?? []).filter((m) => m.step <= snap.step && m.num_tokens !== undefined).at(-1)?.num_tokens ?? 0;
        }
        // the reference is a copy of the starting (or --ref-model) weights, also on a resume; with
        // LoRA the base with the adapters off (the base never changes)
        this.o.events?.status?.({ kind: 'reference' });
        await trainer.prepare(this.o.refWeights ?? (model.lora ? undefined : this.o.base.params), this.hooks('reference'));
      } else if (snap) {
        t.restore(snap.state, snap.moments);
      } else if (trainer.objective.needsReference) {
        const given = this.ref ?? so.reference ?? null;
        if (given) t.restore({ step: 0, reference: given }, null);
        else {
          this.o.events?.status?.({ kind: 'reference' });
          await trainer.prepare(this.o.refWeights, this.hooks('reference'));
        }
      }
    } catch (e) {
      trainer?.destroy();
      model.destroy();
      throw e;
    }
    this.model = model;
    this.trainer = trainer;
    this.ref = trainer.reference;
    this.step = snap?.step ?? 0;
    this.checkpointStep = snap?.step ?? 0;
    this.rows = (snap?.rows ?? []).filter((m) => m.step <= this.step);
    return snap;
  }

  private requireLive(): { model: TrainableModel; trainer: Trainer | KtoTrainer | RewardTrainer | OnlineTrainer | PpoTrainer } {
    if (!this.model || !this.trainer) throw new Error('the run has no GPU state: call start()');
    return { model: this.model, trainer: this.trainer };
  }

  /**
   * One optimizer update, its eval when due, and a resume snapshot when due. Returns (and sends
   * to events.metrics) the update's rows. A non-finite value throws the trainer's TrainingError
   * with the file lines of the examples filled in.
   */
  async advance(): Promise<Metrics[]> {
    const { trainer } = this.requireLive();
    if (this.done) throw new Error(`the run is done (${this.step} of ${this.cfg.steps} updates)`);
    const { evalEvery, steps } = this.cfg;
    const rows: Metrics[] = [];
    try {
      const m = await trainer.trainStep();
      rows.push(m);
      if (trainer instanceof OnlineTrainer) this.o.events?.samples?.(trainer.samples);
      if (trainer instanceof PpoTrainer) this.o.events?.ppoSamples?.(trainer.samples);
      if ((this.evalSet.length || this.prompts?.eval.length) && (m.step === steps || (evalEvery > 0 && m.step % evalEvery === 0))) {
        try {
          rows.push({ ...(await trainer.evaluate(this.hooks('eval'))), epoch: m.epoch, step: m.step });
        } catch (e) {
          // a cancelled eval pass (the run is being stopped) leaves out this update's eval row
          if (!(e instanceof PassCancelled)) throw e;
        }
      }
    } catch (e) {
      throw e instanceof TrainingError ? this.withLines(e) : e;
    }
    this.step = trainer.step;
    this.rows.push(...rows);
    this.o.events?.metrics?.(rows);
    if (this.done) await this.finish();
    else if (this.checkpointEvery > 0 && this.step % this.checkpointEvery === 0) await this.snapshot();
    return rows;
  }

  /**
   * Stops the pass over the data set in progress (reference sums, eval) at its next batch, and
   * every later one: for a driver that abandons or stops the run. A reference pass throws
   * PassCancelled out of start() (the GPU state it built is freed); a cancelled eval pass leaves
   * its eval row out of advance()'s rows.
   */
  cancel(): void {
    this.cancelRequested = true;
  }

  get cancelled(): boolean {
    return this.cancelRequested;
  }

  private hooks(phase: PassPhase): PassHooks {
    const unit = this.kind === 'pairs' ? 'pairs' : 'examples';
    const progress = this.o.events?.progress;
    return { cancelled: () => this.cancelRequested, progress: progress && ((p) => progress({ phase, unit, ...p })) };
  }

  /** Updates until the last (the CLI's loop). */
  async run(): Promise<void> {
    while (!this.done) await this.advance();
  }

  /** The snapshot a run that ends (done or stopped) leaves behind, unless it is already saved. */
  async finish(): Promise<void> {
    if (this.live && this.checkpointStep !== this.step) await this.snapshot();
  }

  /** Saves a resume snapshot now; false when there is no store, no GPU state, or saving failed. */
  async snapshot(): Promise<boolean> {
    const store = this.o.store;
    if (!store || !this.model || !this.trainer) return false;
    const { model, trainer } = this;
    const step = trainer.step;
    let [params, moments] = [await (model.lora ? model.lora.download() : model.download()), await trainer.optimizerState()];
    if (trainer instanceof PpoTrainer) {
      // the value model is trained too: its tensors and moments go beside the policy's
      const v = await trainer.valueState();
      params = new Map([...params, ...v.params]);
      if (moments && v.moments) moments = { m: new Map([...moments.m, ...v.moments.m]), v: new Map([...moments.v, ...v.moments.v]) };
    }
    try {
      await store.save({ step, config: model.config, params, moments, state: { step, reference: trainer.reference }, rows: this.rows.filter((m) => m.step <= step) });
    } catch (e) {
      this.o.events?.status?.({ kind: 'snapshot-failed', step, checkpointStep: this.checkpointStep, error: e as Error });
      return false;
    }
    this.checkpointStep = step;
    this.o.events?.status?.({ kind: 'snapshot', step });
    return true;
  }

  /** The current weights (the run must be live); with LoRA, the base with the adapters merged in (PEFT's merge_and_unload). */
  async weights(): Promise<Map<string, Float32Array>> {
    const { model } = this.requireLive();
    const base = await model.download();
    if (!model.lora) return base;
    return mergeLora(model.config, model.lora.lora, base, await model.lora.download());
  }

  /** LoRA: the current adapters by name (src/model/lora.ts loraNames), for a PEFT adapter folder; null without LoRA. */
  async adapterWeights(): Promise<Map<string, Float32Array> | null> {
    const { model } = this.requireLive();
    return model.lora ? model.lora.download() : null;
  }

  /** Frees the GPU state; step, rows and reference sums stay for the next start(). */
  release(): void {
    try {
      this.trainer?.destroy();
      this.model?.destroy();
    } catch {
      // buffers of a lost device may already be gone
    }
    this.trainer = null;
    this.model = null;
  }

  /**
   * The guard's error with the file lines of its examples (data indices are unique in a file);
   * when every example has one, the message names the file lines instead of the data indices.
   */
  private withLines(e: TrainingError): TrainingError {
    const byIndex = new Map([...this.train, ...(this.prompts?.train ?? [])].map((x) => [x.index, x.line]));
    const lines = e.pairs.map((i) => byIndex.get(i)).filter((l): l is number => l !== undefined);
    const message = lines.length && lines.length === e.pairs.length ? e.message.replace(/\((?:pairs|examples) [\d, ]+\)/, `(file line${lines.length > 1 ? 's' : ''} ${[...lines].sort((x, y) => x - y).join(', ')})`) : e.message;
    const out = new TrainingError(message, e.step, e.pairs, lines);
    out.stack = e.stack;
    return out;
  }
}

/**
 * Imported adapters for a model whose LoRA run also trains saved modules (a reward model's score
 * head): the modules the folder lacks (a CAUSAL_LM adapter has no score head) start from the
 * starting weights', as loraInit's do. Undefined when nothing was imported.
 */
function withSavedModules(adapters: Map<string, Float32Array> | undefined, base: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> | undefined {
  if (!adapters || adapters.has(SCORE_WEIGHT) || !base.has(SCORE_WEIGHT)) return adapters;
  return new Map([...adapters, [SCORE_WEIGHT, Float32Array.from(base.get(SCORE_WEIGHT)!)]]);
}
