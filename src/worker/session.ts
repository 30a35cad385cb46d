// A comparison: every run starts from the same weights, data order and seed, and the runs
// advance interleaved (one update each, round-robin) so their curves grow together. Methods
// with a reference share one reference computation. A lost device or an out-of-memory error
// pauses every run; resuming rebuilds them from their last checkpoint (IndexedDB).
import type { GpuContext } from '../engine/gpu';
import { GptModel } from '../model/gpt';
import type { LoadedCheckpoint } from '../model/checkpoint';
import { paramCount } from '../model/config';
import { splitTrainEval } from '../data/split';
import { pairLogps } from '../train/logps';
import { RunnerPool } from '../train/runners';
import { createObjective } from '../train/objectives';
import { TrainingError, type ReferenceLogps } from '../train/trainer';
import type { PairIds } from '../train/pairs';
import { loadCheckpoint, saveCheckpoint, checkpointKey, type StoredCheckpoint } from './db';
import { loadPairs } from './pairs';
import { averages, pairAverages, pairMeta, PAIR_TABLE_SIZE } from './pair-table';
import { Run } from './run';
import type { EngineEvent, Metrics, PauseCause, SessionSpec } from './protocol';
import type { SamplePrompt } from './exports';

/** Models above this size are not checkpointed (a GPT-2-small checkpoint would be 1.5 GB). */
export const CHECKPOINT_MAX_PARAMS = 50_000_000;

export interface SessionDeps {
  /** The current device, acquiring a new one after a loss. */
  gpu(): Promise<GpuContext>;
  emit(ev: EngineEvent): void;
}

const tick = () => new Promise<void>((r) => setTimeout(r, 0));

export class Session {
  readonly runs: Run[];
  private train: PairIds[] = [];
  private evalSet: PairIds[] = [];
  private reference: { train: ReferenceLogps; eval: ReferenceLogps } | null = null;
  private looping = false;
  private current: Run | null = null;
  private down: PauseCause | null = null;
  private disposed = false;

  constructor(
    readonly spec: SessionSpec,
    readonly base: LoadedCheckpoint,
    private deps: SessionDeps,
  ) {
    const { maxLength: _ml, maxPromptLength: _mpl, checkpointEvery: _ce, ...train } = spec.settings;
    this.runs = spec.runs.map((r) => {
      createObjective(r.objective); // bad options fail here, naming the option
      return new Run(r, { ...train, objective: r.objective });
    });
  }

  private emit(ev: EngineEvent): void {
    if (!this.disposed) this.deps.emit(ev);
  }

  async start(): Promise<void> {
    const { settings, data } = this.spec;
    this.emit({ type: 'session', phase: 'loading-data', message: `Tokenizing ${data.name}…` });
    const { pairs } = await loadPairs(data.file, data.name, data.format, this.base.tokenizer, this.base.config.nPositions, settings.maxLength, settings.maxPromptLength);
    const split = splitTrainEval(pairs, settings.evalFraction, settings.seed);
    if (!split.train.length) throw new Error('no training pairs left after the eval split: lower the eval fraction or add pairs');
    this.train = split.train;
    this.evalSet = split.eval;
    const counts = { trainPairs: split.train.length, evalPairs: split.eval.length };
    const gpu = await this.deps.gpu();
    const ckpts = await Promise.all(this.runs.map((r) => (this.spec.resume ? loadCheckpoint(this.spec.sessionId, r.spec.id) : Promise.resolve(undefined))));
    const needRef = this.runs.some((r, i) => createObjective(r.cfg.objective).needsReference && !ckpts[i]);
    this.emit({ type: 'session', phase: 'reference', message: needRef ? 'Computing reference log-probs from the starting weights…' : 'Scoring the pairs with the starting weights…', ...counts });
    await this.startingPoint(gpu, needRef);
    for (const [i, r] of this.runs.entries()) {
      r.status = 'preparing';
      this.emit(r.event());
      await this.build(r, gpu, ckpts[i]);
      r.status = r.step >= r.cfg.steps ? 'done' : 'running';
      if (ckpts[i]) this.restoreRows(r, ckpts[i]);
      this.emit(r.event());
    }
    this.emit({ type: 'session', phase: 'training', message: `${this.runs.length} runs on ${counts.trainPairs} training pairs${counts.evalPairs ? ` (${counts.evalPairs} held out)` : ''}`, ...counts });
    void this.loop();
  }

