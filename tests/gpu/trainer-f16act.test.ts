// The trainer with f16 activation storage (activationsDtype 'f16') against the same DPO run with
// f32 activations from the same start: the metric trajectories stay close, the run learns, the
// setting reaches the runners, and the activation memory drops by the packed bytes.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { GptModel } from '../../src/model/gpt';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { Trainer } from '../../src/train/trainer';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import type { PairIds } from '../../src/train/pairs';
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

const KEYS = ['loss', 'rewards/margins', 'rewards/chosen', 'logps/chosen', 'grad_norm'] as const;

describe('trainer with f16 activations', () => {
  it('DPO, 6 AdamW steps: metrics follow the f32-activation run from the same start', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const policy = weights(rng), ps = pairs(rng, 4);
    const runs = [];
    for (const activationsDtype of ['f32', 'f16'] as const) {
      const model = new GptModel(gpu, config);
      model.upload(policy);
      const c: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'dpo', beta: 0.5 }, batchSize: ps.length, steps: 6, lr: 5e-3, schedule: 'constant', maxGradNorm: 1, activationsDtype };
      const trainer = new Trainer(model, ps, [], c);
      await trainer.prepare();
      const history = [];
      for (let i = 0; i < 6; i++) history.push(await trainer.trainStep());
      runs.push({ model, trainer, history, params: await model.download(), bytes: trainer.gpuBytes });
    }
    const [f32, f16] = runs;
    // the reference sums come from the same (rounded) function as the policy: step 1 starts at
    // log-ratio 0 exactly, so loss ln 2 and zero rewards in both runs
    for (const r of runs) {
      expect(r.history[0].loss).toBeCloseTo(Math.LN2, 6);
      expect(r.history[0]['rewards/margins']).toBe(0);
    }
    // Measured worst |f16 − f32| over the 6 steps (5 seeds): loss 4e-6…1e-4 (span ≈ 0.7),
    // margins 1e-4…2.5e-3 (span ≈ 6), logps/chosen 3e-4…4.5e-3 (span ≈ 5, size ≈ 20), grad_norm
    // 8e-5…1.5e-3 (span ≈ 4): at most ~1e-3 of the span. Allowed: 1e-2 of the span plus 2e-4 of
    // the size; a wrong layout (order-1 errors in qkv and fch) moves every metric by far more.
    const lines: string[] = [];
    for (const k of KEYS) {
      const traj = f32.history.map((m) => m[k]);
      const span = Math.max(...traj) - Math.min(...traj);
      const size = Math.max(...traj.map(Math.abs));
      const worst = Math.max(...f16.history.map((m, i) => Math.abs(m[k] - traj[i])));
      lines.push(`${k} span ${span.toExponential(2)} size ${size.toExponential(2)} worst |f16 − f32| ${worst.toExponential(2)}`);
      expect(worst, `${k}: f16 ${f16.history.map((m) => m[k]).join(', ')} vs f32 ${traj.join(', ')} seed=${seed}`).toBeLessThanOrEqual(1e-2 * span + 2e-4 * size + 1e-6);
    }
    console.log(`DPO 6 steps f16 vs f32 activations, seed=${seed}: ${lines.join('; ')}`);
    expect(f16.history[5].loss, `seed=${seed}`).toBeLessThan(f16.history[0].loss);
    // the setting took effect: less activation memory, different weights after 6 steps
    expect(f16.bytes).toBeLessThan(f32.bytes);
    expect([...f16.params].some(([name, w]) => w.some((x, i) => x !== f32.params.get(name)![i]))).toBe(true);
    for (const r of runs) {
      r.trainer.destroy();
      r.model.destroy();
    }
  });
});
