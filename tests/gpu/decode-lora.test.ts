// Generation and the online methods with LoRA (src/model/decode.ts, src/train/online-trainer.ts,
// src/train/ppo-trainer.ts; docs/rlhf.md):
// - the cached decode of a model with adapters (B ≠ 0, every linear projection) over an f32 and a
//   bf16-packed base: every step's logits equal the full forward's within 1e-4, the float64 model's
//   (rounded base, same adapters), and the rollout log-probs the training runner's (the helpers of
//   tests/gpu/decode.test.ts), for GPT-2 and a Llama-family model with scattered q|k|v and gate|up;
// - adapters off generate exactly what the base model does; the runner reads the live adapters
//   (new ones uploaded between calls are used); the same seed gives the same tokens;
// - one GRPO update with adapters (B ≠ 0) over a bf16 base against float64 (SGD lr 1, no
//   clipping): the reference is the base with the adapters off (kl ≠ 0 and equal to float64's),
//   every adapter moves by minus the float64 gradient, the base does not move;
// - from PEFT's init: GRPO and PPO log kl = 0 at step 1, the base is unchanged after 2 updates and
//   every adapter tensor changed; a resumed GRPO run continues exactly; the CLI with --lora-r 4.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import { expectCachedDecode, makeModel, ODD_LLAMA, randomAdapters, randomWeights } from '../helpers/decode-models';
import { expectGrpoResumeExact } from '../helpers/resume';
import type { GpuContext } from '../../src/engine/gpu';
import { main } from '../../src/cli/main';
import { decodeBytes, DecodeRunner, generateOnGpu, type GenerateOptions } from '../../src/model/decode';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { createModel, type ModelConfig, type TrainableModel } from '../../src/model/family';
import { loraInit, loraScale, packedBaseNames, type BaseDtype, type LoraConfig } from '../../src/model/lora';
import { roundWeights } from '../../src/model/packed-base';
import { toRewardModel } from '../../src/model/reward';
import { parseSafetensors } from '../../src/model/safetensors';
import { gpt2BackwardRef, gpt2ForwardRef } from '../../src/reference/gpt2';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import { OnlineTrainer } from '../../src/train/online-trainer';
import { PpoTrainer } from '../../src/train/ppo-trainer';
import type { PromptIds } from '../../src/train/prompts';
import { grpoAdvantages, type RewardTable } from '../../src/train/rl/advantages';
import { grpoLoss } from '../../src/train/rl/grpo';
import type { RewardFunction } from '../../src/train/rl/rewards';
import { arithmeticJudge } from '../../src/judge';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

/** Rank 3, scale 5/3, every linear projection. */
const LORA: LoraConfig = { r: 3, alpha: 5 };
const GPT: GPTConfig = { ...presetConfig('tiny'), nPositions: 40 };

/** The base as a 16-bit base holds it (every linear projection's weight rounded), or as it is. */
function stored(c: ModelConfig, w: Map<string, Float32Array>, dtype: BaseDtype): Map<string, Float32Array> {
  if (dtype === 'f32') return w;
  const names = packedBaseNames(c);
  return new Map([...w].map(([k, v]) => [k, names.has(k) ? roundWeights(v, dtype) : v]));
}

describe.each([
  ['gpt2 tiny', GPT],
  ['odd llama (HS 12, GQA 3:1, biases, scattered stacks)', ODD_LLAMA],
] as Array<[string, ModelConfig]>)('%s with LoRA adapters: cached decode', (_name, config) => {
  it.each(['f32', 'bf16'] as BaseDtype[])('%s base: step logits equal the full forward\'s (1e-4) and the float64 model\'s with the adapters; rollout log-probs equal the training runner\'s', async (dtype) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const w = randomWeights(config, rng);
    const adapters = randomAdapters(config, LORA, rng);
    const model = makeModel(gpu, config, w, { lora: LORA, adapters, baseDtype: dtype });
    try {
      expect(model.packed !== null).toBe(dtype !== 'f32');
      await expectCachedDecode(gpu, model, config, { weights: stored(config, w, dtype), lora: { scale: loraScale(LORA), weights: adapters } }, rng, `${dtype} base seed=${seed}`);
    } finally {
      model.destroy();
    }
  });
});

