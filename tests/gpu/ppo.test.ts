// PPO on the GPU (src/train/ppo-trainer.ts, docs/rlhf.md "PPO on the GPU") and the reward model as
// a reward source (src/train/reward-source.ts):
// - the value model's per-token values (the score head at every position) against float64;
// - one PPO update (SGD lr 1, no clipping, one epoch) against an independent float64 computation:
//   the float64 policy's and reference's log-probs of the generated responses (logits / (T + 1e−7)),
//   the float64 value model and reward model, TRL's rollout and loss (src/train/rl/ppo.ts, checked
//   against TRL's code), and the float64 backward of the policy's coefficients and of the value
//   loss's ∂/∂values: every weight of the policy and of the value model (score head and trunk)
//   moves by minus that gradient;
// - objective/kl = 0 at step 1 against the starting weights, TRL's metric names, a resumed run;
// - the CLI: seed 002's chain sft → reward → ppo on the tiny preset, scores equal to the `score`
//   path's on the logged ids, the same seed writing the same samples.jsonl; GRPO with
//   --reward-model (the reward in samples is the reward model's score of those ids).
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import { randomParams } from '../helpers/random-model';
import type { GpuContext } from '../../src/engine/gpu';
import { StepEncoder } from '../../src/engine/encoder';
import { main } from '../../src/cli/main';
import { readCheckpointDir } from '../../src/model/checkpoint-node';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { buildBatch } from '../../src/model/batch';
import { createModel } from '../../src/model/family';
import { toRewardModel } from '../../src/model/reward';
import { gpt2BackwardRef, gpt2ForwardRef } from '../../src/reference/gpt2';
import { gpt2ScoreRef } from '../../src/reference/score';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import { PPO_STEP_METRICS, ppoObjective, type PpoOptions } from '../../src/train/objectives';
import { PpoTrainer, ppoLogitDivisor, type PpoSample } from '../../src/train/ppo-trainer';
import type { PromptIds } from '../../src/train/prompts';
import type { RewardModelWeights } from '../../src/train/reward-source';
import { pairRewards } from '../../src/train/reward-trainer';
import { ppoMicroBatch, ppoMicroLoss, PPO_METRICS } from '../../src/train/rl/ppo';
import { padResponses } from '../../src/train/rl/rollout';
import { RunnerPool } from '../../src/train/runners';
import { memorySnapshotStore, TrainingRun } from '../../src/train/training-run';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

// 16 tokens (end-of-text = 15, also the pad id: GPT-2 without a pad token, TRL's PAD = EOS case)
const V = 16;
const EOS = 15;
const GPT: GPTConfig = { ...presetConfig('tiny'), vocabSize: V, nPositions: 32, bosTokenId: EOS, eosTokenId: EOS };
const text = (ids: readonly number[]) => ids.join(' ');

const policyWeights = (rng: Rng) => randomParams(GPT, rng, { scale: 0.3, biasScale: 0.1, lnSpread: 0.1 });

/** A reward model: a random trunk plus a score head large enough to give values of order 1. */
function rewardWeights(rng: Rng): RewardModelWeights {
  const rm = toRewardModel({ config: GPT, params: policyWeights(rng) }, 1);
  rm.params.set('score.weight', Float32Array.from({ length: GPT.nEmbd }, () => 0.5 * rng.normal()));
  return { name: 'rm', config: rm.config, params: rm.params };
}

/** Float64 values at every position of each sequence (the score head on every final-norm output), and their backward. */
function valuesRef(rm: RewardModelWeights, seqs: number[][]) {
  const C = GPT.nEmbd;
  const w = rm.params.get('score.weight')!;
  const { cache } = gpt2ForwardRef(rm.params, rm.config as GPTConfig, seqs);
  const values = cache.seqs.map((sc, s) => Array.from({ length: seqs[s].length }, (_, t) => {
    let v = 0;
    for (let c = 0; c < C; c++) v += sc.lnf.out[t * C + c] * w[c];
    return v;
  }));
  const backward = (dValue: number[][]) => {
    const dh = seqs.map((q, s) => {
      const d = new Float64Array(q.length * C);
      for (let t = 0; t < q.length; t++) for (let c = 0; c < C; c++) d[t * C + c] = dValue[s][t] * w[c];
      return d;
    });
    const grads = gpt2BackwardRef(cache, seqs.map((q) => new Array<number>(Math.max(0, q.length - 1)).fill(0)), dh);
    const dw = new Float64Array(C);
    seqs.forEach((q, s) => {
      for (let t = 0; t < q.length; t++) for (let c = 0; c < C; c++) dw[c] += dValue[s][t] * cache.seqs[s].lnf.out[t * C + c];
    });
    grads.set('score.weight', dw);
    return grads;
  };
  return { values, backward };
}

