// Tier 3 of the testing recipe (docs/design.md): the whole GPT-2 on WebGPU against the independent float64 model in
// src/reference/gpt2.ts — per-token log-probs, mean logits, per-sequence sums and every
// parameter gradient by name; and padding never changes a result.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { GptModel, GptRunner, activationBytes } from '../../src/model/gpt';
import { buildBatch, type SequenceSpec } from '../../src/model/batch';
import { paramSpec, presetConfig, type GPTConfig } from '../../src/model/config';
import { gpt2ForwardRef, gpt2BackwardRef } from '../../src/reference/gpt2';
import { Rng } from '../../src/util/rng';
import { randomParams, randomSeqs } from '../helpers/random-model';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 24 };

describe('GPT-2 on WebGPU vs the float64 reference', () => {
  // Both kernel forms (src/kernels/plan.ts): CPU adapters' register-blocked matmul and 4-wide
  // reductions, GPUs' tiled matmul and 64–256-wide reductions, whichever this adapter is.
  it.each<AdapterClass>(['cpu', 'gpu'])('log-probs, sums and every parameter gradient match (%s kernel forms)', async (cls) => {
    forceAdapterClass(cls);
    const seed = freshSeed();
    const rng = new Rng(seed);
    const weights = randomParams(config, rng);
    const lengths = [17, 5, 23];
    const seqs = randomSeqs(rng, config.vocabSize, lengths);
    const batch = buildBatch(seqs, config.eosTokenId, 24);
    const model = new GptModel(gpu, config);
    model.upload(weights);
    const runner = new GptRunner(model, batch.B, batch.T);
    runner.setBatch(batch);

    // coefficients dL/dlogp at every predicting position (padding gets none)
    const coefRef = seqs.map((s) => Array.from({ length: s.ids.length - 1 }, () => rng.uniform(-1, 1)));
    const coef = new Float32Array(batch.B * batch.T);
    coefRef.forEach((row, b) => row.forEach((c, t) => (coef[b * batch.T + t] = c)));

    let enc = new StepEncoder(gpu, 'forward');
    runner.forward(enc);
    enc.submit();
    const ref = gpt2ForwardRef(weights, config, seqs.map((s) => [...s.ids]));
    const logp = await runner.readTokenLogps();
    const meanLogit = await readF32(gpu.device, runner.a('mean_logit'));
    const gotLogp: number[] = [], wantLogp: number[] = [], gotML: number[] = [], wantML: number[] = [];
    seqs.forEach((s, b) => {
      for (let t = 0; t < s.ids.length - 1; t++) {
        gotLogp.push(logp[b * batch.T + t]);
        wantLogp.push(ref.logp[b][t]);
        gotML.push(meanLogit[b * batch.T + t]);
        wantML.push(ref.meanLogit[b][t]);
      }
    });
    expectClose(gotLogp, wantLogp, { rtol: 1e-4, atol: 1e-5, what: `token logp seed=${seed}` });
    expectClose(gotML, wantML, { rtol: 1e-4, atol: 1e-5, what: `mean logit seed=${seed}` });

    const stats = await runner.readStats();
    const wantS = seqs.map((s, b) => ref.logp[b].slice(s.promptLen - 1).reduce((x, y) => x + y, 0));
    expectClose(stats.logp, wantS, { rtol: 1e-4, atol: 1e-5, what: `sequence sums seed=${seed}` });
    // entropy and argmax = target from the reference's full log-softmax; `correct` only where
    // float64 has a clear maximum (f32 may order a near-tie differently)
    const V = config.vocabSize;
    const correct = await readF32(gpu.device, runner.a('correct'));
    const wantH = seqs.map((s, b) => {
      let h = 0;
      for (let t = s.promptLen - 1; t < s.ids.length - 1; t++) {
        const lp = ref.cache.seqs[b].logprobs.slice(t * V, (t + 1) * V);
        h -= lp.reduce((a, x) => a + Math.exp(x) * x, 0);
        const order = Array.from(lp.keys()).sort((i, j) => lp[j] - lp[i] || i - j);
        if (lp[order[0]] - lp[order[1]] > 1e-4) expect(correct[b * batch.T + t], `correct b=${b} t=${t} seed=${seed}`).toBe(order[0] === s.ids[t + 1] ? 1 : 0);
      }
      return h;
    });
    expectClose(stats.entropySum, wantH, { rtol: 1e-4, atol: 1e-5, what: `entropy sums seed=${seed}` });
    const gotCorrect = seqs.map((s, b) => correct.slice(b * batch.T + s.promptLen - 1, b * batch.T + s.ids.length - 1).reduce((a, x) => a + x, 0));
    expect(Array.from(stats.correctCount)).toEqual(gotCorrect);

    runner.setCoefficients(coef);
    enc = new StepEncoder(gpu, 'backward');
    enc.clear(model.grads.whole());
    runner.backward(enc);
    enc.submit();
    const grads = await model.download(model.grads);
    const refGrads = gpt2BackwardRef(ref.cache, coefRef);
    for (const s of paramSpec(config)) {
      const want = refGrads.get(s.name)!;
      const scale = want.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expectClose(grads.get(s.name)!, want, { rtol: 1e-3, atol: 1e-4 * scale + 1e-7, what: `d${s.name} seed=${seed}` });
    }
    runner.destroy();
    model.destroy();
    forceAdapterClass(null);
  });

  it('a sequence alone and inside a padded batch gives the same log-probs', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const model = new GptModel(gpu, config);
    model.upload(randomParams(config, rng));
    const [short, ...others] = randomSeqs(rng, config.vocabSize, [6, 19, 11]);
    const sums = async (seqs: SequenceSpec[], T: number) => {
      const batch = buildBatch(seqs, config.eosTokenId, T);
      const runner = new GptRunner(model, batch.B, batch.T);
      runner.setBatch(batch);
      const enc = new StepEncoder(gpu);
      runner.forward(enc);
      enc.submit();
      const st = await runner.readStats();
      runner.destroy();
      return st;
    };
    const alone = await sums([short], 6);
    const padded = await sums([...others, short], 24);
    expect(Math.abs(padded.logp[2] - alone.logp[0]), `seed=${seed}`).toBeLessThanOrEqual(1e-5 * Math.abs(alone.logp[0]));
    model.destroy();
  });

  it('refuses a head size the attention kernels cannot hold, naming it', () => {
    expect(() => new GptModel(gpu, { ...config, nEmbd: 12, nHead: 2 })).toThrow(/head size n_embd\/n_head = 6 must be a multiple of 4 and at most 128/);
    expect(() => new GptModel(gpu, { ...config, nEmbd: 256, nHead: 1 })).toThrow(/head size n_embd\/n_head = 256/);
  });

  it('the activation arena grows linearly in T: no (T × T) attention storage', () => {
    // activationBytes(T) = a + b·T exactly when nothing scales with T²: equal second differences vanish
    const [b1, b2, b3] = [128, 256, 512].map((T) => activationBytes(presetConfig('gpt2'), 2, T));
    expect(b3 - b2).toBe(2 * (b2 - b1));
    const model = new GptModel(gpu, config);
    const runner = new GptRunner(model, 3, 24);
    expect(runner.acts.bytes).toBeGreaterThanOrEqual(activationBytes(config, 3, 24));
    expect(runner.acts.bytes).toBeLessThan(activationBytes(config, 3, 24) + 256 * 64);
    runner.destroy();
    model.destroy();
  });
});
