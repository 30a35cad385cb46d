// A comparison: every run starts from the same weights, data order and seed, and the runs
// advance interleaved (one update each, round-robin) so their curves grow together. Each run is
// a TrainingRun (src/train/training-run.ts: split, reference, cadence, NaN guard, snapshots);
// this file only schedules them and speaks the page's protocol. Methods with a reference share
// one reference computation. A lost device or an out-of-memory error pauses every run; resuming
// rebuilds them from their last resume snapshot (the injected store: IndexedDB in the worker).
// Passes over the whole data set (the per-pair table, reference sums, eval) send throttled
// progress events; cancel() stops a comparison that is still starting between two batches.
import type { GpuContext } from '../engine/gpu';
import type { LoadedModel } from '../model/family-checkpoint';
import { createModel, modelParamCount, sequenceConfig } from '../model/family';
import { checkpointBaseDtype, loraInit, mergeLora } from '../model/lora';
import type { LoadedAdapter } from '../export/peft';
import { adapterLoraProblem, readAdapter } from './adapter';
import { RunnerPool } from '../train/runners';
import { createObjective } from '../train/objectives';
import { validateTrainConfig } from '../train/config';
import { TrainingError, type Metrics } from '../train/trainer';
import type { PairIds } from '../train/pairs';
import type { PromptIds } from '../train/prompts';
import { TrainingRun, type ResumeSnapshot, type RunEvents, type RunReference, type SnapshotStore, type StageLinks } from '../train/training-run';
import { PassCancelled, ProgressClock, type PassHooks } from '../train/progress';
import { loadSessionData } from './pairs';
import { splitTrainEval } from '../data/split';
import { TIMED_SAMPLE_PROMPTS, timedPrompts, type OpenLm, type TimedPrompt } from '../onnx/timed-samples';
import { isRolloutStep, ppoRolloutsAt, rolloutsAt, Sampler } from './sampler';
import { REWARD_MODEL_REWARD } from '../train/objectives/online';
import type { RewardModelWeights } from '../train/reward-source';
import type { ModelConfig } from '../model/family';
import type { UnpairedIds } from '../train/kto-trainer';
import { nanReport } from './nan-report';
import { pairAverages, PAIR_TABLE_SIZE } from './pair-table';
import { startEvent, Tracker } from './track';
import { trackedPairs } from '../train/pair-track';
import { Run } from './run';
import type { EngineEvent, PauseCause, RunSpec, RunStatus, SessionSpec } from './protocol';
import { snapshotWeights } from './saved-weights';
import type { SamplePrompt } from './exports';

/** Models above this size get no resume snapshots (a GPT-2-small one would be 1.5 GB). */
export const CHECKPOINT_MAX_PARAMS = 50_000_000;

export interface SessionDeps {
  /** The current device, acquiring a new one after a loss. */
  gpu(): Promise<GpuContext>;
  emit(ev: EngineEvent): void;
  /** Where a run's resume snapshots live (the worker: IndexedDB, src/worker/db.ts). */
  store(sessionId: string, runId: string): SnapshotStore;
  /** Progress events of a pass at most this often, in ms (default PROGRESS_MS). */
  progressMs?: number;
  /**
   * Opens an exported model for samples over time (settings.sampleEvery) of a model the GPU decode
   * refuses (src/onnx/timed-samples-gpu.ts; the GPU generates the others); absent: such a model
   * gets none.
   */
  openLm?: OpenLm;
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

/** Progress events of one pass reach the page at most this often (and at its end). */
export const PROGRESS_MS = 200;

export class Session {
  readonly runs: Run[];
  private train: PairIds[] = [];
  /** The file's examples as tokenized (a later RLHF stage builds its run from them); prompts: a prompt-only file's rows. */
  private examples: { pairs: PairIds[]; unpaired: UnpairedIds[]; prompts: PromptIds[] | null } = { pairs: [], unpaired: [], prompts: null };
  private evalSet: PairIds[] = [];
  /** Reference sums shared by every run of a kind (pairs, unpaired) that needs them (same split, same starting weights). */
  private references = new Map<string, RunReference>();
  /** Samples over time (settings.sampleEvery > 0). */
  private sampler: Sampler | null = null;
  private looping = false;
  private current: Run | null = null;
  private down: PauseCause | null = null;
  private disposed = false;
  /** start() has not finished (cancel() applies). */
  private starting = false;
  private cancelled = false;
  /** Progress of the session's own passes (the per-pair table, the reference sums). */
  private clock: ProgressClock;
  /** The runs' tracked pairs (diagnostics), once the data is split. */
  private tracker: Tracker | null = null;
  /** spec.adapter as read (importedAdapter()); null: none. */
  private imported: Promise<LoadedAdapter | null> | null = null;
  /** prepare()'s imported adapter, for the runs it builds. */
  private adapter: LoadedAdapter | null = null;
  /**
   * The starting weights with the imported adapter merged in (startParams()): one copy, made on
   * first need (full fine-tuning's base, samples or the starting model's export) and shared.
   */
  private merged: Map<string, Float32Array> | null = null;

