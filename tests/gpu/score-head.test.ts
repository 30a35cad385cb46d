// The score head in the runners (src/model/score-head.ts, GptRunner / LlamaRunner with a reward
// config) against the float64 reward model (src/reference/score.ts): one reward per sequence at
// its last non-padding token, and every parameter gradient by name of Σ dReward·reward, in both
// kernel forms (the tiled matmul with OC = 1 included), GPT-2 and the Llama family (untied Qwen2
// trunk without its LM head; tied Llama), with padding ids inside and at the end of sequences.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { StepEncoder } from '../../src/engine/encoder';
import { buildBatch, type SequenceSpec } from '../../src/model/batch';
import { presetConfig } from '../../src/model/config';
import { llamaParamSpec, llamaPresetConfig, llamaRefConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';
import { createModel, type ModelConfig } from '../../src/model/family';
import { rewardConfig } from '../../src/model/reward';
import { gpt2ScoreRef, llamaScoreRef } from '../../src/reference/score';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';
import { Rng } from '../../src/util/rng';
import { randomParams } from '../helpers/random-model';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const PAD = 256;
const CONFIGS: Array<[string, () => ModelConfig]> = [
  ['gpt2 tiny', () => rewardConfig({ ...presetConfig('tiny'), nPositions: 24 })],
  ['qwen-tiny (untied trunk)', () => rewardConfig(llamaPresetConfig('qwen-tiny'))],
  ['llama-tiny (tied)', () => rewardConfig(llamaPresetConfig('llama-tiny'))],
];

function weights(c: ModelConfig, rng: Rng): Map<string, Float32Array> {
  if (!('family' in c)) return randomParams(c, rng);
  const m = new Map<string, Float32Array>();
  for (const s of llamaParamSpec(c as LlamaFamilyConfig)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const norm = /norm\.weight$/.test(s.name);
    m.set(s.name, Float32Array.from({ length: n }, () => (norm ? 1 + 0.2 * rng.normal() : 0.3 * rng.normal())));
  }
  return m;
}

describe.each(CONFIGS)('%s score head vs the float64 reward model', (_, make) => {
  it.each<AdapterClass>(['cpu', 'gpu'])('rewards and every parameter gradient match (%s kernel forms)', async (cls) => {
    forceAdapterClass(cls);
    const seed = freshSeed();
    const rng = new Rng(seed);
    const config = make();
    const params = weights(config, rng);
    // padding ids inside a sequence count as tokens; a trailing run is skipped
    const ids = [17, 5, 23, 9].map((n) => Array.from({ length: n }, () => rng.int(256)));
    ids[1][2] = PAD;
    ids[2].splice(20, 3, PAD, PAD, PAD);
    ids[3][8] = PAD;
    const seqs: SequenceSpec[] = ids.map((q) => ({ ids: q, promptLen: 1 }));
    const batch = buildBatch(seqs, PAD, 24);
    const model = createModel(gpu, { config });
    model.upload(params);
    const runner = model.createRunner(batch.B, batch.T, 'f32');
    runner.setBatch(batch);
    let enc = new StepEncoder(gpu, 'forward');
    runner.forward(enc);
    enc.submit();
    const got = await runner.readRewards!();
    const ref = 'family' in config ? llamaScoreRef(params, llamaRefConfig(config as LlamaFamilyConfig), ids, PAD) : gpt2ScoreRef(params, config, ids, PAD);
    expect(ref.index).toEqual([16, 4, 19, 7]);
    expectClose(got, ref.rewards, { rtol: 1e-4, atol: 1e-5, what: `rewards seed=${seed}` });

    const dReward = ids.map(() => rng.uniform(-1, 1));
    runner.setRewardGradients!(dReward);
    enc = new StepEncoder(gpu, 'backward');
    for (const g of model.grads.chunks()) enc.clear(g);
    runner.backward(enc);
    enc.submit();
    const grads = await model.download(model.grads);
    const want = ref.backward(dReward);
    expect([...grads.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [name, w] of want) {
      const scale = w.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectClose(grads.get(name)!, w, { rtol: 1e-3, atol: 1e-4 * scale + 1e-7, what: `d${name} seed=${seed}` });
    }
    await expect(runner.readStats()).rejects.toThrow(/reward model/);
    runner.destroy();
    model.destroy();
    forceAdapterClass(null);
  });
});
