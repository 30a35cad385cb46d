// Running an exported train.py under python3 against stand-in trl / transformers / datasets
// packages (each test writes the ones its trainers need): the packages' folder on PYTHONPATH, the
// stand-in trainer's record of what it was handed in the JSON file FAKE_TRL_RECORD names.
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';

/** TrainingArguments fields the exported scripts may set (huggingface/trl v1.9.0's transformers). */
export const TRAINING_ARGS = ['output_dir', 'learning_rate', 'lr_scheduler_type', 'warmup_steps', 'max_steps', 'per_device_train_batch_size', 'per_device_eval_batch_size', 'gradient_accumulation_steps', 'max_grad_norm', 'optim', 'weight_decay', 'adam_beta1', 'adam_beta2', 'adam_epsilon', 'seed', 'data_seed', 'logging_steps', 'eval_strategy', 'eval_steps', 'save_strategy', 'bf16', 'fp16', 'gradient_checkpointing', 'report_to'];

/** Writes `packages` (path in the folder -> Python source) under `dir`/fake-py; returns that folder. */
export async function writeFakePackages(dir: string, packages: Record<string, string>): Promise<string> {
  const fake = join(dir, 'fake-py');
  for (const [name, text] of Object.entries(packages)) {
    await mkdir(join(fake, name, '..'), { recursive: true });
    await writeFile(join(fake, name), text);
  }
  return fake;
}

/** Runs `dir`/train.py with `fake` on PYTHONPATH (and `env`); it must exit 0. The record the stand-in trainer wrote to `dir`/`record`. */
export async function runTrainPy(dir: string, fake: string, env: Record<string, string> = {}, record = 'record.json'): Promise<Record<string, unknown>> {
  const path = join(dir, record);
  const r = spawnSync('python3', ['train.py'], { cwd: dir, encoding: 'utf8', env: { ...process.env, PYTHONPATH: fake, FAKE_TRL_RECORD: path, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(await readFile(path, 'utf8'));
}