  constructor(
    readonly spec: SessionSpec,
    readonly base: LoadedModel,
    private deps: SessionDeps,
  ) {
    this.clock = new ProgressClock(deps.progressMs ?? PROGRESS_MS, (progress) => this.emit({ type: 'progress', progress }));
    const { maxLength: _ml, maxPromptLength: _mpl, checkpointEvery: _ce, sampleEvery: _se, ...train } = spec.settings;
    // LoRA: the frozen base in the checkpoint's own dtype unless the settings say (as the CLI's --base-dtype)
    if (train.lora && train.baseDtype === undefined) train.baseDtype = checkpointBaseDtype(base.config);
    this.runs = spec.runs.map((r) => {
      // the engine's one validator: bad settings or method options fail here, naming the field
      validateTrainConfig({ ...spec.settings, objective: r.objective, nPositions: sequenceConfig(base.config).nPositions });
      return new Run(r, { ...train, objective: r.objective });
    });
  }

  private emit(ev: EngineEvent): void {
    if (!this.disposed) this.deps.emit(ev);
  }

  /**
   * Tokenizes the data, scores the per-pair table, computes the reference sums and builds every
   * run, then starts the loop. Throws PassCancelled when cancel() came first; every GPU object it
   * built is freed by then.
   */
  async start(): Promise<void> {
    this.starting = true;
    try {
      await this.prepare();
    } finally {
      this.starting = false;
    }
    void this.loop();
  }

  /**
   * Stops a comparison that is still starting: the pass in progress ends at its next batch and
   * start() throws PassCancelled. False when start() is over (stop the runs instead).
   */
  cancel(): boolean {
    if (!this.starting) return false;
    this.cancelled = true;
    for (const r of this.runs) r.training?.cancel();
    return true;
  }

  private checkCancelled(): void {
    if (this.cancelled || this.disposed) throw new PassCancelled('the comparison was cancelled before training began');
  }

