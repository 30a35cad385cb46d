// The trainer with bf16 AdamW moments (momentsDtype 'bf16') against the same run with f32
// moments: half the optimizer memory, the same metric trajectory up to the moments' rounding,
// and checkpoints that keep the f32 moment format and resume the bf16 run exactly.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { GptModel } from '../../src/model/gpt';
import { paramSpec, presetConfig, type GPTConfig } from '../../src/model/config';
import { Trainer } from '../../src/train/trainer';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import type { PairIds } from '../../src/train/pairs';
import type { Moments } from '../../src/train/optimizer-state';
import { toBf16 } from '../../src/reference/optimizer';
import { Rng } from '../../src/util/rng';
import { randomPairs, randomParams } from '../helpers/random-model';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 32 };

function weights(rng: Rng): Map<string, Float32Array> {
  return randomParams(config, rng, { scale: 0.1, biasScale: 0.1, lnSpread: 0.1 });
}

const pairs = (rng: Rng, n: number): PairIds[] => randomPairs(rng, n, config.eosTokenId);

function trainer(policy: Map<string, Float32Array>, ps: PairIds[], over: Partial<TrainConfig>): { model: GptModel; trainer: Trainer } {
  const model = new GptModel(gpu, config);
  model.upload(policy);
  const c: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'dpo', beta: 0.5 }, batchSize: ps.length, steps: 6, lr: 5e-3, schedule: 'constant', maxGradNorm: 1, ...over };
  return { model, trainer: new Trainer(model, ps, [], c) };
}

function expectSameMoments(got: Moments | null, want: Moments | null, what: string): void {
  expect(got && want, what).toBeTruthy();
  for (const k of ['m', 'v'] as const) {
    for (const [name, w] of want![k]) expect(got![k].get(name), `${what} ${k} ${name}`).toEqual(w);
  }
}

const KEYS = ['loss', 'rewards/margins', 'rewards/chosen', 'logps/chosen', 'grad_norm'] as const;

