// The TRL export of the online methods (docs/export.md "Online methods"): GRPO and RLOO
// (GRPOTrainer / RLOOConfig in `trl`) with the judges as Python reward functions (rewards.py,
// src/judge/python.ts) and a reward model as a path in reward_funcs; PPO (PPOTrainer in
// `trl.experimental.ppo`) with reward_model and value_model loaded from the reward folder.
// Checked against TRL v1.9.0: trl/trainer/grpo_config.py and rloo_config.py (per_device_train_batch_size
// counts completions; generation_batch_size = per_device × steps_per_generation, steps_per_generation
// defaults to gradient_accumulation_steps; no max_prompt_length), grpo_trainer.py (reward_funcs: a
// callable's __name__ or a path's last component names rewards/<name>/mean; a path is loaded as
// AutoModelForSequenceClassification(num_labels=1); prompts tokenized with the tokenizer's defaults;
// the reference is created from MODEL's path when beta ≠ 0), trl/experimental/ppo/ppo_config.py and
// ppo_trainer.py (a rollout batch is per_device_train_batch_size × gradient_accumulation_steps
// prompts; ceil(total_episodes / batch) updates, each num_ppo_epochs × num_mini_batches optimizer
// steps; pre-tokenized input_ids, left-padded by DataCollatorWithPadding).
import { PYTHON_JUDGES } from '../judge/python';
import { normalizeOptions, type OptionValue } from '../train/objectives';
import { py, type Py } from './python-literal';
import { adapterLines, argsAndTokenizerLines, datasetLines, importLines, loraConfigLines, modelFamily, peftConfigArg, peftImportLines, TRL_VERSION, type TrlRun, type TrlTrainerSpec } from './trl-common';

/** The judges' Python module next to train.py. */
export const TRL_REWARDS_FILE = 'rewards.py';

/** The reward option's value for a reward model (src/train/objectives/online.ts REWARD_MODEL_REWARD). */
const REWARD_MODEL_SOURCE = 'reward-model';

/** The Python expressions of a GRPO/RLOO run's reward_funcs: judge functions by name, REWARD_MODEL for the reward folder. */
function rewardFuncs(value: Py | undefined): string[] {
  const names = typeof value === 'string' ? [value] : Array.isArray(value) ? (value as Py[]).map(String) : [];
  return names.map((n) => {
    if (n === REWARD_MODEL_SOURCE) return 'REWARD_MODEL';
    const f = PYTHON_JUDGES[n];
    if (!f) throw new Error(`TRL export: reward "${n}" has no Python reward function (known: ${[...Object.keys(PYTHON_JUDGES), REWARD_MODEL_SOURCE].join(', ')})`);
    return f;
  });
}

const without = (args: Array<[string, Py]>, keys: readonly string[]) => args.filter(([k]) => !keys.includes(k));

function replaceArg(args: Array<[string, Py]>, key: string, value: Py): void {
  const a = args.find(([k]) => k === key);
  if (!a) throw new Error(`TRL export: no ${key} argument to replace`);
  a[1] = value;
}

function insertAfter(args: Array<[string, Py]>, key: string, extra: Array<[string, Py]>): Array<[string, Py]> {
  const i = args.findIndex(([k]) => k === key);
  return [...args.slice(0, i + 1), ...extra, ...args.slice(i + 1)];
}

/**
 * GRPO, RLOO and PPO: the config arguments of the offline script (`base`: the method's own, then
 * TrainingArguments) turned into what the online trainers count, and their notes.
 */
