// `train`: one preference-optimization run on the GPU (SPEC §6); writes DIR/metrics.jsonl
// (one JSON object per update, TRL's metric names; eval lines carry `eval_` keys) and DIR/model/.
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from '../command';
import { intOption, numberOption, requireString, UsageError } from '../command';
import { loadModelArg } from '../model-load';
import { loadExamplesFile } from '../pairs-load';
import { nodeGpu } from '../../engine/node';
import { GptModel } from '../../model/gpt';
import { saveCheckpoint } from '../../model/checkpoint';
import { writeCheckpointDir } from '../../model/checkpoint-node';
import { Trainer, TrainingError, type BaseTrainer } from '../../train/trainer';
import { KtoTrainer } from '../../train/kto-trainer';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../train/config';
import { splitTrainEval } from '../../data/split';
import { isMethod, METHODS, type ObjectiveSpec } from '../../train/objectives';

export const train: Command = {
  name: 'train',
  summary: 'Train a model on preference pairs (DPO, ORPO, SimPO, CPO, SFT) or unpaired examples (KTO) on the GPU; write metrics.jsonl and the trained model.',
  options: {
    model: { type: 'string', valueName: 'DIR|builtin', description: 'Starting model folder, or builtin' },
    pairs: { type: 'string', valueName: 'FILE', description: 'Preference pairs (.jsonl, .json, .csv, .tsv, .yaml)' },
    method: { type: 'string', valueName: 'NAME', description: `Objective: ${METHODS.join(', ')}`, default: 'dpo' },
    'loss-type': { type: 'string', valueName: 'T[,T]', description: 'DPO loss type(s), TRL names: sigmoid, robust, hinge, ipo, sigmoid_norm, exo_pair, nca_pair, sppo_hard, apo_zero, apo_down, discopop, sft; KTO: kto or apo_zero_unpaired' },
    'desirable-weight': { type: 'string', valueName: 'W', description: 'KTO weight of desirable examples', default: '1' },
    'undesirable-weight': { type: 'string', valueName: 'W', description: 'KTO weight of undesirable examples', default: '1' },
    'loss-weights': { type: 'string', valueName: 'W[,W]', description: 'Weights of combined DPO loss types' },
    beta: { type: 'string', valueName: 'B', description: 'β (DPO/SimPO/CPO) or λ (ORPO, TRL\'s beta)', default: '0.1' },
    'label-smoothing': { type: 'string', valueName: 'E', description: 'ε of DPO robust / exo_pair, and CPO/SimPO label smoothing', default: '0' },
    'simpo-gamma': { type: 'string', valueName: 'G', description: 'SimPO target reward margin γ', default: '0.5' },
    'cpo-alpha': { type: 'string', valueName: 'A', description: 'Weight of the NLL term of CPO (default 1) and SimPO (default 0)' },
    'nll-exclude-prompt': { type: 'boolean', description: 'ORPO: NLL over the chosen completion only (TRL default includes the prompt)' },
    'ref-model': { type: 'string', valueName: 'DIR', description: 'Reference model for DPO (default: the starting weights)' },
    lr: { type: 'string', valueName: 'LR', description: 'Peak learning rate', default: String(TRAIN_DEFAULTS.lr) },
    schedule: { type: 'string', valueName: 'S', description: 'linear, cosine or constant (after warmup)', default: TRAIN_DEFAULTS.schedule },
    'warmup-steps': { type: 'string', valueName: 'N', description: 'Linear warmup updates', default: '0' },
    steps: { type: 'string', valueName: 'N', description: 'Optimizer updates', default: String(TRAIN_DEFAULTS.steps) },
    'batch-size': { type: 'string', valueName: 'N', description: 'Pairs per micro-batch', default: String(TRAIN_DEFAULTS.batchSize) },
    'grad-accum': { type: 'string', valueName: 'N', description: 'Micro-batches per update', default: '1' },
    optimizer: { type: 'string', valueName: 'adamw|sgd', description: 'AdamW (β1 0.9, β2 0.999, eps 1e-8) or plain SGD (no momentum, no weight decay)', default: 'adamw' },
    'moments-dtype': { type: 'string', valueName: 'f32|bf16', description: 'Storage of the AdamW moments: bf16 halves their memory (GPT-2 small: 996 → 498 MB); the math stays f32 and bf16 values are rounded stochastically (unbiased, so v still decays with β2 0.999)', default: 'f32' },
    'activations-dtype': { type: 'string', valueName: 'f32|f16', description: 'Storage of the per-layer qkv and fch activations: f16 keeps them at 2 bytes per value (GPT-2 small, one pair × 512 tokens: 464 → 345 MB of activations); the math stays f32, through their f16-rounded values', default: 'f32' },
    'weight-decay': { type: 'string', valueName: 'WD', description: 'AdamW weight decay (not on biases and LayerNorm weights)', default: '0' },
    'max-grad-norm': { type: 'string', valueName: 'G', description: 'Global-norm clipping; 0 disables', default: '1' },
    seed: { type: 'string', valueName: 'S', description: 'Seed of the data order and the train/eval split', default: String(TRAIN_DEFAULTS.seed) },
    'eval-fraction': { type: 'string', valueName: 'F', description: 'Fraction of pairs held out for eval_ metrics', default: '0' },
    'eval-every': { type: 'string', valueName: 'N', description: 'Evaluate every N updates (and after the last); 0: only after the last', default: '0' },
    'max-length': { type: 'string', valueName: 'N', description: 'Max prompt + completion tokens (default: min(1024, n_positions))' },
    'max-prompt-length': { type: 'string', valueName: 'N', description: 'Max prompt tokens, cut from the left' },
    out: { type: 'string', valueName: 'DIR', description: 'Output folder: metrics.jsonl, run.json, model/' },
    quiet: { type: 'boolean', description: 'No per-step lines on stderr' },
  },
  details: ['Example: npm run cli -- train --model builtin --pairs pairs.jsonl --method orpo --beta 0.1 --steps 200 --out runs/orpo'],
  async run(opts) {
    const model = requireString(opts, 'model');
    const pairsPath = requireString(opts, 'pairs');
    const out = requireString(opts, 'out');
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
      lr: numberOption(opts, 'lr', TRAIN_DEFAULTS.lr),
      schedule: oneOf(opts, 'schedule', ['linear', 'cosine', 'constant'] as const),
      warmupSteps: intOption(opts, 'warmup-steps', 0, 0),
      weightDecay: numberOption(opts, 'weight-decay', 0),
      maxGradNorm: numberOption(opts, 'max-grad-norm', 1),
      seed: intOption(opts, 'seed', TRAIN_DEFAULTS.seed, 0),
      evalFraction: numberOption(opts, 'eval-fraction', 0),
      evalEvery: intOption(opts, 'eval-every', 0, 0),
    };
    if (cfg.optimizer === 'sgd' && cfg.weightDecay !== 0) throw new UsageError('--weight-decay applies to adamw only (SGD here has no momentum and no weight decay)');
    if (cfg.optimizer === 'sgd' && cfg.momentsDtype !== 'f32') throw new UsageError('--moments-dtype applies to adamw only (SGD here keeps no moments)');
    if (!(cfg.lr > 0)) throw new UsageError(`--lr must be > 0, got ${cfg.lr}`);
    if (!(cfg.evalFraction >= 0 && cfg.evalFraction < 1)) throw new UsageError(`--eval-fraction must be in [0, 1), got ${cfg.evalFraction}`);
    if (cfg.maxGradNorm < 0) throw new UsageError(`--max-grad-norm must be ≥ 0, got ${cfg.maxGradNorm}`);
    const ckpt = await loadModelArg(model);
    const refCkpt = opts['ref-model'] ? await loadModelArg(String(opts['ref-model'])) : null;
    if (refCkpt && JSON.stringify(refCkpt.config) !== JSON.stringify(ckpt.config)) throw new UsageError('--ref-model has a different configuration from --model');
    const maxLength = opts['max-length'] === undefined ? undefined : intOption(opts, 'max-length', 0, 2);
    const maxPrompt = opts['max-prompt-length'] === undefined ? undefined : intOption(opts, 'max-prompt-length', 0, 1);
    const data = await loadExamplesFile(pairsPath, ckpt.tokenizer, ckpt.config.nPositions, maxLength, maxPrompt);
    const kto = objective.method === 'kto';
    if (kto && !data.unpaired.length) throw new UsageError(`--method kto needs unpaired examples ({"prompt", "completion", "label"}); ${pairsPath} holds preference pairs`);
    if (!kto && !data.pairs.length) throw new UsageError(`--method ${objective.method} needs preference pairs; ${pairsPath} holds unpaired (KTO) examples: use --method kto`);
    const split = kto ? splitTrainEval(data.unpaired, cfg.evalFraction, cfg.seed) : splitTrainEval(data.pairs, cfg.evalFraction, cfg.seed);
    if (!split.train.length) throw new UsageError('no training examples left after the eval split');

    const gpu = await nodeGpu('train');
    const gm = new GptModel(gpu, ckpt.config);
    gm.upload(ckpt.params);
    let trainer: BaseTrainer & { prepare(ref?: Map<string, Float32Array>): Promise<void>; evaluate(): Promise<Record<string, number>> };
    try {
      trainer = kto ? new KtoTrainer(gm, split.train as never, split.eval as never, cfg) : new Trainer(gm, split.train as never, split.eval as never, cfg);
    } catch (e) {
      throw new UsageError((e as Error).message, { cause: e });
    }
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'run.json'), JSON.stringify({ model, ref_model: opts['ref-model'] ?? null, pairs: pairsPath, max_length: data.report.truncation.maxLength, max_prompt_length: data.report.truncation.maxPromptLength, train_pairs: split.train.length, eval_pairs: split.eval.length, config: cfg, adapter: gpu.adapter.description || gpu.adapter.architecture }, null, 2));
    const log = createWriteStream(join(out, 'metrics.jsonl'));
    const write = (m: Record<string, number>) => log.write(JSON.stringify(m) + '\n');
    await trainer.prepare(refCkpt?.params);
    try {
      for (let s = 0; s < cfg.steps; s++) {
        const m = await trainer.trainStep();
        write(m);
        if (!opts.quiet) console.error(`step ${m.step}/${cfg.steps}  loss ${m.loss.toFixed(4)}  margin ${(m['rewards/margins'] ?? NaN).toFixed(4)}  acc ${(m['rewards/accuracies'] ?? NaN).toFixed(2)}  grad_norm ${m.grad_norm.toFixed(3)}  ${m.tokens_per_second.toFixed(0)} tok/s`);
        const last = s === cfg.steps - 1;
        if (split.eval.length && (last || (cfg.evalEvery > 0 && m.step % cfg.evalEvery === 0))) {
          const e = await trainer.evaluate();
          write({ ...e, epoch: m.epoch, step: m.step });
          if (!opts.quiet) console.error(`eval  loss ${e.eval_loss.toFixed(4)}  margin ${(e['eval_rewards/margins'] ?? NaN).toFixed(4)}  acc ${(e['eval_rewards/accuracies'] ?? NaN).toFixed(2)}`);
        }
      }
    } catch (e) {
      if (e instanceof TrainingError) {
        await new Promise<void>((r) => log.end(r));
        throw new Error(`${e.message} — metrics so far are in ${join(out, 'metrics.jsonl')}`, { cause: e });
      }
      throw e;
    }
    await new Promise<void>((r) => log.end(r));
    const tokenizer = ckpt.tokenizer.kind === 'byte' ? 'byte' : ckpt.tokenizerFiles;
    await writeCheckpointDir(join(out, 'model'), saveCheckpoint(ckpt.config, await gm.download(), tokenizer));
    trainer.destroy();
    gm.destroy();
    console.error(`wrote ${join(out, 'metrics.jsonl')} and ${join(out, 'model')}/`);
  },
};