describe('a DecodeRunner on a LoRA model', () => {
  it('adapters off generate exactly the base model\'s logits and tokens; new adapters uploaded between calls are used; the same seed gives the same tokens', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const config = GPT;
    const V = config.vocabSize;
    const w = randomWeights(config, rng);
    const model = makeModel(gpu, config, w, { lora: LORA, adapters: randomAdapters(config, LORA, rng) });
    const plain = makeModel(gpu, config, w);
    const runner = new DecodeRunner(model, 3, 8, 5);
    try {
      // the estimate counts the LoRA scratch: u (B·Tp, r) f32 (GPT-2 stacks nothing: no delta)
      expect(decodeBytes(model, 3, 8, 5) - decodeBytes(plain, 3, 8, 5)).toBe(4 * 3 * 8 * LORA.r);
      const prompts = [8, 3, 5].map((n) => Array.from({ length: n }, () => rng.int(V)));
      const o: GenerateOptions = { maxNewTokens: 5, temperature: 1, topK: 20, seed: rng.int(2 ** 32), stopIds: [], captureLogits: true };
      const a = await runner.generate(prompts, o);
      const again = await runner.generate(prompts, o);
      expect(again.generated, `seed=${seed}`).toEqual(a.generated);
      expect(again.logprobs).toEqual(a.logprobs);
      expect((await runner.generate(prompts, { ...o, seed: (o.seed! + 1) >>> 0 })).generated, `seed=${seed}`).not.toEqual(a.generated);
      // adapters off: the base model, bitwise (the same kernels on the same weights)
      model.lora!.enabled = false;
      const off = await runner.generate(prompts, o);
      model.lora!.enabled = true;
      const base = await generateOnGpu(plain, prompts, o);
      expect(off.generated).toEqual(base.generated);
      off.logits!.forEach((l, s) => expect(Array.from(l), `step ${s}`).toEqual(Array.from(base.logits![s])));
      // the adapters matter (the comparison above is not vacuous)
      expect(Math.max(...a.logits![0].map((x, i) => Math.abs(x - off.logits![0][i])))).toBeGreaterThan(1e-2);
      // the runner reads the adapters at each call: new ones give what a fresh model with them gives
      const next = randomAdapters(config, LORA, rng);
      model.lora!.upload(next);
      const live = await runner.generate(prompts, o);
      const fresh = makeModel(gpu, config, w, { lora: LORA, adapters: next });
      try {
        const want = await generateOnGpu(fresh, prompts, o);
        expect(live.generated).toEqual(want.generated);
        live.logits!.forEach((l, s) => expect(Array.from(l), `step ${s}`).toEqual(Array.from(want.logits![s])));
      } finally {
        fresh.destroy();
      }
    } finally {
      runner.destroy();
      model.destroy();
      plain.destroy();
    }
  });
});

// ---------------------------------------------------------------- online methods with LoRA

// A vocabulary of 8 (end-of-text = 7) so that completions end at different lengths.
const V8 = 8;
const EOS = 7;
const SMALL: GPTConfig = { ...presetConfig('tiny'), vocabSize: V8, nPositions: 32, bosTokenId: EOS, eosTokenId: EOS };
const text = (ids: readonly number[]) => ids.join(' ');
const numbers = (s: string) => s.split(' ').filter(Boolean).map(Number);
/** A reward that almost surely differs between completions (the advantages are not all 0): the mean id plus the length. */
const REWARD: RewardFunction = { name: 'ids', score: (_p, c) => numbers(c).reduce((a, b) => a + b, 0) / Math.max(1, numbers(c).length) + 0.1 * numbers(c).length };
const prompts = (rng: Rng, n: number): PromptIds[] => Array.from({ length: n }, (_, i) => ({ promptIds: Array.from({ length: 2 + rng.int(4) }, () => rng.int(EOS)), index: i, line: i + 1 }));

function loraModel(c: GPTConfig, lora: LoraConfig, base: Map<string, Float32Array>, adapters: Map<string, Float32Array>, baseDtype: BaseDtype): TrainableModel {
  const model = createModel(gpu, { config: c }, { lora, baseDtype });
  model.upload(base);
  model.lora!.upload(adapters);
  return model;
}

