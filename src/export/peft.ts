// PEFT adapter folders (docs/export.md, "LoRA adapters"): what `peft.PeftModel.from_pretrained`
// loads, written from a LoRA run and read back to continue training or to compare against.
//   adapter_config.json        PEFT's LoraConfig: peft_type LORA, task_type CAUSAL_LM, r, lora_alpha,
//                              target_modules, base_model_name_or_path, fan_in_fan_out (GPT-2's
//                              Conv1D: true, as PEFT sets it for Conv1D targets), lora_dropout 0
//   adapter_model.safetensors  base_model.model.<module>.lora_A.weight [r, in] and .lora_B.weight
//                              [out, r] (PEFT's names: no adapter name), F32, metadata format "pt"
// Modules are named as in transformers: GPT-2's carry the `transformer.` prefix
// (base_model.model.transformer.h.0.attn.c_attn.lora_A.weight), the Llama family's are
// model.layers.N.self_attn.q_proj and so on. Also the LoraConfig of the TRL export (trl-script.ts).
// A reward model's adapter (its score head trained in full, src/model/lora.ts loraSavedModules) is
// PEFT's sequence-classification one: task_type SEQ_CLS, modules_to_save ["classifier", "score"]
// (PeftModelForSequenceClassification appends both classifier names to modules_to_save, which is
// what save_pretrained writes), and the head in the file as `base_model.model.score.weight` [1, C]:
// PEFT's get_peft_model_state_dict (huggingface/peft src/peft/utils/save_and_load.py, "MODULES_TO_SAVE")
// takes the wrapper's `score.modules_to_save.default.weight`, drops `modules_to_save.` and then the
// adapter name, leaving the module's own name.
// Pure TypeScript over a ReadFile / name → bytes map, like src/model/checkpoint.ts.
import type { ReadFile } from '../model/checkpoint';
import { isLlamaConfig, type ModelConfig } from '../model/family';
import { LLAMA_LINEAR_KEYS, GPT2_LINEAR_KEYS, linearModules, loraModules, loraNames, loraTargetList, type LinearModule, type LoraConfig } from '../model/lora';
import { parseSafetensors, readTensorF32, serializeSafetensors } from '../model/safetensors';
import { SCORE_WEIGHT } from '../model/score-config';
import { isRewardModel, scoreChannels } from '../model/reward';

/** Prefix PEFT gives every tensor of a causal LM's adapter (PeftModelForCausalLM → LoraModel → the model). */
export const PEFT_PREFIX = 'base_model.model.';

/** PEFT's name of a module's adapter tensor in adapter_model.safetensors. */
export function peftTensorName(m: LinearModule, which: 'A' | 'B'): string {
  return `${PEFT_PREFIX}${m.hfModule}.lora_${which}.weight`;
}

/** A reward model's score head in adapter_model.safetensors (a modules_to_save module: its own name under the prefix). */
export const PEFT_SCORE_NAME = `${PEFT_PREFIX}${SCORE_WEIGHT}`;

/** modules_to_save of a sequence-classification adapter, as PeftModelForSequenceClassification writes it. */
export const SEQ_CLS_MODULES_TO_SAVE = ['classifier', 'score'];

/**
 * adapter_config.json's object, as PEFT's LoraConfig.save_pretrained writes it (the fields PrefPlay
 * uses, the rest at PEFT's defaults); seqCls: a reward model's adapter (SEQ_CLS, the score head saved).
 */
export function peftAdapterConfig(config: ModelConfig, lora: LoraConfig, baseModel: string | null, seqCls = false, revision: string | null = null): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: baseModel,
    bias: 'none',
    fan_in_fan_out: !isLlamaConfig(config),
    inference_mode: true,
    init_lora_weights: true,
    layers_pattern: null,
    layers_to_transform: null,
    lora_alpha: lora.alpha,
    lora_dropout: 0.0,
    modules_to_save: seqCls ? [...SEQ_CLS_MODULES_TO_SAVE] : null,
    peft_type: 'LORA',
    r: lora.r,
    rank_pattern: {},
    // the base's Hub commit: AutoPeftModel*.from_pretrained loads base_model_name_or_path at it
    revision,
    target_modules: [...loraTargetList(config, lora)].sort(),
    task_type: seqCls ? 'SEQ_CLS' : 'CAUSAL_LM',
    use_dora: false,
    use_rslora: false,
  };
}

/**
 * The folder's files: adapter_config.json, adapter_model.safetensors (adapters by this engine's
 * names, src/model/lora.ts loraNames) and a short README.md. baseModel: what
 * base_model_name_or_path names (a Hub id or a folder), null when unknown. Adapters holding a
 * score head (a reward model's run; `config` may be the causal LM it started from) make a SEQ_CLS
 * adapter; a reward model's config without one is refused. revision: the Hub commit the base was
 * loaded at (a branch moves on; the adapter was trained on this one's weights), null otherwise.
 */
