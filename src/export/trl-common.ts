// What the TRL exports share (trl-script.ts writes the offline methods' train.py, trl-online.ts the
// online ones'): the run description, the trainer spec, the model families, the import lines and
// the prompt cut that reproduces PrefPlay's --max-prompt-length.
import type { TrainConfig } from '../train/config';
import type { TrlTarget } from '../train/objectives';
import { fl, py, type Py } from './python-literal';
import { trlLoraTargets } from './peft';
import type { LoraConfig } from '../model/lora';

/** The TRL release train.py is written for (its config names, import paths and tokenization). */
export const TRL_VERSION = '1.9.0';

/** What the script reproduces: the run's configuration plus its data limits. */
export interface TrlRun {
  config: TrainConfig;
  /** Prompt + completion tokens (PrefPlay --max-length). */
  maxLength: number;
  /** Prompt tokens, cut from the left (PrefPlay --max-prompt-length). */
  maxPromptLength: number;
  /** What `from_pretrained` loads: a folder next to the script or a Hub id. Default "model". */
  model?: string;
  /** DPO/KTO reference model, when the run used one other than the starting weights. */
  refModel?: string | null;
  /** Whether a held-out eval.jsonl is written. */
  hasEval?: boolean;
  /** The starting model's config.json model_type: gpt2 (default), llama, qwen2 or mistral. */
  modelType?: string;
  /** Online methods: the reward folder next to the script (PPO's reward and value model; GRPO/RLOO reward "reward-model"). */
  rewardModel?: string | null;
  /** The name PrefPlay logged the reward model's scores under (rewards/<name>/mean: its folder's last path component). */
  rewardModelName?: string;
  /** Online methods: the number of training prompts (an update takes min(--batch-size, this) prompts, as the run did). */
  trainPrompts?: number;
  /**
   * A LoRA run that continued an imported PEFT adapter (the page's Model tab, the CLI's
   * --lora-adapter): that adapter's folder next to the script. train.py makes the run's LoraConfig
   * (r and target modules the adapter's, lora_dropout 0) as for a fresh run and, once the trainer
   * is set up, loads the adapter's tensors into it (adapterLines): the run starts from MODEL + the
   * adapter and the reference is MODEL with the adapters disabled, as PrefPlay's. Not for a reward
   * model (its score head would start untrained beside a causal LM's adapter; trlExportFiles refuses it).
   */
  adapter?: string | null;
}

/** The adapter folder a LoRA run continues (TrlRun.adapter), or null: a fresh LoraConfig (or no LoRA). */
export function continuedAdapter(run: TrlRun): string | null {
  return run.config.lora && run.adapter ? run.adapter : null;
}

/** `from peft import …` for a LoRA run: LoraConfig, and what loads a continued adapter's tensors (adapterLines). */
export function peftImportLines(run: TrlRun): string[] {
  if (!run.config.lora) return [];
  return continuedAdapter(run) ? ['from peft import LoraConfig, set_peft_model_state_dict', 'from safetensors.torch import load_file'] : ['from peft import LoraConfig'];
}

/** The trainer's peft_config argument: every LoRA run's (a continued adapter's tensors go in afterwards: adapterLines). */
export function peftConfigArg(run: TrlRun): string[] {
  return run.config.lora ? ['    peft_config=peft_config,'] : [];
}

/**
 * After `trainer = …Trainer(…, peft_config=peft_config)`: a continued adapter's tensors
 * (TrlRun.adapter) loaded into the adapters the trainer made from peft_config; `peftModel` is the
 * trainer's PEFT model (trainer.model; PPO's trainer.policy_model). Not a PeftModel handed to the
 * trainer: given one and no peft_config, TRL 1.9's DPO, KTO, GRPO and RLOO trainers copy its adapter
 * as a frozen "ref" adapter and use that as the reference (dpo_trainer.py "ref" adapter), not the
 * base PrefPlay uses. adapter_model.safetensors holds PEFT's names without the adapter name, which
 * set_peft_model_state_dict takes (as PeftModel.from_pretrained does); a file that does not fit
 * stops the script rather than train fresh adapters.
 */
