// The typed interface between the page and the engine worker (comlink). The worker owns the
// GPUDevice, the model weights and every run's Trainer; the page only sees these plain,
// structured-clonable values. Events stream to the page in throttled batches.
import type { AdapterSummary } from '../engine/gpu';
import type { SelfTestResult } from '../engine/selftest';
import type { ModelConfig } from '../model/family';
import type { FreshPreset } from '../model/presets';
import type { TrainConfig } from '../train/config';
import type { Metrics } from '../train/trainer';
import type { ObjectiveSpec } from '../train/objectives';
import type { Shape } from '../data/types';
import type { SampleSet } from './exports';
import type { TimedProgress } from '../train/progress';
import type { SamplesAtStep } from '../onnx/timed-samples';
import type { NanReport } from '../train/objectives/nan-explain';
import type { TrackPoint } from '../train/pair-track';
import type { Ches } from '../train/ches';
import type { DownloadProgress } from '../hub/snapshot';
import type { CachedModel } from '../hub/cache-web';

export type GpuStatus =
  | { state: 'ready'; adapter: AdapterSummary }
  | { state: 'unavailable'; reason: string; hints: string[] }
  | { state: 'lost'; reason: string };

/** Where the starting weights come from. */
export type ModelSource =
  /** public/models/builtin/ on the page's own origin; `files` lists what is there. */
  | { kind: 'builtin'; baseUrl: string; files: string[] }
  /** A seeded random initialisation of a preset (Hugging Face's init for its family). */
  | { kind: 'fresh'; preset: FreshPreset; seed: number }
  /** A Hugging Face folder (GPT-2 or Llama family) picked by the user, or a model this app exported. */
  | { kind: 'files'; name: string; files: File[] }
  /**
   * A model of the Hugging Face Hub (or of the server at `endpoint`), `ORG/NAME[@REVISION]`: from
   * the browser's cache when a complete snapshot of the revision is there (a branch or tag: once
   * the server's one listing call says it is still the revision's commit; a commit hash: no
   * request), else downloaded into it (an interrupted download continues). `token`: sent as
   * Authorization to `endpoint` only, never stored. `cacheOnly`: no request at all, the cache
   * or nothing (a reload restoring the model: SPEC §3.2, nothing leaves the page unasked).
   */
  | { kind: 'hub'; id: string; endpoint: string; token?: string; cacheOnly?: boolean };

export interface ModelInfo {
  name: string;
  kind: ModelSource['kind'];
  config: ModelConfig;
  /** config.json's model_type: gpt2, llama, qwen2 or mistral. */
  family: string;
  /** The longest sequence the model reads (n_positions; max_position_embeddings). */
  nPositions: number;
  /** Layers · query heads (key/value heads when fewer) · hidden width, as the model panel shows them. */
  shape: { layers: number; heads: number; kvHeads: number; width: number };
  params: number;
  tokenizer: { kind: 'byte' | 'hf'; vocabSize: number; description: string };
  /** The tokenizer's files when it is not the byte-level one (the data worker needs them). */
  tokenizerFiles?: Record<string, string>;
  /**
   * A Hub model: the commit of the snapshot loaded (its weights; a branch such as main moves on to
   * other commits). A saved comparison records it, and Resume refuses another one. Absent otherwise.
   */
  commit?: string;
  /**
   * A Hub model from the browser's cache that may not be its revision's newest, and why: the Hub
   * could not be checked (offline, an error, no answer in time), or the newer revision was not
   * downloaded. Absent otherwise.
   */
  cacheNotice?: string;
  /**
   * A Hub model from the browser's cache that was not checked, for no fault (a muted line): it was
   * downloaded from another endpoint than the page's, or the Hub wants an access token to answer
   * (a gated model after a reload, which forgets the token). Absent otherwise.
   */
  cacheNote?: string;
}

