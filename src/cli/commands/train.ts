// `train`: one preference-optimization run on the GPU (README.md); writes DIR/metrics.jsonl
// (one JSON object per update, TRL's metric names; eval lines carry `eval_` keys), DIR/model/ and,
// with --sample-every N, DIR/samples.jsonl (greedy samples over time, judged).
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from '../command';
import { intOption, numberOption, optionalIntOption, requireString, UsageError } from '../command';
import { loadModelArg } from '../model-load';
import { loadExamplesFile } from '../pairs-load';
import { nodeGpu } from '../../engine/node';
import { writeCheckpointDir } from '../../model/checkpoint-node';
import { saveModelCheckpoint } from '../../model/family-checkpoint';
import { activationsDtypeProblem, arithmeticDtypeProblem, sequenceConfig } from '../../model/family';
import { arithmeticPlan } from '../../kernels/plan';
import { TrainingError } from '../../train/trainer';
import { problemText, TRAIN_DEFAULTS, trainConfigProblems, type TrainConfig } from '../../train/config';
import { TrainingRun, type RunEvents } from '../../train/training-run';
import { phaseName, ProgressClock, progressText } from '../../train/progress';
import { methodFlagOptions, objectiveFromFlags } from '../method-flags';
import { METHOD_DESCRIPTORS, methodDescriptor } from '../../train/objectives';
import { isSampleStep } from '../../onnx/timed-samples';
import { SamplesLog } from '../samples-log';
import { PairsLog } from '../pairs-log';
import { trackedPairs, trackEvery, TRACKED_PAIRS } from '../../train/pair-track';
import type { PairIds } from '../../train/pairs';
import { loadPromptsFile } from '../prompts-load';
import { loadRewardModelArg } from '../reward-model-arg';
import { REWARD_MODEL_REWARD } from '../../train/objectives/online';
import { baseModelName, LORA_FLAG_OPTIONS, loraForCheck, loraFromFlags, resolveLora, writeAdapterDir } from '../lora-flags';

