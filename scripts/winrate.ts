// The README's win-rate table (issue 16): from the built-in model on the built-in arithmetic set,
// the judged win rate on held-out prompts before and after DPO, ORPO, GRPO with the arithmetic
// judge, and SFT → reward model → PPO, each at the same number of updates, with the wall time of
// each training run. Runs the CLI's own commands in this process (`train`, `judge`), so every
// number is what `npm run cli` would print; not part of CI (minutes on SwiftShader).
//
//   npx tsx scripts/winrate.ts [--steps N] [--out FILE] [--work DIR] [--seed S] [--batch-size B]
//                              [--max-new-tokens M] [--num-generations G] [--temperature T] [--eval-seeds K] [--lr LR]
//
// Held-out prompts: all of public/data/arithmetic-test.jsonl (no prompt of arithmetic.jsonl, the
// training set), each decoded with the same seed and sampling for every model (`judge`; greedy by
// default), scored by src/judge/arithmetic.ts. "Win rate vs start": per prompt 1 when the trained
// model is right and the start model wrong, ½ when both agree, 0 otherwise. Each method trains
// with the CLI's defaults for that method plus the shared flags printed under the table; the
// PPO chain's SFT and reward model get the same number of updates, and its wall time is the sum.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { main } from '../src/cli/main';
import { isMethod } from '../src/train/objectives';
import { judged, pairwiseWinRate, winRateTable, type Row, type Scores } from './winrate-table';

const { values: opt } = parseArgs({
  options: {
    steps: { type: 'string', default: '25' },
    out: { type: 'string' },
    work: { type: 'string' },
    seed: { type: 'string', default: '1' },
    'batch-size': { type: 'string', default: '8' },
    'max-new-tokens': { type: 'string', default: '8' },
    'num-generations': { type: 'string', default: '8' },
    temperature: { type: 'string', default: '0' },
    'eval-seeds': { type: 'string', default: '1' },
    lr: { type: 'string' },
  },
});

