// A runnable Hugging Face TRL script for a PrefPlay run: the same objective and hyperparameters,
// the same train/eval pairs as TRL-ready JSONL, so the experiment scales to GPUs (docs/export.md).
// Pure TypeScript: the CLI (`export-trl`) and the page both call it. Each method's trainer, config
// names and notes come from its descriptor (src/train/objectives/).
//
// The script targets TRL 1.9.0 (pinned in requirements.txt; checked against its sources, tag
// v1.9.0, July 2026): trl/trainer/dpo_config.py (beta, loss_type as a list, loss_weights,
// label_smoothing, discopop_tau, max_length; no max_prompt_length since 0.29, PR #4969),
// trl/experimental/orpo and trl/experimental/cpo (their tokenize_row prepends bos_token_id to
// every prompt: trl/experimental/utils.py add_bos_token_if_needed), trl/trainer/kto_config.py and
// kto_trainer.py (which refuses per_device_train_batch_size ≤ 1 when it computes the KL term),
// trl/trainer/reward_config.py and reward_trainer.py (a model given by path is loaded with
// AutoModelForSequenceClassification(num_labels=1) after set_seed(seed); center_rewards_coefficient),
// and transformers TrainingArguments. Each import tries the current location first, then the older one.
// Online methods (GRPO, RLOO, PPO: prompts, reward functions, reward models) are written by
// trl-online.ts from the same spec; what both share is in trl-common.ts.
import type { Example } from '../data/types';
import { trlJsonlLine } from '../data/export';
import { methodDescriptor, normalizeOptions, type MethodOption, type ObjectiveSpec, type OptionValue } from '../train/objectives';
import { fl, py, type Py } from './python-literal';
import { adapterLines, argsAndTokenizerLines, continuedAdapter, datasetLines, importLines, modelFamily, peftConfigArg, peftImportLines, TRL_VERSION, type TrlRun, type TrlTrainerSpec } from './trl-common';
import { onlineTrainerSpec, trlOnlineScript, TRL_REWARDS_FILE } from './trl-online';
import { judgeRewardsPython } from '../judge/python';

export { TRL_VERSION, type TrlRun, type TrlTrainerSpec };

