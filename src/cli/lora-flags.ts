// `train`'s LoRA, base-dtype and activation-checkpointing flags (README.md, "LoRA"): parsed into
// TrainConfig fields (validated by trainConfigProblems like every other flag), completed once the
// model is loaded (an imported PEFT adapter folder, the checkpoint's dtype as the default base
// dtype), and the PEFT adapter folder written at the end. Also `--lora-adapter` of the commands
// that only run a model (logps, generate, judge, score): the model with an imported adapter merged.
import { readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { OptionSpec } from './command';
import { numberOption, optionalIntOption, UsageError } from './command';
import { writeCheckpointDir } from '../model/checkpoint-node';
import type { ModelConfig } from '../model/family';
import { BASE_DTYPES, checkpointBaseDtype, loraProblem, mergeLora, type BaseDtype, type LoraConfig } from '../model/lora';
import type { LoadedModel } from '../model/family-checkpoint';
import { isRewardModel, toRewardModel } from '../model/reward';
import { SCORE_WEIGHT } from '../model/score-config';
import { loadModelArg } from './model-load';
import { loadPeftAdapter, peftAdapterFiles, type LoadedAdapter } from '../export/peft';
import { isCommitHash, isHubId, parseHubId } from '../hub/id';
import type { TrainConfig } from '../train/config';

/** PEFT's LoraConfig default lora_alpha. */
export const DEFAULT_LORA_ALPHA = 8;

export const LORA_FLAG_OPTIONS: Record<string, OptionSpec> = {
  'lora-r': { type: 'string', valueName: 'R', description: 'Train LoRA adapters of rank R (PEFT semantics) instead of every weight: the base is frozen (no gradients, no optimizer state) and is the DPO/KTO reference with the adapters off (--method reward: the score head trains in full too, PEFT SEQ_CLS modules_to_save); writes DIR/adapter/ (a PEFT adapter folder) and DIR/model/ (merged)' },
  'lora-alpha': { type: 'string', valueName: 'A', description: `LoRA's lora_alpha: the adapters' update is scaled by A / R (default ${DEFAULT_LORA_ALPHA}, PEFT's)` },
  'lora-targets': { type: 'string', valueName: 'LIST', description: 'Comma-separated PEFT target_modules, matched as PEFT does (name or dotted suffix): GPT-2 c_attn, c_proj (attn.c_proj and mlp.c_proj), c_fc; Llama family q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj (default: every linear projection of the blocks)' },
  'lora-adapter': { type: 'string', valueName: 'DIR', description: "Start the adapters from a PEFT adapter folder (adapter_config.json, adapter_model.safetensors): continue training it; its r, lora_alpha and target_modules apply unless given" },
  'base-dtype': { type: 'string', valueName: 'bf16|f16|f32', description: "Storage of a LoRA run's frozen base weights (every linear projection's): bf16 or f16 halve them and the matmuls widen them to f32 in registers (default: the checkpoint's torch_dtype, f32 for GPT-2); full fine-tuning keeps f32" },
  'checkpoint-activations': { type: 'boolean', description: "Activation checkpointing: keep only each layer's input and recompute the layer in the backward (bitwise the same gradients, about one more forward per step); default: on for models of 100M parameters and more" },
  'no-checkpoint-activations': { type: 'boolean', description: "Keep every layer's activations, even for a large model" },
};

/** The TrainConfig fields the flags give (lora only with --lora-r or --lora-adapter; baseDtype only when given). */
export function loraFromFlags(opts: Record<string, unknown>): Pick<TrainConfig, 'lora' | 'baseDtype' | 'checkpointActivations'> {
  const r = optionalIntOption(opts, 'lora-r', 0);
  const importing = opts['lora-adapter'] !== undefined;
  const given = (k: string) => opts[k] !== undefined;
  if (r === undefined && !importing) {
    for (const k of ['lora-alpha', 'lora-targets']) if (given(k)) throw new UsageError(`--${k} needs --lora-r R (or --lora-adapter DIR)`);
  }
  const out: Pick<TrainConfig, 'lora' | 'baseDtype' | 'checkpointActivations'> = {};
  if (r !== undefined || importing) {
    const targets = given('lora-targets') ? String(opts['lora-targets']).split(',').map((t) => t.trim()).filter(Boolean) : undefined;
    // an imported adapter fills what is not given (resolveLora); 0 marks "from the adapter" until then
    out.lora = { r: r ?? 0, alpha: given('lora-alpha') ? numberOption(opts, 'lora-alpha', DEFAULT_LORA_ALPHA) : importing ? 0 : DEFAULT_LORA_ALPHA, ...(targets ? { targets } : {}) };
  }
  if (given('base-dtype')) {
    const v = String(opts['base-dtype']);
    if (!(BASE_DTYPES as readonly string[]).includes(v)) throw new UsageError(`--base-dtype must be one of ${BASE_DTYPES.join(', ')}, got "${v}"`);
    out.baseDtype = v as BaseDtype;
  }
  if (opts['checkpoint-activations'] && opts['no-checkpoint-activations']) throw new UsageError('--checkpoint-activations and --no-checkpoint-activations contradict each other');
  if (opts['checkpoint-activations']) out.checkpointActivations = true;
  if (opts['no-checkpoint-activations']) out.checkpointActivations = false;
  return out;
}

/** The flags' values before an imported adapter fills them, for the config check (0 stands for "from the adapter"). */
export function loraForCheck(cfg: TrainConfig): TrainConfig {
  if (!cfg.lora) return cfg;
  return { ...cfg, lora: { ...cfg.lora, r: cfg.lora.r || 1, alpha: cfg.lora.alpha || DEFAULT_LORA_ALPHA } };
}

/**
 * Once the model is loaded: the imported adapter (--lora-adapter), the LoRA config completed from
 * it, the default base dtype (the checkpoint's), and the targets checked against the model.
 */
export async function resolveLora(cfg: TrainConfig, opts: Record<string, unknown>, config: ModelConfig): Promise<LoadedAdapter | null> {
  let imported: LoadedAdapter | null = null;
  if (cfg.lora && opts['lora-adapter'] !== undefined) {
    imported = await readAdapterArg(String(opts['lora-adapter']), config);
    const l = cfg.lora;
    if (l.r && l.r !== imported.lora.r) throw new UsageError(`--lora-r ${l.r} differs from the adapter's r ${imported.lora.r}`);
    if (l.targets && JSON.stringify([...l.targets].sort()) !== JSON.stringify([...(imported.lora.targets ?? [])].sort())) throw new UsageError(`--lora-targets ${l.targets.join(',')} differs from the adapter's target_modules ${(imported.lora.targets ?? []).join(',')}`);
    cfg.lora = { ...imported.lora, alpha: l.alpha || imported.lora.alpha };
  }
  if (cfg.lora) {
    const problem = loraProblem(config, cfg.lora);
    if (problem) throw new UsageError(`--lora-targets: ${problem}`);
    if (cfg.baseDtype === undefined) cfg.baseDtype = checkpointBaseDtype(config);
  }
  return imported;
}

/** A PEFT adapter folder for `config`'s model (src/export/peft.ts loadPeftAdapter's checks); UsageError naming --lora-adapter otherwise. */
async function readAdapterArg(dir: string, config: ModelConfig): Promise<LoadedAdapter> {
  try {
    return await loadPeftAdapter(async (name) => readFile(join(dir, name)).then((b) => new Uint8Array(b), (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e))), config);
  } catch (e) {
    throw new UsageError(`--lora-adapter ${dir}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
}

/**
 * `--lora-adapter DIR` of the commands that run a model without training it (logps, generate,
 * judge, score): the model read with an imported PEFT adapter applied, to compare against it.
 */
export const LORA_ADAPTER_OPTION: OptionSpec = {
  type: 'string',
  valueName: 'DIR',
  description: "Apply a PEFT adapter folder (adapter_config.json, adapter_model.safetensors: train --lora-r's DIR/adapter/, or PEFT's) to --model: its LoRA merged into the weights, W + (lora_alpha/r)·B A, as PEFT's merge_and_unload",
};

/**
 * --model, with --lora-adapter's PEFT folder merged in when given (PEFT's merge_and_unload: what
 * `train --lora-r` writes as DIR/model/, so the two give the same numbers). `head` is what the
 * command reads: 'lm' takes a CAUSAL_LM adapter on a causal LM; 'score' a SEQ_CLS adapter (a
 * reward model's: its score head saved beside the adapters), on a reward model or on the causal LM
 * it was trained from, which then becomes the reward model as AutoModelForSequenceClassification
 * builds it (untied LM head dropped) with the adapter's head.
 */
export async function loadModelWithAdapter(opts: Record<string, unknown>, head: 'lm' | 'score'): Promise<LoadedModel & { dir: string }> {
  const model = String(opts.model);
  const ckpt = await loadModelArg(model);
  if (opts['lora-adapter'] === undefined) return ckpt;
  const dir = String(opts['lora-adapter']);
  if (dir === '') throw new UsageError('--lora-adapter needs a folder');
  const { lora, adapters } = await readAdapterArg(dir, ckpt.config);
  const seqCls = adapters.has(SCORE_WEIGHT);
  if (head === 'lm' && seqCls) throw new UsageError(`--lora-adapter ${dir}: a reward model's adapter (task_type SEQ_CLS, its score head saved); this command reads the LM head: give a CAUSAL_LM adapter (or use score)`);
  if (head === 'lm' && isRewardModel(ckpt.config)) throw new UsageError(`--lora-adapter ${dir}: --model ${model} is a reward model (a score head, no LM head)`);
  if (head === 'score' && !seqCls) throw new UsageError(`--lora-adapter ${dir}: a causal LM's adapter (task_type CAUSAL_LM, no score head); score needs a reward model's (task_type SEQ_CLS: train --method reward --lora-r writes one)`);
  // a SEQ_CLS adapter over a causal LM: the reward model's shape first; its head is the adapter's (the seed's draw is replaced)
  const target = head === 'score' ? toRewardModel<ModelConfig>(ckpt, 0) : ckpt;
  // the cast: rewardConfig keeps the family, so config and tokenizer files stay one union member
  return { ...ckpt, config: target.config, params: mergeLora(target.config, lora, target.params, adapters) } as LoadedModel & { dir: string };
}

/**
 * What adapter_config.json names as the base: a Hub id's repo at the commit of the snapshot read
 * (the cache's snapshots/COMMIT folder: a branch moves on, the adapter fits this commit's
 * weights), else the folder's absolute path and no revision.
 */
export function baseModelName(modelArg: string, dir: string): { name: string; revision: string | null } {
  if (!isHubId(modelArg)) return { name: resolve(dir), revision: null };
  const commit = basename(resolve(dir));
  return { name: parseHubId(modelArg).repo, revision: isCommitHash(commit) ? commit : null };
}

/** DIR/adapter/: the run's adapters as a PEFT folder. */
export async function writeAdapterDir(out: string, config: ModelConfig, lora: LoraConfig, adapters: Map<string, Float32Array>, base: { name: string; revision: string | null }): Promise<void> {
  await writeCheckpointDir(out, peftAdapterFiles(config, lora, adapters, base.name, base.revision));
}
