// `npm run pretrain [-- options]`: pretrains the built-in model on the generated corpus with
// the project's WGSL engine (Node + Dawn) and writes the model folder (config.json,
// model.safetensors, tokenizer files), training-log.json and TRAINING.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { nodeGpu } from '../src/engine/node';
import { presetConfig } from '../src/model/config';
import { saveCheckpoint } from '../src/model/checkpoint';
import { writeCheckpointDir } from '../src/model/checkpoint-node';
import { PRETRAIN_DEFAULTS, type PretrainHp } from '../src/pretrain/pretrain';
import { runPretraining, type PretrainRunOptions } from '../src/pretrain/run';
import { MIX, NOISE } from '../src/pretrain/corpus';
import { trainingMarkdown } from '../src/pretrain/report';
import { SAMPLE_PROMPTS } from '../src/pretrain/prompts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'public/models/builtin' },
    preset: { type: 'string', default: 'builtin' },
    steps: { type: 'string', default: '700' },
    'batch-size': { type: 'string', default: '16' },
    'seq-len': { type: 'string', default: '128' },
    lr: { type: 'string', default: String(PRETRAIN_DEFAULTS.lr) },
    'warmup-steps': { type: 'string', default: '40' },
    'eval-every': { type: 'string', default: '100' },
    'heldout-rows': { type: 'string', default: '32' },
    seed: { type: 'string', default: '0' },
  },
  strict: true,
});

function num(name: keyof typeof values): number {
  const v = Number(values[name]);
  if (!Number.isFinite(v)) throw new Error(`--${name} must be a number, got "${values[name]}"`);
  return v;
}

const config = presetConfig(String(values.preset));
const hp: PretrainHp = { ...PRETRAIN_DEFAULTS, steps: num('steps'), batchSize: num('batch-size'), seqLen: num('seq-len'), lr: num('lr'), warmupSteps: num('warmup-steps') };
const seed = num('seed');
const opts: PretrainRunOptions = {
  config,
  hp,
  initSeed: seed,
  corpusSeed: seed + 1,
  heldoutSeed: seed + 1_000_003,
  heldoutRows: num('heldout-rows'),
  evalEvery: num('eval-every'),
  samplePrompts: SAMPLE_PROMPTS,
  sampleMaxNewTokens: 80,
};
const command = ['npm run pretrain', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');

const gpu = await nodeGpu('pretrain');
const adapter = [gpu.adapter.vendor, gpu.adapter.architecture, gpu.adapter.description].filter(Boolean).join(' ') || 'unknown';
console.error(`pretraining ${values.preset} on ${adapter} (${gpu.via}): ${hp.steps} steps of ${hp.batchSize}×${hp.seqLen} tokens`);
const started = new Date().toISOString();
const { params, log } = await runPretraining(gpu, opts, (line) => console.error(line));
const out = String(values.out);
await writeCheckpointDir(out, saveCheckpoint(config, params, 'byte'));
const record = {
  command,
  started,
  adapter,
  via: gpu.via,
  preset: values.preset,
  config,
  hyperparameters: hp,
  seeds: { init: opts.initSeed, corpus: opts.corpusSeed, heldout: opts.heldoutSeed },
  corpus: { mix: MIX, noise: NOISE, heldoutRows: opts.heldoutRows, generator: 'src/pretrain/corpus.ts' },
  ...log,
};
await mkdir(out, { recursive: true });
await writeFile(join(out, 'training-log.json'), JSON.stringify(record, null, 1) + '\n');
await writeFile(join(out, 'TRAINING.md'), trainingMarkdown(record));
console.error(`wrote ${out}/ (held-out loss ${log.heldout[0].loss.toFixed(4)} → ${log.heldout[log.heldout.length - 1].loss.toFixed(4)} in ${log.wallSeconds.toFixed(0)} s)`);
process.exit(0);