/** Settings shared by every run of a comparison (same weights, data order and seed). */
export interface TrainSettings extends Omit<TrainConfig, 'objective'> {
  /** Prompt + completion tokens; null: the CLI's default, min(1024, n_positions) (resolveLengths, src/data/tokenize.ts). */
  maxLength: number | null;
  /** Prompt tokens, cut from the left; null: min(512, ⌊maxLength / 2⌋) (resolveLengths). */
  maxPromptLength: number | null;
  /** Save a resume snapshot (IndexedDB) every N updates and at the end. */
  checkpointEvery: number;
  /** Greedy samples of a few held-out prompts every N updates, at step 0 and the last (0: none); absent in older saves. */
  sampleEvery?: number;
}

export interface RunSpec {
  id: string;
  label: string;
  objective: ObjectiveSpec;
  /**
   * A resumed comparison (resume: true, after a page reload): how the run had ended (the page's
   * status). It stays so, its weights its last snapshot's, instead of training on. Absent: it trains on.
   */
  ended?: 'done' | 'stopped' | 'failed';
}

/**
 * An imported PEFT adapter folder (the Model tab's "Adapter folder (PEFT)"): its files by name,
 * adapter_config.json and adapter_model.safetensors, read in the worker by the CLI's
 * `--lora-adapter` reader (src/export/peft.ts loadPeftAdapter, src/worker/adapter.ts).
 */
export interface AdapterSource {
  /** The folder's name (or the first file's, for loose files). */
  name: string;
  files: Record<string, Blob>;
}

/** The files of a PEFT adapter folder the page reads (a folder's README.md and the like are left out). */
export const ADAPTER_FILES = ['adapter_config.json', 'adapter_model.safetensors'] as const;

/** What an imported adapter holds, as the Model tab shows it (checked against the loaded model). */
export interface AdapterInfo {
  name: string;
  r: number;
  alpha: number;
  /** adapter_config.json's target_modules (resolved from the tensors when PEFT wrote a regex). */
  targets: string[];
  /** lora_A and lora_B tensors. */
  tensors: number;
  /** Their values in all. */
  params: number;
  /** base_model_name_or_path, when the config names one. */
  baseModel: string | null;
  /** adapter_model.safetensors' size in bytes and a cheap hash of it (src/worker/adapter.ts adapterFingerprint). */
  bytes: number;
  hash: string;
}

export interface SessionSpec {
  sessionId: string;
  runs: RunSpec[];
  settings: TrainSettings;
  data: { file: Blob; name: string; format: Shape | 'auto' };
  /**
   * Every run starts from the loaded model with this adapter (the CLI's `train --lora-adapter`):
   * LoRA runs (settings.lora, which must have the adapter's r and target modules) continue
   * training it over the base, which stays their DPO/KTO reference with the adapters off; full
   * fine-tuning starts from the adapter merged in (and that is its reference).
   */
  adapter?: AdapterSource;
  /** Restore each run from its checkpoint in IndexedDB when there is one. */
  resume: boolean;
}

export type RunStatus = 'queued' | 'preparing' | 'running' | 'paused' | 'done' | 'stopped' | 'failed';

/** Why runs were paused by the engine rather than by the user. */
export type PauseCause = 'device-lost' | 'out-of-memory';

/**
 * The tracked pairs (the first of the table's pairs) under the starting weights, the text of each
 * completion token (pieces that join into the answer), and how often runs send a 'pairs-track'.
 */
export interface TrackStart {
  every: number;
  start: TrackPoint;
  pieces: { chosen: string[][]; rejected: string[][] };
}

export interface PairMeta {
  index: number;
  line: number | null;
  prompt: string;
  chosen: string;
  rejected: string;
}

/** One metrics row (the trainer's: TRL names; eval rows carry `eval_` names plus step and epoch). */
export type { Metrics };

/**
 * Completions an online run (GRPO, RLOO, PPO) sampled for one update and trained on, as its
 * DIR/samples.jsonl holds them: the first ROLLOUT_ROWS (prompt-major: each prompt's G completions
 * together), each with the reward its reward functions gave the text shown and the judges' reasons
 * (PPO: the reward model's score).
 */