function oneOf<T extends string>(opts: Record<string, unknown>, name: string, values: readonly T[]): T {
  const v = String(opts[name]);
  if (!values.includes(v as T)) throw new UsageError(`--${name} must be one of ${values.join(', ')}, got "${v}"`);
  return v as T;
}

function list(opts: Record<string, unknown>, name: string): string[] | undefined {
  const v = opts[name];
  return typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
}

export function objectiveFromOptions(opts: Record<string, unknown>): ObjectiveSpec {
  const method = String(opts.method ?? 'dpo');
  if (!isMethod(method)) throw new UsageError(`--method must be one of ${METHODS.join(', ')}, got "${method}"`);
  const beta = numberOption(opts, 'beta', 0.1);
  const labelSmoothing = numberOption(opts, 'label-smoothing', 0);
  if (method !== 'dpo' && opts['loss-weights'] !== undefined) throw new UsageError('--loss-weights applies to --method dpo only');
  if (method !== 'dpo' && method !== 'kto' && opts['loss-type'] !== undefined) throw new UsageError('--loss-type applies to --method dpo and kto only');
  switch (method) {
    case 'dpo': {
      const types = list(opts, 'loss-type');
      const weights = list(opts, 'loss-weights')?.map((w) => {
        const n = Number(w);
        if (!Number.isFinite(n)) throw new UsageError(`--loss-weights: "${w}" is not a number`);
        return n;
      });
      return { method, beta, labelSmoothing, ...(types ? { lossType: types as never } : {}), ...(weights ? { lossWeights: weights } : {}) };
    }
    case 'orpo':
      return { method, beta, nllIncludesPrompt: !opts['nll-exclude-prompt'] };
    case 'simpo':
      return { method, beta, labelSmoothing, simpoGamma: numberOption(opts, 'simpo-gamma', 0.5), cpoAlpha: numberOption(opts, 'cpo-alpha', 0) };
    case 'cpo':
      return { method, beta, labelSmoothing, cpoAlpha: numberOption(opts, 'cpo-alpha', 1) };
    case 'kto':
      return { method, beta, desirableWeight: numberOption(opts, 'desirable-weight', 1), undesirableWeight: numberOption(opts, 'undesirable-weight', 1), ...(opts['loss-type'] ? { lossType: String(opts['loss-type']) as never } : {}) };
    default:
      return { method: 'sft' };
  }
}
