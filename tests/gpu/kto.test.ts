// KTO on unpaired examples: step-1 metrics against a hand-written float64 KTO over the
// independent float64 model (GPT-2, and a Qwen2-layout Llama-family one), with TRL's KL pairing
// (previous completion within a batch chunk).
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { GptModel } from '../../src/model/gpt';
import { initParams } from '../../src/model/init';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { gpt2ForwardRef } from '../../src/reference/gpt2';
import { KtoTrainer, klPartner, type UnpairedIds } from '../../src/train/kto-trainer';
import { TRAIN_DEFAULTS } from '../../src/train/config';
import { Rng } from '../../src/util/rng';
import { LlamaModel } from '../../src/model/llama';
import { initLlamaParams, llamaPresetConfig, llamaRefConfig } from '../../src/model/llama-config';
import { llamaForwardRef } from '../../src/reference/llama';
import type { TrainableModel } from '../../src/model/family';
import { refTokenStats } from '../helpers/token-stats';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 32 };
const qwen = llamaPresetConfig('qwen-tiny');

/** Per family: the GPU model, its seeded weights, and the float64 per-token log-probs of one sequence. */
const FAMILIES = {
  gpt2: {
    model: (g: GpuContext): TrainableModel => new GptModel(g, config),
    init: (seed: number) => initParams(config, seed),
    logp: (w: Map<string, Float32Array>, q: number[]) => gpt2ForwardRef(w, config, [q]),
    vocab: config.vocabSize,
  },
  qwen2: {
    model: (g: GpuContext): TrainableModel => new LlamaModel(g, qwen),
    init: (seed: number) => initLlamaParams(qwen, seed, 0.1),
    logp: (w: Map<string, Float32Array>, q: number[]) => llamaForwardRef(w, llamaRefConfig(qwen), [q]),
    vocab: qwen.vocabSize,
  },
};
const sig = (x: number) => 1 / (1 + Math.exp(-x));

describe('KTO trainer', () => {
  it('pairs each example with the previous completion of its chunk', () => {
    expect([0, 1, 2, 3, 4].map((i) => klPartner(i, 5, 3))).toEqual([2, 0, 1, 4, 3]);
    expect(klPartner(0, 1, 4)).toBe(0);
  });

  it.each(Object.keys(FAMILIES) as Array<keyof typeof FAMILIES>)('%s: step-1 loss, KL and rewards match float64 (policy and reference from different seeds)', async (family) => {
    const F = FAMILIES[family];
    const seed = freshSeed();
    const rng = new Rng(seed);
    const policy = F.init(seed % 1000), ref = F.init((seed % 1000) + 1);
    const ids = (k: number) => Array.from({ length: k }, () => rng.int(256));
    const xs: UnpairedIds[] = Array.from({ length: 4 }, (_, i) => ({ promptIds: ids(2 + rng.int(5)), completionIds: [...ids(1 + rng.int(6)), 256], label: i % 2 === 0, index: i }));
    const beta = 0.4;
    const model = F.model(gpu);
    model.upload(policy);
    const trainer = new KtoTrainer(model, xs, [], { ...TRAIN_DEFAULTS, objective: { method: 'kto', beta, desirableWeight: 1.5 }, batchSize: 4, steps: 1 });
    await trainer.prepare(ref);
    const m = await trainer.trainStep();
    const S = (w: Map<string, Float32Array>, seqPrompt: number[], comp: readonly number[]) => {
      const r = F.logp(w, [...seqPrompt, ...comp]);
      return r.logp[0].slice(seqPrompt.length - 1).reduce((a, b) => a + b, 0);
    };
    const r = xs.map((x) => S(policy, [...x.promptIds], x.completionIds) - S(ref, [...x.promptIds], x.completionIds));
    const kl = Math.max(0, xs.reduce((acc, x, i) => acc + S(policy, [...x.promptIds], xs[klPartner(i, 4, 4)].completionIds) - S(ref, [...x.promptIds], xs[klPartner(i, 4, 4)].completionIds), 0) / 4);
    const losses = xs.map((x, i) => (x.label ? 1.5 * (1 - sig(beta * (r[i] - kl))) : 1 - sig(beta * (kl - r[i]))));
    // entropy over the examples' completion tokens only, not the KL sequences; no token accuracy
    const seqs = xs.map((x) => [...x.promptIds, ...x.completionIds]);
    const H = seqs.map((q, i) => refTokenStats(F.logp(policy, q), 0, q, xs[i].promptIds.length, F.vocab).entropySum);
    const want = {
      entropy: H.reduce((a, b) => a + b, 0) / xs.reduce((a, x) => a + x.completionIds.length, 0),
      num_tokens: seqs.reduce((a, q) => a + q.length, 0),
      loss: losses.reduce((a, b) => a + b, 0) / 4,
      kl,
      'rewards/chosen': (beta * (r[0] + r[2])) / 2,
      'rewards/rejected': (beta * (r[1] + r[3])) / 2,
    };
    // kl and the rewards are differences of f32 sums of up to 7 log-probs near −5.5 (|S| up to ~40),
    // so they carry a few ulps of |S| however close to 0 they land; an atol of 1e-6 alone failed on
    // draws where kl fell just above 0.
    const mag = Math.max(...xs.flatMap((x, i) => [x.completionIds, xs[klPartner(i, 4, 4)].completionIds].flatMap((c) => [policy, ref].map((w) => Math.abs(S(w, [...x.promptIds], c))))));
    const atol = (k: string) => (k === 'kl' || k.startsWith('rewards/') ? 1e-6 + 8 * 1.2e-7 * mag * (k === 'kl' ? 1 : beta) : 1e-6);
    for (const [k, v] of Object.entries(want)) expectClose([m[k]], [v], { rtol: 1e-4, atol: atol(k), what: `${k} seed=${seed}` });
    expect(m.step).toBe(1);
    expect(m).not.toHaveProperty('mean_token_accuracy');
    trainer.destroy();
    model.destroy();
  });
});