/** An option's value as a Python literal: numbers are floats, one-element lists of a multiple choice a string. */
function optionPy(o: MethodOption, v: OptionValue): Py {
  // whole-number options (step 1: completions, tokens, epochs) are TRL int fields
  if (typeof v === 'number') return o.kind === 'number' && o.step === 1 && Number.isInteger(v) ? v : fl(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  const list = [...(v as ReadonlyArray<string | number>)];
  if (o.kind === 'choice' && list.length === 1) return list[0] as string;
  return list.map((x) => (typeof x === 'number' ? fl(x) : x));
}

/** The trainer and its method arguments, from the method's descriptor (src/train/objectives/). */
function methodArgs(spec: ObjectiveSpec): TrlTrainerSpec {
  const d = methodDescriptor(spec.method);
  const { method: _m, ...given } = spec;
  const v = normalizeOptions(spec.method, given);
  const args: Array<[string, Py]> = (d.trl.fixed ?? []).map(([k, x]) => [k, x]);
  for (const o of d.options) {
    if (o.trl === null || v[o.key] === undefined || (o.trlWhen && !o.trlWhen(v))) continue;
    args.push([o.trl, d.trl.value?.(o.key, v) ?? optionPy(o, v[o.key])]);
  }
  return { name: d.trl.trainer, modules: d.trl.modules, usesRefModel: d.trl.usesRefModel, prependsBos: d.trl.prependsBos ?? false, minBatchSize: d.trl.minBatchSize?.(v) ?? 1, sequenceClassification: d.trl.model === 'sequence-classification', args, notes: d.trl.notes?.(v) ?? [] };
}

const SCHEDULERS = { linear: 'linear', cosine: 'cosine', constant: 'constant' } as const;

/** The trainer, its import path and every config argument, as they appear in train.py. */
export function trlTrainerSpec(run: TrlRun): TrlTrainerSpec {
  const c = run.config;
  if (!Number.isInteger(run.maxLength) || run.maxLength < 2) throw new Error(`maxLength must be an integer ≥ 2, got ${run.maxLength}`);
  if (!Number.isInteger(run.maxPromptLength) || run.maxPromptLength < 1) throw new Error(`maxPromptLength must be an integer ≥ 1, got ${run.maxPromptLength}`);
  const m = methodArgs(c.objective);
  const minBatch = m.minBatchSize;
  const batchSize = Math.max(c.batchSize, minBatch);
  if (batchSize !== c.batchSize) m.notes.push(`PrefPlay ran with batch size ${c.batchSize}; TRL's ${m.name}Trainer refuses a per-device batch below ${minBatch} (its KL estimate pairs examples within a batch), so this script uses ${minBatch}.`);
  const scheduler = c.schedule === 'constant' && c.warmupSteps > 0 ? 'constant_with_warmup' : SCHEDULERS[c.schedule];
  const evalEvery = run.hasEval && c.evalEvery > 0 ? c.evalEvery : 0;
  const args: Array<[string, Py]> = [
    ['output_dir', 'out'],
    ...m.args,
    ['max_length', run.maxLength],
    ['learning_rate', fl(c.lr)],
    ['lr_scheduler_type', scheduler],
    ['warmup_steps', c.warmupSteps],
    ['max_steps', c.steps],
    ['per_device_train_batch_size', batchSize],
    ['per_device_eval_batch_size', batchSize],
    ['gradient_accumulation_steps', c.gradAccum],
    ['max_grad_norm', fl(c.maxGradNorm)],
    ['optim', c.optimizer === 'sgd' ? 'sgd' : 'adamw_torch'],
    ['weight_decay', fl(c.weightDecay)],
    ['adam_beta1', fl(c.beta1)],
    ['adam_beta2', fl(c.beta2)],
    ['adam_epsilon', fl(c.eps)],
    ['seed', c.seed],
    ['data_seed', c.seed],
    ['logging_steps', 1],
    ['eval_strategy', evalEvery > 0 ? 'steps' : 'no'],
    ...(evalEvery > 0 ? ([['eval_steps', evalEvery]] as Array<[string, Py]>) : []),
    ['save_strategy', 'no'],
    // PrefPlay trains in float32; set bf16=True to scale up on recent GPUs
    ['bf16', false],
    ['fp16', false],
    // activation checkpointing recomputes each layer in the backward: the same gradients
    ['gradient_checkpointing', c.checkpointActivations === true],
    ['report_to', 'none'],
  ];
  const notes = [...m.notes];
  if (c.momentsDtype === 'bf16') notes.push('PrefPlay kept AdamW\'s moments in bf16 (stochastic rounding); optim="adamw_torch" keeps them in float32 — the same update, more memory.');
  if (c.activationsDtype === 'f16') notes.push('PrefPlay stored each layer\'s qkv and MLP activations in f16 (and computed with the rounded values); this script keeps float32 activations, so curves differ slightly more.');
  if (c.arithmeticDtype === 'f16') notes.push('PrefPlay computed the linear layers\' matmuls and the attention forward on f16 operands (f32 accumulation); this script computes in float32, so curves differ slightly more.');
  if (c.lora && c.baseDtype && c.baseDtype !== 'f32') notes.push(`PrefPlay kept the frozen base weights in ${c.baseDtype} (the adapters and all arithmetic in float32); load MODEL with torch_dtype=torch.${c.baseDtype === 'bf16' ? 'bfloat16' : 'float16'} to match.`);
  // GRPO, RLOO, PPO: batch sizes in completions or rollouts, reward functions (trl-online.ts)
  if (methodDescriptor(c.objective.method).data === 'prompts') return onlineTrainerSpec(run, { ...m, notes }, args);
  return { ...m, args, notes };
}

/** train.py: runs the same experiment with TRL. */
export function trlScript(run: TrlRun): string {
  const spec = trlTrainerSpec(run);
  if (methodDescriptor(run.config.objective.method).data === 'prompts') return trlOnlineScript(run, spec);
  const c = run.config;
  const { name } = spec;
  const model = run.model ?? 'model';
  const family = modelFamily(run);
  const refModel = spec.usesRefModel && run.refModel ? run.refModel : null;
  // a reward model: RewardTrainer loads MODEL itself (AutoModelForSequenceClassification, num_labels=1, after set_seed)
  const seqCls = spec.sequenceClassification;
  const lines: string[] = [
    '#!/usr/bin/env python3',
    `# PrefPlay run exported for Hugging Face TRL: method ${c.objective.method}, ${name}Trainer.`,
    seqCls
      ? `# Starting model: ${model} (model_type ${family.type}); ${name}Trainer loads it with AutoModelForSequenceClassification(num_labels=1), a causal LM getting a new score head.`
      : `# Starting model: ${model} (model_type ${family.type}, ${family.architecture}); AutoModelForCausalLM loads it.`,
    '# Same objective and hyperparameters as the browser/CLI run; data.jsonl holds the same training',
    '# pairs (eval.jsonl the held-out ones). Data order and float rounding differ, so curves match in',
    `# trend, not bit for bit. Written for TRL ${TRL_VERSION}. Run:  pip install -r requirements.txt && python train.py`,
    ...spec.notes.map((n) => `# Note: ${n}`),
    'import dataclasses',
    '',
    'from datasets import load_dataset',
    seqCls ? 'from transformers import AutoTokenizer' : 'from transformers import AutoModelForCausalLM, AutoTokenizer',
    '',
    ...importLines(spec),
    ...peftImportLines(run),
    '',
    `MODEL = ${py(model)}  # a folder in Hugging Face layout, or a Hub id such as ${py(family.hubExample)}`,
    ...(seqCls ? [] : [`REF_MODEL = ${py(refModel)}  # None: ${c.lora ? 'with peft_config TRL uses MODEL with the adapters disabled as the reference (as PrefPlay does)' : 'TRL copies MODEL as the frozen reference (as PrefPlay does)'}`]),
    `MAX_PROMPT_LENGTH = ${py(run.maxPromptLength)}  # prompt tokens kept, cut from the left`,
    '',
    `config_kwargs = dict(`,
    ...spec.args.map(([k, v]) => `    ${k}=${py(v)},`),
    ')',
    `# max_prompt_length left TRL in 0.29 (PR #4969): pass it where the config still has it, else cut the`,
    '# prompts here the same way PrefPlay does (tokens from the left).',
    ...argsAndTokenizerLines(name, c.lora, family.type, seqCls),
    seqCls ? `model = MODEL  # ${name}Trainer: AutoModelForSequenceClassification.from_pretrained(MODEL, num_labels=1) after set_seed(seed)` : 'model = AutoModelForCausalLM.from_pretrained(MODEL)',
    '',
    '',
    ...datasetLines(false, run.hasEval),
    '',
    ...(spec.prependsBos
      ? [
          `# ${name}Trainer puts tokenizer.bos_token_id before every prompt when the tokenizer has one; PrefPlay`,
          '# reads prompts as tokenized, with no BOS added. Switched off while the trainer tokenizes.',
          'bos_token = tokenizer.bos_token',
          'tokenizer.bos_token = None',
        ]
      : []),
    `trainer = ${name}Trainer(`,
    '    model=model,',
    ...(spec.usesRefModel ? ['    ref_model=AutoModelForCausalLM.from_pretrained(REF_MODEL) if REF_MODEL else None,'] : []),
    '    args=args,',
    '    train_dataset=train_dataset,',
    '    eval_dataset=eval_dataset,',
    '    processing_class=tokenizer,',
    ...peftConfigArg(run),
    ')',
    ...(spec.prependsBos ? ['tokenizer.bos_token = bos_token'] : []),
    ...adapterLines(run, 'trainer.model'),
    'trainer.train()',
    'if eval_dataset is not None:',
    '    print(trainer.evaluate())',
    'trainer.save_model("out/model")',
    'tokenizer.save_pretrained("out/model")',
    '',
  ];
  return lines.join('\n');
}

/** requirements.txt: TRL pinned, the rest at least what TRL 1.9.0 itself requires. */
export const TRL_REQUIREMENTS = [`trl==${TRL_VERSION}`, 'transformers>=4.56.2', 'datasets>=4.7.0', 'accelerate>=1.4.0', 'torch'];
/** A LoRA run's script also needs PEFT (LoraConfig, and TRL's peft_config path). */
export const PEFT_REQUIREMENT = 'peft>=0.15.0';

export function trlReadme(run: TrlRun): string {
  const spec = trlTrainerSpec(run);
  const family = modelFamily(run);
  const online = methodDescriptor(run.config.objective.method).data === 'prompts';
  const judges = (spec.rewardFuncs ?? []).some((f) => f !== 'REWARD_MODEL');
  return [
    `PrefPlay run exported for Hugging Face TRL (${run.config.objective.method} -> ${spec.name}Trainer)`,
    '',
    'Files',
    '  train.py          the experiment: same objective and hyperparameters as the PrefPlay run',
    online ? '  data.jsonl        the training prompts, {"prompt": text} as the model read them' : '  data.jsonl        the training pairs, TRL-ready ({"prompt", "chosen", "rejected"} or unpaired KTO rows)',
    ...(run.hasEval ? [online ? '  eval.jsonl        the held-out prompts' : '  eval.jsonl        the held-out pairs (eval_ metrics)'] : []),
    ...(judges ? [`  ${TRL_REWARDS_FILE}        PrefPlay's rule-based judges as TRL reward functions (the same verdicts)`] : []),
    `  model/            the starting model in Hugging Face layout (${family.type}, ${family.architecture}; from_pretrained loads it)`,
    ...(continuedAdapter(run) ? [`  ${`${continuedAdapter(run)}/`.padEnd(18)}the imported PEFT adapter the LoRA run continued (train.py loads it into its LoRA adapters)`] : []),
    ...(online && run.rewardModel && (spec.name === 'PPO' || spec.rewardFuncs?.includes('REWARD_MODEL')) ? [`  ${`${run.rewardModel}/`.padEnd(18)}the reward model (*ForSequenceClassification)${spec.name === 'PPO' ? ', also the value model\'s start' : ''}`] : []),
    '  requirements.txt  the Python packages',
    '',
    'Run',
    '  python3 -m venv .venv && . .venv/bin/activate',
    '  pip install -r requirements.txt',
    '  python train.py',
    '',
    `To scale up, set MODEL in train.py to a larger ${family.label}-family checkpoint (e.g. "${family.hubExample}") and`,
    'bf16=True on recent GPUs. Metrics are logged every step under the same names PrefPlay charts.',
    '',
  ].join('\n');
}

/** A prompt-only row of an online run's data (its text as the model read it). */
export interface TrlPrompt {
  kind: 'prompt';
  prompt: string;
  line?: number;
}

/**
 * Every text file of the export: train.py, README.txt, requirements.txt, data.jsonl and, with
 * held-out examples, eval.jsonl; an online run's rewards.py when it uses a judge. The caller adds
 * model/ (saveCheckpoint of the starting weights) and, for an online run with a reward model, its folder.
 * Online methods take prompt rows or examples (their prompts, as the run generated from them).
 */
export function trlExportFiles(run: Omit<TrlRun, 'hasEval'>, train: readonly (Example | TrlPrompt)[], evalSet: readonly (Example | TrlPrompt)[] = []): Map<string, string> {
  if (!train.length) throw new Error('TRL export: no training examples');
  if (continuedAdapter(run) && methodDescriptor(run.config.objective.method).trl.model === 'sequence-classification')
    throw new Error("TRL export: a LoRA reward model that continued an imported adapter has no TRL counterpart here (RewardTrainer would put a causal LM's adapter beside a new score head): export its model or its adapter instead, or run it with LoRA off");
  const data = methodDescriptor(run.config.objective.method).data;
  const online = data === 'prompts';
  const full: TrlRun = { ...run, hasEval: evalSet.length > 0, ...(online ? { trainPrompts: run.trainPrompts ?? train.length } : {}) };
  for (const ex of [...train, ...evalSet]) {
    if (ex.kind === 'prompt' && !online) throw new Error(`TRL export: method ${run.config.objective.method} needs ${data === 'unpaired' ? 'examples' : 'paired examples'}, got a prompt-only row${ex.line === undefined ? '' : ` (line ${ex.line})`}`);
    // KTO also takes pairs: TRL's KTOTrainer unpairs a paired data set (maybe_unpair_preference_dataset)
    if (ex.kind === 'unpaired' && data === 'pairs') throw new Error(`TRL export: method ${run.config.objective.method} needs paired examples, got an unpaired example (line ${ex.line})`);
  }
  const line = (ex: Example | TrlPrompt) => (online ? JSON.stringify({ prompt: ex.prompt }) + '\n' : trlJsonlLine(ex as Example));
  const files = new Map<string, string>();
  const spec = trlTrainerSpec(full);
  files.set('train.py', trlScript(full));
  files.set('README.txt', trlReadme(full));
  files.set('requirements.txt', [...TRL_REQUIREMENTS, ...(run.config.lora ? [PEFT_REQUIREMENT] : [])].join('\n') + '\n');
  files.set('data.jsonl', train.map(line).join(''));
  if (evalSet.length) files.set('eval.jsonl', evalSet.map(line).join(''));
  if ((spec.rewardFuncs ?? []).some((f) => f !== 'REWARD_MODEL')) files.set(TRL_REWARDS_FILE, judgeRewardsPython());
  return files;
}