function divideNorm(w: Map<string, Float32Array>, T: number): Map<string, Float32Array | Float64Array> {
  return new Map([...w].map(([k, v]) => [k, k === 'ln_f.weight' || k === 'ln_f.bias' ? Float64Array.from(v, (x) => x / T) : v]));
}

function expectStep(what: string, before: Map<string, Float32Array>, after: Map<string, Float32Array>, grads: Map<string, Float64Array>): void {
  let moved = 0;
  for (const [name, g] of grads) {
    const p0 = before.get(name)!, p1 = after.get(name)!;
    const delta = Float64Array.from(p1, (x, i) => x - p0[i]);
    const scale = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    if (scale > 0) moved++;
    // f32 parameters: the delta is exact only to one ulp of the weight (~1.2e-7·|w|)
    expectClose(delta, g.map((x) => -x), { rtol: 1e-3, atol: 1e-4 * scale + 2.4e-7 * (1 + p0.reduce((m, x) => Math.max(m, Math.abs(x)), 0)), what: `${what} Δ${name}` });
  }
  expect(moved).toBe(grads.size); // every tensor has a gradient (the check is not vacuous)
}

const prompts = (rng: Rng, n: number): PromptIds[] => Array.from({ length: n }, (_, i) => ({ promptIds: Array.from({ length: 2 + rng.int(4) }, () => rng.int(EOS)), index: i, line: i + 1 }));

describe('value model: the score head at every position', () => {
  it('per-token values equal the float64 model within 1e-4 at every position of every sequence', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const rm = rewardWeights(rng);
    const seqs = [5, 9, 3].map((n) => Array.from({ length: n }, () => rng.int(V)));
    const T = 16;
    const model = createModel(gpu, { config: rm.config });
    model.upload(rm.params);
    const runner = model.createRunner(3, T, 'f32');
    runner.setBatch(buildBatch(seqs.map((ids) => ({ ids, promptLen: 1 })), EOS, T));
    const enc = new StepEncoder(gpu, 'forward');
    runner.forward(enc);
    enc.submit();
    const all = await runner.readValues!();
    // (B,T) row-major; positions past a sequence's end are padding (attention stops at its length)
    const got = seqs.flatMap((q, b) => Array.from(all.subarray(b * T, b * T + q.length)));
    const want = valuesRef(rm, seqs).values.flat();
    expectClose(got, want, { atol: 1e-4, rtol: 0, what: `values seed=${seed}` });
    runner.destroy();
    model.destroy();
  });
});

interface Case {
  temperature: number;
  klCoef: number;
  otherRef: boolean;
}

async function oneUpdate(c: Case, seed: number) {
  const rng = new Rng(seed);
  const policy = policyWeights(rng);
  const ref = c.otherRef ? policyWeights(rng) : policy;
  const rm = rewardWeights(rng);
  const spec = { method: 'ppo' as const, maxNewTokens: 5, temperature: c.temperature, klCoef: c.klCoef, numPpoEpochs: 1 };
  const cfg: TrainConfig = { ...TRAIN_DEFAULTS, objective: spec, steps: 1, batchSize: 4, optimizer: 'sgd', lr: 1, maxGradNorm: 0, seed };
  const model = createModel(gpu, { config: GPT });
  model.upload(policy);
  const trainer = new PpoTrainer(model, prompts(rng, 4), [], cfg, { text, rewardModel: rm });
  await trainer.allocated();
  await trainer.prepare(ref);
  const metrics = await trainer.trainStep();
  const after = await model.download();
  const valueAfter = await trainer.valueWeights();
  const samples = trainer.samples;
  trainer.destroy();
  model.destroy();
  return { policy, ref, rm, spec, metrics, after, valueAfter, samples };
}