export function onlineTrainerSpec(run: TrlRun, m: TrlTrainerSpec, base: Array<[string, Py]>): TrlTrainerSpec {
  const c = run.config;
  const { method: _m, ...given } = c.objective;
  const v: Record<string, OptionValue> = normalizeOptions(c.objective.method, given);
  const P = Math.min(c.batchSize, run.trainPrompts ?? c.batchSize);
  const GA = c.gradAccum;
  const notes = [...m.notes];
  notes.push('Completions are sampled by torch from TRL\'s shuffled prompts, PrefPlay\'s from its own seeded stream: the same distributions, other samples, so curves match in trend, not bit for bit.');
  if (m.name === 'PPO') {
    if (!run.rewardModel) throw new Error('TRL export: a PPO run needs its reward model folder (--reward-model)');
    const M = Number(v.numMiniBatches ?? 1);
    // PrefPlay: M mini-batches (one optimizer step each) of GA micro-batches of P / M / GA prompts
    if (P % M !== 0 || (P / M) % GA !== 0) throw new Error(`TRL export: PPO's batch of ${P} prompts does not split into ${M} mini-batches of ${GA} micro-batches`);
    // TRL: a rollout of per_device × GA prompts; accelerate steps the optimizer every GA micro-batches
    // of per_device rows. M = 1: GA micro-batches of P / GA; GA = 1: per_device = P, and each
    // micro-batch is a whole mini-batch of P / M. Both > 1: TRL steps once per GA micro-batches
    // across mini-batches, fewer steps than PrefPlay's M per pass.
    const perDevice = P / GA;
    let args = without(base, ['max_length', 'max_steps', 'eval_steps']);
    replaceArg(args, 'per_device_train_batch_size', perDevice);
    replaceArg(args, 'per_device_eval_batch_size', perDevice);
    replaceArg(args, 'eval_strategy', 'no');
    args = insertAfter(args, 'warmup_steps', [['total_episodes', c.steps * P]]);
    args.push(['num_sample_generations', 0], ['sft_model_path', run.model ?? 'model'], ['reward_model_path', run.rewardModel]);
    notes.push(`One PPO update = one rollout batch of ${P} prompts (TRL: per_device_train_batch_size × gradient_accumulation_steps); total_episodes = ${c.steps} updates × ${P} prompts; the learning-rate schedule steps once per update in both.`);
    if (M > 1 && GA > 1) notes.push(`PrefPlay takes ${M} optimizer steps per PPO epoch (one per mini-batch of ${GA} micro-batches); TRL's loop steps the optimizer every gradient_accumulation_steps micro-batches across mini-batches, so fewer. Train with --grad-accum 1 (or --num-mini-batches 1) to compare step for step.`);
    // TRL PPOTrainer.__init__: `assert args.local_mini_batch_size >= 8` when whiten_rewards is on
    if (v.whitenRewards === true && P / M < 8) notes.push(`whiten_rewards=True: TRL asserts local_mini_batch_size >= 8 ("Per-rank minibatch size ${P / M} is insufficient for whitening"; here ${P} prompts / ${M} mini-batch${M === 1 ? '' : 'es'} = ${P / M}), so this script stops before training. Raise the batch size to ${8 * M} or more (PrefPlay whitens any batch with 2 or more response tokens), or turn whiten_rewards off in both.`);
    notes.push('The tokenizer pads with its end-of-text token, as PrefPlay (TRL\'s example script adds a [PAD] token instead); with pad = end-of-text the reward model reads the token before the end-of-text, in both.');
    if (run.hasEval) notes.push('PPOTrainer computes no eval metrics, so PrefPlay\'s eval_ rows have no counterpart; eval.jsonl (the held-out prompts) is its eval_dataset, sampled only with num_sample_generations > 0.');
    return { ...m, args, notes };
  }
  const G = Number(v.numGenerations);
  const rows = P * G;
  if (rows % GA !== 0) throw new Error(`TRL export: ${rows} completions (${P} prompts × ${G}) do not split into ${GA} micro-batches`);
  const funcs = rewardFuncs(base.find(([k]) => k === 'reward_funcs')?.[1]);
  if (funcs.includes('REWARD_MODEL') && !run.rewardModel) throw new Error(`TRL export: the run's reward "${REWARD_MODEL_SOURCE}" needs its reward model folder (--reward-model)`);
  let args = without(base, ['reward_funcs', 'max_length']);
  replaceArg(args, 'per_device_train_batch_size', rows / GA);
  // TRL's eval batch counts completions and must hold whole groups
  replaceArg(args, 'per_device_eval_batch_size', rows);
  args = insertAfter(args, 'gradient_accumulation_steps', [
    ['steps_per_generation', GA],
    ['num_iterations', 1],
  ]);
  args.push(['disable_dropout', true]);
  notes.push(`One update = one generation batch of ${P} prompts × ${G} completions, split into ${GA} micro-batch${GA === 1 ? '' : 'es'} of ${rows / GA} (per_device_train_batch_size counts completions; steps_per_generation = gradient_accumulation_steps gives one generation per optimizer step, on-policy as PrefPlay).`);
  notes.push('data.jsonl holds each prompt as the text PrefPlay\'s model read (a chat template already applied); TRL tokenizes it with the tokenizer\'s default special tokens: none for GPT-2 and PrefPlay\'s byte-level tokenizer (a tokenizer that adds a BOS would differ).');
  if (Number(v.beta) === 0) notes.push('With beta=0 TRL neither loads the reference nor logs kl; PrefPlay logs kl against the reference whenever it has one.');
  if (funcs.includes('REWARD_MODEL')) notes.push(`TRL scores REWARD_MODEL on the decoded prompt + completion re-tokenized, PrefPlay on the generated ids (the same ids unless the text does not round-trip); TRL logs it as rewards/${run.rewardModel!.split('/').pop()}/mean${run.rewardModelName ? `, PrefPlay logged rewards/${run.rewardModelName}/mean` : ''}.`);
  return { ...m, args, notes, rewardFuncs: funcs };
}

