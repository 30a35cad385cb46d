// Pretraining steps on WebGPU against the float64 GPT-2: the step's loss is the token-mean
// NLL over every predicted position, the gradient it leaves behind is that of the reference
// with coefficients −1/N, the grad norm matches, evalLoss matches the updated weights, and a
// few updates on one batch lower the loss.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { GptModel } from '../../src/model/gpt';
import { paramSpec, presetConfig, type GPTConfig } from '../../src/model/config';
import { gpt2BackwardRef, gpt2ForwardRef } from '../../src/reference/gpt2';
import { Pretrainer, PRETRAIN_DEFAULTS, type PretrainHp } from '../../src/pretrain/pretrain';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 32 };
const B = 3;
const T = 13;

function weights(rng: Rng): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const s of paramSpec(config)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const ln = /ln_\w+\.weight$/.test(s.name);
    m.set(s.name, Float32Array.from({ length: n }, () => (ln ? 1 + 0.1 * rng.normal() : 0.2 * rng.normal())));
  }
  return m;
}

const rowsOf = (rng: Rng, n: number) => Array.from({ length: n }, () => Array.from({ length: T }, () => rng.int(config.vocabSize)));

function refLoss(w: Map<string, Float32Array>, rows: number[][]): number {
  const r = gpt2ForwardRef(w, config, rows);
  return -r.logp.flat().reduce((a, b) => a + b, 0) / (rows.length * (T - 1));
}

const hp = (over: Partial<PretrainHp> = {}): PretrainHp => ({ ...PRETRAIN_DEFAULTS, batchSize: B, seqLen: T, steps: 10, warmupSteps: 0, lr: 1e-3, weightDecay: 0, ...over });

describe('Pretrainer', () => {
  it('step 1: loss, every gradient and the grad norm match float64 GPT-2 with coefficients −1/N', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const w = weights(rng);
    const rows = rowsOf(rng, B);
    const model = new GptModel(gpu, config);
    model.upload(w);
    const tr = new Pretrainer(model, hp());
    const res = await tr.trainStep(rows);
    const ref = gpt2ForwardRef(w, config, rows);
    const N = B * (T - 1);
    expectClose([res.loss], [refLoss(w, rows)], { rtol: 1e-4, what: `loss (seed ${seed})` });
    const grads = gpt2BackwardRef(ref.cache, rows.map(() => Array(T - 1).fill(-1 / N)));
    const got = await model.download(model.grads);
    let sq = 0;
    for (const { name } of paramSpec(config)) {
      expectClose(got.get(name)!, grads.get(name)!, { rtol: 1e-3, atol: 1e-6, what: `d${name} (seed ${seed})` });
      for (const g of grads.get(name)!) sq += g * g;
    }
    expectClose([res.gradNorm], [Math.sqrt(sq)], { rtol: 1e-3, what: 'grad norm' });
    expect(res.lr).toBe(1e-3);
    // evalLoss on the updated weights, with a short last batch
    const after = await model.download();
    const evalRows = rowsOf(rng, B + 2);
    expectClose([await tr.evalLoss(evalRows)], [refLoss(after, evalRows)], { rtol: 1e-4, what: 'eval loss' });
    tr.destroy();
    model.destroy();
  });

  it('lowers the loss of a batch it trains on; warmup starts from lr 0', async () => {
    const rng = new Rng(freshSeed());
    const model = new GptModel(gpu, config);
    model.upload(weights(rng));
    const tr = new Pretrainer(model, hp({ lr: 1e-2, warmupSteps: 2, steps: 8 }));
    const rows = rowsOf(rng, B);
    const out = [];
    for (let s = 0; s < 8; s++) out.push(await tr.trainStep(rows));
    expect(out[0].lr).toBe(0);
    expect(out[1].lr).toBeCloseTo(5e-3, 12);
    expect(out[7].loss).toBeLessThan(0.8 * out[1].loss);
    await expect(tr.trainStep(rows.slice(1))).rejects.toThrow(/rows, expected 3/);
    tr.destroy();
    model.destroy();
  });
});