/** The float64 side of one update with one epoch, one mini-batch, one micro-batch. */
function float64Update(c: Case, spec: PpoOptions, policy: Map<string, Float32Array>, ref: Map<string, Float32Array>, rm: RewardModelWeights, samples: PpoSample[]) {
  const Tdiv = ppoLogitDivisor(c.temperature);
  const B = samples.length;
  const seqs = samples.map((s) => [...s.prompt_ids, ...s.completion_ids]);
  const pl = samples.map((s) => s.prompt_ids.length);
  const kept = samples.map((s) => s.completion_ids);
  const { T, responses } = padResponses(kept, EOS);
  const P = gpt2ForwardRef(divideNorm(policy, Tdiv), GPT, seqs);
  const R = gpt2ForwardRef(divideNorm(ref, Tdiv), GPT, seqs);
  const val = valuesRef(rm, seqs);
  const scores = gpt2ScoreRef(rm.params, rm.config as GPTConfig, seqs, EOS).rewards;
  const logprobs = new Float64Array(B * T);
  const refLogprobs = new Float64Array(B * T);
  const values = new Float64Array(B * T);
  for (let b = 0; b < B; b++) {
    for (let j = 0; j < T; j++) {
      const pos = pl[b] - 1 + j;
      if (j < kept[b].length) {
        logprobs[b * T + j] = P.logp[b][pos];
        refLogprobs[b * T + j] = R.logp[b][pos];
      }
      if (pos < seqs[b].length) values[b * T + j] = val.values[b][pos];
    }
  }
  const rollout = ppoObjective(spec).rollout({ B, T, responses, logprobs, refLogprobs, values, scores }, { eosId: EOS, padId: EOS });
  const rows = Array.from({ length: B }, (_, b) => b);
  const res = ppoMicroLoss(ppoMicroBatch(rollout, rows, { newLogprobs: logprobs, vpred: values, entropies: new Float64Array(B * T) }), {});
  const coef = seqs.map((q, b) => Array.from({ length: q.length - 1 }, (_, t) => (t >= pl[b] - 1 && t - (pl[b] - 1) < T ? res.coefLogp[b * T + t - (pl[b] - 1)] : 0)));
  const policyGrads = gpt2BackwardRef(P.cache, coef);
  for (const name of ['ln_f.weight', 'ln_f.bias']) policyGrads.get(name)!.forEach((g, i, a) => (a[i] = g / Tdiv));
  const dValue = seqs.map((q, b) => Array.from({ length: q.length }, (_, t) => (t >= pl[b] - 1 && t - (pl[b] - 1) < T ? res.dValue[b * T + t - (pl[b] - 1)] : 0)));
  const valueGrads = val.backward(dValue);
  return { rollout, res, scores, policyGrads, valueGrads };
}

describe('one PPO update vs float64 (SGD lr 1, no clipping: Δw = −∇ for the policy and the value model)', () => {
  const cases: Array<[string, Case]> = [
    ['T = 0.8, kl_coef 0.1, reference ≠ policy', { temperature: 0.8, klCoef: 0.1, otherRef: true }],
    ['T = 1, kl_coef 0.05, reference = policy', { temperature: 1, klCoef: 0.05, otherRef: false }],
  ];
  for (const [name, c] of cases) {
    it(name, async () => {
      const seed = freshSeed();
      const what = `${name} seed=${seed}`;
      const u = await oneUpdate(c, seed);
      expect(u.samples).toHaveLength(4);
      const want = float64Update(c, u.spec, u.policy, u.ref, u.rm, u.samples);
      expectClose(u.samples.map((s) => s.score), want.scores, { atol: 1e-4, rtol: 0, what: `${what} scores` });
      for (const k of ['objective/kl', 'objective/non_score_reward', 'objective/rlhf_reward', 'objective/scores'] as const) expect(Math.abs(u.metrics[k] - want.rollout.metrics[k]), `${what} ${k}`).toBeLessThan(1e-4 * (1 + Math.abs(want.rollout.metrics[k])));
      expect(u.metrics['val/num_eos_tokens']).toBe(want.rollout.metrics['val/num_eos_tokens']);
      expect(Math.abs(u.metrics['loss/policy_avg'] - want.res.stats.pgLoss), `${what} loss/policy_avg`).toBeLessThan(1e-4 * (1 + Math.abs(want.res.stats.pgLoss)));
      expect(Math.abs(u.metrics['loss/value_avg'] - want.res.stats.vfLoss), `${what} loss/value_avg`).toBeLessThan(1e-4 * (1 + Math.abs(want.res.stats.vfLoss)));
      expect(u.metrics['val/ratio']).toBe(1); // the rollout's log-probs come from the same forward: ρ = 1 exactly
      if (!c.otherRef) expect(u.metrics['objective/kl']).toBe(0);
      expectStep(`${what} policy`, u.policy, u.after, want.policyGrads);
      expectStep(`${what} value model`, u.rm.params, u.valueAfter, want.valueGrads);
    });
  }
});