export function adapterLines(run: TrlRun, peftModel: string): string[] {
  const adapter = continuedAdapter(run);
  if (!adapter) return [];
  const file = `${adapter}/adapter_model.safetensors`;
  return [
    `# LoRA continuing the imported adapter ${adapter}/, as PrefPlay did: its tensors into the adapters`,
    '# peft_config made (r and target modules its own), after the trainer set up its reference: MODEL',
    '# with the adapters disabled, the base alone, as PrefPlay. (A PeftModel passed as model= would',
    '# instead become the reference too: TRL copies its adapter as a frozen "ref" adapter.)',
    `loaded = set_peft_model_state_dict(${peftModel}, load_file(${py(file)}))`,
    'missing = [k for k in loaded.missing_keys if "lora_" in k]',
    'if loaded.unexpected_keys or missing:',
    `    raise RuntimeError(${py(`${file} does not fit peft_config: `)} + f"unexpected {loaded.unexpected_keys[:3]}, missing {missing[:3]}")`,
  ];
}

/** What transformers builds for each model_type, and a Hub checkpoint of that family to scale up to. */
const MODEL_FAMILIES: Record<string, { architecture: string; hubExample: string; label: string }> = {
  gpt2: { architecture: 'GPT2LMHeadModel', hubExample: 'gpt2', label: 'GPT-2' },
  llama: { architecture: 'LlamaForCausalLM', hubExample: 'HuggingFaceTB/SmolLM2-135M', label: 'Llama' },
  qwen2: { architecture: 'Qwen2ForCausalLM', hubExample: 'Qwen/Qwen2.5-0.5B', label: 'Qwen2' },
  mistral: { architecture: 'MistralForCausalLM', hubExample: 'mistralai/Mistral-7B-v0.1', label: 'Mistral' },
};

export function modelFamily(run: TrlRun): { type: string; architecture: string; hubExample: string; label: string } {
  const type = run.modelType ?? 'gpt2';
  const f = MODEL_FAMILIES[type];
  if (!f) throw new Error(`TRL script: unknown model_type "${type}" (expected ${Object.keys(MODEL_FAMILIES).join(', ')})`);
  return { type, ...f };
}

export interface TrlTrainerSpec {
  /** e.g. "DPO" for DPOTrainer / DPOConfig. */
  name: TrlTarget['trainer'];
  /** Modules to import the trainer and config from, tried in order (current location first). */
  modules: readonly string[];
  usesRefModel: boolean;
  /** The TRL trainer puts the tokenizer's BOS before every prompt (PrefPlay does not). */
  prependsBos: boolean;
  /** The smallest per-device batch the TRL trainer accepts. */
  minBatchSize: number;
  /** A reward model: the trainer loads MODEL itself as AutoModelForSequenceClassification(num_labels=1). */
  sequenceClassification: boolean;
  /** Config keyword arguments in script order. */
  args: Array<[string, Py]>;
  /** Differences TRL cannot express, written into the script as comments. */
  notes: string[];
  /** GRPO/RLOO: reward_funcs as Python expressions (a judge's function name from rewards.py, or REWARD_MODEL). */
  rewardFuncs?: string[];
}

export function importLines({ name, modules }: TrlTrainerSpec): string[] {
  const line = (m: string) => `from ${m} import ${name}Config, ${name}Trainer`;
  if (modules.length === 1) return [line(modules[0])];
  return ['try:', `    ${line(modules[0])}`, 'except ImportError:  # another TRL release keeps it elsewhere', `    ${line(modules[1])}`];
}

/**
 * A LoRA run's `peft_config = LoraConfig(...)` (none without LoRA): the adapters PrefPlay trained,
 * PEFT's names for the target modules; GPT-2's Conv1D layers need fan_in_fan_out. With it TRL's
 * trainers use MODEL with the adapters disabled as the reference, as PrefPlay does. seqCls: a
 * reward model's (RewardTrainer), task_type SEQ_CLS with the score head trained in full,
 * modules_to_save=["score"] as RewardTrainer's docstring advises for a causal-LM start.
 */
