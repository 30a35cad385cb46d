// The trainer on WebGPU against an independent float64 computation: GPT-2 log-probs from
// src/reference/gpt2.ts, losses written out by hand (sigmoid DPO, ORPO) or from the pure
// objectives (other loss types, themselves checked against hand values in tests/unit).
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { GptModel } from '../../src/model/gpt';
import { paramSpec, presetConfig, type GPTConfig } from '../../src/model/config';
import { gpt2ForwardRef, gpt2BackwardRef } from '../../src/reference/gpt2';
import { Trainer, TrainingError } from '../../src/train/trainer';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import { createObjective, type ObjectiveSpec, type PairObjective } from '../../src/train/objectives';
import { promptFor, type PairIds } from '../../src/train/pairs';
import { Rng } from '../../src/util/rng';
import { randomPairs, randomParams } from '../helpers/random-model';
import { refTokenStats } from '../helpers/token-stats';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 32 };

function weights(rng: Rng, scale = 0.2): Map<string, Float32Array> {
  return randomParams(config, rng, { scale, biasScale: scale, lnSpread: 0.1 });
}

const pairs = (rng: Rng, n: number): PairIds[] => randomPairs(rng, n, config.eosTokenId);

function cfg(objective: ObjectiveSpec, over: Partial<TrainConfig> = {}): TrainConfig {
  return { ...TRAIN_DEFAULTS, objective, steps: 1, lr: 1e-3, ...over };
}

/** Per-pair float64 sums S over completion tokens (and the NLL sum over prompt + chosen). */
function refStats(w: Map<string, Float32Array>, ps: PairIds[]) {
  const seqs: number[][] = [];
  const promptLens: number[] = [];
  for (const side of ['chosen', 'rejected'] as const) {
    for (const p of ps) {
      const prompt = promptFor(p, config.bosTokenId);
      seqs.push([...prompt, ...(side === 'chosen' ? p.chosenIds : p.rejectedIds)]);
      promptLens.push(prompt.length);
    }
  }
  const r = gpt2ForwardRef(w, config, seqs);
  const S = seqs.map((_, s) => r.logp[s].slice(promptLens[s] - 1).reduce((a, b) => a + b, 0));
  const all = seqs.map((_, s) => r.logp[s].reduce((a, b) => a + b, 0));
  const logitSum = seqs.map((_, s) => r.meanLogit[s].slice(promptLens[s] - 1).reduce((a, b) => a + b, 0));
  const tok = seqs.map((q, s) => refTokenStats(r, s, q, promptLens[s], config.vocabSize));
  return { r, seqs, promptLens, S, all, logitSum, tok, n: ps.length };
}

function objectiveInput(st: ReturnType<typeof refStats>, ref: ReturnType<typeof refStats> | null) {
  const n = st.n;
  const len = st.seqs.map((s, i) => s.length - st.promptLens[i]);
  return {
    chosenLogp: st.S.slice(0, n), rejectedLogp: st.S.slice(n),
    chosenRefLogp: ref?.S.slice(0, n), rejectedRefLogp: ref?.S.slice(n),
    chosenLen: len.slice(0, n), rejectedLen: len.slice(n),
    chosenLogitSum: st.logitSum.slice(0, n), chosenLogitCount: len.slice(0, n),
    rejectedLogitSum: st.logitSum.slice(n), rejectedLogitCount: len.slice(n),
    chosenNllSum: st.all.slice(0, n), chosenNllCount: st.seqs.slice(0, n).map((s) => s.length - 1),
  };
}

const logSig = (x: number) => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x)));
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

async function stepOne(spec: ObjectiveSpec, policy: Map<string, Float32Array>, ref: Map<string, Float32Array> | undefined, ps: PairIds[], over: Partial<TrainConfig> = {}) {
  const model = new GptModel(gpu, config);
  model.upload(policy);
  const trainer = new Trainer(model, ps, [], cfg(spec, { batchSize: ps.length, ...over }));
  await trainer.prepare(ref);
  const metrics = await trainer.trainStep();
  return { model, trainer, metrics };
}