describe('trainer with bf16 moments', () => {
  it.each([
    ['no weight decay: one dispatch over the arena', 0],
    ['weight decay: one dispatch per tensor at its own word offset', 0.1],
  ])('DPO, 6 steps (%s): metrics follow the f32-moment run; half the moment memory', async (_label, weightDecay) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const policy = weights(rng), ps = pairs(rng, 4);
    const runs = [];
    for (const momentsDtype of ['f32', 'bf16'] as const) {
      const r = trainer(policy, ps, { momentsDtype, weightDecay });
      await r.trainer.prepare();
      const history = [];
      for (let i = 0; i < 6; i++) history.push(await r.trainer.trainStep());
      runs.push({ ...r, history, params: await r.model.download(), bytes: r.trainer.gpuBytes });
    }
    const [f32, bf16] = runs;
    // f32 moments are two arenas the size of the parameters', bf16 ones half each
    expect(f32.bytes - bf16.bytes).toBe(f32.model.params.bytes);
    // step 1's metrics come from the starting weights: identical
    for (const k of KEYS) expect(bf16.history[0][k], k).toBe(f32.history[0][k]);
    // later steps: each stored moment is within bf16's unit roundoff 2⁻⁸ of its f32 value, so each
    // element's update within ~1.5·2⁻⁸ ≈ 6e-3 (m's rounding plus half of v's, through the sqrt).
    // Were all those errors aligned, a metric would drift by ≤ ~6e-3 of how far it moved (first
    // order); they have random signs, and a metric sums over ~30k weights, so the measured drift
    // is ~1e-5 to 1e-4 of the span. Allowed: 1e-2 of the span, plus 1e-6 for f32 noise
    const lines: string[] = [];
    for (const k of KEYS) {
      const traj = f32.history.map((m) => m[k]);
      const span = Math.max(...traj) - Math.min(...traj);
      const worst = Math.max(...bf16.history.map((m, i) => Math.abs(m[k] - traj[i])));
      lines.push(`${k} span ${span.toExponential(2)} worst |bf16 − f32| ${worst.toExponential(2)}`);
      expect(worst, `${k}: bf16 ${bf16.history.map((m) => m[k]).join(', ')} vs f32 ${traj.join(', ')} seed=${seed}`).toBeLessThanOrEqual(1e-2 * span + 1e-6);
    }
    console.log(`DPO 6 steps, weight decay ${weightDecay}, seed=${seed}: ${lines.join('; ')}`);
    // the run learns, and the bf16 setting really took effect (different weights after 6 steps)
    expect(bf16.history[5].loss, `seed=${seed}`).toBeLessThan(bf16.history[0].loss);
    expect([...bf16.params].some(([name, w]) => w.some((x, i) => x !== f32.params.get(name)![i]))).toBe(true);
    for (const r of runs) {
      r.trainer.destroy();
      r.model.destroy();
    }
  });

  // Without weight decay the steps run over the whole arena while moments() and restore() go
  // tensor by tensor, so resuming exactly also checks that the two agree on where each word is.
  it.each([0, 0.1])('checkpoint round trip (weight decay %s): moments() gives f32 maps of bf16 values, restore() resumes exactly', async (weightDecay) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const policy = weights(rng), ps = pairs(rng, 4);
    const a = trainer(policy, ps, { momentsDtype: 'bf16', weightDecay });
    await a.trainer.prepare();
    for (let i = 0; i < 4; i++) await a.trainer.trainStep();
    const saved = { params: await a.model.download(), moments: await a.trainer.optimizerState(), state: { step: a.trainer.step, reference: a.trainer.reference } };
    expect(saved.moments).not.toBeNull();
    for (const k of ['m', 'v'] as const) {
      for (const s of paramSpec(config)) {
        const w = saved.moments![k].get(s.name)!;
        expect(w, `${k} ${s.name}`).toBeInstanceOf(Float32Array);
        expect(w.length).toBe(s.shape.reduce((x, y) => x * y, 1));
        expect(w.every((x) => toBf16(x) === x), `${k} ${s.name}: bf16 values`).toBe(true);
      }
      expect([...saved.moments![k].values()].some((w) => w.some((x) => x !== 0)), `${k} moved`).toBe(true);
    }
    const next = await a.trainer.trainStep();
    const movedOn = await a.trainer.optimizerState();
    const paramsOn = await a.model.download();

    const b = trainer(saved.params, ps, { momentsDtype: 'bf16', weightDecay });
    b.trainer.restore(saved.state, saved.moments);
    expectSameMoments(await b.trainer.optimizerState(), saved.moments, 'restored');
    const again = await b.trainer.trainStep();
    expect(again.step).toBe(5);
    for (const k of KEYS) expect(again[k], `resumed ${k} seed=${seed}`).toBe(next[k]);
    // step 5's metrics come from the saved weights; its update is where the moments act
    expectSameMoments(await b.trainer.optimizerState(), movedOn, 'after the resumed step');
    for (const [name, w] of await b.model.download()) expect(w, `${name} after the resumed step seed=${seed}`).toEqual(paramsOn.get(name));

    // an f32 run's checkpoint restores into bf16 storage rounded to nearest even
    const c = trainer(policy, ps, { momentsDtype: 'f32' });
    await c.trainer.prepare();
    await c.trainer.trainStep();
    const f32Moments = (await c.trainer.optimizerState())!;
    const d = trainer(policy, ps, { momentsDtype: 'bf16' });
    d.trainer.restore({ step: 1, reference: c.trainer.reference }, f32Moments);
    const rounded = { m: new Map([...f32Moments.m].map(([n, w]) => [n, w.map(toBf16)])), v: new Map([...f32Moments.v].map(([n, w]) => [n, w.map(toBf16)])) };
    expectSameMoments(await d.trainer.optimizerState(), rounded, 'f32 checkpoint into bf16');
    for (const r of [a, b, c, d]) {
      r.trainer.destroy();
      r.model.destroy();
    }
  });
});
