// Online methods on the GPU (src/train/online-trainer.ts, docs/rlhf.md): one GRPO or RLOO update
// against an independent float64 computation — the float64 models' log-probs of the completions the
// GPU generated (logits / temperature), rewards recomputed from the samples' text, the host
// advantages and loss (src/train/rl, themselves checked against TRL's code), and the float64
// backward of those per-token coefficients: with SGD at lr 1 and no clipping, every weight moves by
// minus that gradient. Then: kl = 0 at step 1 against a copy of the starting weights; the CLI on the
// built-in model with judge:arithmetic (every sample's reward is the judge's verdict on its text,
// the same seed writes the same samples.jsonl byte for byte, TRL's metric names); prompt-only files.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import { randomParams } from '../helpers/random-model';
import { expectGrpoResumeExact } from '../helpers/resume';
import type { GpuContext } from '../../src/engine/gpu';
import { main } from '../../src/cli/main';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { createModel, isLlamaConfig, type ModelConfig } from '../../src/model/family';
import { llamaParamSpec, llamaPresetConfig, llamaRefConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';
import { gpt2BackwardRef, gpt2ForwardRef } from '../../src/reference/gpt2';
import { llamaBackwardRef, llamaForwardRef } from '../../src/reference/llama';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import { finalNormNames, OnlineTrainer, type OnlineSample } from '../../src/train/online-trainer';
import type { PromptIds } from '../../src/train/prompts';
import { grpoAdvantages, rlooAdvantages, type RewardTable } from '../../src/train/rl/advantages';
import { grpoLoss } from '../../src/train/rl/grpo';
import { rlooLoss, sequenceCoefficients } from '../../src/train/rl/rloo';
import type { RewardFunction } from '../../src/train/rl/rewards';
import { arithmeticJudge } from '../../src/judge';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

// A vocabulary of 8 (end-of-text = 7) so that completions end at different lengths.
const V = 8;
const EOS = 7;
const GPT: GPTConfig = { ...presetConfig('tiny'), vocabSize: V, nPositions: 32, bosTokenId: EOS, eosTokenId: EOS };
const LLAMA: LlamaFamilyConfig = { ...llamaPresetConfig('qwen-tiny'), vocabSize: V, maxPositionEmbeddings: 32, bosTokenId: EOS, eosTokenId: EOS };

/** Text of ids: the ids joined by spaces (the reward functions read it back). */
const text = (ids: readonly number[]) => ids.join(' ');
const numbers = (s: string) => s.split(' ').filter(Boolean).map(Number);
/** Two reward functions of the completion's text: the id sum mod 5 (in quarters), and whether it holds a 3. */
const REWARDS: RewardFunction[] = [
  { name: 'idsum', score: (_p, c) => (numbers(c).reduce((a, b) => a + b, 0) % 5) / 4 },
  { name: 'three', score: (_p, c) => (numbers(c).includes(3) ? 1 : 0) },
];
const WEIGHTS = [1, 0.5];

function weights(config: ModelConfig, rng: Rng): Map<string, Float32Array> {
  if (!isLlamaConfig(config)) return randomParams(config, rng, { scale: 0.3, biasScale: 0.1, lnSpread: 0.1 });
  const m = new Map<string, Float32Array>();
  for (const s of llamaParamSpec(config)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const norm = /norm\.weight$/.test(s.name);
    m.set(s.name, Float32Array.from({ length: n }, () => (norm ? 1 + 0.1 * rng.normal() : (s.name.endsWith('.bias') ? 0.05 : 0.3) * rng.normal())));
  }
  return m;
}

interface StepCase {
  config: ModelConfig;
  method: 'grpo' | 'rloo';
  temperature: number;
  gradAccum: number;
  /** Reference weights other than the policy's (the KL term then has a gradient). */
  otherRef: boolean;
  topK?: number;
}

async function oneStep(c: StepCase, seed: number) {
  const rng = new Rng(seed);
  const policy = weights(c.config, rng);
  const ref = c.otherRef ? weights(c.config, rng) : policy;
  const prompts: PromptIds[] = [0, 1].map((i) => ({ promptIds: Array.from({ length: 2 + rng.int(4) }, () => rng.int(EOS)), index: i, line: i + 1 }));
  const spec = { method: c.method, numGenerations: 3, maxNewTokens: 5, temperature: c.temperature, topK: c.topK ?? 0, beta: 0.04, reward: ['judge:arithmetic', 'judge:politeness'], rewardWeights: WEIGHTS };
  const cfg: TrainConfig = { ...TRAIN_DEFAULTS, objective: spec, steps: 1, batchSize: 2, gradAccum: c.gradAccum, optimizer: 'sgd', lr: 1, maxGradNorm: 0, seed };
  const model = createModel(gpu, { config: c.config });
  model.upload(policy);
  const trainer = new OnlineTrainer(model, prompts, [], cfg, { text, rewards: REWARDS });
  await trainer.prepare(c.otherRef ? ref : undefined);
  const metrics = await trainer.trainStep();
  const after = await model.download();
  const samples = trainer.samples;
  trainer.destroy();
  model.destroy();
  return { policy, ref, metrics, after, samples };
}

/** The final norm divided by T, in float64 (the GPU uploads it rounded to f32: 1 ulp). */
function divideNorm(config: ModelConfig, w: Map<string, Float32Array>, T: number): Map<string, Float32Array | Float64Array> {
  const names = isLlamaConfig(config) ? ['model.norm.weight'] : ['ln_f.weight', 'ln_f.bias'];
  return new Map([...w].map(([k, v]) => [k, names.includes(k) ? Float64Array.from(v, (x) => x / T) : v]));
}

function forwardRef(config: ModelConfig, w: Map<string, Float32Array | Float64Array>, seqs: number[][]) {
  return isLlamaConfig(config) ? llamaForwardRef(w, llamaRefConfig(config), seqs) : gpt2ForwardRef(w, config, seqs);
}

function backwardRef(config: ModelConfig, r: ReturnType<typeof forwardRef>, coef: number[][]): Map<string, Float64Array> {
  return isLlamaConfig(config) ? llamaBackwardRef(r.cache as Parameters<typeof llamaBackwardRef>[0], coef) : gpt2BackwardRef(r.cache as Parameters<typeof gpt2BackwardRef>[0], coef);
}

/** log softmax(row / T)[k] from a row of log-probs at T = 1 (an independent check of the divided norm). */
function logSoftmaxT(lp: ArrayLike<number>, k: number, T: number): number {
  let m = -Infinity;
  for (let i = 0; i < lp.length; i++) m = Math.max(m, lp[i] / T);
  let s = 0;
  for (let i = 0; i < lp.length; i++) s += Math.exp(lp[i] / T - m);
  return lp[k] / T - m - Math.log(s);
}

/** The float64 side of one update: log-probs, rewards, advantages, loss, coefficients, gradient. */
function float64Step(c: StepCase, policy: Map<string, Float32Array>, ref: Map<string, Float32Array>, samples: OnlineSample[]) {
  const T = c.temperature;
  const G = 3;
  const N = samples.length;
  const seqs = samples.map((s) => [...s.prompt_ids, ...s.completion_ids]);
  const pl = samples.map((s) => s.prompt_ids.length);
  const len = samples.map((s) => s.completion_ids.length);
  const Tc = Math.max(...len);
  const P = forwardRef(c.config, divideNorm(c.config, policy, T), seqs);
  const R = forwardRef(c.config, divideNorm(c.config, ref, T), seqs);
  // the divided norm gives log softmax(logits / T): against the undivided model's log-probs
  if (T !== 1) {
    const U = forwardRef(c.config, policy, seqs);
    for (let s = 0; s < N; s++) {
      for (let j = 0; j < len[s]; j++) {
        const t = pl[s] - 1 + j;
        expect(P.logp[s][t]).toBeCloseTo(logSoftmaxT(U.cache.seqs[s].logprobs.subarray(t * V, (t + 1) * V), seqs[s][t + 1], T), 9);
      }
    }
  }
  const mask = new Float64Array(N * Tc);
  const logps = new Float64Array(N * Tc);
  const refLogps = new Float64Array(N * Tc);
  for (let s = 0; s < N; s++) {
    for (let j = 0; j < len[s]; j++) {
      mask[s * Tc + j] = 1;
      logps[s * Tc + j] = P.logp[s][pl[s] - 1 + j];
      refLogps[s * Tc + j] = R.logp[s][pl[s] - 1 + j];
    }
  }
  // rewards from the samples' text, as the reward functions see it
  const table: RewardTable = { names: REWARDS.map((f) => f.name), weights: WEIGHTS, values: samples.map((s) => REWARDS.map((f) => f.score(s.prompt, s.completion))) };
  samples.forEach((s, i) => {
    expect(s.completion).toBe(text(s.completion_ids.filter((id) => id !== EOS)));
    expect(s.reward).toBeCloseTo(table.values[i][0] * WEIGHTS[0] + table.values[i][1] * WEIGHTS[1], 12);
  });
  let loss: number;
  let coef: Float64Array;
  let kl: number;
  let adv: Float64Array;
  if (c.method === 'grpo') {
    adv = grpoAdvantages(table, { numGenerations: G }).advantages;
    const r = grpoLoss({ B: N, T: Tc, logps, refLogps, mask, advantages: adv }, { beta: 0.04, lossType: 'dapo', activeTokens: len.reduce((a, b) => a + b, 0) });
    loss = r.loss;
    coef = r.coef;
    kl = r.metrics.kl;
  } else {
    const S = Float64Array.from(samples, (_, s) => Array.from({ length: len[s] }, (_, j) => logps[s * Tc + j]).reduce((a, b) => a + b, 0));
    const Sref = Float64Array.from(samples, (_, s) => Array.from({ length: len[s] }, (_, j) => refLogps[s * Tc + j]).reduce((a, b) => a + b, 0));
    const a = rlooAdvantages(table, { numGenerations: G, beta: 0.04, klSums: S.map((x, i) => x - Sref[i]), klCounts: len });
    adv = a.advantages;
    kl = a.metrics.kl;
    const r = rlooLoss({ logpSums: S, oldLogpSums: S, advantages: adv });
    loss = r.loss;
    coef = sequenceCoefficients(r.dLogpSums, mask, N, Tc);
  }
  const coefRef = seqs.map((q, s) => Array.from({ length: q.length - 1 }, (_, t) => (t >= pl[s] - 1 ? coef[s * Tc + t - (pl[s] - 1)] : 0)));
  const grads = backwardRef(c.config, P, coefRef);
  // the norm was divided by T: ∂/∂w = ∂/∂(w/T) / T
  for (const name of isLlamaConfig(c.config) ? ['model.norm.weight'] : ['ln_f.weight', 'ln_f.bias']) grads.get(name)!.forEach((g, i, a) => (a[i] = g / T));
  return { loss, kl, adv, grads };
}

function expectStep(what: string, policy: Map<string, Float32Array>, after: Map<string, Float32Array>, grads: Map<string, Float64Array>): void {
  let moved = 0;
  for (const [name, g] of grads) {
    const p0 = policy.get(name)!, p1 = after.get(name)!;
    const delta = Float64Array.from(p1, (x, i) => x - p0[i]);
    const scale = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    if (scale > 0) moved++;
    // f32 parameters: the delta is exact only to one ulp of the weight (~1.2e-7·|w|)
    expectClose(delta, g.map((x) => -x), { rtol: 1e-3, atol: 1e-4 * scale + 2.4e-7 * (1 + p0.reduce((m, x) => Math.max(m, Math.abs(x)), 0)), what: `${what} Δ${name}` });
  }
  expect(moved).toBe(grads.size); // every tensor has a gradient (the check is not vacuous)
}

describe('one online update vs float64 (SGD lr 1, no clipping: Δw = −∇)', () => {
  const cases: Array<[string, StepCase]> = [
    ['GRPO, GPT-2, T = 0.8, top-k 5, reference ≠ policy', { config: GPT, method: 'grpo', temperature: 0.8, gradAccum: 1, otherRef: true, topK: 5 }],
    ['GRPO, GPT-2, T = 1, 2 micro-batches', { config: GPT, method: 'grpo', temperature: 1, gradAccum: 2, otherRef: true }],
    ['GRPO, Qwen2 (untied), T = 0.7', { config: LLAMA, method: 'grpo', temperature: 0.7, gradAccum: 1, otherRef: true }],
    ['RLOO, GPT-2, T = 0.9, reference ≠ policy', { config: GPT, method: 'rloo', temperature: 0.9, gradAccum: 1, otherRef: true }],
  ];
  for (const [name, c] of cases) {
    it(name, async () => {
      const seed = freshSeed();
      const { policy, ref, metrics, after, samples } = await oneStep(c, seed);
      expect(samples).toHaveLength(6);
      const want = float64Step(c, policy, ref, samples);
      const what = `${name} seed=${seed}`;
      expect(Math.abs(metrics.loss - want.loss), `${what} loss ${metrics.loss} vs ${want.loss}`).toBeLessThan(1e-5 + 1e-4 * Math.abs(want.loss));
      if (c.gradAccum === 1) expect(Math.abs(metrics.kl - want.kl), `${what} kl`).toBeLessThan(1e-5 + 1e-4 * Math.abs(want.kl));
      expectClose(samples.map((s) => s.advantage), want.adv, { rtol: 1e-4, atol: 1e-5, what: `${what} advantages` });
      expectStep(what, policy, after, want.grads);
    });
  }
});

describe('reference = the starting weights', () => {
  for (const method of ['grpo', 'rloo'] as const) {
    it(`${method}: kl = 0 at step 1 (T = 0.7, 2 micro-batches)`, async () => {
      const c: StepCase = { config: GPT, method, temperature: 0.7, gradAccum: 2, otherRef: false };
      const { metrics } = await oneStep(c, freshSeed());
      expect(metrics.kl).toBe(0);
      for (const k of ['loss', 'reward', 'reward_std', 'rewards/idsum/mean', 'rewards/three/mean', 'entropy', 'frac_reward_zero_std', 'clip_ratio/region_mean', 'completions/mean_length', 'completions/min_length', 'completions/max_length', 'completions/clipped_ratio', 'num_tokens', 'grad_norm']) expect(metrics[k], k).toBeTypeOf('number');
      expect(metrics['clip_ratio/region_mean']).toBe(0); // on-policy: ρ = 1
    });
  }

  it('the final norm is back to the policy weights after the update (only the gradient moved it)', async () => {
    // a zero learning rate: nothing may change, the divided norm included
    const rng = new Rng(freshSeed());
    const policy = weights(GPT, rng);
    const model = createModel(gpu, { config: GPT });
    model.upload(policy);
    const spec = { method: 'grpo' as const, numGenerations: 2, maxNewTokens: 3, temperature: 0.5, reward: 'judge:arithmetic' };
    const trainer = new OnlineTrainer(model, [{ promptIds: [1, 2], index: 0 }], [], { ...TRAIN_DEFAULTS, objective: spec, steps: 2, batchSize: 1, optimizer: 'sgd', lr: 1e-30, maxGradNorm: 0 }, { text, rewards: [REWARDS[0]] });
    await trainer.prepare();
    await trainer.trainStep();
    const after = await model.download();
    for (const n of finalNormNames(model)) expect(Array.from(after.get(n)!)).toEqual(Array.from(policy.get(n)!));
    trainer.destroy();
    model.destroy();
  });
});

describe('TrainingRun', () => {
  it('a resumed GRPO run (snapshot after update 2) continues exactly: same samples, metrics and weights at update 3', async () => {
    const rng = new Rng(freshSeed());
    const base = { config: GPT as ModelConfig, params: weights(GPT, rng) };
    const items: PromptIds[] = Array.from({ length: 5 }, (_, i) => ({ promptIds: Array.from({ length: 2 + rng.int(3) }, () => rng.int(EOS)), index: i, line: i + 1 }));
    const config: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'grpo', numGenerations: 2, maxNewTokens: 4, temperature: 0.9, reward: ['judge:arithmetic', 'judge:politeness'], rewardWeights: WEIGHTS }, steps: 3, batchSize: 2, lr: 1e-2, seed: 3 };
    await expectGrpoResumeExact(gpu, { base, data: { kind: 'prompts', items }, config, text, rewards: REWARDS }, 2, (r) => r.weights());
  });
});