  /** A run's GPU state; running out of memory here is an error the user can act on. */
  private async build(r: Run, gpu: GpuContext, ckpt: StoredCheckpoint | undefined): Promise<void> {
    gpu.device.pushErrorScope('out-of-memory');
    r.build(gpu, this.base.config, this.base.params, this.train, this.evalSet, ckpt, this.reference);
    const oom = await gpu.device.popErrorScope().catch(() => null);
    if (oom) {
      r.destroy();
      throw new Error(`not enough GPU memory for ${r.spec.label} (${oom.message}): lower the batch size or the max length, run fewer methods at once, or pick a smaller model`);
    }
  }

  /** Reference sums (shared by every run that needs them) and the pair table's starting point. */
  private async startingPoint(gpu: GpuContext, needRef: boolean): Promise<void> {
    const model = new GptModel(gpu, this.base.config);
    // the runs' own activation storage, so reference sums match what their steps compute
    const runners = new RunnerPool(model, undefined, undefined, this.spec.settings.activationsDtype ?? 'f32');
    const bs = this.spec.settings.batchSize;
    const table = this.train.slice(0, PAIR_TABLE_SIZE);
    try {
      model.upload(this.base.params);
      if (needRef) {
        const [t, e] = [await pairLogps(model, runners, this.train, bs), await pairLogps(model, runners, this.evalSet, bs)];
        this.reference = { train: { chosen: t.chosen, rejected: t.rejected }, eval: { chosen: e.chosen, rejected: e.rejected } };
        this.emit({ type: 'pairs-start', pairs: pairMeta(table, this.base.tokenizer), ...averages(t, table.length) });
      } else {
        this.emit({ type: 'pairs-start', pairs: pairMeta(table, this.base.tokenizer), ...averages(await pairLogps(model, runners, table, bs)) });
      }
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
        const active = this.runs.filter((r) => r.status === 'running');
        if (!active.length || this.down || this.disposed) break;
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

  private async step(r: Run): Promise<void> {
    const trainer = r.trainer!;
    const device = r.model!.gpu.device;
    const rows: Metrics[] = [];
    let failure: unknown = null;
    device.pushErrorScope('out-of-memory');
    try {
      const m = await trainer.trainStep();
      rows.push(m);
      const { evalEvery, steps } = r.cfg;
      if (this.evalSet.length && (m.step === steps || (evalEvery > 0 && m.step % evalEvery === 0))) rows.push({ ...(await trainer.evaluate()), epoch: m.epoch, step: m.step });
    } catch (e) {
      failure = e;
    }
    const oom = await device.popErrorScope().catch(() => null);
    if (failure && !(failure instanceof TrainingError) && !this.down) await Promise.race([device.lost, new Promise((res) => setTimeout(res, 250))]);
    if (this.down || this.disposed) return; // the device went away mid-step: the run rewinds on resume
    if (oom) return this.pauseAll('out-of-memory', `${r.spec.label} ran out of GPU memory at step ${r.step + 1} (${oom.message}). Lower the batch size or the max length, or run fewer methods at once, then press Resume: runs continue from their last checkpoint.`);
    if (failure) return this.fail(r, failure);
    r.step = trainer.step;
    r.tick(rows[0].tokens_per_second);
    r.rows.push(...rows);
    this.emit({ type: 'metrics', runId: r.spec.id, rows });
    try {
      if (r.step >= r.cfg.steps) {
        r.status = 'done';
        await this.finish(r);
      } else if (r.step % this.spec.settings.checkpointEvery === 0) {
        await this.checkpoint(r);
      }
    } catch (e) {
      if (!this.down && !this.disposed) return this.fail(r, e);
    }
    this.emit(r.event());
  }

  private fail(r: Run, e: unknown): void {
    r.status = 'failed';
    if (e instanceof TrainingError) {
      const lines = e.pairs.map((i) => this.train.find((p) => p.index === i)?.line).filter((l) => l !== undefined);
      r.message = `${r.spec.label} stopped at step ${e.step}: ${e.message}.${lines.length ? ` File lines: ${lines.join(', ')}.` : ''}`;
    } else {
      r.message = `${r.spec.label} failed at step ${r.step + 1}: ${(e as Error)?.message ?? String(e)}`;
    }
    this.emit(r.event());
  }

  /** Last checkpoint and the per-pair table of a run that ended (done or stopped). */
  private async finish(r: Run): Promise<void> {
    if (!r.live) return;
    if (r.checkpointStep !== r.step) await this.checkpoint(r);
    const table = this.train.slice(0, PAIR_TABLE_SIZE);
    this.emit({ type: 'pairs-run', runId: r.spec.id, step: r.step, ...(await pairAverages(r.model!, table, this.spec.settings.batchSize, this.spec.settings.activationsDtype ?? 'f32')) });
    this.emit(r.event());
  }

  private async checkpoint(r: Run): Promise<void> {
    const model = r.model!;
    const trainer = r.trainer!;
    if (paramCount(model.config) > CHECKPOINT_MAX_PARAMS) return;
    const [params, moments] = [await model.download(), await trainer.optimizerState()];
    const { sessionId } = this.spec;
    try {
      const rows = r.rows.filter((m) => m.step <= trainer.step);
      await saveCheckpoint({ key: checkpointKey(sessionId, r.spec.id), sessionId, runId: r.spec.id, step: trainer.step, config: model.config, params, moments, state: { step: trainer.step, reference: trainer.reference }, rows, savedAt: Date.now() });
    } catch (e) {
      r.message = `Could not save a checkpoint in this browser's storage (${(e as Error).message}); if the GPU is lost, this run restarts from its last saved step (${r.checkpointStep}). Free some disk space or leave private browsing.`;
      return;
    }
    r.checkpointStep = trainer.step;
  }

  /** The first held-out prompts (training prompts when nothing is held out), as text. */
  samplePrompts(n: number): SamplePrompt[] {
    const tok = this.base.tokenizer;
    const text = (ids: readonly number[]) => tok.decode(ids.filter((id) => id !== tok.eosTokenId));
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
   * The page's rows for a run rebuilt from `ckpt`: exactly the checkpoint's rows (steps after it
   * are redone; steps the page had not saved yet before a reload come back from the checkpoint).
   */
  private restoreRows(r: Run, ckpt: StoredCheckpoint | undefined): void {
    if (ckpt?.rows) {
      this.emit({ type: 'rewind', runId: r.spec.id, step: 0 });
      if (ckpt.rows.length) this.emit({ type: 'metrics', runId: r.spec.id, rows: ckpt.rows.filter((m) => m.step <= r.step) });
    } else {
      this.emit({ type: 'rewind', runId: r.spec.id, step: r.step });
    }
  }

  /** After a loss or an out-of-memory error: every unfinished run from its last checkpoint. */
  private async recover(): Promise<Run[]> {
    const gpu = await this.deps.gpu();
    const rebuilt: Run[] = [];
    for (const r of this.runs) {
      if (r.final || r.live) continue;
      const ckpt = await loadCheckpoint(this.spec.sessionId, r.spec.id);
      await this.build(r, gpu, ckpt);
      r.message = ckpt ? `Resumed from the checkpoint at step ${ckpt.step}.` : 'Restarted from step 0 (no checkpoint yet).';
      this.restoreRows(r, ckpt);
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
      // the loop finishes a run it is stepping right now; the others are finished here
      if (r !== this.current && r.live && !this.down) await this.finish(r);
    }
  }

  /** Ends the loop and frees the GPU (a new comparison replaces this one). */
  async dispose(): Promise<void> {
    this.disposed = true;
    while (this.looping) await new Promise((r) => setTimeout(r, 20));
    for (const r of this.runs) r.destroy();
  }
}
