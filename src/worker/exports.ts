// What the page exports from the engine worker: a run's model folder, a runnable TRL experiment
// with the same hyperparameters and split (src/export/trl-script.ts), and generated samples
// before and after training (exported to ONNX, run by onnxruntime-web, greedy decoding).
import { saveModelCheckpoint, type LoadedModel } from '../model/family-checkpoint';
import { modelType, sequenceConfig, type ModelConfig } from '../model/family';
import { processSource } from '../data/pipeline';
import { processPromptSource } from '../data/prompts';
import { splitTrainEval } from '../data/split';
import type { Example } from '../data/types';
import { trlExportFiles, type TrlPrompt } from '../export/trl-script';
import { resolveLengths } from '../data/tokenize';
import { judgeFor, judgeSamples, winRate, type PairRef, type WinRate } from '../judge';
import type { Session } from './session';
import type { Run } from './run';
import { loadSessionData } from './pairs';
import { createObjective, methodDescriptor } from '../train/objectives';
import { REWARD_MODEL_REWARD } from '../train/objectives/online';
import { timedPrompts } from '../onnx/timed-samples';
import { checkpointBaseDtype, mergeLora, packedBaseNames, type BaseDtype, type LoraConfig } from '../model/lora';
import { isCommitHash } from '../hub/id';
import { roundWeights } from '../model/packed-base';
import { peftAdapterFiles } from '../export/peft';
import { ADAPTER_FILES, type ModelInfo } from './protocol';

/** The model folder in its family's layout (config.json's model_type, Hugging Face names). */
export function modelFiles(base: LoadedModel, params: ReadonlyMap<string, Float32Array>): Map<string, Uint8Array> {
  return saveModelCheckpoint(base.config, params, base.tokenizer.kind === 'byte' ? 'byte' : base.tokenizerFiles);
}

/**
 * A LoRA run's model from its adapters (a resume snapshot's) over the starting weights, PEFT's
 * merge_and_unload: the base as the run stored it (rounded to a 16-bit base dtype), so the merged
 * folder is the model the run trained.
 */
export function mergedWeights(base: LoadedModel, lora: LoraConfig, baseDtype: BaseDtype | undefined, adapters: ReadonlyMap<string, Float32Array>): Map<string, Float32Array> {
  const dtype = baseDtype ?? checkpointBaseDtype(base.config);
  const packed = packedBaseNames(base.config);
  const params = dtype === 'f32' ? base.params : new Map([...base.params].map(([k, v]) => [k, packed.has(k) ? roundWeights(v, dtype) : v]));
  return mergeLora(base.config, lora, params, adapters);
}

/** What adapter_config.json's base_model_name_or_path names: a Hub model's repo, a folder's name, none for a built-in or random model. */
export function adapterBaseName(info: ModelInfo): string | null {
  return info.kind === 'hub' ? info.name.split('@')[0] : info.kind === 'files' ? info.name : null;
}

/** A LoRA run's PEFT adapter folder: adapter_config.json and adapter_model.safetensors (src/export/peft.ts). */
export function adapterFiles(base: LoadedModel, info: ModelInfo, lora: LoraConfig, adapters: ReadonlyMap<string, Float32Array>): Map<string, Uint8Array> {
  // a snapshot whose server named no commit is kept under the revision's name: no revision then
  return peftAdapterFiles(base.config, lora, adapters, adapterBaseName(info), info.kind === 'hub' && info.commit && isCommitHash(info.commit) ? info.commit : null);
}