export function peftAdapterFiles(config: ModelConfig, lora: LoraConfig, adapters: ReadonlyMap<string, Float32Array>, baseModel: string | null, revision: string | null = null): Map<string, Uint8Array> {
  const score = adapters.get(SCORE_WEIGHT);
  if (isRewardModel(config) && !score) throw new Error(`PEFT export: missing ${SCORE_WEIGHT} (a reward model's adapters carry its score head)`);
  const C = scoreChannels(config);
  if (score && score.length !== C) throw new Error(`PEFT export: ${SCORE_WEIGHT} has ${score.length} values, expected [1, ${C}]`);
  const seqCls = score !== undefined;
  const tensors = loraModules(config, lora).flatMap((m) => {
    const n = loraNames(m);
    const A = adapters.get(n.A), B = adapters.get(n.B);
    if (!A || !B) throw new Error(`PEFT export: missing adapter ${!A ? n.A : n.B}`);
    return [
      { name: peftTensorName(m, 'A'), shape: [lora.r, m.in], data: A },
      { name: peftTensorName(m, 'B'), shape: [m.out, lora.r], data: B },
    ];
  });
  if (score) tensors.push({ name: PEFT_SCORE_NAME, shape: [1, C], data: score });
  const enc = new TextEncoder();
  const auto = seqCls ? 'AutoModelForSequenceClassification' : 'AutoModelForCausalLM';
  const readme = [
    '---',
    'library_name: peft',
    ...(baseModel ? [`base_model: ${baseModel}`] : []),
    '---',
    '',
    `LoRA adapter (r=${lora.r}, lora_alpha=${lora.alpha}${seqCls ? ', a reward model: the score head trained in full' : ''}) trained with PrefPlay. Load it with`,
    '',
    '```python',
    'from peft import PeftModel',
    `from transformers import ${auto}`,
    `model = PeftModel.from_pretrained(${auto}.from_pretrained(${JSON.stringify(baseModel ?? 'BASE_MODEL')}${revision ? `, revision=${JSON.stringify(revision)}` : ''}${seqCls ? ', num_labels=1' : ''}), "this-folder")`,
    '```',
    '',
  ].join('\n');
  return new Map([
    ['adapter_config.json', enc.encode(JSON.stringify(peftAdapterConfig(config, lora, baseModel, seqCls, revision), null, 2) + '\n')],
    ['adapter_model.safetensors', serializeSafetensors(tensors, { format: 'pt' })],
    ['README.md', enc.encode(readme)],
  ]);
}

export interface LoadedAdapter {
  lora: LoraConfig;
  /** By this engine's names (loraNames), f32. */
  adapters: Map<string, Float32Array>;
  baseModel: string | null;
}

/**
 * A PEFT LoRA adapter folder for `config`'s model: its config (r, lora_alpha, target_modules),
 * every expected tensor with its shape (any float dtype PEFT saves), refusing what PrefPlay does
 * not compute (DoRA, rsLoRA, rank/alpha patterns, biases, extra saved modules) and tensors of
 * modules the targets do not name. A target_modules regex (a string) is resolved from the tensors
 * the file holds.
 */