const int = (name: keyof typeof opt, min: number): number => {
  const x = Number(opt[name]);
  if (!Number.isInteger(x) || x < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got ${String(opt[name])}`);
  return x;
};
const steps = int('steps', 1);
const seed = int('seed', 0);
const batch = int('batch-size', 1);
const maxNew = int('max-new-tokens', 1);
const G = int('num-generations', 2);
const evalSeeds = int('eval-seeds', 1);
const temperature = Number(opt.temperature);
if (!(temperature >= 0)) throw new Error(`--temperature must be ≥ 0, got ${opt.temperature}`);

const START = 'builtin';
const TRAIN_SET = resolve('public/data/arithmetic.jsonl');
const TEST_SET = 'arithmetic-test';
const work = opt.work ? resolve(opt.work) : await mkdtemp(join(tmpdir(), 'prefplay-winrate-'));
await mkdir(work, { recursive: true });

/** Where the numbers come from: the CPU count and load (SwiftShader runs the WGSL on the CPU). */
function machine(): string {
  return `${cpus().length} CPU core${cpus().length === 1 ? '' : 's'} (${cpus()[0]?.model.trim() ?? 'unknown'}), load average ${loadavg()[0].toFixed(1)} at the end`;
}

const log = (s: string) => process.stderr.write(`${s}\n`);

async function cli(args: string[]): Promise<void> {
  const code = await main(args);
  if (code !== 0) throw new Error(`${args[0]} exited with ${code}`);
}

/** The judge's scores of `model` on every held-out prompt, for each evaluation seed (the same order for every model). */
async function judge(model: string, tag: string): Promise<number[]> {
  const scores: number[] = [];
  for (let s = 0; s < evalSeeds; s++) {
    const file = join(work, `judged-${tag}-${s}.jsonl`);
    const quiet = console.log;
    console.log = () => {};
    try {
      await cli(['judge', '--model', model, '--set', TEST_SET, '--samples', '0', '--seed', String(s), '--temperature', String(temperature), '--max-new-tokens', String(maxNew), '--out', file]);
    } finally {
      console.log = quiet;
    }
    for (const line of (await readFile(file, 'utf8')).trim().split('\n')) scores.push((JSON.parse(line) as { score: number }).score);
  }
  return scores;
}

const lr = opt.lr === undefined ? [] : ['--lr', opt.lr];
const shared = ['--pairs', TRAIN_SET, '--steps', String(steps), '--batch-size', String(batch), '--seed', String(seed), ...lr, '--quiet', '--track-pairs', '0'];

/** One `train` run; returns its model folder and wall seconds. */
async function train(name: string, args: string[]): Promise<{ model: string; seconds: number }> {
  const out = join(work, name);
  log(`train ${name}: ${args.join(' ')}`);
  const t0 = performance.now();
  await cli(['train', ...args, ...shared, '--out', out]);
  const seconds = (performance.now() - t0) / 1000;
  log(`  ${seconds.toFixed(1)} s`);
  return { model: join(out, 'model'), seconds };
}

// the first `train` of a process also starts Dawn and SwiftShader: an untimed one-update run first
log(`work folder ${work}; warm-up run`);
await cli(['train', '--model', START, '--method', 'dpo', '--pairs', TRAIN_SET, '--steps', '1', '--quiet', '--track-pairs', '0', '--out', join(work, 'warm-up')]);
log('judging the start model');
const beforeScores = await judge(START, 'start');
const before = judged(beforeScores);
const rows: Row[] = [];
const online = ['--max-new-tokens', String(maxNew)];

async function method(label: string, stages: () => Promise<{ model: string; seconds: number }>): Promise<void> {
  try {
    const r = await stages();
    const after: Scores = await judge(r.model, label.replace(/\W+/g, '-'));
    rows.push({ method: label, updates: steps, after: judged(after), winRate: pairwiseWinRate(after, beforeScores), wallSeconds: r.seconds });
  } catch (e) {
    log(`${label}: ${(e as Error).message.split('\n')[0]}`);
    rows.push({ method: label, updates: steps, after: null, winRate: null, wallSeconds: null, note: `failed: ${(e as Error).message.split('\n')[0]}` });
  }
}

await method('DPO', () => train('dpo', ['--model', START, '--method', 'dpo']));
await method('ORPO', () => train('orpo', ['--model', START, '--method', 'orpo']));
await method('GRPO (judge:arithmetic)', () => train('grpo', ['--model', START, '--method', 'grpo', '--reward', 'judge:arithmetic', '--num-generations', String(G), ...online]));
// the chain's first stage alone, listed before the chain
const sftRows: Row[] = [];
if (isMethod('ppo')) {
  await method('SFT → RM → PPO', async () => {
    const sft = await train('sft', ['--model', START, '--method', 'sft']);
    const sftScores = await judge(sft.model, 'sft');
    sftRows.push({ method: 'SFT alone (stage 1 of the chain)', updates: steps, after: judged(sftScores), winRate: pairwiseWinRate(sftScores, beforeScores), wallSeconds: sft.seconds });
    const rm = await train('rm', ['--model', sft.model, '--method', 'reward']);
    const ppo = await train('ppo', ['--model', sft.model, '--method', 'ppo', '--reward-model', rm.model, ...online]);
    return { model: ppo.model, seconds: sft.seconds + rm.seconds + ppo.seconds };
  });
  rows.splice(rows.length - 1, 0, ...sftRows);
} else {
  rows.push({ method: 'SFT → RM → PPO', updates: steps, after: null, winRate: null, wallSeconds: null, note: 'no ppo method in this build' });
}

const decoding = temperature === 0 ? 'greedy' : `temperature ${temperature}, ${evalSeeds} seed${evalSeeds === 1 ? '' : 's'}`;
const text = [
  winRateTable(before, rows),
  `Start: the built-in model. Training: \`public/data/arithmetic.jsonl\` (600 pairs; GRPO and PPO take their prompts), ${steps} updates each, \`--batch-size ${batch} --seed ${seed}${opt.lr === undefined ? '' : ` --lr ${opt.lr}`}\` and each method's CLI defaults otherwise; GRPO \`--reward judge:arithmetic --num-generations ${G} --max-new-tokens ${maxNew}\`; SFT → RM → PPO: \`train --method sft\`, \`train --method reward --model <sft>\`, \`train --method ppo --model <sft> --reward-model <rm> --max-new-tokens ${maxNew}\` (wall time: the three runs). Held out: the ${before.n / evalSeeds} prompts of \`public/data/arithmetic-test.jsonl\`, ${decoding}, ${maxNew} new tokens, judged by the arithmetic judge; win rate vs start: per prompt 1 if only the trained model is right, ½ if both agree, 0 if only the start is. Wall time: each \`train\` in-process after an untimed warm-up run (loading, reference pass, training, writing the model), on ${machine()}.`,
  '',
].join('\n\n');
process.stdout.write(text);
if (opt.out) await writeFile(opt.out, text);
