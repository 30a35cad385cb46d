// f16 arithmetic in the GPT-2 training step (GptRunner arithmeticDtype 'f16', docs/perf.md §14)
// against the float64 GPT-2 with the operands rounded to f16 where the runner rounds them
// (gpt2ForwardRef's `roundOperands`): shared by tests/gpu/model-f16-arith.test.ts (emulated
// variant, forced; in CI) and tests/gpu-f16/train-step-f16-native.test.ts (the plan's native
// variant, on an adapter with `shader-f16`). The variant is whatever the plan picks when these run.
//
// The bounds. Against the float64 model rounded at the same points, what remains is the f32
// error of the f32 path (≤ 1e-4 relative: tests/gpu/model.test.ts), the f32 accumulation of the
// f16 products (≤ K·2⁻²⁴ of Σ|a·b|, K ≤ 128: ≤ 8e-6), and, dominating, the straddles: an operand
// whose f32 value and float64 twin (a relative δ ≈ 1e-6 apart) fall on two sides of an f16
// rounding boundary rounds one f16 ulp (2⁻¹⁰…2⁻¹¹ relative) away from the reference's. That
// happens with probability p ≈ δ / 2⁻¹⁰·⁵ ≈ 1.5e-3 per operand, and then errs by a whole ulp where
// the rounding itself errs by ulp/√12 rms: the residual is ≈ √p·√12 ≈ 0.13 of the rounding's own
// effect (measured, rms of log-probs: 0.01…0.15; gradients in the 2-norm: 0.15…0.25). The
// rounding's effect is ≈ 2e-3 on log-probs (max, tiny preset) and 3e-3…7e-3 of a gradient
// tensor's 2-norm, so: log-probs within 4e-3 (measured max 0.1e-3…2.4e-3 over 10 seeds), each
// gradient tensor and each SGD step within 2e-3 of its 2-norm (measured 3.2e-4…1.03e-3; the
// issue's 1e-3 is inside the spread, not a bound), and element by element within 1e-3 relative
// plus 5e-3 of the tensor's largest element (measured ≤ 1.3e-3). The tests also require the
// result to sit clearly closer to the rounded model than to the unrounded one, which a misplaced
// or missing rounding fails (its error would be the rounding's whole effect).
import { expect } from 'vitest';
import { expectClose } from './close';
import type { GpuContext } from '../../src/engine/gpu';
import { StepEncoder } from '../../src/engine/encoder';
import { GptModel } from '../../src/model/gpt';
import { buildBatch } from '../../src/model/batch';
import { paramSpec, presetConfig, type GPTConfig } from '../../src/model/config';
import { gpt2ForwardRef, gpt2BackwardRef } from '../../src/reference/gpt2';
import { toF16 } from '../../src/reference/f16';
import { Trainer } from '../../src/train/trainer';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import { createObjective, type ObjectiveSpec, type PairObjective } from '../../src/train/objectives';
import { promptFor, type PairIds } from '../../src/train/pairs';
import { Rng } from '../../src/util/rng';
import { randomPairs, randomParams, randomSeqs } from './random-model';

export const F16_ARITH_CONFIG: GPTConfig = { ...presetConfig('tiny'), nPositions: 32 };
const config = F16_ARITH_CONFIG;
/** Element by element, a gradient's error may reach this share of the tensor's largest element (straddles: the header). */
export const GRAD_ATOL = 5e-3;
/**
 * A gradient tensor's (or an SGD step's) error in the 2-norm, relative to its norm. 3e-3: over 60
 * seeds the worst tensor sat at ≤ 1.15e-3 but one draw's dwpe.weight reached 2.08e-3 (a few
 * operands rounded apart at f16 boundaries; the unrounded model's worst is 2–5e-3).
 */
export const GRAD_L2 = 3e-3;
/** Log-probs: absolute, plus relative (about an f16 half-spacing of the log-prob's size: an operand rounded the other way at a rounding boundary moves it by about that). */
export const LOGP_ATOL = 4e-3;
export const LOGP_RTOL = 5e-4;

export const maxAbs = (xs: ArrayLike<number>) => Array.from(xs).reduce((m, x) => Math.max(m, Math.abs(x)), 0);
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
/** ‖got − want‖₂ / ‖want‖₂. */
export function relL2(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let e = 0, w = 0;
  for (let i = 0; i < want.length; i++) {
    e += (got[i] - want[i]) ** 2;
    w += want[i] ** 2;
  }
  return Math.sqrt(e / w);
}

/**
 * A forward and a backward (random per-token coefficients) of an f16-arithmetic runner on random
 * weights and 3 ragged sequences: log-probs and every parameter gradient vs the rounded float64
 * model, and clearly closer to it than to the unrounded one.
 */