export function loraConfigLines(lora: LoraConfig | null | undefined, modelType: string, seqCls = false): string[] {
  if (!lora) return [];
  return [
    ...(seqCls
      ? ['# LoRA as PrefPlay trained it: the adapters and the score head (modules_to_save) learn, the rest', "# of the model is frozen. GPT-2's Conv1D layers need fan_in_fan_out."]
      : ['# LoRA as PrefPlay trained it: only the adapters learn; the reference model is MODEL with the', "# adapters disabled (no second copy of the weights). GPT-2's Conv1D layers need fan_in_fan_out."]),
    'peft_config = LoraConfig(',
    `    r=${py(lora.r)},`,
    `    lora_alpha=${py(fl(lora.alpha))},`,
    `    target_modules=${py(trlLoraTargets(lora, modelType))},`,
    '    lora_dropout=0.0,',
    '    bias="none",',
    ...(seqCls ? ['    task_type="SEQ_CLS",', '    modules_to_save=["score"],'] : ['    task_type="CAUSAL_LM",']),
    ...(modelType === 'gpt2' ? ['    fan_in_fan_out=True,'] : []),
    ')',
  ];
}

/**
 * `name`Config's arguments: config_kwargs plus max_prompt_length where the config still has the
 * field (it left TRL in 0.29, PR #4969; where it is gone the script cuts the prompts itself), the
 * LoRA config, and the tokenizer (padding with end-of-text where it has no pad token).
 */
export function argsAndTokenizerLines(name: string, lora: LoraConfig | null | undefined, modelType: string, seqCls = false): string[] {
  return [
    `HAS_MAX_PROMPT_LENGTH = "max_prompt_length" in {f.name for f in dataclasses.fields(${name}Config)}`,
    'if HAS_MAX_PROMPT_LENGTH:',
    '    config_kwargs["max_prompt_length"] = MAX_PROMPT_LENGTH',
    `args = ${name}Config(**config_kwargs)`,
    ...loraConfigLines(lora, modelType, seqCls),
    '',
    'tokenizer = AutoTokenizer.from_pretrained(MODEL)',
    'if tokenizer.pad_token is None:',
    '    tokenizer.pad_token = tokenizer.eos_token',
  ];
}

/**
 * Python `cut_prompt(example)`: a prompt cut to MAX_PROMPT_LENGTH tokens from the left where the
 * TRL config has no max_prompt_length, dropping the leftover bytes of a UTF-8 character cut in
 * two; `emptyToBos`: an empty prompt becomes the tokenizer's BOS, which PrefPlay generates from.
 */
export function cutPromptLines(emptyToBos: boolean): string[] {
  return [
    'def cut_prompt(example):',
    ...(emptyToBos
      ? [
          '    if example["prompt"] == "" and tokenizer.bos_token is not None:',
          '        # PrefPlay generates from [BOS] when a prompt is empty; TRL cannot generate from nothing',
          '        example["prompt"] = tokenizer.bos_token',
          '        return example',
        ]
      : []),
    '    if HAS_MAX_PROMPT_LENGTH or not isinstance(example["prompt"], str):',
    '        return example',
    '    ids = tokenizer(example["prompt"], add_special_tokens=False)["input_ids"]',
    '    if len(ids) > MAX_PROMPT_LENGTH:',
    '        ids = ids[-MAX_PROMPT_LENGTH:]',
    '        # a byte-level tokenizer can cut inside a UTF-8 character: drop its leftover bytes',
    '        # (at most 3) rather than turn them into U+FFFD',
    '        text = tokenizer.decode(ids)',
    '        while text.startswith("\\ufffd") and len(ids) > 1:',
    '            ids = ids[1:]',
    '            text = tokenizer.decode(ids)',
    '        example["prompt"] = text',
    '    return example',
    '',
    '',
  ];
}

/** cut_prompt (cutPromptLines), then the training rows of data.jsonl and the held-out ones of eval.jsonl (`hasEval`; else None), each mapped through it. */
export function datasetLines(emptyToBos: boolean, hasEval: boolean | undefined): string[] {
  return [
    ...cutPromptLines(emptyToBos),
    'train_dataset = load_dataset("json", data_files="data.jsonl", split="train").map(cut_prompt)',
    hasEval ? 'eval_dataset = load_dataset("json", data_files="eval.jsonl", split="train").map(cut_prompt)' : 'eval_dataset = None',
  ];
}