export interface RolloutsAtStep {
  /** judge: rule-based judges, rewards in [0, 1]; model: a reward model's score, in its own units. */
  scale: 'judge' | 'model';
  /** The update the completions were generated for (1-based: from the weights after step − 1 updates). */
  step: number;
  /** The reward functions: the judge's name (rewards/<name>/mean) and what a score of 1 means. */
  rewards: Array<{ name: string; description: string }>;
  prompts: string[];
  /** Decoded as the reward functions read them (end-of-text removed). */
  completions: string[];
  /** Completion tokens, end-of-text included (completions/mean_length counts these). */
  tokens: number[];
  /** The combined reward Σ_f w_f·r_f of each completion. */
  reward: number[];
  /** Each judge's reason, "name: reason; …". */
  reasons: string[];
  /** GRPO/RLOO: each completion's advantage; absent for PPO (its advantages are per token). */
  advantages?: number[];
  /** Completions generated in the update (prompts × G); the rows are its first ones. */
  total: number;
}

export type EngineEvent =
  | { type: 'session'; phase: 'loading-data' | 'reference' | 'training' | 'idle' | 'error'; message: string; trainPairs?: number; evalPairs?: number }
  | { type: 'run'; runId: string; status: RunStatus; step: number; total: number; message?: string; tokensPerSecond?: number; etaSeconds?: number; checkpointStep?: number }
  /** Train rows (TRL names) and eval rows (eval_ names plus step and epoch), in step order. */
  | { type: 'metrics'; runId: string; rows: Metrics[] }
  /** The run went back to a checkpoint: rows after `step` are void; samples after `resumedAt` (default `step`), the snapshot's step. */
  | { type: 'rewind'; runId: string; step: number; resumedAt?: number }
  /** A run's greedy samples of the fixed held-out prompts after `at.step` updates, judged (Samples every N). */
  | { type: 'samples'; runId: string; at: SamplesAtStep }
  /** An online run's sampled completions of update `at.step` and their rewards (samples over steps). */
  | { type: 'rollouts'; runId: string; at: RolloutsAtStep }
  /** Why the NaN guard stopped a run: its examples' per-token log-probs and the term that overflowed. */
  | { type: 'nan-report'; runId: string; report: NanReport }
  /** Per-token average log-probs A of the first pairs under the starting weights. */
  | { type: 'pairs-start'; pairs: PairMeta[]; chosen: number[]; rejected: number[]; track?: TrackStart; ches?: Ches[] }
  /** The tracked pairs under a run's weights after `point.step` updates (every `track.every`, and the last). */
  | { type: 'pairs-track'; runId: string; point: TrackPoint }
  /** The same pairs under a run's current weights. */
  | { type: 'pairs-run'; runId: string; step: number; chosen: number[]; rejected: number[] }
  | { type: 'gpu'; status: GpuStatus }
  /** Runs paused by the engine (cause) or back to normal (null). */
  | { type: 'notice'; cause: PauseCause | null; message: string | null }
  /**
   * A pass over the whole data set (throttled): the per-pair table or the reference sums while
   * the comparison starts, or an eval pass of run `runId`; done = total ends it.
   */
  | { type: 'progress'; runId?: string; progress: TimedProgress }
  /**
   * A Hub model being fetched (throttled): 'downloading' with the bytes so far (`resumedFrom`:
   * where the last Range request continued an interrupted file), then 'loading' (reading the
   * weights); loadModel's promise tells how it ended.
   */
  | { type: 'download'; id: string; phase: 'downloading' | 'loading'; progress: DownloadProgress | null; resumedFrom: number | null };

export type { TimedProgress, DownloadProgress, CachedModel };

/** The browser's Hub cache: every model in it, and the storage the browser reports for the page. */
export interface HubCacheView {
  models: CachedModel[];
  /** navigator.storage.estimate(), when the browser gives one. */
  usage: number | null;
  quota: number | null;
  /** false: no OPFS here, downloads live in memory until the tab closes. */
  persistent: boolean;
}