export async function checkF16ArithmeticGradients(gpu: GpuContext, seed: number, label: string): Promise<void> {
  const rng = new Rng(seed);
  const weights = randomParams(config, rng);
  const seqs = randomSeqs(rng, config.vocabSize, [17, 5, 23]);
  const batch = buildBatch(seqs, config.eosTokenId, 24);
  const model = new GptModel(gpu, config);
  model.upload(weights);
  const runner = model.createRunner(batch.B, batch.T, 'f32', false, 'f16');
  expect(runner.arithmeticDtype).toBe('f16');
  runner.setBatch(batch);
  let enc = new StepEncoder(gpu, 'forward');
  runner.forward(enc);
  enc.submit();
  const logp = await runner.readTokenLogps();
  const got = seqs.flatMap((s, b) => Array.from({ length: s.ids.length - 1 }, (_, t) => logp[b * batch.T + t]));
  const ids = seqs.map((s) => [...s.ids]);
  const ref = gpt2ForwardRef(weights, config, ids, undefined, undefined, toF16);
  const want = ref.logp.flat();
  const plain = gpt2ForwardRef(weights, config, ids).logp.flat();
  const errR = got.map((x, i) => Math.abs(x - want[i]));
  const errU = got.map((x, i) => Math.abs(x - plain[i]));
  const maxErr = Math.max(...errR);
  expectClose(got, want, { rtol: LOGP_RTOL, atol: LOGP_ATOL, what: `token logp (f16 arithmetic, ${label}) seed=${seed}` });
  // the rounding happens where the reference rounds: far closer to it than to the unrounded model.
  // By token, median and share: an operand at an f16 rounding boundary that the GPU and float64
  // round apart moves a few tokens by the rounding's own size, so an rms ratio is at the mercy of
  // how many such flips a draw has (0.00–0.45 over 34 seeds; the median ratio ≤ 0.14, the share ≥ 0.88)
  const closer = errR.filter((e, i) => e < errU[i]).length / errR.length;
  expect(median(errR), `seed=${seed}: median |Δ| to the rounded vs the unrounded model`).toBeLessThan(0.35 * median(errU));
  expect(closer, `seed=${seed}: share of tokens closer to the rounded model`).toBeGreaterThanOrEqual(0.7);

  const coefRef = seqs.map((s) => Array.from({ length: s.ids.length - 1 }, () => rng.uniform(-1, 1)));
  const coef = new Float32Array(batch.B * batch.T);
  coefRef.forEach((row, b) => row.forEach((c, t) => (coef[b * batch.T + t] = c)));
  runner.setCoefficients(coef);
  enc = new StepEncoder(gpu, 'backward');
  enc.clear(model.grads.whole());
  runner.backward(enc);
  enc.submit();
  const grads = await model.download(model.grads);
  const refGrads = gpt2BackwardRef(ref.cache, coefRef);
  const plainGrads = gpt2BackwardRef(gpt2ForwardRef(weights, config, ids).cache, coefRef);
  let worst = ['', 0] as [string, number];
  let [worstMax, worstPlain] = [0, 0];
  for (const s of paramSpec(config)) {
    const g = grads.get(s.name)!, w = refGrads.get(s.name)!;
    const scale = maxAbs(w);
    const err = relL2(g, w);
    if (err > worst[1]) worst = [s.name, err];
    worstMax = Math.max(worstMax, g.reduce((m, x, i) => Math.max(m, Math.abs(x - w[i])), 0) / scale);
    worstPlain = Math.max(worstPlain, relL2(g, plainGrads.get(s.name)!));
    expect(err, `d${s.name} (f16 arithmetic, ${label}): ‖Δ‖₂ / ‖want‖₂, seed=${seed}`).toBeLessThan(GRAD_L2);
    expectClose(g, w, { rtol: 1e-3, atol: GRAD_ATOL * scale + 1e-7, what: `d${s.name} (f16 arithmetic, ${label}) seed=${seed}` });
  }
  // and the gradients are those of the rounded function, not the unrounded one
  expect(worst[1], `seed=${seed}`).toBeLessThan(0.5 * worstPlain);
  console.log(`f16 arithmetic, ${label}, seed=${seed}: max |Δ logp| ${maxErr.toExponential(2)} (median vs rounded ${median(errR).toExponential(2)}, vs unrounded ${median(errU).toExponential(2)}; ${(100 * closer).toFixed(0)} % of tokens closer to the rounded); gradients: worst ‖Δ‖₂/‖g‖₂ ${worst[1].toExponential(2)} (d${worst[0]}; vs unrounded ${worstPlain.toExponential(2)}), worst max |Δ| ${worstMax.toExponential(2)} of the tensor's scale`);
  runner.destroy();
  model.destroy();
}

/**
 * DPO, one SGD step (lr 1, no clipping) with f16 arithmetic through the trainer: every weight
 * moves by minus the float64 gradient of the rounded model; the next step's log-probs are the
 * rounded model's at the updated weights (the f16 weight copies were refreshed).
 */
