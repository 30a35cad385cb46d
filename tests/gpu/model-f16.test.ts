// Accuracy of f16 activation storage (GptRunner activationsDtype 'f16', docs/perf.md): the whole
// GPT-2 on WebGPU with qkv and fch kept as packed f16, against the float64 reference of the
// unrounded model — log-probs, sums and every parameter gradient — at tolerances set from the
// measured errors (f16 keeps 11 significant bits: relative rounding up to 2⁻¹¹ ≈ 4.9e-4); a layout
// error (halves swapped, a word off) gives errors of order 1 and fails them. And the arena
// saves exactly the bytes the packed layout predicts.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { StepEncoder } from '../../src/engine/encoder';
import { GptModel, GptRunner, activationBytes } from '../../src/model/gpt';
import { buildBatch } from '../../src/model/batch';
import { paramSpec, presetConfig, type GPTConfig } from '../../src/model/config';
import { gpt2ForwardRef, gpt2BackwardRef } from '../../src/reference/gpt2';
import { toF16 } from '../../src/reference/f16';
import { Rng } from '../../src/util/rng';
import { randomParams, randomSeqs } from '../helpers/random-model';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

/** max |got − want| / max |want|: the error relative to the tensor's scale. */
function scaledError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let err = 0, scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i] - want[i]));
    scale = Math.max(scale, Math.abs(want[i]));
  }
  return err / scale;
}

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 24 };

/** An f16-activation runner's forward on random weights and 3 ragged sequences; `tokenLogps` lines its log-probs up with the reference's. */
async function f16Forward() {
  const seed = freshSeed();
  const rng = new Rng(seed);
  const weights = randomParams(config, rng);
  const seqs = randomSeqs(rng, config.vocabSize, [17, 5, 23]);
  const batch = buildBatch(seqs, config.eosTokenId, 24);
  const model = new GptModel(gpu, config);
  model.upload(weights);
  const runner = new GptRunner(model, batch.B, batch.T, 'f16');
  runner.setBatch(batch);
  const enc = new StepEncoder(gpu, 'forward');
  runner.forward(enc);
  enc.submit();
  const logp = await runner.readTokenLogps();
  const got = seqs.flatMap((s, b) => Array.from({ length: s.ids.length - 1 }, (_, t) => logp[b * batch.T + t]));
  const ids = seqs.map((s) => [...s.ids]);
  const destroy = () => {
    runner.destroy();
    model.destroy();
  };
  return { seed, rng, weights, seqs, ids, batch, model, runner, got, destroy };
}