/** train.py, README.txt, requirements.txt, data.jsonl, eval.jsonl and model/ (the starting weights). */
export async function trlFiles(session: Session, runId: string): Promise<Map<string, Uint8Array | string>> {
  const run = session.runs.find((r) => r.spec.id === runId);
  if (!run) throw new Error(`no run "${runId}" in this comparison`);
  const { settings, data } = session.spec;
  const base = session.base;
  const lengths = resolveLengths(sequenceConfig(base.config).nPositions, settings.maxLength, settings.maxPromptLength);
  const pairs: Example[] = [];
  const unpaired: Example[] = [];
  // a prompt-only file (read as the session read it: auto-detected, the same prompt cut): its prompts, as the CLI's export-trl
  const prompts: TrlPrompt[] = [];
  const promptFile =
    data.format === 'auto' && (await processPromptSource(data.file, { name: data.name, tokenizer: base.tokenizer, maxPromptLength: lengths.maxPromptLength }, (p, text) => prompts.push({ kind: 'prompt', prompt: text, line: p.line }))).firstRow === 'prompt';
  if (!promptFile) await processSource(data.file, { name: data.name, size: data.file.size, format: data.format, tokenizer: base.tokenizer, tokenize: true, ...lengths }, { onExample: (ex) => void (ex.kind === 'pair' ? pairs : unpaired).push(ex) });
  // KTO: the file's unpaired examples, or its pairs (TRL's KTOTrainer unpairs them as the run did);
  // online methods (GRPO, RLOO): the prompts of the pairs, or of the unpaired examples (as the session's run)
  const kind = methodDescriptor(run.cfg.objective.method).data;
  const examples: Array<Example | TrlPrompt> = promptFile ? prompts : (kind === 'unpaired' && unpaired.length) || (kind === 'prompts' && !pairs.length) ? unpaired : pairs;
  const split = splitTrainEval(examples, run.cfg.evalFraction, run.cfg.seed);
  // a later RLHF stage (PPO; GRPO/RLOO rewarded by `reward-model`): its start is the SFT run's final
  // weights (PPO with one), its reward model the comparison's Reward model run, as Session.startStage
  const stage = await stageInputs(session, run);
  // a run from the loaded model with the comparison's imported adapter (Session.trainingRun): LoRA
  // continued it (model/ is the base, adapter/ the imported folder as picked), full fine-tuning
  // started from it merged in (model/ is that); a stage from the SFT run's weights has it in them
  const imported = stage?.start ? null : session.spec.adapter;
  const continued = imported && run.cfg.lora ? imported : null;
  const start = stage?.start ?? (imported && !continued ? await session.startWeights() : base.params);
  const reward = stage?.reward ?? null;
  const out = new Map<string, Uint8Array | string>(trlExportFiles({ config: run.cfg, ...lengths, model: 'model', refModel: null, modelType: modelType(base.config), ...(continued ? { adapter: 'adapter' } : {}), ...(reward ? { rewardModel: 'reward_model', rewardModelName: reward.name } : {}) }, split.train, split.eval));
  for (const [name, bytes] of modelFiles(base, start)) out.set(`model/${name}`, bytes);
  for (const name of continued ? ADAPTER_FILES : []) {
    const blob = continued!.files[name];
    if (!blob) throw new Error(`the imported adapter ${continued!.name} has no ${name}: import it again (Model tab)`);
    out.set(`adapter/${name}`, new Uint8Array(await blob.arrayBuffer()));
  }
  if (reward) for (const [name, bytes] of saveModelCheckpoint(reward.config, reward.params, base.tokenizer.kind === 'byte' ? 'byte' : base.tokenizerFiles)) out.set(`reward_model/${name}`, bytes);
  return out;
}

/**
 * A later RLHF stage's starting weights (null: the loaded model) and reward model: the final
 * weights of the runs it started from and scored with (Session.finalWeights: on the GPU, else
 * their last saved snapshot, as Session.startStage after a device loss). Live, the runs
 * Session.stageOf linked; after a reload (a comparison built from the page's saved spec, never
 * started), the links the stage's own snapshot saved (StageLinks). Null for an ordinary run.
 */
async function stageInputs(session: Session, run: Run): Promise<{ start: Map<string, Float32Array> | null; reward: { name: string; config: ModelConfig; params: Map<string, Float32Array> } } | null> {
  let policy: Run | null;
  let reward: Run;
  if (run.stage) ({ policy, reward } = run.stage);
  else {
    if (run.live) return null; // a running comparison's ordinary run
    const links = (await session.savedSnapshot(run.spec.id))?.stage;
    if (!links) {
      const o = createObjective(run.cfg.objective);
      const staged = o.kind === 'ppo' || (o.kind === 'online' && o.rewards.names.includes(REWARD_MODEL_REWARD));
      if (staged) throw new Error(`${run.spec.label}'s TRL export needs the runs it started from and scored with, and no checkpoint of it was saved (it had not started, or its model is over 50M parameters): start the comparison again`);
      return null;
    }
    const linked = (id: string) => {
      const r = session.runs.find((x) => x.spec.id === id);
      if (!r) throw new Error(`${run.spec.label}'s TRL export needs the final weights of run "${id}", which is not in this comparison`);
      return r;
    };
    policy = links.policy ? linked(links.policy) : null;
    reward = linked(links.reward);
  }
  const final = async (r: Run) => {
    try {
      return await session.finalWeights(r);
    } catch (e) {
      throw new Error(`${run.spec.label}'s TRL export: ${(e as Error).message}`, { cause: e });
    }
  };
  const start = policy ? (await final(policy)).params : null;
  const rm = await final(reward);
  return { start, reward: { name: reward.spec.id, config: rm.config, params: rm.params } };
}