export async function checkF16ArithmeticDpoStep(gpu: GpuContext, seed: number, label: string): Promise<void> {
  const rng = new Rng(seed);
  const w = () => randomParams(config, rng, { scale: 0.2, biasScale: 0.2, lnSpread: 0.1 });
  const policy = w(), refWeights = w();
  const ps = randomPairs(rng, 3, config.eosTokenId);
  const spec: ObjectiveSpec = { method: 'dpo', beta: 0.5 };
  const model = new GptModel(gpu, config);
  model.upload(policy);
  const cfg: TrainConfig = { ...TRAIN_DEFAULTS, objective: spec, steps: 2, batchSize: ps.length, optimizer: 'sgd', lr: 1, maxGradNorm: 0, schedule: 'constant', arithmeticDtype: 'f16' };
  const trainer = new Trainer(model, ps, [], cfg);
  await trainer.prepare(refWeights);
  const m1 = await trainer.trainStep();
  const after = await model.download();
  // the float64 step: policy and reference sums from the rounded-operand model
  const P = sums(policy, ps), R = sums(refWeights, ps);
  const n = ps.length;
  const res = (createObjective(spec) as PairObjective).compute({
    chosenLogp: P.S.slice(0, n), rejectedLogp: P.S.slice(n), chosenRefLogp: R.S.slice(0, n), rejectedRefLogp: R.S.slice(n),
    chosenLen: P.len.slice(0, n), rejectedLen: P.len.slice(n),
    // logit sums feed metrics only (not the loss or its derivatives)
    chosenLogitSum: P.len.slice(0, n).map(() => 0), chosenLogitCount: P.len.slice(0, n), rejectedLogitSum: P.len.slice(n).map(() => 0), rejectedLogitCount: P.len.slice(n),
  });
  expectClose([m1.loss], [res.metrics.loss], { rtol: 1e-3, atol: 1e-4, what: `step-1 loss (${label}) seed=${seed}` });
  const coef = P.seqs.map((s, b) => Array.from({ length: s.length - 1 }, (_, t) => (t + 1 >= P.promptLens[b] ? (b < n ? res.dChosenLogp[b] : res.dRejectedLogp[b - n]) : 0)));
  const grads = gpt2BackwardRef(P.r.cache, coef);
  let worstStep = 0;
  for (const s of paramSpec(config)) {
    const g = grads.get(s.name)!, p0 = policy.get(s.name)!, p1 = after.get(s.name)!;
    const delta = Float64Array.from(p1, (x, i) => x - p0[i]);
    // within GRAD_L2 in the 2-norm; element by element as the f32 step's test (tests/gpu/trainer.test.ts) with the straddles' GRAD_ATOL
    const worst = relL2(delta, g.map((x) => -x));
    worstStep = Math.max(worstStep, worst);
    expect(worst, `Δ${s.name} (f16 arithmetic, ${label}): ‖Δ + g‖₂ / ‖g‖₂, seed=${seed}`).toBeLessThan(GRAD_L2);
    expectClose(delta, g.map((x) => -x), { rtol: 1e-3, atol: GRAD_ATOL * maxAbs(g) + 2.4e-7, what: `Δ${s.name} (f16 arithmetic, ${label}) seed=${seed}` });
  }
  // step 2's log-probs are those of the updated weights: the f16 copies were refreshed
  const m2 = await trainer.trainStep();
  const P2 = sums(after, ps);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const [want2, stale] = [mean(P2.S.slice(0, n)), mean(P.S.slice(0, n))];
  const [want2r, staler] = [mean(P2.S.slice(n)), mean(P.S.slice(n))];
  // measured |Δ| < 1e-4; stale copies would give step 1's sums, which the step moved by more than 10× this
  const atol = 2e-3;
  expect(Math.max(Math.abs(want2 - stale), Math.abs(want2r - staler)), `the step moved the sums, seed=${seed}`).toBeGreaterThan(10 * atol);
  expectClose([m2['logps/chosen'], m2['logps/rejected']], [want2, want2r], { rtol: 0, atol, what: `step-2 logps (f16 arithmetic, ${label}) seed=${seed}` });
  console.log(`f16 arithmetic, ${label}, DPO step seed=${seed}: worst ‖Δθ + g‖₂/‖g‖₂ ${worstStep.toExponential(2)}; step-2 logps/chosen ${m2['logps/chosen'].toFixed(4)} vs float64 ${want2.toFixed(4)} (step 1: ${stale.toFixed(4)})`);
  trainer.destroy();
  model.destroy();
}

/** Per-sequence float64 sums S over completion tokens of the rounded-operand model (chosen rows, then rejected). */
function sums(w: Map<string, Float32Array>, ps: PairIds[]) {
  const seqs: number[][] = [];
  const promptLens: number[] = [];
  for (const side of ['chosen', 'rejected'] as const) {
    for (const p of ps) {
      const prompt = promptFor(p, config.bosTokenId);
      seqs.push([...prompt, ...(side === 'chosen' ? p.chosenIds : p.rejectedIds)]);
      promptLens.push(prompt.length);
    }
  }
  const r = gpt2ForwardRef(w, config, seqs, undefined, undefined, toF16);
  const S = seqs.map((_, s) => r.logp[s].slice(promptLens[s] - 1).reduce((a, b) => a + b, 0));
  const len = seqs.map((s, i) => s.length - promptLens[i]);
  return { r, seqs, promptLens, S, len };
}