  private async prepare(): Promise<void> {
    const { settings, data } = this.spec;
    // an imported PEFT adapter: read and checked against the model and the LoRA settings first
    this.adapter = await this.importedAdapter();
    this.emit({ type: 'session', phase: 'loading-data', message: `Tokenizing ${data.name}…` });
    const { pairs, unpaired, prompts: promptRows } = await loadSessionData(data.file, data.name, data.format, this.base.tokenizer, sequenceConfig(this.base.config).nPositions, settings.maxLength, settings.maxPromptLength);
    this.checkCancelled();
    this.examples = { pairs, unpaired, prompts: promptRows };
    for (const r of this.runs) {
      const kind = createObjective(r.cfg.objective).kind;
      if (promptRows && kind !== 'online' && kind !== 'ppo') throw new Error(`${r.spec.label} trains on ${kind === 'unpaired' ? 'unpaired examples or preference pairs' : 'preference pairs'}; ${data.name} holds prompts only ({"prompt": …}): GRPO and RLOO cards train on them`);
      if (kind !== 'unpaired' && kind !== 'online' && kind !== 'ppo' && !pairs.length) throw new Error(`${r.spec.label} trains on preference pairs; ${data.name} holds unpaired (KTO) examples (prompt, completion, label): train it with a KTO card`);
      // a later RLHF stage is built when the runs it starts from have ended (startStages)
      r.stage = this.stageOf(r);
      if (!r.stage) r.training = this.trainingRun(r, this.base);
    }
    // every run splits the same way (same seed and fraction): the pairs' split is the session's
    const split = splitTrainEval(pairs, settings.evalFraction, settings.seed);
    this.train = split.train;
    this.evalSet = split.eval;
    // samples over time: the same held-out prompts for every run
    const first = this.runs.find((r) => r.training)!.training!;
    const prompts = pairs.length ? timedPrompts(this.train, this.evalSet, this.base.tokenizer) : first.prompts && promptRows ? promptOnly(first.prompts, this.base.tokenizer) : timedPrompts(first.train, first.evalSet, this.base.tokenizer);
    const every = settings.sampleEvery ?? 0;
    this.sampler = every > 0 ? new Sampler(this.adapter ? this.startModel() : this.base, prompts, data.name, every, settings.steps, this.deps.openLm ?? null, (ev) => this.emit(ev)) : null;
    this.tracker = new Tracker(trackedPairs(this.train), settings.steps, (ev) => this.emit(ev));
    const counts = pairs.length ? { trainPairs: this.train.length, evalPairs: this.evalSet.length } : first.prompts ? { trainPairs: first.prompts.train.length, evalPairs: first.prompts.eval.length } : { trainPairs: first.train.length, evalPairs: first.evalSet.length };
    const gpu = await this.deps.gpu();
    const needRef = !this.spec.resume && this.runs.some((r) => createObjective(r.cfg.objective).needsReference);
    this.emit({ type: 'session', phase: 'reference', message: needRef ? 'Computing reference log-probs from the starting weights…' : 'Scoring the pairs with the starting weights…', ...counts });
    if (this.train.length) await this.startingPoint(gpu);
    for (const r of this.runs) {
      this.checkCancelled();
      if (r.final) continue; // stopped by the user while the comparison was starting
      if (this.ended(r) === 'failed') {
        r.status = 'failed'; // as fail() left it, with no GPU state; the page keeps its message
        continue;
      }
      if (r.stage) {
        // a resumed stage that had ended is built, and stays ended, once its inputs are (startStage)
        if (this.ended(r)) continue;
        r.message = `Waits for ${[r.stage.policy, r.stage.reward].filter((x) => x).map((x) => x!.spec.label).join(' and ')} to finish: ${r.stage.policy ? `it starts from ${r.stage.policy.spec.label}’s final weights and` : 'it'} scores its completions with ${r.stage.reward.spec.label}’s.`;
        this.emit(r.event());
        continue;
      }
      r.status = 'preparing';
      this.emit(r.event());
      const snap = await this.build(r, gpu, this.spec.resume);
      // a resumed run without a snapshot starts over: the page drops the rows it had
      if (snap || this.spec.resume) this.restoreRows(r, snap);
      if ((r.status as RunStatus) === 'stopped') {
        await this.finish(r); // stopped while it was being built
        continue;
      }
      this.built(r);
    }
    this.checkCancelled();
    await this.sampler?.atStart(this.runs.filter((r) => !r.final && !r.stage));
    const unit = promptRows ? 'prompts' : pairs.length ? 'pairs' : 'examples';
    this.emit({ type: 'session', phase: 'training', message: `${this.runs.length} runs on ${counts.trainPairs} training ${unit}${counts.evalPairs ? ` (${counts.evalPairs} held out)` : ''}`, ...counts });
  }

  /**
   * A run's TrainingRun from `base`: the loaded model (with the imported adapter: a LoRA run
   * continues it over the base, full fine-tuning starts from it merged in, as the CLI's
   * `train --lora-adapter`), or an earlier stage's weights.
   */
  private trainingRun(r: Run, base: { config: ModelConfig; params: Map<string, Float32Array> }, rewardModel?: RewardModelWeights): TrainingRun {
    const { settings } = this.spec;
    const imported = base === this.base ? this.adapter : null;
    let adapters: Map<string, Float32Array> | undefined;
    if (imported && r.cfg.lora) adapters = imported.adapters;
    else if (imported) base = { config: base.config, params: this.startParams() };
    const { pairs, unpaired, prompts } = this.examples;
    // KTO takes the file's unpaired examples, or its pairs split into desirable and undesirable
    // (TRL); online methods (GRPO, RLOO, PPO) generate from the prompts of either, or from a
    // prompt-only file's rows (TrainingRun splits them as the CLI's train does)
    const kind = createObjective(r.cfg.objective).kind;
    const online = kind === 'online' || kind === 'ppo';
    const examples = prompts
      ? ({ kind: 'prompts', items: prompts } as const)
      : !pairs.length || (kind === 'unpaired' && unpaired.length)
        ? ({ kind: 'unpaired', items: unpaired } as const)
        : ({ kind: 'pairs', items: pairs } as const);
    const store = modelParamCount(this.base.config) <= CHECKPOINT_MAX_PARAMS;
    const tok = this.base.tokenizer;
    // online methods decode their completions for the reward functions as the CLI does (the tokenizer's decode)
    return new TrainingRun({ base, data: examples, config: r.cfg, adapters, text: online ? (ids) => tok.decode(ids) : undefined, rewardModel, checkpointEvery: settings.checkpointEvery, store: store ? this.runStore(r) : undefined, events: this.runEvents(r) });
  }

