// LoRA through the trainer (docs/design.md, "LoRA"): DPO's first full-batch SGD update (lr 1, no
// clipping) on GPT-2 and a Llama-family model moves every adapter by minus its float64 gradient
// (src/reference/gpt2.ts, llama.ts with the same adapters; the objective's float64 derivatives for
// the coefficients) and leaves every base weight bitwise unchanged; with PEFT's init (B = 0) the
// first gradient of every A is exactly 0; the reference log-probs are the base model's (adapters
// off, no second copy of the weights), for DPO and KTO; a resumed LoRA run continues exactly.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createModel, isLlamaConfig, type ModelConfig } from '../../src/model/family';
import { paramSpec, presetConfig } from '../../src/model/config';
import { llamaParamSpec, llamaPresetConfig, llamaRefConfig } from '../../src/model/llama-config';
import { gpt2BackwardRef, gpt2ForwardRef } from '../../src/reference/gpt2';
import { llamaBackwardRef, llamaForwardRef } from '../../src/reference/llama';
import { loraInit, loraScale, loraSpec, type LoraConfig } from '../../src/model/lora';
import { Trainer } from '../../src/train/trainer';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import { createObjective, type ObjectiveSpec, type PairObjective } from '../../src/train/objectives';
import { pairLogps } from '../../src/train/logps';
import { RunnerPool } from '../../src/train/runners';
import { promptFor, type PairIds } from '../../src/train/pairs';
import { memorySnapshotStore, TrainingRun } from '../../src/train/training-run';
import { randomPairs } from '../helpers/random-model';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const CONFIGS: Array<[string, ModelConfig]> = [
  ['gpt2 tiny', { ...presetConfig('tiny'), nPositions: 32 }],
  ['qwen-tiny', llamaPresetConfig('qwen-tiny')],
];

function weights(c: ModelConfig, rng: Rng): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const s of isLlamaConfig(c) ? llamaParamSpec(c) : paramSpec(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const gain = /(ln_\w+|norm)\.weight$/.test(s.name);
    m.set(s.name, Float32Array.from({ length: n }, () => (gain ? 1 + 0.1 * rng.normal() : 0.2 * rng.normal())));
  }
  return m;
}

function cfg(objective: ObjectiveSpec, lora: LoraConfig, over: Partial<TrainConfig> = {}): TrainConfig {
  return { ...TRAIN_DEFAULTS, objective, lora, steps: 1, optimizer: 'sgd', lr: 1, maxGradNorm: 0, schedule: 'constant', ...over };
}

/** float64 per-pair sums and the backward of Σ coef·logp, with or without adapters. */
function refPass(c: ModelConfig, w: Map<string, Float32Array>, ps: PairIds[], lora?: { scale: number; weights: Map<string, Float32Array> }) {
  const bos = isLlamaConfig(c) ? (c.bosTokenId ?? 0) : c.bosTokenId;
  const seqs: number[][] = [];
  const promptLens: number[] = [];
  for (const side of ['chosen', 'rejected'] as const) {
    for (const p of ps) {
      const prompt = promptFor(p, bos);
      seqs.push([...prompt, ...(side === 'chosen' ? p.chosenIds : p.rejectedIds)]);
      promptLens.push(prompt.length);
    }
  }
  const r = isLlamaConfig(c) ? llamaForwardRef(w, llamaRefConfig(c), seqs, undefined, lora) : gpt2ForwardRef(w, c, seqs, undefined, lora);
  const S = seqs.map((_, s) => r.logp[s].slice(promptLens[s] - 1).reduce((a, b) => a + b, 0));
  const backward = (coef: number[][]) => (isLlamaConfig(c) ? llamaBackwardRef(r.cache as Parameters<typeof llamaBackwardRef>[0], coef) : gpt2BackwardRef(r.cache as Parameters<typeof gpt2BackwardRef>[0], coef));
  return { seqs, promptLens, S, backward };
}

const pairsFor = (c: ModelConfig, rng: Rng, n: number): PairIds[] => randomPairs(rng, n, isLlamaConfig(c) ? 256 : c.eosTokenId);

