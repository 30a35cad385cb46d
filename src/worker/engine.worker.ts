// The engine worker: owns the GPUDevice, the starting weights and the comparison's runs, so
// the page never blocks (docs/design.md). A lost device pauses the runs; resume() acquires a new one.
import * as Comlink from 'comlink';
import { createContext, explainNoWebGPU, requestAdapter, type GpuContext } from '../engine/gpu';
import { webShaders } from '../engine/shaders-web';
import { gpuSelfTest } from '../engine/selftest';
import type { LoadedModel } from '../model/family-checkpoint';
import { idbSnapshotStore, loadResumeSnapshot, pruneResumeSnapshots } from './db';
import { Emitter } from './emitter';
import { loadModelSource } from './model-source';
import { HubLoads } from './hub';
import { Session } from './session';
import { PassCancelled } from '../train/progress';
import { adapterFiles, generateSamples, modelFiles, SAMPLE_PROMPTS, savedSamplePrompts, trlFiles } from './exports';
import type { OpenLm } from '../onnx/timed-samples';
import { isRewardModel, rewardConfig } from '../model/reward';
import { SCORE_WEIGHT } from '../model/score-config';
import { snapshotWeights } from './saved-weights';
import { adapterFingerprint, adapterInfo, readAdapter } from './adapter';
import type { EngineApi, EventSink, GpuStatus, ModelInfo, SessionSpec } from './protocol';

let ctx: GpuContext | null = null;
let status: GpuStatus | null = null;
let sink: EventSink | null = null;
let model: { ckpt: LoadedModel; info: ModelInfo } | null = null;
let session: Session | null = null;
/** The start() call in progress (cancel() waits for it to give up). */
let starting: Promise<unknown> | null = null;
const emitter = new Emitter(() => sink);
/** Hub models: downloads into the browser's cache, its listing and deletion. */
const hub = new HubLoads((ev) => emitter.push(ev));
/** loadModel calls so far: only the latest one's model becomes the starting weights. */
let loads = 0;

async function init(): Promise<GpuStatus> {
  if (status && status.state !== 'lost') return status;
  const gpu = (self.navigator as Navigator).gpu as GPU | undefined;
  const env = { hasGpu: Boolean(gpu), secure: self.isSecureContext, userAgent: self.navigator.userAgent };
  const adapter = gpu && env.secure ? await requestAdapter(gpu).catch(() => null) : null;
  if (!adapter) {
    const e = explainNoWebGPU(env);
    return (status = { state: 'unavailable', reason: e.message, hints: e.hints });
  }
  const c = await createContext(adapter, webShaders, 'prefplay-worker');
  ctx = c;
  void c.lost.then((info) => {
    if (ctx !== c) return;
    ctx = null;
    status = { state: 'lost', reason: `GPU device lost (${info.reason}): ${info.message || 'no message'}` };
    session?.pauseAll('device-lost', 'The GPU device was lost (driver reset, sleep, or another tab took the GPU). Runs are paused: press Resume to continue from each run\'s last checkpoint.');
    emitter.push({ type: 'gpu', status });
    emitter.flush();
  });
  return (status = { state: 'ready', adapter: c.adapter });
}

async function gpu(): Promise<GpuContext> {
  if (!ctx) {
    const wasLost = status?.state === 'lost';
    const s = await init();
    if (s.state !== 'ready') throw new Error(`${s.reason} ${'hints' in s ? s.hints.join(' ') : ''}`.trim());
    if (wasLost) emitter.push({ type: 'gpu', status: s });
  }
  return ctx!;
}

/** Samples over time: onnxruntime-web's wasm backend in this worker (loaded on first use). */
const openLm: OpenLm = async (bytes, dims) => (await import('../onnx/session-web')).createWebOnnxLm(bytes, dims, ['wasm']);

function requireModel(): { ckpt: LoadedModel; info: ModelInfo } {
  if (!model) throw new Error('no model is loaded: pick the built-in model or load a model folder first');
  return model;
}

/**
 * A run's weights: from the GPU while it is alive, else from its last resume snapshot; a LoRA
 * run's with its adapters merged in (a LoRA snapshot holds the adapters only). `spec`: the
 * comparison as the page saved it, for a run the engine no longer holds.
 */