  /** A run's snapshot store; a later RLHF stage's snapshots also carry its links (StageLinks), for its export after a reload. */
  private runStore(r: Run): SnapshotStore {
    const store = this.deps.store(this.spec.sessionId, r.spec.id);
    const stage: StageLinks | null = r.stage && { policy: r.stage.policy?.spec.id ?? null, reward: r.stage.reward.spec.id };
    return stage ? { load: () => store.load(), save: (snap) => store.save({ ...snap, stage }) } : store;
  }

  /** A run's last saved snapshot (a comparison the engine no longer runs: the page's exports after a reload). */
  savedSnapshot(runId: string): Promise<ResumeSnapshot | undefined> {
    return this.deps.store(this.spec.sessionId, runId).load();
  }

  /**
   * RLHF's later stages (seed 002: SFT → reward model → PPO): a run that scores with a reward model
   * (PPO; GRPO and RLOO with the `reward-model` reward) takes the comparison's Reward model run as
   * its reward model, and PPO starts from the comparison's SFT run when there is one. Such a run
   * waits until those runs end (done, or stopped: their weights then). Null: an ordinary run.
   */
  private stageOf(r: Run): Run['stage'] {
    const o = createObjective(r.cfg.objective);
    if (!(o.kind === 'ppo' || (o.kind === 'online' && o.rewards.names.includes(REWARD_MODEL_REWARD)))) return null;
    const reward = this.runs.find((x) => createObjective(x.cfg.objective).kind === 'score');
    if (!reward) throw new Error(`${r.spec.label} scores its completions with a reward model: add a Reward model card to the comparison (it trains first, on the same pairs)`);
    const policy = o.kind === 'ppo' ? (this.runs.find((x) => x.cfg.objective.method === 'sft') ?? null) : null;
    return { policy, reward };
  }

  /** A waiting stage whose runs have all ended (done or stopped): startStages builds it now. */
  private ready(r: Run): boolean {
    if (!r.stage || r.training || r.final) return false;
    return [r.stage.policy, r.stage.reward].every((d) => !d || d.final);
  }

  /** Builds every waiting stage whose runs have ended; one whose run failed fails too. */
  private async startStages(): Promise<void> {
    for (const r of this.runs) {
      if (!r.stage || r.training || r.final || this.down || this.disposed) continue;
      const failed = [r.stage.policy, r.stage.reward].find((d) => d?.status === 'failed');
      if (failed) {
        const ended = this.ended(r);
        if (ended) {
          r.status = ended; // resumed, it had ended before its input failed (stopped while it waited): it stays so
          continue;
        }
        r.status = 'failed';
        r.message = `${r.spec.label} did not start: ${failed.spec.label}, whose weights it needs, failed.`;
        this.emit(r.event());
        continue;
      }
      if (!this.ready(r)) continue;
      try {
        await this.startStage(r, r.stage!);
      } catch (e) {
        if (this.down || this.disposed) continue;
        if (e instanceof PassCancelled && r.status === 'stopped') {
          r.destroy(); // stopped while it was being built: its reference pass ended at its next batch
          continue;
        }
        if (e instanceof MissingWeights) {
          r.status = 'failed';
          r.message = `${r.spec.label} did not start: ${e.message}`;
          r.destroy();
          this.emit(r.event());
          continue;
        }
        await this.fail(r, e);
      }
    }
  }

  /**
   * A stage's inputs are its runs' final weights: on the GPU, or (a lost device or an out-of-memory
   * pause freed them) their last saved snapshot. Stop applies throughout: after each wait a stage
   * the user stopped goes no further.
   */
  private async startStage(r: Run, stage: NonNullable<Run['stage']>): Promise<void> {
    const gone = () => r.final || this.down || this.disposed;
    const gpu = await this.deps.gpu();
    if (gone()) return;
    const policy = stage.policy ? await this.finalWeights(stage.policy) : null;
    if (gone()) return;
    const rm = await this.finalWeights(stage.reward);
    if (gone()) return;
    // the reward model's name in rewards/<name>/mean: its run's id (TRL: the folder's name)
    const rewardModel: RewardModelWeights = { name: stage.reward.spec.id, config: rm.config, params: rm.params };
    // no SFT run: the loaded model (and the imported adapter) as every other run
    r.training = this.trainingRun(r, policy ? { config: this.base.config, params: policy.params } : this.base, rewardModel);
    r.status = 'preparing';
    r.message = [policy?.note, rm.note].filter((x) => x).join(' ') || undefined;
    this.emit(r.event());
    const snap = await this.build(r, gpu, this.spec.resume);
    if (this.down || this.disposed) return;
    if (snap || this.spec.resume) this.restoreRows(r, snap);
    if ((r.status as RunStatus) === 'stopped') return this.finish(r);
    this.built(r);
  }