export interface SampleSet {
  backend: string;
  /** By run id: the step of the weights that generated (a run's last snapshot after a reload). */
  steps?: Record<string, number>;
  prompts: string[];
  /** By model: 'start' for the starting weights, else the run id. */
  outputs: Record<string, string[]>;
  /** The data set's judge (src/judge): per model, a score in [0, 1] and a reason per prompt, and the win rate. */
  judge: { name: string; description: string };
  scores: Record<string, Array<{ score: number; reason: string }>>;
  winRates: Record<string, WinRate>;
}

export interface SamplePrompt {
  prompt: string;
  /** The pair's own answers (the reference judge compares with them). */
  pair: PairRef;
}

export const SAMPLE_PROMPTS = 6;

/**
 * Session.samplePrompts for a comparison that is not running (after a reload): the same data
 * file, truncation and seeded split as its runs, so the prompts are the ones it would use.
 */
export async function savedSamplePrompts(session: Session, n: number): Promise<SamplePrompt[]> {
  const { settings, data } = session.spec;
  const base = session.base;
  const { pairs, unpaired, prompts } = await loadSessionData(data.file, data.name, data.format, base.tokenizer, sequenceConfig(base.config).nPositions, settings.maxLength, settings.maxPromptLength);
  const tok = base.tokenizer;
  if (prompts) {
    // prompt-only data: split as TrainingRun splits an online run's prompts; no answers
    const p = splitTrainEval(prompts, settings.evalFraction, settings.seed);
    const text = (ids: readonly number[]) => tok.decode(ids.filter((id) => id !== tok.eosTokenId));
    return (p.eval.length ? p.eval : p.train).slice(0, n).map((x) => ({ prompt: text(x.promptIds), pair: { chosen: '', rejected: '' } }));
  }
  if (!pairs.length) {
    const u = splitTrainEval(unpaired, settings.evalFraction, settings.seed);
    return timedPrompts(u.train, u.eval, tok, n).map(({ prompt, pair }) => ({ prompt, pair }));
  }
  const split = splitTrainEval(pairs, settings.evalFraction, settings.seed);
  const text = (ids: readonly number[]) => tok.decode(ids.filter((id) => id !== tok.eosTokenId));
  return (split.eval.length ? split.eval : split.train).slice(0, n).map((p) => ({ prompt: text(p.promptIds), pair: { chosen: text(p.chosenIds), rejected: text(p.rejectedIds) } }));
}
export const SAMPLE_TOKENS = 40;

/** Greedy continuations of the prompts under each set of weights (either family), scored by the set's judge. */
export async function generateSamples(base: LoadedModel, models: Array<{ id: string; params: ReadonlyMap<string, Float32Array> }>, prompts: SamplePrompt[], dataName: string): Promise<SampleSet> {
  const [{ exportModelOnnx, generationConfig }, { createWebOnnxLm }, { generate }] = await Promise.all([import('../onnx/export'), import('../onnx/session-web'), import('../onnx/generate')]);
  const { config, tokenizer } = base;
  const gen = generationConfig(config);
  const judge = judgeFor(dataName);
  const set: SampleSet = { backend: '', prompts: prompts.map((p) => p.prompt), outputs: {}, judge: { name: judge.name, description: judge.description }, scores: {}, winRates: {} };
  for (const m of models) {
    const lm = await createWebOnnxLm(exportModelOnnx(config, m.params), gen, ['wasm']);
    set.backend = lm.backend;
    try {
      const texts: string[] = [];
      for (const p of prompts) texts.push((await generate(lm, tokenizer, p.prompt, { maxNewTokens: SAMPLE_TOKENS, temperature: 0, topK: 0, seed: 0, stopIds: gen.stopIds })).text);
      set.outputs[m.id] = texts;
      set.scores[m.id] = judgeSamples(judge, prompts.map((p, i) => ({ prompt: p.prompt, completion: texts[i], pair: p.pair }))).map(({ score, reason }) => ({ score, reason }));
      set.winRates[m.id] = winRate(set.scores[m.id]);
    } finally {
      await lm.release();
    }
  }
  return set;
}