function divideNorm(w: Map<string, Float32Array>, T: number): Map<string, Float32Array | Float64Array> {
  return new Map([...w].map(([k, v]) => [k, k === 'ln_f.weight' || k === 'ln_f.bias' ? Float64Array.from(v, (x) => x / T) : v]));
}

function expectUnchanged(before: Map<string, Float32Array>, after: Map<string, Float32Array>, what: string): void {
  expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
  for (const [k, v] of before) expect(Array.from(after.get(k)!), `${what}: ${k}`).toEqual(Array.from(v));
}

describe('GRPO with LoRA: the reference is the base with the adapters off', () => {
  it('one update (adapters B ≠ 0, bf16 base, T = 0.8) vs float64: kl to the base, the loss, Δadapters = −∇ (SGD lr 1), the base unchanged', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const T = 0.8;
    const beta = 0.04;
    const G = 3;
    const lora: LoraConfig = { r: 4, alpha: 8 };
    const w = randomWeights(SMALL, rng);
    const adapters = randomAdapters(SMALL, lora, rng, 0.2);
    const model = loraModel(SMALL, lora, w, adapters, 'bf16');
    const cfg: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'grpo', numGenerations: G, maxNewTokens: 5, temperature: T, beta, reward: 'judge:arithmetic' }, steps: 1, batchSize: 2, optimizer: 'sgd', lr: 1, maxGradNorm: 0, seed, lora, baseDtype: 'bf16' };
    const trainer = new OnlineTrainer(model, prompts(rng, 2), [], cfg, { text, rewards: [REWARD] });
    try {
      await trainer.prepare();
      const baseBefore = await model.download();
      const metrics = await trainer.trainStep();
      expectUnchanged(baseBefore, await model.download(), 'base');
      const after = await model.lora!.download();
      const samples = trainer.samples;
      // float64: the policy (rounded base + adapters) and the reference (rounded base), logits / T
      const base = stored(SMALL, w, 'bf16');
      const seqs = samples.map((s) => [...s.prompt_ids, ...s.completion_ids]);
      const pl = samples.map((s) => s.prompt_ids.length);
      const len = samples.map((s) => s.completion_ids.length);
      const N = samples.length;
      const Tc = Math.max(...len);
      const P = gpt2ForwardRef(divideNorm(base, T), SMALL, seqs, undefined, { scale: loraScale(lora), weights: adapters });
      const R = gpt2ForwardRef(divideNorm(base, T), SMALL, seqs);
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
      const table: RewardTable = { names: [REWARD.name], weights: [1], values: samples.map((s) => [REWARD.score(s.prompt, s.completion)]) };
      const adv = grpoAdvantages(table, { numGenerations: G }).advantages;
      const want = grpoLoss({ B: N, T: Tc, logps, refLogps, mask, advantages: adv }, { beta, lossType: 'dapo', activeTokens: len.reduce((a, b) => a + b, 0) });
      const what = `seed=${seed}`;
      expect(want.metrics.kl, `${what}: the adapters move the policy off the base`).toBeGreaterThan(1e-3);
      expect(Math.abs(metrics.kl - want.metrics.kl), `${what} kl ${metrics.kl} vs ${want.metrics.kl}`).toBeLessThan(1e-5 + 1e-4 * Math.abs(want.metrics.kl));
      expect(Math.abs(metrics.loss - want.loss), `${what} loss ${metrics.loss} vs ${want.loss}`).toBeLessThan(1e-5 + 1e-4 * Math.abs(want.loss));
      const coefRef = seqs.map((q, s) => Array.from({ length: q.length - 1 }, (_, t) => (t >= pl[s] - 1 ? want.coef[s * Tc + t - (pl[s] - 1)] : 0)));
      const grads = gpt2BackwardRef(P.cache, coefRef);
      for (const [name, a0] of adapters) {
        const g = grads.get(name)!;
        const delta = Float64Array.from(after.get(name)!, (x, i) => x - a0[i]);
        const scale = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        expect(scale, `${what} ∇${name}`).toBeGreaterThan(0);
        expectClose(delta, g.map((x) => -x), { rtol: 1e-3, atol: 1e-4 * scale + 2.4e-7 * (1 + a0.reduce((m, x) => Math.max(m, Math.abs(x)), 0)), what: `${what} Δ${name}` });
      }
    } finally {
      trainer.destroy();
      model.destroy();
    }
  });

  it('from PEFT\'s init (B = 0), AdamW, 2 updates: kl = 0 at step 1 and > 0 at step 2; the base unchanged, every adapter tensor changed', async () => {
    // A random model can sample the same completion for every member of every group at step 1
    // (seen: seed 1989856033, all "0 0 0 0 0"); then every advantage is 0, nothing moves and kl
    // stays 0 at step 2, as it should. Such a draw tests nothing, so it is redrawn (at most 4 times).
    const seed0 = freshSeed();
    for (let attempt = 0; ; attempt++) {
      const seed = (seed0 + attempt) >>> 0;
      const rng = new Rng(seed);
      const lora: LoraConfig = { r: 4, alpha: 8 };
      const w = randomWeights(SMALL, rng);
      const init = loraInit(SMALL, lora, seed);
      const model = loraModel(SMALL, lora, w, init, 'f32');
      const cfg: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'grpo', numGenerations: 3, maxNewTokens: 5, temperature: 1, beta: 0.04, reward: 'judge:arithmetic' }, steps: 2, batchSize: 2, gradAccum: 2, lr: 1e-2, seed, lora };
      const trainer = new OnlineTrainer(model, prompts(rng, 3), [], cfg, { text, rewards: [REWARD] });
      try {
        await trainer.prepare();
        const first = await trainer.trainStep();
        expect(first.kl, `seed=${seed}`).toBe(0);
        if (first.frac_reward_zero_std === 1) {
          expect(first.grad_norm, `seed=${seed}: no group has a reward spread, so no gradient`).toBe(0);
          expect(attempt, `seed=${seed}: ${attempt + 1} draws in a row had no reward spread`).toBeLessThan(3);
          continue;
        }
        expect(first.grad_norm, `seed=${seed}`).toBeGreaterThan(0);
        const second = await trainer.trainStep();
        expect(second.kl, `seed=${seed}`).toBeGreaterThan(0);
        expectUnchanged(w, await model.download(), `seed=${seed} base`);
        const after = await model.lora!.download();
        for (const [k, v] of init) expect(Array.from(after.get(k)!), `seed=${seed}: ${k} changed`).not.toEqual(Array.from(v));
        return;
      } finally {
        trainer.destroy();
        model.destroy();
      }
    }
  });
});

