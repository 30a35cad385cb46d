// The jax-js peer of the bench (src/bench/peer-jaxjs.ts) computes the same thing as the engine, so
// the speed ratio compares like with like: on a tiny GPT-2 with random weights at a scale where
// every path matters, its Σ coef·log p and every parameter gradient by name match the float64
// reference (src/reference/gpt2.ts), and two full steps — global-norm clipping that bites, then
// Adam — move every weight where the float64 optimizer reference moves it. Tiny shapes: SwiftShader
// is slow and jax-js compiles its kernels on the first call. No timing is asserted.
import { describe, it, expect, beforeAll } from 'vitest';
import { expectClose, freshSeed } from '../helpers/close';
import { randomParams } from '../helpers/random-model';
import { paramSpec, presetConfig, type GPTConfig } from '../../src/model/config';
import { buildBatch } from '../../src/model/batch';
import { gpt2BackwardRef, gpt2ForwardRef } from '../../src/reference/gpt2';
import { adamwStepRef, gradNormSquaredRef } from '../../src/reference/optimizer';
import { Rng } from '../../src/util/rng';
import { JaxGpt, type JaxStepHp, type LoadedJaxPeer } from '../../src/bench/peer-jaxjs';
import { loadJaxjsWebgpuInNode } from '../../src/bench/peer-node';
import { benchCoefficients, type BenchBatch } from '../../src/bench/workload';

const config: GPTConfig = { ...presetConfig('tiny'), vocabSize: 41, nPositions: 12, nEmbd: 16, nHead: 2, nLayer: 2 };
const B = 2;
const T = 7;

let peer: LoadedJaxPeer;
beforeAll(async () => {
  peer = await loadJaxjsWebgpuInNode();
});

function setup(seed: number) {
  const rng = new Rng(seed);
  const weights = randomParams(config, rng);
  const seqs = Array.from({ length: B }, () => ({ ids: Array.from({ length: T }, () => rng.int(config.vocabSize)), promptLen: 3 }));
  const batch: BenchBatch = buildBatch(seqs, config.eosTokenId, T);
  // the bench's coefficients (zero where no target), scaled up so the loss is not ~1e-2
  const coef = benchCoefficients(batch, rng).map((c) => c * B * T);
  const coefRef = seqs.map((_, b) => Array.from({ length: T - 1 }, (_, t) => coef[b * T + t]));
  return { weights, seqs: seqs.map((s) => s.ids), batch, coef, coefRef };
}

/**
 * Σ coef·logp and the float64 gradients at `weights`. `atol` for the loss: the ± coefficients make
 * it a cancelling sum (~0.1 from terms of ~4), so its error is relative to Σ|coef·logp|, not to it.
 */
function reference(weights: Map<string, Float32Array | Float64Array>, seqs: number[][], coefRef: number[][]) {
  const fwd = gpt2ForwardRef(weights, config, seqs);
  const terms = fwd.logp.flatMap((row, b) => row.map((lp, t) => coefRef[b][t] * lp));
  const loss = terms.reduce((a, x) => a + x, 0);
  const atol = 1e-5 * terms.reduce((a, x) => a + Math.abs(x), 0);
  return { loss, atol, grads: gpt2BackwardRef(fwd.cache, coefRef) };
}

describe('bench peer: GPT-2 in jax-js (grad + jit) on WebGPU', () => {
  it('adapter: the same Dawn adapter the engine uses', () => {
    expect(peer.jax.defaultDevice()).toBe('webgpu');
    expect(peer.adapter.vendor + peer.adapter.architecture + peer.adapter.description).not.toBe('');
  });

  it('Σ coef·log p and every parameter gradient match the float64 reference', async () => {
    const seed = freshSeed();
    const { weights, seqs, batch, coef, coefRef } = setup(seed);
    const model = new JaxGpt(peer.jax, config, weights, B, T);
    const got = await model.lossAndGrads(batch, coef);
    const want = reference(weights, seqs, coefRef);
    expectClose([got.loss], [want.loss], { rtol: 1e-4, atol: want.atol, what: `loss seed=${seed}` });
    for (const s of paramSpec(config)) {
      const w = want.grads.get(s.name)!;
      const scale = w.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(scale, `d${s.name} is not trivially zero`).toBeGreaterThan(0);
      expectClose(got.grads.get(s.name)!, w, { rtol: 1e-3, atol: 1e-4 * scale + 1e-7, what: `d${s.name} seed=${seed}` });
    }
    model.destroy();
  });

  it('two steps of clipping + Adam move every weight as the float64 optimizer does', async () => {
    const seed = freshSeed();
    const { weights, seqs, batch, coef, coefRef } = setup(seed);
    // eps comparable to the update's denominator and a clip that bites: both change the result
    const hp: JaxStepHp = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-3, maxGradNorm: 0.05 };
    const model = new JaxGpt(peer.jax, config, weights, B, T, hp);
    const names = paramSpec(config).map((s) => s.name);
    const p = new Map(names.map((n) => [n, Float64Array.from(weights.get(n)!)]));
    const m = new Map(names.map((n) => [n, new Float64Array(p.get(n)!.length)]));
    const v = new Map(names.map((n) => [n, new Float64Array(p.get(n)!.length)]));
    let unclippedDiffers = false;
    for (let step = 1; step <= 2; step++) {
      const want = reference(p, seqs, coefRef);
      const loss = await model.step(batch, coef);
      expectClose([loss], [want.loss], { rtol: 1e-4, atol: want.atol, what: `step ${step} loss seed=${seed}` });
      let normSq = 0;
      for (const n of names) normSq += gradNormSquaredRef(want.grads.get(n)!);
      expect(Math.sqrt(normSq), 'the clip bites').toBeGreaterThan(hp.maxGradNorm);
      for (const n of names) {
        const before = Float64Array.from(p.get(n)!);
        adamwStepRef(p.get(n)!, m.get(n)!, v.get(n)!, want.grads.get(n)!, normSq, { ...hp, weightDecay: 0, step });
        if (step === 1) {
          const unclipped = Float64Array.from(before);
          adamwStepRef(unclipped, new Float64Array(before.length), new Float64Array(before.length), want.grads.get(n)!, normSq, { ...hp, weightDecay: 0, step, maxGradNorm: 0 });
          unclippedDiffers ||= unclipped.some((x, i) => Math.abs(x - p.get(n)![i]) > 1e-4);
        }
      }
      const got = await model.params();
      for (const n of names) expectClose(got.get(n)!, p.get(n)!, { rtol: 1e-4, atol: 2e-6, what: `${n} after step ${step} seed=${seed}` });
    }
    expect(unclippedDiffers, 'clipping changes the update (so this test checks it)').toBe(true);
    model.destroy();
  });
});
