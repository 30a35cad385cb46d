// `export-trl`: a `train` output folder as a runnable Hugging Face TRL experiment: train.py with
// the run's objective and hyperparameters, data.jsonl (+ eval.jsonl) with the same train/eval
// split, the starting model in Hugging Face layout (its own family's: GPT-2, Llama, Qwen2 or
// Mistral), README.txt and requirements.txt. Online runs (grpo, rloo, ppo): data.jsonl holds the
// prompts, rewards.py the judges as TRL reward functions, reward_model/ the run's --reward-model.
import { createReadStream, existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { Command } from '../command';
import { intOption, requireString, UsageError } from '../command';
import { loadModelArg } from '../model-load';
import { writeCheckpointDir } from '../../model/checkpoint-node';
import { saveModelCheckpoint } from '../../model/family-checkpoint';
import { modelType, sequenceConfig } from '../../model/family';
import { processSource } from '../../data/pipeline';
import { DataError, type Example } from '../../data/types';
import { cliLengths } from '../pairs-load';
import { splitTrainEval } from '../../data/split';
import { TRAIN_DEFAULTS, validateTrainConfig, type TrainConfig } from '../../train/config';
import { createObjective, methodDescriptor } from '../../train/objectives';
import type { Tokenizer } from '../../tokenizer/types';
import { trlExportFiles, type TrlPrompt } from '../../export/trl-script';
import { processPromptSource } from '../../data/prompts';
import { rewardModelName } from '../reward-model-arg';

interface RunJson {
  model: string;
  ref_model?: string | null;
  /** Online runs: the --reward-model folder (PPO's reward and value model; GRPO/RLOO reward "reward-model"). */
  reward_model?: string | null;
  /** A LoRA run that continued an imported PEFT adapter: its folder as given to --lora-adapter. */
  lora_adapter?: string | null;
  pairs: string;
  config: TrainConfig;
  max_length?: number;
  max_prompt_length?: number;
}

export const exportTrl: Command = {
  name: 'export-trl',
  summary: 'Turn a `train` output folder into a runnable TRL experiment (train.py with the same hyperparameters, data.jsonl, the starting model).',
  options: {
    run: { type: 'string', valueName: 'DIR', description: 'Output folder of `train` (holds run.json)' },
    out: { type: 'string', valueName: 'DIR', description: 'Folder to write: train.py, data.jsonl, eval.jsonl, model/, README.txt, requirements.txt (online runs: rewards.py, reward_model/)' },
    'max-length': { type: 'string', valueName: 'N', description: 'The run\'s --max-length, when run.json does not record it (default: min(1024, n_positions))' },
    'max-prompt-length': { type: 'string', valueName: 'N', description: 'The run\'s --max-prompt-length, when run.json does not record it' },
  },
  details: ['Example: npm run cli -- export-trl --run runs/orpo --out trl-orpo && cd trl-orpo && python train.py'],
  async run(opts) {
    const runDir = requireString(opts, 'run');
    const out = requireString(opts, 'out');
    const run = await readRunJson(runDir);
    const ckpt = await loadModelArg(resolvePath(runDir, run.model));
    const ref = run.ref_model ? await loadModelArg(resolvePath(runDir, run.ref_model)) : null;
    const optLength = opts['max-length'] === undefined ? undefined : intOption(opts, 'max-length', 0, 2);
    const optPrompt = opts['max-prompt-length'] === undefined ? undefined : intOption(opts, 'max-prompt-length', 0, 1);
    const { maxLength, maxPromptLength } = cliLengths(sequenceConfig(ckpt.config).nPositions, run.max_length ?? optLength, run.max_prompt_length ?? optPrompt);
    if (run.max_length === undefined && optLength === undefined) console.error(`run.json does not record --max-length: using ${maxLength} and max prompt length ${maxPromptLength} (pass --max-length / --max-prompt-length if the run used others)`);
    const data = methodDescriptor(run.config.objective.method).data;
    const examples: Array<Example | TrlPrompt> = data === 'prompts' ? await acceptedPrompts(resolvePath(runDir, run.pairs), ckpt.tokenizer, maxLength, maxPromptLength) : await acceptedExamples(resolvePath(runDir, run.pairs), ckpt.tokenizer, maxLength, maxPromptLength, data === 'unpaired');
    // the same partition as `train` (splitTrainEval over the usable examples or prompts, in file order)
    const split = splitTrainEval(examples, run.config.evalFraction, run.config.seed);
    const reward = run.reward_model ? await loadModelArg(resolvePath(runDir, run.reward_model)) : null;
    // a continued adapter travels as adapter/ (train.py loads its tensors into the run's LoRA adapters)
    const adapterDir = run.lora_adapter && run.config.lora ? resolvePath(runDir, run.lora_adapter) : null;
    let files: Map<string, string>;
    try {
      files = trlExportFiles({ config: run.config, maxLength, maxPromptLength, model: 'model', refModel: ref ? 'ref_model' : null, modelType: modelType(ckpt.config), ...(reward ? { rewardModel: 'reward_model', rewardModelName: rewardModelName(run.reward_model!) } : {}), adapter: adapterDir ? 'adapter' : null }, split.train, split.eval);
    } catch (e) {
      throw new UsageError(`--run ${runDir}: ${(e as Error).message}`, { cause: e });
    }
    try {
      await mkdir(out, { recursive: true });
      for (const [name, text] of files) await writeFile(join(out, name), text);
      const tok = (c: typeof ckpt) => (c.tokenizer.kind === 'byte' ? 'byte' : c.tokenizerFiles);
      await writeCheckpointDir(join(out, 'model'), saveModelCheckpoint(ckpt.config, ckpt.params, tok(ckpt)));
      if (ref) await writeCheckpointDir(join(out, 'ref_model'), saveModelCheckpoint(ref.config, ref.params, tok(ref)));
      if (reward) await writeCheckpointDir(join(out, 'reward_model'), saveModelCheckpoint(reward.config, reward.params, tok(reward)));
      if (adapterDir) {
        await mkdir(join(out, 'adapter'), { recursive: true });
        for (const f of ['adapter_config.json', 'adapter_model.safetensors']) await copyFile(join(adapterDir, f), join(out, 'adapter', f));
      }
    } catch (e) {
      throw new UsageError(`--out ${out}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
    }
    const what = data === 'prompts' ? 'prompts' : 'examples';
    console.log(`wrote ${out}/: train.py (${run.config.objective.method}, ${modelType(ckpt.config)}), data.jsonl (${split.train.length} ${what})${split.eval.length ? `, eval.jsonl (${split.eval.length})` : ''}${files.has('rewards.py') ? ', rewards.py' : ''}, model/${ref ? ', ref_model/' : ''}${reward ? ', reward_model/' : ''}${adapterDir ? ', adapter/' : ''}, README.txt`);
  },
};

/** Paths in run.json are as given to `train` (relative to its working directory); fall back to the run folder. */
function resolvePath(runDir: string, p: string): string {
  if (p === 'builtin' || isAbsolute(p) || existsSync(p)) return p;
  const inRun = resolve(runDir, p);
  return existsSync(inRun) ? inRun : p;
}

async function readRunJson(runDir: string): Promise<RunJson> {
  const file = join(runDir, 'run.json');
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? `--run ${runDir}: no run.json (is it an output folder of \`train\`?)` : `${file}: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  const r = json as Partial<RunJson>;
  if (typeof r !== 'object' || r === null) throw new UsageError(`${file}: expected a JSON object`);
  for (const k of ['model', 'pairs'] as const) if (typeof r[k] !== 'string') throw new UsageError(`${file}: field "${k}" must be a string`);
  if (typeof r.config !== 'object' || r.config === null) throw new UsageError(`${file}: field "config" must be an object`);
  const config = { ...TRAIN_DEFAULTS, ...r.config } as TrainConfig;
  try {
    validateTrainConfig(config);
    createObjective(config.objective);
  } catch (e) {
    throw new UsageError(`${file}: config: ${(e as Error).message}`, { cause: e });
  }
  for (const k of ['max_length', 'max_prompt_length'] as const) {
    const v = r[k];
    if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) throw new UsageError(`${file}: field "${k}" must be a positive integer`);
  }
  return { ...(r as RunJson), config };
}

/** The examples `train` used (accepted, not dropped by truncation), in file order. */
async function acceptedExamples(path: string, tokenizer: Tokenizer, maxLength: number, maxPromptLength: number, unpaired: boolean): Promise<Example[]> {
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) throw new UsageError(`pairs file ${path} (from run.json) not found`);
  const out: Example[] = [];
  const pairs: Example[] = [];
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  try {
    await processSource(stream, { name: path, tokenizer, tokenize: true, maxLength, maxPromptLength }, {
      onExample: (ex, ids) => {
        if (ids && (ex.kind === 'unpaired') === unpaired) out.push(ex);
        else if (ids && unpaired) pairs.push(ex); // KTO on pairs: TRL's KTOTrainer unpairs them
      },
    });
  } catch (e) {
    if (e instanceof DataError) throw new UsageError(`${path}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    stream.destroy();
  }
  if (!out.length && pairs.length) return pairs;
  if (!out.length) throw new UsageError(`${path}: no usable ${unpaired ? 'unpaired' : 'paired'} examples`);
  return out;
}

/**
 * The prompts an online run generated from, in file order: a prompts file's rows (their text as the
 * model read it, chat templates applied), else the prompts of the file's accepted pairs (or, with
 * none, of its unpaired examples), as `train` reads them (src/cli/prompts-load.ts).
 */
async function acceptedPrompts(path: string, tokenizer: Tokenizer, maxLength: number, maxPromptLength: number): Promise<TrlPrompt[]> {
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) throw new UsageError(`pairs file ${path} (from run.json) not found`);
  const prompts: TrlPrompt[] = [];
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let firstRow: 'prompt' | 'other' | null;
  try {
    firstRow = (await processPromptSource(stream, { name: path, tokenizer, maxPromptLength }, (p, text) => prompts.push({ kind: 'prompt', prompt: text, line: p.line }))).firstRow;
  } catch (e) {
    if (e instanceof DataError) throw new UsageError(`${path}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    stream.destroy();
  }
  if (firstRow === 'prompt') {
    if (!prompts.length) throw new UsageError(`${path}: no usable prompts`);
    return prompts;
  }
  const pairs = await acceptedExamples(path, tokenizer, maxLength, maxPromptLength, false).catch(() => null);
  const examples = pairs ?? (await acceptedExamples(path, tokenizer, maxLength, maxPromptLength, true));
  return examples.map((ex) => ({ kind: 'prompt', prompt: ex.prompt, line: ex.line }));
}