describe.each(CONFIGS)('LoRA DPO on %s: the first SGD update vs float64', (_label, c) => {
  it.each([
    ['PEFT init (B = 0)', true],
    ['imported adapters (B ≠ 0)', false],
  ] as const)('%s: adapters move by minus the float64 gradient, the base never changes, the reference is the base model', async (_what, peftInit) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const lora: LoraConfig = { r: 8, alpha: 16 };
    const base = weights(c, rng);
    const ps = pairsFor(c, rng, 3);
    const adapters = peftInit ? loraInit(c, lora, seed) : new Map(loraSpec(c, lora).map((s) => [s.name, Float32Array.from({ length: s.shape[0] * s.shape[1] }, () => 0.2 * rng.normal())]));
    const spec: ObjectiveSpec = { method: 'dpo', beta: 0.5 };
    const model = createModel(gpu, { config: c }, { lora });
    model.upload(base);
    model.lora!.upload(adapters);
    const trainer = new Trainer(model, ps, [], cfg(spec, lora, { batchSize: ps.length }));
    await trainer.prepare();
    // the reference log-probs are the base model's: a model without adapters computes the same sums, bitwise
    const plain = createModel(gpu, { config: c });
    plain.upload(base);
    const plainRef = await pairLogps(plain, new RunnerPool(plain), ps, ps.length);
    expect(Array.from(trainer.reference!.train.chosen)).toEqual(Array.from(plainRef.chosen));
    expect(Array.from(trainer.reference!.train.rejected)).toEqual(Array.from(plainRef.rejected));
    plain.destroy();
    await trainer.trainStep();

    const after = await model.lora!.download();
    const baseAfter = await model.download();
    for (const [name, w] of base) expect(Array.from(baseAfter.get(name)!), `base ${name}`).toEqual(Array.from(w));

    const scale = loraScale(lora);
    const P = refPass(c, base, ps, { scale, weights: adapters });
    const R = refPass(c, base, ps);
    const n = ps.length;
    const lens = P.seqs.map((s, i) => s.length - P.promptLens[i]);
    const res = (createObjective(spec) as PairObjective).compute({
      chosenLogp: P.S.slice(0, n), rejectedLogp: P.S.slice(n), chosenRefLogp: R.S.slice(0, n), rejectedRefLogp: R.S.slice(n),
      chosenLen: lens.slice(0, n), rejectedLen: lens.slice(n),
      chosenLogitSum: new Array(n).fill(0), chosenLogitCount: lens.slice(0, n), rejectedLogitSum: new Array(n).fill(0), rejectedLogitCount: lens.slice(n),
      chosenNllSum: new Array(n).fill(0), chosenNllCount: lens.slice(0, n),
    });
    const coef = P.seqs.map((s, b) => Array.from({ length: s.length - 1 }, (_, t) => (t + 1 >= P.promptLens[b] ? (b < n ? res.dChosenLogp[b] : res.dRejectedLogp[b - n]) : 0)));
    const grads = P.backward(coef);
    let worst = 0;
    for (const s of loraSpec(c, lora)) {
      const g = grads.get(s.name)!, w0 = adapters.get(s.name)!, w1 = after.get(s.name)!;
      if (peftInit && s.name.endsWith('lora_A.weight')) {
        // B = 0: ∂L/∂A = s·Bᵀ(...) is exactly 0, so SGD leaves A bitwise as it was
        expect(Array.from(w1), s.name).toEqual(Array.from(w0));
        expect(g.every((x) => x === 0)).toBe(true);
        continue;
      }
      const delta = Float64Array.from(w1, (x, i) => x - w0[i]);
      const big = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(big, `${s.name} has a gradient`).toBeGreaterThan(0);
      // f32 weights: the delta is exact only to one ulp of the weight
      expectClose(delta, g.map((x) => -x), { rtol: 1e-3, atol: 1e-4 * big + 2.4e-7, what: `Δ${s.name} seed=${seed}` });
      for (let i = 0; i < g.length; i++) if (Math.abs(g[i]) > 1e-2 * big) worst = Math.max(worst, Math.abs(delta[i] + g[i]) / Math.abs(g[i]));
    }
    console.log(`${_label} ${_what} seed=${seed}: worst relative error of an adapter update (entries above 1% of their tensor's largest) ${worst.toExponential(2)}`);
    trainer.destroy();
    model.destroy();
  });

  it('KTO: the reference sums are the base model\'s; a resumed LoRA run repeats the same next update', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const lora: LoraConfig = { r: 4, alpha: 8, targets: isLlamaConfig(c) ? ['q_proj', 'v_proj'] : ['c_attn'] };
    const base = weights(c, rng);
    const ps = pairsFor(c, rng, 4);
    const config: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'kto', beta: 0.2 }, lora, steps: 3, lr: 1e-2, batchSize: 2 };
    const store = memorySnapshotStore();
    const a = new TrainingRun({ base: { config: c, params: base }, data: { kind: 'pairs', items: ps }, config, store, checkpointEvery: 1 });
    await a.start(gpu);
    const plainRun = new TrainingRun({ base: { config: c, params: base }, data: { kind: 'pairs', items: ps }, config: { ...config, lora: null } });
    await plainRun.start(gpu);
    expect(a.reference).toEqual(plainRun.reference);
    plainRun.release();
    await a.advance();
    const snap1 = store.last!;
    expect(snap1.params.size).toBe(loraSpec(c, lora).length); // the snapshot holds the adapters only
    expect([...snap1.params.keys()].every((k) => /lora_[AB]\.weight$/.test(k))).toBe(true);
    const [m2] = await a.advance();
    a.release();
    const b = new TrainingRun({ base: { config: c, params: base }, data: { kind: 'pairs', items: ps }, config, store: { load: async () => snap1, save: async () => {} } });
    expect((await b.start(gpu, { resume: true }))?.step).toBe(1);
    const [again] = await b.advance();
    for (const k of ['loss', 'rewards/chosen', 'kl', 'grad_norm']) expect(again[k], k).toBe(m2[k]);
    b.release();
  });
});