describe('train --method grpo|rloo (CLI)', () => {
  const cli = async (out: string, extra: string[]) => main(['train', '--model', 'builtin', '--pairs', 'public/data/arithmetic.jsonl', '--steps', '3', '--batch-size', '3', '--num-generations', '4', '--max-new-tokens', '6', '--seed', '11', '--quiet', '--out', out, ...extra]);
  const jsonl = async (path: string) => (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('GRPO with judge:arithmetic on the built-in model: TRL metric names, kl 0 at step 1, rewards are the judge’s, same seed → same samples.jsonl', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-grpo-'));
    try {
      const args = ['--method', 'grpo', '--reward', 'judge:arithmetic', '--temperature', '0.9'];
      expect(await cli(join(dir, 'a'), args)).toBe(0);
      expect(await cli(join(dir, 'b'), args)).toBe(0);
      const a = await readFile(join(dir, 'a', 'samples.jsonl'));
      expect(a.equals(await readFile(join(dir, 'b', 'samples.jsonl')))).toBe(true);
      const samples = await jsonl(join(dir, 'a', 'samples.jsonl'));
      expect(samples).toHaveLength(3 * 3 * 4);
      for (const s of samples) {
        expect(Object.keys(s).slice(0, 6)).toEqual(['step', 'prompt', 'completion', 'prompt_ids', 'completion_ids', 'reward']);
        expect(s.reward).toBe(arithmeticJudge.judge(s.prompt as string, s.completion as string).score);
        expect((s.completion_ids as number[]).length).toBeLessThanOrEqual(6);
      }
      expect(samples.map((s) => s.step)).toEqual([...Array(12).fill(1), ...Array(12).fill(2), ...Array(12).fill(3)]);
      const rows = await jsonl(join(dir, 'a', 'metrics.jsonl'));
      expect(rows).toHaveLength(3);
      expect(rows[0].kl).toBe(0);
      for (const k of ['loss', 'reward', 'reward_std', 'rewards/arithmetic/mean', 'kl', 'entropy', 'frac_reward_zero_std', 'clip_ratio/region_mean', 'completions/mean_length', 'completions/min_length', 'completions/max_length', 'completions/clipped_ratio', 'num_tokens', 'grad_norm', 'learning_rate', 'step']) expect(rows[0], k).toHaveProperty([k]);
      // the logged reward is the mean of the step's samples
      for (let k = 0; k < 3; k++) expect(rows[k].reward as number).toBeCloseTo(samples.slice(12 * k, 12 * k + 12).reduce((m, s) => m + (s.reward as number), 0) / 12, 12);
      const run = JSON.parse(await readFile(join(dir, 'a', 'run.json'), 'utf8')) as Record<string, unknown>;
      expect(run.prompts_from).toBe('pairs');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('RLOO from a prompt-only file (a bad row is skipped, named by line); --reward-weights must match --reward', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-rloo-'));
    try {
      const file = join(dir, 'prompts.jsonl');
      await writeFile(file, ['{"prompt": "Q: What is 2+3?\\nA: "}', '{"prompt": "Q: What is 4*2?\\nA: ", "id": 7}', '{"prompt": 5}', '{"prompt": [{"role": "user", "content": "What is 6+1?"}]}'].join('\n') + '\n');
      const args = (out: string, extra: string[] = []) => ['train', '--model', 'builtin', '--pairs', file, '--method', 'rloo', '--reward', 'judge:arithmetic', '--steps', '2', '--batch-size', '2', '--num-generations', '2', '--max-new-tokens', '4', '--top-k', '8', '--quiet', '--out', join(dir, out), ...extra];
      expect(await main(args('r'))).toBe(0);
      const samples = await jsonl(join(dir, 'r', 'samples.jsonl'));
      expect(samples).toHaveLength(2 * 2 * 2);
      expect(new Set(samples.map((s) => s.prompt))).not.toContain(5);
      const rows = await jsonl(join(dir, 'r', 'metrics.jsonl'));
      expect(rows[0].kl).toBe(0);
      expect(JSON.parse(await readFile(join(dir, 'r', 'run.json'), 'utf8')).train_prompts).toBe(3);
      await expect(main(args('w', ['--reward-weights', '1,2']))).rejects.toThrow(/--reward-weights: .*2 weights for 1 reward function/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