async function runWeights(runId: string, sessionId: string, spec?: SessionSpec): Promise<Map<string, Float32Array>> {
  const run = session?.spec.sessionId === sessionId ? session.runs.find((r) => r.spec.id === runId) : undefined;
  if (run?.live) return run.training!.weights();
  const c = await loadResumeSnapshot(sessionId, runId);
  if (!c) throw new Error(`no weights saved for run "${runId}" (checkpoints are kept for models up to 50M parameters)`);
  const m = requireModel().ckpt;
  const cfg = run?.cfg ?? (spec?.sessionId === sessionId ? new Session(spec, m, { gpu, emit: () => undefined, store: idbSnapshotStore }).runs.find((r) => r.spec.id === runId)?.cfg : undefined);
  return snapshotWeights(m, runId, c, cfg);
}

/** A LoRA run's adapters (live, or its last resume snapshot) and its LoRA settings. */
async function runAdapters(runId: string, sessionId: string, spec?: SessionSpec) {
  const s = sessionFor(sessionId, spec).session;
  const run = s.runs.find((r) => r.spec.id === runId);
  if (!run) throw new Error(`no run "${runId}" in this comparison`);
  if (!run.cfg.lora) throw new Error(`${run.spec.label} trained every weight (no LoRA adapters): export its model instead`);
  if (run.live) return { lora: run.cfg.lora, adapters: (await run.training!.adapterWeights())! };
  const c = await loadResumeSnapshot(sessionId, runId);
  if (!c) throw new Error(`no adapters saved for run "${runId}" (checkpoints are kept for models up to 50M parameters)`);
  return { lora: run.cfg.lora, adapters: c.params };
}

/** The starting weights of the comparison `sessionId` (the imported adapter merged in); the loaded model's when there is no such comparison. */
async function startingWeights(sessionId: string, spec?: SessionSpec): Promise<Map<string, Float32Array>> {
  const m = requireModel().ckpt;
  if (session?.spec.sessionId === sessionId) return session.startWeights();
  if (spec?.sessionId === sessionId) return new Session(spec, m, { gpu, emit: () => undefined, store: idbSnapshotStore }).startWeights();
  return m.params;
}

function requireSession(): Session {
  if (!session) throw new Error('no comparison is running in the engine: press Start');
  return session;
}

/**
 * The comparison `spec` names: the live one, or (after a reload) one built from the page's saved
 * spec that never starts: its runs know their settings, and their weights are the last resume
 * snapshots (runWeights).
 */
function sessionFor(sessionId: string, spec?: SessionSpec): { session: Session; live: boolean } {
  if (session && session.spec.sessionId === sessionId) return { session, live: true };
  if (!spec || spec.sessionId !== sessionId) return { session: requireSession(), live: true };
  return { session: new Session(spec, requireModel().ckpt, { gpu, emit: () => undefined, store: idbSnapshotStore }), live: false };
}