describe('TrainingRun: GRPO with LoRA over a bf16 base', () => {
  it('a run resumed from the snapshot after update 1 (the adapters and their moments) continues exactly: same samples, metrics and adapters at update 2', async () => {
    const rng = new Rng(freshSeed());
    const base = { config: SMALL as ModelConfig, params: randomWeights(SMALL, rng) };
    const items = prompts(rng, 3);
    const config: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'grpo', numGenerations: 2, maxNewTokens: 4, temperature: 0.9, reward: 'judge:arithmetic' }, steps: 2, batchSize: 2, lr: 1e-2, seed: 3, lora: { r: 2, alpha: 4 }, baseDtype: 'bf16' };
    const rows = await expectGrpoResumeExact(gpu, { base, data: { kind: 'prompts', items }, config, text, rewards: [REWARD] }, 1, (r) => r.adapterWeights());
    expect(rows[0].kl).toBe(0);
  });
});

describe('PPO with LoRA', () => {
  it('from PEFT\'s init, 2 updates: objective/kl = 0 at step 1; the base unchanged; every adapter tensor and the value model (a full copy of the reward model) trained', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const V = 16;
    const eos = 15;
    const config: GPTConfig = { ...presetConfig('tiny'), vocabSize: V, nPositions: 32, bosTokenId: eos, eosTokenId: eos };
    const lora: LoraConfig = { r: 4, alpha: 8 };
    const w = randomWeights(config, rng);
    const rmBase = toRewardModel({ config, params: randomWeights(config, rng) }, 1);
    rmBase.params.set('score.weight', Float32Array.from({ length: config.nEmbd }, () => 0.5 * rng.normal()));
    const rewardModel = { name: 'rm', config: rmBase.config, params: rmBase.params };
    const init = loraInit(config, lora, seed);
    const model = loraModel(config, lora, w, init, 'bf16');
    const items = Array.from({ length: 4 }, (_, i) => ({ promptIds: Array.from({ length: 2 + rng.int(4) }, () => rng.int(eos)), index: i, line: i + 1 }));
    const cfg: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'ppo', maxNewTokens: 4, temperature: 0.7, numPpoEpochs: 2, numMiniBatches: 2 }, steps: 2, batchSize: 4, lr: 1e-2, seed, lora, baseDtype: 'bf16' };
    const trainer = new PpoTrainer(model, items, [], cfg, { text, rewardModel });
    try {
      await trainer.allocated();
      await trainer.prepare();
      const base = await model.download();
      const first = await trainer.trainStep();
      await trainer.trainStep();
      expect(first['objective/kl'], `seed=${seed}`).toBe(0);
      expectUnchanged(base, await model.download(), `seed=${seed} base`);
      const after = await model.lora!.download();
      for (const [k, v] of init) expect(Array.from(after.get(k)!), `seed=${seed}: ${k} changed`).not.toEqual(Array.from(v));
      const value = await trainer.valueWeights();
      expect(Array.from(value.get('score.weight')!)).not.toEqual(Array.from(rewardModel.params.get('score.weight')!));
      expect(Array.from(value.get('h.0.attn.c_attn.weight')!)).not.toEqual(Array.from(rewardModel.params.get('h.0.attn.c_attn.weight')!));
    } finally {
      trainer.destroy();
      model.destroy();
    }
  });
});