describe('f16 activations: GPT-2 on WebGPU vs the float64 reference', () => {
  it('log-probs, sums and every parameter gradient within the f16 tolerances', async () => {
    const { seed, rng, weights, seqs, ids, batch, model, runner, got, destroy } = await f16Forward();
    expect(runner.acts.has('0.qkv')).toBe(false);
    const coefRef = seqs.map((s) => Array.from({ length: s.ids.length - 1 }, () => rng.uniform(-1, 1)));
    const coef = new Float32Array(batch.B * batch.T);
    coefRef.forEach((row, b) => row.forEach((c, t) => (coef[b * batch.T + t] = c)));
    const ref = gpt2ForwardRef(weights, config, ids);
    const want = ref.logp.flat();
    const logpErr = got.reduce((m, x, i) => Math.max(m, Math.abs(x - want[i])), 0);
    // measured max |Δ log p| 1.1e-3…5.3e-3 over 7 seeds (log-probs ≈ −2…−7); halves swapped in
    // pack_f16: 4.2. The f32 path passes 1e-4 relative.
    expectClose(got, want, { rtol: 0, atol: 2e-2, what: `token logp (f16 activations) seed=${seed}` });
    const stats = await runner.readStats();
    const wantS = seqs.map((s, b) => ref.logp[b].slice(s.promptLen - 1).reduce((x, y) => x + y, 0));
    expectClose(stats.logp, wantS, { rtol: 0, atol: 0.1, what: `sequence sums (f16 activations) seed=${seed}` });

    runner.setCoefficients(coef);
    const enc = new StepEncoder(gpu, 'backward');
    enc.clear(model.grads.whole());
    runner.backward(enc);
    enc.submit();
    const grads = await model.download(model.grads);
    const refGrads = gpt2BackwardRef(ref.cache, coefRef);
    const errs: Record<string, number> = {};
    for (const s of paramSpec(config)) {
      const g = grads.get(s.name)!, w = refGrads.get(s.name)!;
      errs[s.name] = scaledError(g, w);
      const scale = w.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      // measured max |Δ| / max |want|, worst tensor: 2.0e-3…3.5e-3 over 7 seeds (f32 path passes 1e-4)
      expectClose(g, w, { rtol: 0, atol: 3e-2 * scale + 1e-7, what: `d${s.name} (f16 activations) seed=${seed}` });
    }
    const worst = Object.entries(errs).sort((x, y) => y[1] - x[1])[0];
    console.log(`f16 activations seed=${seed}: max |Δ logp| ${logpErr.toExponential(2)}; worst gradient d${worst[0]} ${worst[1].toExponential(2)} of its scale`);
    destroy();
  });

  it('computes the rounded model: its log-probs sit far closer to a float64 model with qkv and fc rounded to f16 than to the unrounded one', async () => {
    // The forward must use the values it keeps (pack, then unpack back) so the backward is the
    // gradient of the function scored. Against the float64 model rounded the same way only f32
    // error remains — plus the values where an f32 activation and its float64 twin straddle an
    // f16 rounding boundary — so the runner must sit much closer to the rounded model than to
    // the unrounded one. Without the round trip it would be the other way round.
    const { seed, weights, ids, got, destroy } = await f16Forward();
    const want = gpt2ForwardRef(weights, config, ids, toF16).logp.flat();
    const wantPlain = gpt2ForwardRef(weights, config, ids).logp.flat();
    // by token, the median error and the share of tokens closer to the rounded model: a straddle
    // moves a few tokens by the rounding's own size, so an rms ratio depends on how many a draw has
    // (rms ratio 0.01…0.31 over 60 seeds); a forward on unrounded values gives ≫ 1
    const errR = got.map((x, i) => Math.abs(x - want[i]));
    const errU = got.map((x, i) => Math.abs(x - wantPlain[i]));
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
    const closer = errR.filter((e, i) => e < errU[i]).length / errR.length;
    console.log(`f16 activations, seed=${seed}: median |Δ logp| vs rounded model ${median(errR).toExponential(2)}, vs unrounded ${median(errU).toExponential(2)}; ${(100 * closer).toFixed(0)} % of tokens closer to the rounded`);
    expect(median(errR), `seed=${seed}`).toBeLessThan(0.35 * median(errU));
    expect(closer, `seed=${seed}`).toBeGreaterThanOrEqual(0.7);
    destroy();
  });

  it('the f32 runner keeps qkv and fch as f32 tensors; f16 saves exactly the packed bytes', () => {
    const model = new GptModel(gpu, config);
    const r32 = new GptRunner(model, 3, 24);
    const r16 = new GptRunner(model, 3, 24, 'f16');
    expect(r32.a('1.qkv').length).toBe(3 * 24 * 3 * config.nEmbd);
    expect(r16.a('1.qkv_f16').length).toBe((3 * 24 * 3 * config.nEmbd) / 2);
    expect(r16.a('1.fch_f16').length).toBe((3 * 24 * 4 * config.nEmbd) / 2);
    expect(r16.acts.bytes).toBeGreaterThanOrEqual(activationBytes(config, 3, 24, 'f16'));
    expect(r16.acts.bytes).toBeLessThan(activationBytes(config, 3, 24, 'f16') + 256 * 64);
    expect(() => new GptRunner(model, 3, 24, 'bf16' as never)).toThrow(/activationsDtype must be f32 or f16, got bf16/);
    r32.destroy();
    r16.destroy();
    model.destroy();
    // Per run: qkv and fch (7C floats per token and layer) drop from 4 to 2 bytes each, and one
    // f32 scratch of 4C floats per token is added: saved = BT·(7C·L·2 − 4C·4) bytes.
    for (const [c, B, T] of [[config, 3, 24], [presetConfig('gpt2'), 2, 512], [presetConfig('builtin'), 4, 64]] as const) {
      const BT = B * T, C = c.nEmbd, L = c.nLayer;
      expect(activationBytes(c, B, T, 'f32') - activationBytes(c, B, T, 'f16')).toBe(BT * (7 * C * L * 2 - 16 * C));
    }
  });
});