describe('PPO runs', () => {
  it('objective/kl = 0 at step 1 with AdamW, 2 epochs × 2 mini-batches × 2 micro-batches; TRL metric names; a run resumed after update 1 continues exactly', async () => {
    const rng = new Rng(freshSeed());
    const base = { config: GPT, params: policyWeights(rng) };
    const rewardModel = rewardWeights(rng);
    const items = prompts(rng, 6);
    const config: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'ppo', maxNewTokens: 3, numPpoEpochs: 2, numMiniBatches: 2 }, steps: 2, batchSize: 4, gradAccum: 2, lr: 1e-3, seed: 5 };
    const collect = () => {
      const samples: PpoSample[][] = [];
      return { samples, events: { ppoSamples: (r: PpoSample[]) => samples.push(r) } };
    };
    const a = collect();
    const whole = new TrainingRun({ base, data: { kind: 'prompts', items }, config, text, rewardModel, events: a.events });
    await whole.start(gpu);
    await whole.run();
    const row = whole.rows[0];
    expect(row['objective/kl']).toBe(0);
    for (const k of [...PPO_METRICS, ...PPO_STEP_METRICS]) expect(row[k], k).toBeTypeOf('number');
    expect(row.episode).toBe(4);
    expect(Number.isNaN(row['val/ratio_var'])).toBe(false); // 8 micro-batch ratios
    const wantWeights = await whole.weights();
    whole.release();

    const store = memorySnapshotStore();
    const b = collect();
    const first = new TrainingRun({ base, data: { kind: 'prompts', items }, config, text, rewardModel, store, checkpointEvery: 1, events: b.events });
    await first.start(gpu);
    await first.advance();
    first.release();
    expect([...store.last!.params.keys()].some((k) => k.startsWith('value_model.'))).toBe(true);
    const second = new TrainingRun({ base, data: { kind: 'prompts', items }, config, text, rewardModel, store, checkpointEvery: 1, events: b.events });
    expect(await second.start(gpu, { resume: true })).toBeDefined();
    const [got] = await second.advance();
    expect(b.samples).toEqual(a.samples);
    const strip = (m: Record<string, number>) => Object.fromEntries(Object.entries(m).filter(([k]) => !['tokens_per_second', 'eps'].includes(k)));
    expect(strip(got)).toEqual(strip(whole.rows[1]));
    const gotWeights = await second.weights();
    for (const [k, v] of wantWeights) expect(Array.from(gotWeights.get(k)!), k).toEqual(Array.from(v));
    second.release();
  });
});