  /**
   * The weights run `d` ended with (a LoRA run's merged, as its exports); `note` when its last
   * snapshot is older than its last step. MissingWeights when they are neither on the GPU nor saved.
   * Also a stage's TRL export's inputs (exports.ts trlFiles).
   */
  async finalWeights(d: Run): Promise<{ config: ModelConfig; params: Map<string, Float32Array>; note?: string }> {
    if (d.live) return { config: d.training!.modelConfig, params: await d.training!.weights() };
    const snap = await this.savedSnapshot(d.spec.id);
    if (!snap) throw new MissingWeights(`${d.spec.label}, whose weights it needs, is no longer on the GPU (a lost device or an out-of-memory pause freed it) and has no saved checkpoint (checkpoints are kept for models up to ${CHECKPOINT_MAX_PARAMS / 1e6}M parameters).`);
    const note = snap.step < d.step ? `Uses ${d.spec.label}’s last checkpoint (step ${snap.step} of ${d.step}).` : undefined;
    return { config: snap.config, params: snapshotWeights(this.base, d.spec.id, snap, d.cfg), note };
  }

  /** Whether `r` is a resumed run that had ended (RunSpec.ended): it stays so. */
  private ended(r: Run): RunSpec['ended'] {
    return this.spec.resume ? r.spec.ended : undefined;
  }

  /** A run just built: running, or done at its last step; a resumed run that had ended (done, stopped) stays so. */
  private built(r: Run): void {
    r.status = this.ended(r) ?? (r.step >= r.cfg.steps ? 'done' : 'running');
    this.emit(r.event());
  }

  /** How a run's reports reach the page. */
  private runEvents(r: Run): RunEvents {
    // the reference pass is the session's (computed once, shared); an eval pass is the run's
    const evalClock = new ProgressClock(this.deps.progressMs ?? PROGRESS_MS, (progress) => this.emit({ type: 'progress', runId: r.spec.id, progress }));
    return {
      metrics: (rows) => this.emit({ type: 'metrics', runId: r.spec.id, rows }),
      // online runs: the completions of an update (before its metrics), a few of them at the updates due
      samples: (samples) => {
        const at = samples.length && isRolloutStep(samples[0].step, r.cfg.steps) ? rolloutsAt(samples) : null;
        if (at) this.emit({ type: 'rollouts', runId: r.spec.id, at });
      },
      ppoSamples: (samples) => {
        const at = samples.length && isRolloutStep(samples[0].step, r.cfg.steps) ? ppoRolloutsAt(samples, r.stage?.reward.spec.id ?? 'reward') : null;
        if (at) this.emit({ type: 'rollouts', runId: r.spec.id, at });
      },
      progress: (p) => (p.phase === 'eval' ? evalClock : this.clock).report(p),
      status: (s) => {
        if (s.kind === 'snapshot-failed') r.message = `Could not save a checkpoint in this browser's storage (${s.error.message}); if the GPU is lost, this run restarts from its last saved step (${s.checkpointStep}). Free some disk space or leave private browsing.`;
      },
    };
  }

  /**
   * A run's GPU state (from its last snapshot when `resume`), sharing the session's reference
   * sums; running out of memory here is an error the user can act on.
   */
  private async build(r: Run, gpu: GpuContext, resume: boolean): Promise<ResumeSnapshot | undefined> {
    r.destroy();
    const training = r.training!;
    gpu.device.pushErrorScope('out-of-memory');
    let snap: ResumeSnapshot | undefined;
    let failure: unknown = null;
    try {
      snap = await training.start(gpu, { resume, reference: this.references.get(training.kind) ?? null });
    } catch (e) {
      failure = e;
    }
    const oom = await gpu.device.popErrorScope().catch(() => null);
    if (oom) {
      r.destroy();
      throw new Error(`not enough GPU memory for ${r.spec.label} (${oom.message}): lower the batch size or the max length, run fewer methods at once, or pick a smaller model`);
    }
    if (failure) throw failure;
    if (training.reference && !this.references.has(training.kind)) this.references.set(training.kind, training.reference);
    return snap;
  }