/** train.py of an online run. */
export function trlOnlineScript(run: TrlRun, spec: TrlTrainerSpec): string {
  const c = run.config;
  const { name } = spec;
  const model = run.model ?? 'model';
  const family = modelFamily(run);
  const ppo = name === 'PPO';
  const funcs = spec.rewardFuncs ?? [];
  const judges = funcs.filter((f) => f !== 'REWARD_MODEL');
  const rewardModel = ppo || funcs.includes('REWARD_MODEL') ? run.rewardModel! : null;
  const header = [
    '#!/usr/bin/env python3',
    `# PrefPlay run exported for Hugging Face TRL: method ${c.objective.method}, ${name}Trainer.`,
    `# Starting model: ${model} (model_type ${family.type}, ${family.architecture}); AutoModelForCausalLM loads it.`,
    ...(rewardModel ? [`# Reward model: ${rewardModel} (AutoModelForSequenceClassification, num_labels=1)${ppo ? ', also the value model\'s starting point' : ''}.`] : []),
    '# Same objective and hyperparameters as the browser/CLI run; data.jsonl holds the same training',
    `# prompts (eval.jsonl the held-out ones)${judges.length ? `, ${TRL_REWARDS_FILE} PrefPlay's judges as reward functions` : ''}.`,
    `# Written for TRL ${TRL_VERSION}. Run:  pip install -r requirements.txt && python train.py`,
    ...spec.notes.map((n) => `# Note: ${n}`),
  ];
  const configLines = ['config_kwargs = dict(', ...spec.args.map(([k, x]) => `    ${k}=${py(x)},`), ')'];
  const refModel = spec.usesRefModel && run.refModel ? run.refModel : null;
  const tail = ['trainer.train()', 'trainer.save_model("out/model")', 'tokenizer.save_pretrained("out/model")', ''];
  if (ppo) {
    return [
      ...header,
      'from datasets import load_dataset',
      'from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification, AutoTokenizer',
      '',
      ...importLines(spec),
      ...peftImportLines(run),
      '',
      `MODEL = ${py(model)}  # a folder in Hugging Face layout, or a Hub id such as ${py(family.hubExample)}`,
      `REF_MODEL = ${py(refModel)}  # None: ${c.lora ? 'with peft_config the policy with its adapters disabled, as PrefPlay' : 'the starting weights, as PrefPlay'}`,
      `REWARD_MODEL = ${py(rewardModel)}`,
      `MAX_PROMPT_LENGTH = ${py(run.maxPromptLength)}  # prompt tokens kept, cut from the left`,
      '',
      ...configLines,
      `args = ${name}Config(**config_kwargs)`,
      ...loraConfigLines(c.lora, family.type),
      '',
      '# left padding: PPOTrainer generates from the padded prompts',
      'tokenizer = AutoTokenizer.from_pretrained(MODEL, padding_side="left")',
      'if tokenizer.pad_token is None:',
      '    tokenizer.pad_token = tokenizer.eos_token',
      'policy = AutoModelForCausalLM.from_pretrained(MODEL)',
      // with peft_config PPOTrainer wants no ref_model: the reference is the policy with its adapters disabled
      c.lora ? 'ref_policy = AutoModelForCausalLM.from_pretrained(REF_MODEL) if REF_MODEL else None' : 'ref_policy = AutoModelForCausalLM.from_pretrained(REF_MODEL or MODEL)',
      'reward_model = AutoModelForSequenceClassification.from_pretrained(REWARD_MODEL, num_labels=1)',
      '# the value model starts as a copy of the reward model (TRL\'s example and PrefPlay alike)',
      'value_model = AutoModelForSequenceClassification.from_pretrained(REWARD_MODEL, num_labels=1)',
      '',
      '',
      'def tokenize(example):',
      '    # the prompt\'s ids as PrefPlay reads them: no special tokens, cut from the left; an empty',
      '    # prompt starts from BOS',
      '    ids = tokenizer(example["prompt"], add_special_tokens=False)["input_ids"][-MAX_PROMPT_LENGTH:]',
      '    return {"input_ids": ids or [tokenizer.bos_token_id]}',
      '',
      '',
      'train_dataset = load_dataset("json", data_files="data.jsonl", split="train").map(tokenize, remove_columns=["prompt"])',
      run.hasEval ? 'eval_dataset = load_dataset("json", data_files="eval.jsonl", split="train").map(tokenize, remove_columns=["prompt"])' : '# PPOTrainer builds an eval loader even when it never samples from it (num_sample_generations=0)',
      ...(run.hasEval ? [] : ['eval_dataset = train_dataset']),
      '',
      `trainer = ${name}Trainer(`,
      '    args=args,',
      '    processing_class=tokenizer,',
      '    model=policy,',
      '    ref_model=ref_policy,',
      '    reward_model=reward_model,',
      '    train_dataset=train_dataset,',
      '    value_model=value_model,',
      '    eval_dataset=eval_dataset,',
      ...peftConfigArg(run),
      ')',
      // PPOTrainer's PEFT model is the policy (trainer.model wraps it with the value model)
      ...adapterLines(run, 'trainer.policy_model'),
      ...tail,
    ].join('\n');
  }
  return [
    ...header,
    'import dataclasses',
    '',
    'from datasets import load_dataset',
    'from transformers import AutoModelForCausalLM, AutoTokenizer',
    '',
    ...importLines(spec),
    ...peftImportLines(run),
    ...(judges.length ? [`from ${TRL_REWARDS_FILE.replace(/\.py$/, '')} import ${judges.join(', ')}`] : []),
    '',
    `MODEL = ${py(model)}  # a folder in Hugging Face layout, or a Hub id such as ${py(family.hubExample)}`,
    `REF_MODEL = ${py(refModel)}  # None: ${c.lora ? `with peft_config ${name}Trainer uses MODEL with the adapters disabled as the reference (as PrefPlay does)` : `${name}Trainer loads MODEL again as the frozen reference (as PrefPlay uses the starting weights)`}`,
    ...(rewardModel ? [`REWARD_MODEL = ${py(rewardModel)}  # a path in reward_funcs: TRL loads it as AutoModelForSequenceClassification(num_labels=1)`] : []),
    `MAX_PROMPT_LENGTH = ${py(run.maxPromptLength)}  # prompt tokens kept, cut from the left`,
    '',
    ...configLines,
    '# max_prompt_length is not a field of TRL 1.9\'s config: where it is not, the prompts are cut here the',
    '# same way PrefPlay does (tokens from the left).',
    ...argsAndTokenizerLines(name, c.lora, family.type, false),
    'model = AutoModelForCausalLM.from_pretrained(MODEL)',
    '',
    '',
    ...datasetLines(true, run.hasEval),
    '',
    `trainer = ${name}Trainer(`,
    '    model=model,',
    `    reward_funcs=[${funcs.join(', ')}],`,
    '    args=args,',
    '    train_dataset=train_dataset,',
    '    eval_dataset=eval_dataset,',
    '    processing_class=tokenizer,',
    ...peftConfigArg(run),
    ')',
    'if REF_MODEL is not None and trainer.ref_model is not None:',
    '    # the run\'s --ref-model: its weights into the reference TRL made from MODEL (same architecture)',
    '    trainer.ref_model.load_state_dict(AutoModelForCausalLM.from_pretrained(REF_MODEL).state_dict())',
    ...adapterLines(run, 'trainer.model'),
    ...tail,
  ].join('\n');
}