export const train: Command = {
  name: 'train',
  summary: `Train a model on the GPU with one method (${METHOD_DESCRIPTORS.map((d) => `${d.name}: ${d.data}`).join(', ')}); write metrics.jsonl and the trained model.`,
  options: {
    model: { type: 'string', valueName: 'DIR|builtin|hf:ORG/NAME', description: 'Starting model folder, builtin, or a Hugging Face Hub model hf:ORG/NAME[@REVISION] (downloaded into $HF_HOME/hub; HF_TOKEN for gated models)' },
    pairs: { type: 'string', valueName: 'FILE', description: 'Preference pairs (.jsonl, .json, .csv, .tsv, .yaml); online methods (grpo, rloo) take their prompts, or prompt-only rows {"prompt": …}' },
    ...methodFlagOptions(),
    'reward-model': { type: 'string', valueName: 'DIR|hf:ORG/NAME', description: `Reward model folder (*ForSequenceClassification, num_labels 1, the policy's tokenizer): PPO's reward model and its value model's start; for grpo/rloo a reward function (${REWARD_MODEL_REWARD} in --reward, added when --reward is not given), logged as rewards/<folder name>/mean` },
    'ref-model': { type: 'string', valueName: 'DIR|hf:ORG/NAME', description: 'Reference model for methods with a reference (default: the starting weights)' },
    lr: { type: 'string', valueName: 'LR', description: 'Peak learning rate', default: String(TRAIN_DEFAULTS.lr) },
    schedule: { type: 'string', valueName: 'S', description: 'linear, cosine or constant (after warmup)', default: TRAIN_DEFAULTS.schedule },
    'warmup-steps': { type: 'string', valueName: 'N', description: 'Linear warmup updates', default: '0' },
    steps: { type: 'string', valueName: 'N', description: 'Optimizer updates', default: String(TRAIN_DEFAULTS.steps) },
    'batch-size': { type: 'string', valueName: 'N', description: 'Pairs per micro-batch (online methods: prompts per update, each with --num-generations completions)', default: String(TRAIN_DEFAULTS.batchSize) },
    'grad-accum': { type: 'string', valueName: 'N', description: 'Micro-batches per update', default: '1' },
    optimizer: { type: 'string', valueName: 'adamw|sgd', description: 'AdamW (β1 0.9, β2 0.999, eps 1e-8) or plain SGD (no momentum, no weight decay)', default: 'adamw' },
    'moments-dtype': { type: 'string', valueName: 'f32|bf16', description: 'Storage of the AdamW moments: bf16 halves their memory (GPT-2 small: 996 → 498 MB); the math stays f32 and bf16 values are rounded stochastically (unbiased, so v still decays with β2 0.999)', default: 'f32' },
    'activations-dtype': { type: 'string', valueName: 'f32|f16', description: 'Storage of the widest per-layer activations (GPT-2: qkv and fch; Llama family: q|k|v and gate|up): f16 keeps them at 2 bytes per value (GPT-2 small, one pair × 512 tokens: 464 → 345 MB of activations; SmolLM2-135M: 772 → 537 MB); the math stays f32, through their f16-rounded values', default: 'f32' },
    'arithmetic-dtype': { type: 'string', valueName: 'f32|f16', description: "Arithmetic of the linear layers' matmuls and the attention forward (GPT-2, full fine-tuning): f16 reads their operands as f16 (weights, inputs, output gradients) and accumulates in f32; master weights, gradients and the optimizer stay f32. Needs an adapter with the WebGPU feature shader-f16 (else the run stops at start)", default: 'f32' },
    ...LORA_FLAG_OPTIONS,
    'weight-decay': { type: 'string', valueName: 'WD', description: 'AdamW weight decay (not on biases and LayerNorm or RMSNorm weights)', default: '0' },
    'max-grad-norm': { type: 'string', valueName: 'G', description: 'Global-norm clipping; 0 disables', default: '1' },
    seed: { type: 'string', valueName: 'S', description: 'Seed of the data order and the train/eval split', default: String(TRAIN_DEFAULTS.seed) },
    'eval-fraction': { type: 'string', valueName: 'F', description: 'Fraction of pairs held out for eval_ metrics', default: '0' },
    'eval-every': { type: 'string', valueName: 'N', description: 'Evaluate every N updates (and after the last); 0: only after the last', default: '0' },
    'sample-every': { type: 'string', valueName: 'N', description: "Greedy samples of the first 3 held-out prompts (training prompts without an eval split) at step 0, every N updates and after the last, scored by the data set's judge, into DIR/samples.jsonl; 0: none", default: '0' },
    'max-length': { type: 'string', valueName: 'N', description: 'Max prompt + completion tokens (default: min(1024, n_positions))' },
    'max-prompt-length': { type: 'string', valueName: 'N', description: 'Max prompt tokens, cut from the left' },
    'track-pairs': { type: 'string', valueName: 'N', description: 'Tracked pairs (the first N training pairs) written to DIR/pairs.jsonl at step 0 (with CHES) and every --track-every updates: summed and per-token log-probs of both answers; 0: none', default: String(TRACKED_PAIRS) },
    'track-every': { type: 'string', valueName: 'N', description: `Updates between tracked points (and the last); default: ⌈steps / 50⌉, as the page` },
    out: { type: 'string', valueName: 'DIR', description: 'Output folder: metrics.jsonl, run.json, model/' },
    quiet: { type: 'boolean', description: 'No per-step or progress lines on stderr' },
  },
  details: [
    'Example: npm run cli -- train --model builtin --pairs pairs.jsonl --method orpo --beta 0.1 --steps 200 --out runs/orpo',
    '--method reward trains a reward model (TRL RewardTrainer): from a causal-LM folder it first replaces the LM head by a',
    'score head drawn from --seed, or continues a reward folder (init --reward-head, an earlier run); DIR/model/ is a',
    '*ForSequenceClassification folder that `score` reads. Metrics: loss, accuracy, margin, min/mean/max_reward, num_tokens.',
    '--method grpo|rloo trains online (TRL GRPOTrainer / RLOOTrainer): each update generates --num-generations completions of',
    '--batch-size prompts on the GPU (seed + update), scores them with --reward judge:arithmetic[,judge:politeness]',
    '(--reward-weights), and trains against a copy of the starting weights (β --beta, default 0.04). DIR/samples.jsonl gets',
    'every completion (step, prompt, completion, prompt_ids, completion_ids, reward). Example: train --model builtin',
    '--pairs public/data/arithmetic.jsonl --method grpo --reward judge:arithmetic --num-generations 4 --max-new-tokens 8 --out runs/grpo',
    '--reward-model DIR scores completions with a reward folder (train --method reward) as `score` does: with grpo/rloo it is',
    'one more reward function (--reward judge:arithmetic,reward-model --reward-weights 1,0.5), with ppo the reward model.',
    '--method ppo (TRL PPOTrainer): one response per prompt at --temperature (0.7), the reward model\'s score, k1 KL × --kl-coef',
    '(0.05) per token, a value model started from the reward model, GAE, clipped policy and value losses, --ppo-epochs (4)',
    'passes per batch; DIR/samples.jsonl gets every response with its score. Seed 002\'s chain: train --method sft --out runs/sft;',
    'train --method reward --model runs/sft/model --out runs/rm; train --method ppo --model runs/sft/model --reward-model runs/rm/model.',
  ],
  async run(opts) {
    const model = requireString(opts, 'model');
    const pairsPath = requireString(opts, 'pairs');
    const out = requireString(opts, 'out');
    const rewardModelArg = opts['reward-model'] === undefined ? null : String(opts['reward-model']);
    const method0 = String(opts.method ?? 'dpo');
    if (rewardModelArg !== null && !['grpo', 'rloo', 'ppo'].includes(method0)) throw new UsageError(`--reward-model applies to --method grpo, rloo and ppo only (got --method ${method0})`);
    if (method0 === 'ppo' && rewardModelArg === null) throw new UsageError('--method ppo needs --reward-model DIR: a reward folder (train --method reward, or init --reward-head) with the policy\'s tokenizer');
    if (rewardModelArg !== null && method0 !== 'ppo') {
      // the reward model is one more reward function: alone when --reward is not given
      const names = opts.reward === undefined ? [] : String(opts.reward).split(',').map((x) => x.trim()).filter(Boolean);
      if (!names.includes(REWARD_MODEL_REWARD)) opts = { ...opts, reward: [...names, REWARD_MODEL_REWARD].join(',') };
    } else if (rewardModelArg === null && String(opts.reward ?? '').split(',').map((x) => x.trim()).includes(REWARD_MODEL_REWARD)) {
      throw new UsageError(`--reward ${REWARD_MODEL_REWARD} needs --reward-model DIR`);
    }
    const objective = objectiveFromOptions(opts);
    const cfg: TrainConfig = {
      ...TRAIN_DEFAULTS,
      objective,
      steps: intOption(opts, 'steps', TRAIN_DEFAULTS.steps, 1),
      batchSize: intOption(opts, 'batch-size', TRAIN_DEFAULTS.batchSize, 1),
      gradAccum: intOption(opts, 'grad-accum', 1, 1),
      optimizer: oneOf(opts, 'optimizer', ['adamw', 'sgd'] as const),
      momentsDtype: oneOf(opts, 'moments-dtype', ['f32', 'bf16'] as const),
      activationsDtype: oneOf(opts, 'activations-dtype', ['f32', 'f16'] as const),
      // absent unless f16 (configs, run.json and exports of f32 runs unchanged)
      ...(oneOf(opts, 'arithmetic-dtype', ['f32', 'f16'] as const) === 'f16' ? { arithmeticDtype: 'f16' as const } : {}),
      lr: numberOption(opts, 'lr', TRAIN_DEFAULTS.lr),
      schedule: oneOf(opts, 'schedule', ['linear', 'cosine', 'constant'] as const),
      warmupSteps: intOption(opts, 'warmup-steps', 0, 0),
      weightDecay: numberOption(opts, 'weight-decay', 0),
      maxGradNorm: numberOption(opts, 'max-grad-norm', 1),
      seed: intOption(opts, 'seed', TRAIN_DEFAULTS.seed, 0),
      evalFraction: numberOption(opts, 'eval-fraction', 0),
      evalEvery: intOption(opts, 'eval-every', 0, 0),
      ...loraFromFlags(opts),
    };
    const sampleEvery = intOption(opts, 'sample-every', 0, 0);
    // a reward model has a score head, no LM head: nothing to sample or to track log-probs of
    const scoreHead = methodDescriptor(objective.method).head === 'score';
    if (scoreHead && sampleEvery > 0) throw new UsageError(`--sample-every: --method ${objective.method} trains a reward model, which has no LM head to generate with`);
    // online methods generate every update, and log every completion
    const online = methodDescriptor(objective.method).data === 'prompts';
    if (online && sampleEvery > 0) throw new UsageError(`--sample-every: --method ${objective.method} writes every completion it generates to DIR/samples.jsonl already`);
    // LoRA: the reference is the base with the adapters off (TRL's PEFT path), so no other one
    if (online && cfg.lora && opts['ref-model']) throw new UsageError(`--ref-model: with --lora-r, --method ${objective.method}'s reference is the base model with the adapters off (no second copy of the weights); drop --ref-model or train the whole model`);
    const problems = trainConfigProblems({ ...loraForCheck(cfg), sampleEvery });
    if (problems.length) throw new UsageError(problems.map((p) => problemText(p, flagOf(p.field))).join('; '));
    const ckpt = await loadModelArg(model);
    const refCkpt = opts['ref-model'] ? await loadModelArg(String(opts['ref-model'])) : null;
    const rewardModel = rewardModelArg === null ? undefined : await loadRewardModelArg(rewardModelArg, ckpt);
    if (refCkpt && JSON.stringify(refCkpt.config) !== JSON.stringify(ckpt.config)) throw new UsageError('--ref-model has a different configuration from --model');
    const dtypeProblem = activationsDtypeProblem(ckpt.config, cfg.activationsDtype);
    if (dtypeProblem) throw new UsageError(`--activations-dtype ${cfg.activationsDtype}: ${dtypeProblem}`);
    const arithmeticProblem = arithmeticDtypeProblem(ckpt.config, cfg.arithmeticDtype);
    if (arithmeticProblem) throw new UsageError(`--arithmetic-dtype ${cfg.arithmeticDtype}: ${arithmeticProblem}`);
    // LoRA: an imported PEFT adapter completes the flags; the base dtype defaults to the checkpoint's
    const imported = await resolveLora(cfg, opts, ckpt.config);
    const { nPositions } = sequenceConfig(ckpt.config);
    const [maxLength, maxPromptLength] = [optionalIntOption(opts, 'max-length', 2), optionalIntOption(opts, 'max-prompt-length', 1)];
    // the lengths against the model, by the same rules as the page's form
    const lengthProblems = trainConfigProblems({ ...cfg, maxLength: maxLength ?? null, maxPromptLength: maxPromptLength ?? null, nPositions });
    if (lengthProblems.length) throw new UsageError(lengthProblems.map((p) => problemText(p, flagOf(p.field))).join('; '));
    const prompts = online ? await loadPromptsFile(pairsPath, ckpt.tokenizer, nPositions, maxLength, maxPromptLength) : null;
    const data = prompts ? null : await loadExamplesFile(pairsPath, ckpt.tokenizer, nPositions, maxLength, maxPromptLength);
    // KTO takes unpaired examples, or pairs split into desirable and undesirable ones (as TRL does)
    const kto = methodDescriptor(objective.method).data === 'unpaired';
    if (data && !kto && !data.pairs.length) throw new UsageError(`--method ${objective.method} needs preference pairs; ${pairsPath} holds unpaired (KTO) examples: use ${METHOD_DESCRIPTORS.filter((d) => d.data === 'unpaired').map((d) => `--method ${d.name}`).join(' or ')}`);

    // metrics.jsonl: every row as the run reports it (train row, then eval row when one was due)
    let log: WriteStream | null = null;
    let samplesOut: WriteStream | null = null;
    const closeLog = () => new Promise<void>((r) => (log ? log.end(r) : r())).then(() => new Promise<void>((r) => (samplesOut ? samplesOut.end(r) : r())));
    // passes over the whole data set (reference log-probs, eval): a line at most every second, and
    // the reference pass's last one
    const clock = new ProgressClock(1000, (p) => console.error(`${phaseName(p.phase)}: ${progressText(p)}`), ['reference']);
    const events: RunEvents = {
      progress: opts.quiet ? undefined : (p) => clock.report(p),
      samples(rows) {
        for (const x of rows) samplesOut?.write(JSON.stringify(x) + '\n');
      },
      ppoSamples(rows) {
        for (const x of rows) samplesOut?.write(JSON.stringify(x) + '\n');
      },
      metrics(rows) {
        for (const m of rows) log?.write(JSON.stringify(m) + '\n');
        if (opts.quiet) return;
        const [m, e] = rows;
        if (objective.method === 'ppo') {
          console.error(`step ${m.step}/${cfg.steps}  score ${m['objective/scores'].toFixed(4)}  kl ${m['objective/kl'].toFixed(5)}  policy ${m['loss/policy_avg'].toFixed(4)}  value ${m['loss/value_avg'].toFixed(4)}  length ${m['completions/mean_length'].toFixed(1)}  grad_norm ${m.grad_norm.toFixed(3)}  ${m.tokens_per_second.toFixed(0)} tok/s`);
          if (e) console.error(`eval  score ${(e['eval_objective/scores'] ?? NaN).toFixed(4)}  length ${(e['eval_completions/mean_length'] ?? NaN).toFixed(1)}`);
          return;
        }
        if (online) {
          console.error(`step ${m.step}/${cfg.steps}  loss ${m.loss.toFixed(4)}  reward ${m.reward.toFixed(3)}  kl ${(m.kl ?? NaN).toFixed(5)}  length ${m['completions/mean_length'].toFixed(1)}  grad_norm ${m.grad_norm.toFixed(3)}  ${m.tokens_per_second.toFixed(0)} tok/s`);
          if (e) console.error(`eval  reward ${(e.eval_reward ?? NaN).toFixed(3)}  length ${(e['eval_completions/mean_length'] ?? NaN).toFixed(1)}`);
          return;
        }
        // the reward model's TRL names are `margin` and `accuracy`
        const [margin, acc] = scoreHead ? ['margin', 'accuracy'] : ['rewards/margins', 'rewards/accuracies'];
        console.error(`step ${m.step}/${cfg.steps}  loss ${m.loss.toFixed(4)}  margin ${(m[margin] ?? NaN).toFixed(4)}  acc ${(m[acc] ?? NaN).toFixed(2)}  grad_norm ${m.grad_norm.toFixed(3)}  ${m.tokens_per_second.toFixed(0)} tok/s`);
        if (e) console.error(`eval  loss ${e.eval_loss.toFixed(4)}  margin ${(e[`eval_${margin}`] ?? NaN).toFixed(4)}  acc ${(e[`eval_${acc}`] ?? NaN).toFixed(2)}`);
      },
    };
    let run: TrainingRun;
    try {
      const examples = prompts ? { kind: 'prompts' as const, items: prompts.prompts } : kto && data!.unpaired.length ? { kind: 'unpaired' as const, items: data!.unpaired } : { kind: 'pairs' as const, items: data!.pairs };
      run = new TrainingRun({ base: ckpt, data: examples, config: cfg, refWeights: refCkpt?.params, rewardModel, adapters: imported?.adapters, events, text: (ids) => ckpt.tokenizer.decode(ids) });
    } catch (e) {
      throw new UsageError((e as Error).message, { cause: e });
    }
    const gpu = await nodeGpu('train');
    // f16 arithmetic on an adapter without shader-f16: F16UnavailableError's one line, before anything is written
    if (cfg.arithmeticDtype) arithmeticPlan(gpu, cfg.arithmeticDtype);
    await mkdir(out, { recursive: true });
    const lengths = prompts ?? data!.report.truncation;
    const counts = run.prompts ? { prompts_from: prompts!.source, train_prompts: run.prompts.train.length, eval_prompts: run.prompts.eval.length } : { train_pairs: run.train.length, eval_pairs: run.evalSet.length };
    await writeFile(join(out, 'run.json'), JSON.stringify({ model, ref_model: opts['ref-model'] ?? null, ...(rewardModelArg === null ? {} : { reward_model: rewardModelArg }), ...(imported && opts['lora-adapter'] !== undefined ? { lora_adapter: opts['lora-adapter'] } : {}), pairs: pairsPath, max_length: lengths.maxLength, max_prompt_length: lengths.maxPromptLength, ...counts, config: cfg, adapter: gpu.adapter.description || gpu.adapter.architecture }, null, 2));
    log = createWriteStream(join(out, 'metrics.jsonl'));
    if (online) samplesOut = createWriteStream(join(out, 'samples.jsonl'));
    const samples = sampleEvery > 0 ? new SamplesLog(join(out, 'samples.jsonl'), ckpt, run, pairsPath) : null;
    const tracked = run.kind === 'pairs' && !scoreHead ? trackedPairs(run.train as PairIds[], intOption(opts, 'track-pairs', TRACKED_PAIRS, 0)) : [];
    const pairsLog = tracked.length ? new PairsLog(join(out, 'pairs.jsonl'), tracked, cfg.steps, opts['track-every'] === undefined ? trackEvery(cfg.steps) : intOption(opts, 'track-every', 1, 1)) : null;
    try {
      await run.start(gpu);
      await samples?.write(0);
      await pairsLog?.start(run);
      while (!run.done) {
        await run.advance();
        if (samples && isSampleStep(run.step, sampleEvery, cfg.steps)) await samples.write(run.step);
        await pairsLog?.after(run);
      }
    } catch (e) {
      await closeLog();
      await samples?.close();
      await pairsLog?.close();
      if (e instanceof TrainingError) {
        // TrainingRun's message names the file lines (as the page's does) when every example has one
        const lines = e.lines.length && !/\(file lines? /.test(e.message) ? `; file lines ${e.lines.join(', ')}` : '';
        throw new Error(`${e.message}${lines} — metrics so far are in ${join(out, 'metrics.jsonl')}`, { cause: e });
      }
      throw e;
    }
    await closeLog();
    await samples?.close();
    await pairsLog?.close();
    const tokenizer = ckpt.tokenizer.kind === 'byte' ? 'byte' : ckpt.tokenizerFiles;
    // the run's model: for --method reward, a *ForSequenceClassification folder (score head, pad_token_id)
    await writeCheckpointDir(join(out, 'model'), saveModelCheckpoint(run.modelConfig, await run.weights(), tokenizer));
    // LoRA: the adapters as a PEFT folder too (DIR/model/ holds them merged)
    if (cfg.lora) await writeAdapterDir(join(out, 'adapter'), ckpt.config, cfg.lora, (await run.adapterWeights())!, baseModelName(model, ckpt.dir));
    run.release();
    console.error(`wrote ${join(out, 'metrics.jsonl')}${samples || online ? `, ${join(out, 'samples.jsonl')}` : ''}${cfg.lora ? `, ${join(out, 'adapter')}/` : ''} and ${join(out, 'model')}/`);
  },
};

/** The CLI flag of a config field: lr -> --lr, evalFraction -> --eval-fraction, objective -> --method. */
function flagOf(field: string): string {
  return field === 'objective' ? '--method' : `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

function oneOf<T extends string>(opts: Record<string, unknown>, name: string, values: readonly T[]): T {
  const v = String(opts[name]);
  if (!values.includes(v as T)) throw new UsageError(`--${name} must be one of ${values.join(', ')}, got "${v}"`);
  return v as T;
}

/** The objective the method flags name (derived from the method registry). */
export const objectiveFromOptions = objectiveFromFlags;