  /**
   * spec.adapter read against the loaded model (src/worker/adapter.ts: the CLI's reader) and
   * against the LoRA settings (their r and target modules must be the adapter's, as the CLI's
   * --lora-r / --lora-targets against --lora-adapter); null without one. Read once.
   */
  importedAdapter(): Promise<LoadedAdapter | null> {
    this.imported ??= (async () => {
      const source = this.spec.adapter;
      if (!source) return null;
      const loaded = await readAdapter(source, this.base.config).catch((e: Error) => {
        throw new Error(`the imported adapter ${source.name}: ${e.message}`, { cause: e });
      });
      const lora = this.runs[0]?.cfg.lora;
      const problem = lora ? adapterLoraProblem(this.base.config, lora, loaded.lora) : null;
      if (problem) throw new Error(`${problem}: LoRA runs continue the imported adapter ${source.name}`);
      return loaded;
    })();
    return this.imported;
  }

  /**
   * The comparison's starting weights as parameters (Generate samples' "Before training", the
   * starting model's export): the loaded model, with the imported adapter merged in (PEFT's
   * merge_and_unload, what the CLI's --lora-adapter reads) when there is one.
   */
  async startWeights(): Promise<Map<string, Float32Array>> {
    this.adapter ??= await this.importedAdapter();
    return this.startParams();
  }

  /** startWeights() once the adapter is read (this.adapter): merged on first call, then the same map. */
  private startParams(): Map<string, Float32Array> {
    if (!this.adapter) return this.base.params;
    this.merged ??= mergeLora(this.base.config, this.adapter.lora, this.base.params, this.adapter.adapters);
    return this.merged;
  }

  /**
   * The loaded model whose params are the starting weights, merged only when read: the sampler
   * reads them only without a live run to take them from (Sampler.atStart), so a LoRA comparison
   * with samples on usually never makes the merged copy.
   */
  private startModel(): LoadedModel {
    const params = () => this.startParams();
    return {
      ...this.base,
      get params() {
        return params();
      },
    };
  }

  /** The pair table's starting point: the first training pairs under the starting weights. */
  private async startingPoint(gpu: GpuContext): Promise<void> {
    // the runs' own model (a LoRA run's frozen base in its dtype, adapters at PEFT's init: B = 0)
    // and activation storage, so the table matches what their steps compute
    const { lora, baseDtype } = this.runs[0].cfg;
    const model = createModel(gpu, this.base, { lora, baseDtype });
    const runners = new RunnerPool(model, undefined, undefined, this.spec.settings.activationsDtype ?? 'f32');
    const table = this.train.slice(0, PAIR_TABLE_SIZE);
    const hooks: PassHooks = { cancelled: () => this.cancelled || this.disposed, progress: (p) => this.clock.report({ phase: 'table', unit: 'pairs', ...p }) };
    try {
      // with an imported adapter: its tensors over the base, or (full fine-tuning) merged in
      model.upload(model.lora ? this.base.params : this.startParams());
      if (model.lora && lora) model.lora.upload(this.adapter?.adapters ?? loraInit(this.base.config, lora, this.spec.settings.seed));
      this.emit(await startEvent(model, runners, table, this.spec.settings.steps, this.spec.settings.batchSize, this.base.tokenizer, hooks));
    } finally {
      runners.destroy();
      model.destroy();
    }
  }

  private async loop(): Promise<void> {
    if (this.looping) return;
    this.looping = true;
    try {
      for (;;) {
        await this.startStages();
        const active = this.runs.filter((r) => r.status === 'running');
        if (this.down || this.disposed) break;
        if (!active.length) {
          if (this.runs.some((r) => this.ready(r))) continue; // a Stop made a stage's runs final while startStages ran
          break;
        }
        for (const r of active) {
          if (r.status !== 'running' || this.down || this.disposed) continue;
          this.current = r;
          await this.step(r);
          this.current = null;
          if ((r.status as string) === 'stopped' && r.live) await this.finish(r); // stopped mid-step
          await tick(); // let pause/stop messages in
        }
      }
    } finally {
      this.current = null;
      this.looping = false;
    }
  }