/**
 * A failed Hub load crosses the worker boundary as an Error named `HubError:KIND` (comlink keeps
 * only name and message), KIND one of src/hub/errors.ts's kinds (auth, not-found, quota, …).
 */
export const HUB_ERROR_NAME = 'HubError:';

export function hubErrorKind(e: unknown): string | null {
  const name = (e as Error | null)?.name;
  return typeof name === 'string' && name.startsWith(HUB_ERROR_NAME) ? name.slice(HUB_ERROR_NAME.length) : null;
}

export type EventSink = (events: EngineEvent[]) => void;

export interface EngineApi {
  /** Acquire the adapter and device (idempotent; after a loss, a new device). */
  init(): Promise<GpuStatus>;
  /** Matmul forward/backward on the device vs the float64 reference. */
  selfTest(seed?: number): Promise<SelfTestResult>;
  /** Where events go (a Comlink.proxy on the page). */
  subscribe(sink: EventSink): Promise<void>;
  /**
   * Load (host-side) the weights every run will start from. A Hub source streams 'download'
   * events while it downloads; its errors are named `HubError:KIND` (hubErrorKind).
   */
  loadModel(source: ModelSource): Promise<ModelInfo>;
  /** Cancels the Hub download in progress (loadModel rejects, kind 'aborted'); what arrived is kept. */
  cancelDownload(): Promise<void>;
  /** The models in the browser's Hub cache, with sizes. */
  hubCache(): Promise<HubCacheView>;
  /** Deletes one model (`ORG/NAME`) from the browser's Hub cache, cancelling its download first. */
  deleteCachedModel(repo: string): Promise<HubCacheView>;
  /**
   * Reads a PEFT adapter folder against the loaded model (shapes, target modules, config: the
   * CLI's `--lora-adapter` checks) and says what it holds; throws naming what does not fit.
   */
  inspectAdapter(source: AdapterSource): Promise<AdapterInfo>;
  /**
   * Start a comparison; resolves once data, reference and runs are ready and training began
   * ('started'), or once cancel() stopped it and its GPU objects are freed ('cancelled').
   */
  start(spec: SessionSpec): Promise<'started' | 'cancelled'>;
  /**
   * Cancels a comparison that is still starting (tokenizing, per-pair table, reference
   * log-probs) and resolves once start() has given up; one that is training is stopped instead.
   */
  cancel(): Promise<void>;
  /** No id: every run. Resume also recovers from a lost device (from the last checkpoints). */
  pause(runId?: string): Promise<void>;
  resume(runId?: string): Promise<void>;
  stop(runId?: string): Promise<void>;
  /** Destroys the GPUDevice, exactly as a driver reset would (tests recovery). */
  simulateDeviceLoss(): Promise<void>;
  /** A run's current (or last checkpointed) weights as a model folder (file name -> bytes); null: the starting weights. */
  exportModel(runId: string | null, sessionId: string, spec?: SessionSpec): Promise<Record<string, Uint8Array>>;
  /** A LoRA run's PEFT adapter folder (adapter_config.json, adapter_model.safetensors); `spec` as for exportTrl. */
  exportAdapter(runId: string, sessionId: string, spec?: SessionSpec): Promise<Record<string, Uint8Array>>;
  /**
   * A runnable TRL experiment for one run: path -> content. `spec`: the comparison as the page
   * saved it, for a run the engine no longer holds (after a reload).
   */
  exportTrl(runId: string, spec?: SessionSpec): Promise<Record<string, Uint8Array | string>>;
  /**
   * Greedy samples from the starting weights and every run's weights, for the first held-out
   * prompts. `spec`: as for exportTrl; the runs' weights then come from their last resume snapshots.
   */
  samples(sessionId: string, spec?: SessionSpec): Promise<SampleSet>;
}