export async function loadPeftAdapter(read: ReadFile, config: ModelConfig): Promise<LoadedAdapter> {
  const cfgBytes = await read('adapter_config.json');
  if (!cfgBytes) throw new Error('adapter_config.json not found in the adapter folder');
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(new TextDecoder().decode(cfgBytes)) as Record<string, unknown>;
  } catch (e) {
    throw new Error(`adapter_config.json is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('adapter_config.json must be a JSON object');
  const where = 'adapter_config.json';
  if (json.peft_type !== 'LORA') throw new Error(`${where}: peft_type is ${JSON.stringify(json.peft_type)}, only LORA adapters load`);
  if (json.task_type !== undefined && json.task_type !== null && json.task_type !== 'CAUSAL_LM' && json.task_type !== 'SEQ_CLS') throw new Error(`${where}: task_type ${JSON.stringify(json.task_type)}, expected CAUSAL_LM (or SEQ_CLS: a reward model's)`);
  // a reward model's adapter: the score head saved beside the adapters (modules_to_save)
  const seqCls = json.task_type === 'SEQ_CLS';
  const saved = json.modules_to_save;
  if (seqCls && !(Array.isArray(saved) && saved.includes('score') && saved.every((m) => SEQ_CLS_MODULES_TO_SAVE.includes(m as string)))) throw new Error(`${where}: a SEQ_CLS adapter must save its score head: modules_to_save ${JSON.stringify(saved)}, expected ${JSON.stringify(SEQ_CLS_MODULES_TO_SAVE)} (PrefPlay trains no other module in full)`);
  const r = json.r, alpha = json.lora_alpha;
  if (typeof r !== 'number' || !Number.isInteger(r) || r < 1) throw new Error(`${where}: r must be a positive integer, got ${JSON.stringify(r)}`);
  if (typeof alpha !== 'number' || !(alpha > 0)) throw new Error(`${where}: lora_alpha must be a positive number, got ${JSON.stringify(alpha)}`);
  const unsupported: Array<[string, (v: unknown) => boolean]> = [
    ['use_dora', (v) => v === true],
    ['use_rslora', (v) => v === true],
    ['rank_pattern', (v) => typeof v === 'object' && v !== null && Object.keys(v).length > 0],
    ['alpha_pattern', (v) => typeof v === 'object' && v !== null && Object.keys(v).length > 0],
    ['modules_to_save', (v) => !seqCls && Array.isArray(v) && v.length > 0],
    ['bias', (v) => v !== undefined && v !== 'none'],
    ['layers_to_transform', (v) => v !== undefined && v !== null],
  ];
  for (const [k, bad] of unsupported) if (bad(json[k])) throw new Error(`${where}: ${k} = ${JSON.stringify(json[k])} is not supported (PrefPlay trains plain LoRA on every layer)`);

  const bytes = await read('adapter_model.safetensors');
  if (!bytes) throw new Error('adapter_model.safetensors not found in the adapter folder (adapter_model.bin is not supported)');
  const file = parseSafetensors(bytes);
  const names = [...file.tensors.keys()];
  const modules = linearModules(config);
  // which modules the file adapts, from its tensor names
  const inFile = modules.filter((m) => file.tensors.has(peftTensorName(m, 'A')) || file.tensors.has(peftTensorName(m, 'B')));
  let targets: string[];
  if (Array.isArray(json.target_modules) && json.target_modules.every((t) => typeof t === 'string')) targets = json.target_modules as string[];
  else {
    // a regex (PEFT's string form): the per-layer projection names the file holds
    const keys = new Set(inFile.map((m) => m.key.split('.').pop()!));
    targets = [...(isLlamaConfig(config) ? LLAMA_LINEAR_KEYS : GPT2_LINEAR_KEYS)].map((k) => k.split('.').pop()!).filter((k, i, xs) => keys.has(k) && xs.indexOf(k) === i);
  }
  const lora: LoraConfig = { r, alpha, targets };
  const chosen = loraModules(config, lora);
  const targeted = new Set(chosen.map((m) => m.module));
  const stray = inFile.filter((m) => !targeted.has(m.module));
  if (stray.length) throw new Error(`adapter_model.safetensors: adapters of ${stray[0].hfModule}, which target_modules ${JSON.stringify(targets)} does not name`);
  const expected = new Set([...chosen.flatMap((m) => [peftTensorName(m, 'A'), peftTensorName(m, 'B')]), ...(seqCls ? [PEFT_SCORE_NAME] : [])]);
  const extra = names.filter((n) => !expected.has(n));
  if (extra.length) throw new Error(`adapter_model.safetensors: unexpected tensor "${extra[0]}"${extra.length > 1 ? ` and ${extra.length - 1} more` : ''} (not a LoRA adapter of this ${isLlamaConfig(config) ? config.family : 'gpt2'} model?)`);
  const adapters = new Map<string, Float32Array>();
  for (const m of chosen) {
    const own = loraNames(m);
    for (const [which, shape, name] of [['A', [r, m.in], own.A], ['B', [m.out, r], own.B]] as const) {
      const t = peftTensorName(m, which);
      const info = file.tensors.get(t);
      if (!info) throw new Error(`adapter_model.safetensors: missing tensor "${t}" [${shape.join(', ')}]`);
      if (info.shape.join(',') !== shape.join(',')) throw new Error(`adapter_model.safetensors: tensor "${t}" has shape [${info.shape.join(', ')}], expected [${shape.join(', ')}]`);
      const data = readTensorF32(file, t);
      const bad = data.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) throw new Error(`adapter_model.safetensors: tensor "${t}" has a non-finite value at element ${bad}`);
      adapters.set(name, data);
    }
  }
  if (seqCls) {
    const C = scoreChannels(config);
    const info = file.tensors.get(PEFT_SCORE_NAME);
    if (!info) throw new Error(`adapter_model.safetensors: missing tensor "${PEFT_SCORE_NAME}" [1, ${C}] (a SEQ_CLS adapter's score head)`);
    if (info.shape.join(',') !== `1,${C}`) throw new Error(`adapter_model.safetensors: tensor "${PEFT_SCORE_NAME}" has shape [${info.shape.join(', ')}], expected [1, ${C}]`);
    const data = readTensorF32(file, PEFT_SCORE_NAME);
    const bad = data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`adapter_model.safetensors: tensor "${PEFT_SCORE_NAME}" has a non-finite value at element ${bad}`);
    adapters.set(SCORE_WEIGHT, data);
  }
  const base = json.base_model_name_or_path;
  return { lora, adapters, baseModel: typeof base === 'string' ? base : null };
}

/** PEFT's target_modules of a run on a model_type, as written to the TRL script (the run's own, or every linear projection). */
export function trlLoraTargets(lora: LoraConfig, modelType: string): string[] {
  if (lora.targets?.length) return [...lora.targets];
  return modelType === 'gpt2' ? ['c_attn', 'c_proj', 'c_fc'] : LLAMA_LINEAR_KEYS.map((k) => k.split('.')[1]);
}