  /** One update of `r` (its eval and snapshot when due: TrainingRun.advance), guarded for a lost device and OOM. */
  private async step(r: Run): Promise<void> {
    const training = r.training!;
    const device = training.model!.gpu.device;
    let rows: Metrics[] = [];
    let failure: unknown = null;
    device.pushErrorScope('out-of-memory');
    try {
      rows = await training.advance();
      // a reward model has no LM head: no tracked log-probs, no samples
      if (!training.scoreHead) await this.tracker?.afterStep(r);
      await this.sampler?.afterStep(r);
    } catch (e) {
      failure = e;
    }
    const oom = await device.popErrorScope().catch(() => null);
    if (failure && !(failure instanceof TrainingError) && !this.down) await Promise.race([device.lost, new Promise((res) => setTimeout(res, 250))]);
    if (this.down || this.disposed) return; // the device went away mid-step: the run rewinds on resume
    if (oom) return this.pauseAll('out-of-memory', `${r.spec.label} ran out of GPU memory at step ${r.step + 1} (${oom.message}). Lower the batch size or the max length, or run fewer methods at once, then press Resume: runs continue from their last checkpoint.`);
    if (failure) return this.fail(r, failure);
    r.tick(rows[0].tokens_per_second);
    if (training.done) {
      r.status = 'done';
      try {
        await this.finish(r);
      } catch (e) {
        if (!this.down && !this.disposed) return this.fail(r, e);
      }
    }
    this.emit(r.event());
  }