describe('train --method grpo --lora-r 4 (CLI)', () => {
  const jsonl = async (path: string) => (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

  it('judge:arithmetic on the built-in model, bf16 base, 2 updates: kl = 0 at step 1, rewards are the judge\'s, the same seed the same samples, a PEFT adapter folder; --ref-model is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-grpo-lora-'));
    try {
      const args = (out: string, extra: string[] = []) => ['train', '--model', 'builtin', '--pairs', 'public/data/arithmetic.jsonl', '--method', 'grpo', '--reward', 'judge:arithmetic', '--lora-r', '4', '--base-dtype', 'bf16', '--steps', '2', '--batch-size', '2', '--num-generations', '3', '--max-new-tokens', '5', '--temperature', '0.9', '--lr', '1e-2', '--seed', '7', '--quiet', '--out', join(dir, out), ...extra];
      expect(await main(args('a'))).toBe(0);
      expect(await main(args('b'))).toBe(0);
      expect((await readFile(join(dir, 'a', 'samples.jsonl'))).equals(await readFile(join(dir, 'b', 'samples.jsonl')))).toBe(true);
      const rows = await jsonl(join(dir, 'a', 'metrics.jsonl'));
      expect(rows).toHaveLength(2);
      expect(rows[0].kl).toBe(0);
      for (const k of ['loss', 'reward', 'reward_std', 'rewards/arithmetic/mean', 'kl', 'entropy', 'frac_reward_zero_std', 'clip_ratio/region_mean', 'completions/mean_length']) expect(rows[1], k).toHaveProperty([k]);
      const samples = await jsonl(join(dir, 'a', 'samples.jsonl'));
      expect(samples).toHaveLength(2 * 2 * 3);
      for (const s of samples) expect(s.reward).toBe(arithmeticJudge.judge(s.prompt as string, s.completion as string).score);
      const config = JSON.parse(await readFile(join(dir, 'a', 'adapter', 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
      expect(config.r).toBe(4);
      const st = parseSafetensors(new Uint8Array(await readFile(join(dir, 'a', 'adapter', 'adapter_model.safetensors'))));
      expect([...st.tensors.keys()]).toContain('base_model.model.transformer.h.0.attn.c_attn.lora_A.weight');
      await expect(main(args('r', ['--ref-model', 'builtin']))).rejects.toThrow(/--ref-model: with --lora-r/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