describe('trainer step 1 vs float64', () => {
  it('DPO sigmoid: every metric matches a hand-written float64 DPO (policy and reference from different seeds)', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const policy = weights(rng), ref = weights(rng), ps = pairs(rng, 3);
    const beta = 0.5;
    const { metrics, trainer, model } = await stepOne({ method: 'dpo', beta }, policy, ref, ps);
    const P = refStats(policy, ps), R = refStats(ref, ps);
    const n = ps.length;
    const rw = ps.map((_, i) => P.S[i] - R.S[i]), rl = ps.map((_, i) => P.S[n + i] - R.S[n + i]);
    const lens = P.seqs.map((s, i) => s.length - P.promptLens[i]);
    const want: Record<string, number> = {
      loss: mean(rw.map((w, i) => -logSig(beta * (w - rl[i])))),
      'rewards/chosen': mean(rw.map((w) => beta * w)),
      'rewards/rejected': mean(rl.map((l) => beta * l)),
      'rewards/margins': mean(rw.map((w, i) => beta * (w - rl[i]))),
      'logps/chosen': mean(P.S.slice(0, n)),
      'logps/rejected': mean(P.S.slice(n)),
      'logits/chosen': P.logitSum.slice(0, n).reduce((a, b) => a + b, 0) / lens.slice(0, n).reduce((a, b) => a + b, 0),
      'logits/rejected': P.logitSum.slice(n).reduce((a, b) => a + b, 0) / lens.slice(n).reduce((a, b) => a + b, 0),
      entropy: P.tok.reduce((a, t) => a + t.entropySum, 0) / lens.reduce((a, b) => a + b, 0),
      mean_token_accuracy: P.tok.slice(0, n).reduce((a, t) => a + t.correctCount, 0) / lens.slice(0, n).reduce((a, b) => a + b, 0),
      num_tokens: P.seqs.reduce((a, s) => a + s.length, 0),
    };
    // rewards are β·(S − S_ref) of f32 sums that are each ~100× larger than the difference: the
    // absolute tolerance follows the sums' size (16 f32 ulps of the largest, times β)
    const atol = 1e-6 + 2e-6 * beta * Math.max(...[...P.S, ...R.S].map(Math.abs));
    for (const [k, v] of Object.entries(want)) expectClose([metrics[k]], [v], { rtol: 1e-4, atol, what: `${k} seed=${seed}` });
    expect(metrics['rewards/accuracies']).toBe(mean(rw.map((w, i) => (w > rl[i] ? 1 : 0))));
    expect(metrics.step).toBe(1);
    trainer.destroy();
    model.destroy();
  });

  it.each(['ipo', 'hinge', 'robust', 'exo_pair', 'sppo_hard', 'apo_zero'] as const)('DPO %s: step-1 metrics match the objective on float64 log-probs', async (lossType) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const policy = weights(rng), ref = weights(rng), ps = pairs(rng, 3);
    const spec: ObjectiveSpec = { method: 'dpo', lossType, beta: 0.3, labelSmoothing: lossType === 'robust' || lossType === 'exo_pair' ? 0.1 : 0 };
    const { metrics, trainer, model } = await stepOne(spec, policy, ref, ps);
    const P = refStats(policy, ps), R = refStats(ref, ps);
    const want = (createObjective(spec) as PairObjective).compute(objectiveInput(P, R)).metrics;
    const atol = 1e-6 + 2e-6 * 0.3 * Math.max(...[...P.S, ...R.S].map(Math.abs)); // as in the sigmoid test
    for (const [k, v] of Object.entries(want)) expectClose([metrics[k]], [v], { rtol: 1e-4, atol, what: `${lossType} ${k} seed=${seed}` });
    trainer.destroy();
    model.destroy();
  });

  it('ORPO: loss, NLL over prompt + chosen, log-odds metrics match a hand-written float64 ORPO', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const policy = weights(rng), ps = pairs(rng, 3);
    const lambda = 0.25;
    const { metrics, trainer, model } = await stepOne({ method: 'orpo', beta: lambda }, policy, undefined, ps);
    const P = refStats(policy, ps);
    const n = ps.length;
    const lens = P.seqs.map((s, i) => s.length - P.promptLens[i]);
    const A = P.S.map((s, i) => s / lens[i]);
    const log1mexp = (a: number) => (a < -Math.LN2 ? Math.log1p(-Math.exp(a)) : Math.log(-Math.expm1(a)));
    const ell = ps.map((_, i) => A[i] - A[n + i] - (log1mexp(A[i]) - log1mexp(A[n + i])));
    const nll = -P.all.slice(0, n).reduce((a, b) => a + b, 0) / P.seqs.slice(0, n).reduce((a, s) => a + s.length - 1, 0);
    const want: Record<string, number> = {
      loss: nll + lambda * mean(ell.map((l) => -logSig(l))),
      nll_loss: nll,
      log_odds_ratio: mean(ell.map(logSig)),
      log_odds_chosen: mean(ell),
      'rewards/chosen': mean(A.slice(0, n).map((a) => lambda * a)),
      'logps/chosen': mean(A.slice(0, n)),
      'logps/rejected': mean(A.slice(n)),
      'log_odds/chosen': mean(A.slice(0, n).map((a) => a - log1mexp(a))),
      'log_odds/rejected': mean(A.slice(n).map((a) => a - log1mexp(a))),
    };
    for (const [k, v] of Object.entries(want)) expectClose([metrics[k]], [v], { rtol: 1e-4, atol: 1e-6, what: `${k} seed=${seed}` });
    trainer.destroy();
    model.destroy();
  });
});