describe('seed 002 from the CLI: sft → reward → ppo (tiny preset)', () => {
  const jsonl = async (path: string) => (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('the folders connect, PPO logs TRL metrics with kl 0 at step 1, scores are the reward model’s on the logged ids, same seed → same samples; GRPO takes --reward-model', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-ppo-'));
    try {
      const rng = new Rng(7);
      const w = () => ['yes', 'no', 'maybe', 'two', 'four', 'cat'][rng.int(6)];
      const pairs = join(dir, 'pairs.jsonl');
      await writeFile(pairs, Array.from({ length: 6 }, () => JSON.stringify({ prompt: `Q: ${w()} ${w()}? A:`, chosen: ` ${w()}.`, rejected: ` ${w()} ${w()}!` })).join('\n') + '\n');
      const out = (x: string) => join(dir, x);
      expect(await main(['init', '--preset', 'tiny', '--seed', '3', '--out', out('init')])).toBe(0);
      const common = ['--pairs', pairs, '--steps', '2', '--batch-size', '2', '--quiet'];
      const once = ['--pairs', pairs, '--steps', '1', '--batch-size', '2', '--quiet'];
      expect(await main(['train', '--model', out('init'), '--method', 'sft', ...once, '--out', out('sft')])).toBe(0);
      expect(await main(['train', '--model', out('sft/model'), '--method', 'reward', ...once, '--out', out('rm')])).toBe(0);
      const rmConfig = JSON.parse(await readFile(out('rm/model/config.json'), 'utf8')) as { architectures: string[] };
      expect(rmConfig.architectures).toEqual(['GPT2ForSequenceClassification']);
      const ppo = (o: string) => main(['train', '--model', out('sft/model'), '--reward-model', out('rm/model'), '--method', 'ppo', ...common, '--max-new-tokens', '5', '--ppo-epochs', '2', '--seed', '4', '--out', out(o)]);
      expect(await ppo('ppo-a')).toBe(0);
      expect(await ppo('ppo-b')).toBe(0);
      const a = await readFile(out('ppo-a/samples.jsonl'));
      expect(a.equals(await readFile(out('ppo-b/samples.jsonl')))).toBe(true);
      const samples = await jsonl(out('ppo-a/samples.jsonl'));
      expect(samples).toHaveLength(2 * 2);
      for (const s of samples) expect(Object.keys(s)).toEqual(['step', 'prompt', 'completion', 'prompt_ids', 'completion_ids', 'score']);
      const rows = await jsonl(out('ppo-a/metrics.jsonl'));
      expect(rows).toHaveLength(2);
      expect(rows[0]['objective/kl']).toBe(0);
      for (const k of ['objective/kl', 'objective/entropy', 'objective/non_score_reward', 'objective/rlhf_reward', 'objective/scores', 'policy/approxkl_avg', 'policy/clipfrac_avg', 'loss/policy_avg', 'loss/value_avg', 'val/clipfrac_avg', 'policy/entropy_avg', 'val/ratio', 'val/num_eos_tokens', 'lr', 'episode', 'eps']) expect(rows[0], k).toHaveProperty([k]);
      // the policy is a causal LM folder again
      const policyConfig = JSON.parse(await readFile(out('ppo-a/model/config.json'), 'utf8')) as { architectures: string[] };
      expect(policyConfig.architectures).toEqual(['GPT2LMHeadModel']);
      // every logged score is the reward model's score of the logged ids (the `score` path: pairRewards)
      const rmCkpt = await readCheckpointDir(out('rm/model'));
      const gm = createModel(gpu, rmCkpt);
      gm.upload(rmCkpt.params);
      const runners = new RunnerPool(gm);
      const scoreOf = async (xs: Record<string, unknown>[]) => {
        const ps = xs.map((s, i) => ({ promptIds: s.prompt_ids as number[], chosenIds: s.completion_ids as number[], rejectedIds: s.completion_ids as number[], index: i }));
        return Array.from((await pairRewards(gm, runners, ps, 4)).chosen);
      };
      expectClose(samples.map((s) => s.score as number), await scoreOf(samples), { atol: 1e-4, rtol: 0, what: 'PPO scores' });
      expect(rows[0]['objective/scores'] as number).toBeCloseTo(((samples[0].score as number) + (samples[1].score as number)) / 2, 12);

      // GRPO with the reward model as its reward function, logged under the folder's name
      expect(await main(['train', '--model', out('sft/model'), '--reward-model', out('rm/model'), '--method', 'grpo', ...once, '--num-generations', '2', '--max-new-tokens', '4', '--out', out('grpo')])).toBe(0);
      const g = await jsonl(out('grpo/samples.jsonl'));
      expect(g).toHaveLength(2 * 2);
      const want = await scoreOf(g);
      expectClose(g.map((s) => s.reward as number), want, { atol: 1e-4, rtol: 0, what: 'GRPO rewards' });
      expectClose(g.map((s) => (s.rewards as Record<string, number>).rm), want, { atol: 1e-4, rtol: 0, what: 'GRPO rewards/rm' });
      expect((await jsonl(out('grpo/metrics.jsonl')))[0]).toHaveProperty(['rewards/rm/mean']);
      runners.destroy();
      gm.destroy();

      // refusals: PPO without a reward model, a causal LM as the reward model
      await expect(main(['train', '--model', out('sft/model'), '--method', 'ppo', ...common, '--out', out('x')])).rejects.toThrow(/--method ppo needs --reward-model/);
      await expect(main(['train', '--model', out('sft/model'), '--reward-model', out('sft/model'), '--method', 'ppo', ...common, '--out', out('x')])).rejects.toThrow(/--reward-model .*not a reward model/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