const api: EngineApi = {
  init,
  async selfTest(seed) {
    return gpuSelfTest(await gpu(), seed);
  },
  async subscribe(s) {
    sink = s;
  },
  async loadModel(source) {
    // refused before any allocation when its parameters exceed what this device can hold in one buffer
    const limits = ctx?.device.limits ?? null;
    const mine = ++loads;
    const loaded = source.kind === 'hub' ? await hub.load(source, limits) : await loadModelSource(source, limits);
    // (a Hub download can finish after the page asked for another model: that one stays)
    if (mine !== loads) throw new Error('another model was asked for while this one loaded');
    model = loaded;
    return model.info;
  },
  async cancelDownload() {
    await hub.cancel();
  },
  async hubCache() {
    return hub.cache();
  },
  async deleteCachedModel(repo) {
    return hub.remove(repo);
  },
  async inspectAdapter(source) {
    return adapterInfo(source.name, await readAdapter(source, requireModel().ckpt.config), await adapterFingerprint(source));
  },
  async start(spec) {
    requireModel();
    const old = session;
    session = null;
    await old?.dispose();
    if (!spec.resume) await pruneResumeSnapshots(spec.sessionId);
    const s = new Session(spec, model!.ckpt, { gpu, emit: (ev) => emitter.push(ev), store: idbSnapshotStore, openLm });
    session = s;
    const run = (async (): Promise<'started' | 'cancelled'> => {
      try {
        await s.start();
        return 'started';
      } catch (e) {
        const current = session === s; // (false: a newer comparison replaced this one)
        if (current) session = null;
        await s.dispose(); // frees every GPU object of the runs (the passes free their own)
        if (e instanceof PassCancelled) {
          if (current) emitter.push({ type: 'session', phase: 'idle', message: 'Cancelled before training began: change the settings or the data and press Start again.' });
          return 'cancelled';
        }
        emitter.push({ type: 'session', phase: 'error', message: (e as Error).message });
        throw e;
      } finally {
        emitter.flush();
      }
    })();
    starting = run;
    try {
      return await run;
    } finally {
      if (starting === run) starting = null;
    }
  },
  async cancel() {
    const s = session;
    if (!s) return;
    if (s.cancel()) await starting?.catch(() => undefined);
    else await s.stop();
  },
  async pause(runId) {
    requireSession().pause(runId);
  },
  async resume(runId) {
    await requireSession().resume(runId);
  },
  async stop(runId) {
    await requireSession().stop(runId);
  },
  async simulateDeviceLoss() {
    if (!ctx) throw new Error('there is no GPU device to lose');
    ctx.device.destroy();
  },
  async exportModel(runId, sessionId, spec) {
    const m = requireModel();
    // the starting model: with the comparison's imported adapter merged in, when it has one
    const params = runId === null ? await startingWeights(sessionId, spec) : await runWeights(runId, sessionId, spec);
    // a reward model's folder: *ForSequenceClassification (score.weight, num_labels 1)
    const files = Object.fromEntries(modelFiles(params.has(SCORE_WEIGHT) ? ({ ...m.ckpt, config: rewardConfig(m.ckpt.config) } as LoadedModel) : m.ckpt, params));
    return Comlink.transfer(files, Object.values(files).map((b) => b.buffer as ArrayBuffer));
  },
  async exportAdapter(runId, sessionId, spec) {
    const m = requireModel();
    const { lora, adapters } = await runAdapters(runId, sessionId, spec);
    const files = Object.fromEntries(adapterFiles(m.ckpt, m.info, lora, adapters));
    return Comlink.transfer(files, Object.values(files).map((b) => b.buffer as ArrayBuffer));
  },
  async exportTrl(runId, spec) {
    return Object.fromEntries(await trlFiles(sessionFor(spec?.sessionId ?? session?.spec.sessionId ?? '', spec).session, runId));
  },
  async samples(sessionId, spec) {
    const m = requireModel();
    const { session: s, live } = sessionFor(sessionId, spec);
    // "Before training": the starting weights, the imported adapter merged in
    const models: Array<{ id: string; params: Map<string, Float32Array> }> = [{ id: 'start', params: await s.startWeights() }];
    const steps: Record<string, number> = {};
    for (const r of s.runs) {
      if (r.training?.scoreHead) continue; // a reward model has no LM head: it generates nothing
      if (live) {
        if (r.step > 0) models.push({ id: r.spec.id, params: await runWeights(r.spec.id, sessionId) });
        steps[r.spec.id] = r.step;
        continue;
      }
      // a run the engine no longer holds: its last resume snapshot, when one was kept
      const snap = await loadResumeSnapshot(sessionId, r.spec.id);
      if (!snap || snap.step === 0 || isRewardModel(snap.config)) continue;
      models.push({ id: r.spec.id, params: await runWeights(r.spec.id, sessionId, spec) });
      steps[r.spec.id] = snap.step;
    }
    const prompts = live ? s.samplePrompts(SAMPLE_PROMPTS) : await savedSamplePrompts(s, SAMPLE_PROMPTS);
    return { ...(await generateSamples(m.ckpt, models, prompts, s.spec.data.name)), steps };
  },
};

Comlink.expose(api);