describe('trainer updates', () => {
  it('one full-batch SGD step with lr 1 and no clipping moves every weight by minus the true gradient', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const policy = weights(rng), ref = weights(rng), ps = pairs(rng, 3);
    const spec: ObjectiveSpec = { method: 'dpo', beta: 0.5 };
    const { model, trainer } = await stepOne(spec, policy, ref, ps, { optimizer: 'sgd', lr: 1, maxGradNorm: 0 });
    const after = await model.download();
    const P = refStats(policy, ps), R = refStats(ref, ps);
    const res = (createObjective(spec) as PairObjective).compute(objectiveInput(P, R));
    const n = ps.length;
    const coef = P.seqs.map((s, b) => Array.from({ length: s.length - 1 }, (_, t) => (t + 1 >= P.promptLens[b] ? (b < n ? res.dChosenLogp[b] : res.dRejectedLogp[b - n]) : 0)));
    const grads = gpt2BackwardRef(P.r.cache, coef);
    for (const s of paramSpec(config)) {
      const g = grads.get(s.name)!, p0 = policy.get(s.name)!, p1 = after.get(s.name)!;
      const delta = Float64Array.from(p1, (x, i) => x - p0[i]);
      const scale = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      // f32 parameters: the delta is exact only to one ulp of the weight (~1.2e-7·|w|)
      expectClose(delta, g.map((x) => -x), { rtol: 1e-3, atol: 1e-4 * scale + 2.4e-7, what: `Δ${s.name} seed=${seed}` });
    }
    trainer.destroy();
    model.destroy();
  });

  it('AdamW: a short DPO run lowers the loss and widens the margin; a checkpoint resumes exactly', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const policy = weights(rng, 0.1), ps = pairs(rng, 4);
    const spec: ObjectiveSpec = { method: 'dpo', beta: 0.5 };
    const model = new GptModel(gpu, config);
    model.upload(policy);
    const c = cfg(spec, { batchSize: 4, steps: 6, lr: 5e-3, maxGradNorm: 1, schedule: 'constant' });
    const trainer = new Trainer(model, ps, [], c);
    await trainer.prepare();
    const history = [];
    for (let i = 0; i < 4; i++) history.push(await trainer.trainStep());
    // checkpoint after 4 updates, continue on a fresh model + trainer
    const saved = { params: await model.download(), moments: await trainer.optimizerState(), state: { step: trainer.step, reference: trainer.reference } };
    for (let i = 4; i < 6; i++) history.push(await trainer.trainStep());
    expect(history[5].loss, `seed=${seed}`).toBeLessThan(history[0].loss);
    expect(history[5]['rewards/margins']).toBeGreaterThan(history[0]['rewards/margins']);
    const model2 = new GptModel(gpu, config);
    model2.upload(saved.params);
    const resumed = new Trainer(model2, ps, [], c);
    resumed.restore(saved.state, saved.moments);
    const again = await resumed.trainStep();
    expect(again.step).toBe(5);
    expect(again.num_tokens).toBe(history[4].num_tokens); // recounted on restore, not restarted
    expectClose([again.loss, again['rewards/margins'], again.grad_norm], [history[4].loss, history[4]['rewards/margins'], history[4].grad_norm], { rtol: 1e-5, atol: 1e-7, what: 'resumed step 5' });
    for (const t of [trainer, resumed]) t.destroy();
    model.destroy();
    model2.destroy();
  });

  it('num_tokens is a running total of prompt + completion tokens that restore() recounts (shuffled epochs, accumulation)', async () => {
    const rng = new Rng(freshSeed());
    const ps = pairs(rng, 5);
    const model = new GptModel(gpu, config);
    model.upload(weights(rng));
    const c = cfg({ method: 'sft' }, { batchSize: 2, gradAccum: 2, steps: 3 });
    const trainer = new Trainer(model, ps, [], c);
    const totals: number[] = [];
    for (let i = 0; i < 3; i++) totals.push((await trainer.trainStep()).num_tokens);
    // 5 pairs in micro-batches of 2, 2 per step: the first epoch ends inside step 2 and the next is reshuffled
    expect(totals[0]).toBeGreaterThan(0);
    expect(totals[2]).toBeGreaterThan(totals[1]);
    const fresh = new Trainer(model, ps, [], c);
    for (let k = 0; k <= 3; k++) {
      fresh.restore({ step: k, reference: null }, null);
      expect(fresh.numTokens, `after ${k} steps`).toBe(k ? totals[k - 1] : 0);
    }
    for (const t of [trainer, fresh]) t.destroy();
    model.destroy();
  });

  it('stops on a non-finite log-prob and names the step and the pairs', async () => {
    const rng = new Rng(freshSeed());
    const policy = weights(rng), ps = pairs(rng, 3);
    // poison the embedding row of one token that only pair 1's chosen completion uses
    const token = 256; // end-of-text: every completion ends with it, so every pair is hit
    policy.get('wte.weight')!.fill(NaN, token * config.nEmbd, (token + 1) * config.nEmbd);
    const model = new GptModel(gpu, config);
    model.upload(policy);
    const trainer = new Trainer(model, ps, [], cfg({ method: 'orpo' }, { batchSize: 3 }));
    const err = await trainer.trainStep().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingError);
    expect((err as TrainingError).step).toBe(1);
    expect([...(err as TrainingError).pairs].sort()).toEqual([0, 1, 2]);
    expect((err as Error).message).toMatch(/step 1 \(pairs [0-2], [0-2], [0-2]\)/);
    trainer.destroy();
    model.destroy();
  });
});