  private async fail(r: Run, e: unknown): Promise<void> {
    r.status = 'failed';
    if (e instanceof TrainingError) {
      // guards explained: the examples' per-token log-probs under the weights that failed
      const report = r.training && (await nanReport(r.training, e, this.base.tokenizer).catch(() => null));
      if (report) this.emit({ type: 'nan-report', runId: r.spec.id, report });
      // TrainingRun's message names the file lines when every example has one
      const lines = e.lines.length && !/\(file lines? /.test(e.message) ? ` File lines: ${e.lines.join(', ')}.` : '';
      r.message = `${r.spec.label} stopped at step ${e.step}: ${e.message}.${lines}`;
    } else {
      r.message = `${r.spec.label} failed at step ${r.step + 1}: ${(e as Error)?.message ?? String(e)}`;
    }
    r.destroy(); // its GPU memory goes back to the other runs; samples and exports use its last snapshot
    this.emit(r.event());
  }

  /** Last snapshot and the per-pair table of a run that ended (done or stopped). */
  private async finish(r: Run): Promise<void> {
    if (!r.live) return;
    await r.training!.finish();
    if (r.training!.scoreHead) return this.emit(r.event()); // no LM head: no per-pair log-probs
    await this.tracker?.atEnd(r);
    const table = this.train.slice(0, PAIR_TABLE_SIZE);
    if (table.length) this.emit({ type: 'pairs-run', runId: r.spec.id, step: r.step, ...(await pairAverages(r.model!, table, this.spec.settings.batchSize, this.spec.settings.activationsDtype ?? 'f32')) });
    this.emit(r.event());
  }

  /** The first held-out prompts (training prompts when nothing is held out), as text. */
  samplePrompts(n: number): SamplePrompt[] {
    const tok = this.base.tokenizer;
    const text = (ids: readonly number[]) => tok.decode(ids.filter((id) => id !== tok.eosTokenId));
    const t = this.runs[0]?.training;
    // prompt-only data: the held-out prompts, with no answers to compare against
    if (t?.prompts && this.examples.prompts) return promptOnly(t.prompts, tok, n).map(({ prompt, pair }) => ({ prompt, pair }));
    // unpaired (KTO) data: its prompts, each with its desirable and undesirable answers
    if (!this.train.length) return t ? timedPrompts(t.train, t.evalSet, tok, n).map(({ prompt, pair }) => ({ prompt, pair })) : [];
    return (this.evalSet.length ? this.evalSet : this.train).slice(0, n).map((p) => ({ prompt: text(p.promptIds), pair: { chosen: text(p.chosenIds), rejected: text(p.rejectedIds) } }));
  }

  /** The engine stops every run; their GPU state is void until resume() rebuilds it. */
  pauseAll(cause: PauseCause, message: string): void {
    if (this.down) return;
    this.down = cause;
    this.emit({ type: 'notice', cause, message });
    for (const r of this.runs) {
      if (r.final) continue;
      if (r.status === 'running' || r.status === 'preparing') r.status = 'paused';
      r.message = message;
      r.destroy();
      this.emit(r.event());
    }
    for (const r of this.runs) if (r.final) r.destroy();
  }

  private targets(runId?: string): Run[] {
    const rs = runId === undefined ? this.runs : this.runs.filter((r) => r.spec.id === runId);
    if (runId !== undefined && !rs.length) throw new Error(`no run "${runId}" in this comparison`);
    return rs;
  }

  pause(runId?: string): void {
    for (const r of this.targets(runId)) {
      if (r.status !== 'running') continue;
      r.status = 'paused';
      r.message = undefined;
      this.emit(r.event());
    }
  }

  async resume(runId?: string): Promise<void> {
    const rebuilt = this.down ? await this.recover() : [];
    for (const r of this.targets(runId)) {
      if (r.status !== 'paused') continue;
      r.status = 'running';
      if (!rebuilt.includes(r)) r.message = undefined;
      this.emit(r.event());
    }
    void this.loop();
  }

  /**
   * The page's rows for a run rebuilt from `snap`: exactly the snapshot's rows (steps after it
   * are redone; steps the page had not saved yet before a reload come back from the snapshot).
   */
  private restoreRows(r: Run, snap: ResumeSnapshot | undefined): void {
    if (snap?.rows) {
      this.emit({ type: 'rewind', runId: r.spec.id, step: 0, resumedAt: r.step });
      if (snap.rows.length) this.emit({ type: 'metrics', runId: r.spec.id, rows: snap.rows.filter((m) => m.step <= r.step) });
    } else {
      this.emit({ type: 'rewind', runId: r.spec.id, step: r.step });
    }
  }

  /** After a loss or an out-of-memory error: every unfinished run from its last snapshot. */
  private async recover(): Promise<Run[]> {
    const gpu = await this.deps.gpu();
    const rebuilt: Run[] = [];
    for (const r of this.runs) {
      if (r.final || r.live || !r.training) continue;
      let snap: ResumeSnapshot | undefined;
      try {
        snap = await this.build(r, gpu, true);
      } catch (e) {
        // stopped while it was being rebuilt: its reference pass ended at its next batch
        if (e instanceof PassCancelled && (r.status as RunStatus) === 'stopped') continue;
        throw e;
      }
      r.message = snap ? `Resumed from the checkpoint at step ${snap.step}.` : 'Restarted from step 0 (no checkpoint yet).';
      this.restoreRows(r, snap);
      this.emit(r.event());
      rebuilt.push(r);
    }
    this.down = null;
    this.emit({ type: 'notice', cause: null, message: null });
    return rebuilt;
  }

  async stop(runId?: string): Promise<void> {
    for (const r of this.targets(runId)) {
      if (r.final) continue;
      r.status = 'stopped';
      r.message = undefined;
      this.emit(r.event());
      // an eval pass in progress ends at its next batch (that update keeps its train row only);
      // while starting, the reference pass is shared: cancel() is the way to stop it
      if (!this.starting) r.training?.cancel();
      // the loop finishes a run it is stepping right now; the others are finished here
      if (r !== this.current && r.live && !this.down) await this.finish(r);
    }
    // a stage waiting for the runs just stopped starts now, even with every other run paused (the
    // loop may have ended); after a loss or while starting, resume() and start() start the loop
    if (!this.starting && !this.down && !this.disposed && this.runs.some((r) => this.ready(r))) void this.loop();
  }

  /** Ends the loop and frees the GPU (a new comparison replaces this one). */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const r of this.runs) r.training?.cancel(); // a pass in progress ends at its next batch
    while (this.looping) await new Promise((r) => setTimeout(r, 20));
    for (const r of this.runs) r.destroy();
  }
}

/** A later stage's input weights are gone: neither on the GPU nor saved (startStages: the stage fails, saying so). */
class MissingWeights extends Error {
  override name = 'MissingWeights';
}

/** Samples over time from a prompt-only file: the first held-out prompts (training ones when none are held out); no answers. */
function promptOnly(p: { train: readonly PromptIds[]; eval: readonly PromptIds[] }, tok: LoadedModel['tokenizer'], n = TIMED_SAMPLE_PROMPTS): TimedPrompt[] {
  const text = (ids: readonly number[]) => tok.decode(ids.filter((id) => id !== tok.eosTokenId));
  return (p.eval.length ? p.eval : p.train).slice(0, n).map((x) => ({ prompt: text(x.promptIds), promptIds: [...x.promptIds], pair: { chosen: '', rejected: '' } }));
}
