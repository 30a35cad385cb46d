// f16 arithmetic in the training step (GptRunner arithmeticDtype 'f16', docs/perf.md §14): the
// linear layers' forward, dX and dW products on f16 operands (src/kernels/matmul-f16.ts) and the
// attention forward on f16 qkv (attention-f16.ts), run here through the emulated variant
// (forceF16Variant: this adapter has no `shader-f16`; the native one is tests/gpu-f16/). Checked
// against the float64 GPT-2 with the operands rounded to f16 at the same points
// (gpt2ForwardRef's `roundOperands`): log-probs, every parameter gradient, an SGD step of DPO
// through the trainer, the weights' f16 copies after the step, and the refusal without the feature.
// (the bounds, and why they are what they are: tests/helpers/f16-training.ts).
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import { checkF16ArithmeticDpoStep, checkF16ArithmeticGradients, F16_ARITH_CONFIG as config, GRAD_ATOL, GRAD_L2, LOGP_ATOL, LOGP_RTOL, maxAbs, relL2 } from '../helpers/f16-training';
import type { GpuContext } from '../../src/engine/gpu';
import { StepEncoder } from '../../src/engine/encoder';
import { GptModel, GptRunner } from '../../src/model/gpt';
import { buildBatch } from '../../src/model/batch';
import { paramSpec } from '../../src/model/config';
import { gpt2ForwardRef, gpt2BackwardRef } from '../../src/reference/gpt2';
import { toF16 } from '../../src/reference/f16';
import { forceF16Variant } from '../../src/kernels/f16-variant';
import { F16UnavailableError } from '../../src/kernels/plan';
import { Trainer } from '../../src/train/trainer';
import { TRAIN_DEFAULTS, trainConfigProblems, type TrainConfig } from '../../src/train/config';
import { Rng } from '../../src/util/rng';
import { randomPairs, randomParams, randomSeqs } from '../helpers/random-model';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});
afterEach(() => forceF16Variant(null));

describe('f16 arithmetic: GPT-2 training step vs float64 on f16-rounded operands (emulated variant)', () => {
  it('log-probs and every parameter gradient', async () => {
    forceF16Variant('emulated');
    await checkF16ArithmeticGradients(gpu, freshSeed(), 'emulated');
  });

  it('with f16 activations too, and with activation checkpointing: the same rounded function', async () => {
    forceF16Variant('emulated');
    const seed = freshSeed();
    const rng = new Rng(seed);
    const weights = randomParams(config, rng);
    const seqs = randomSeqs(rng, config.vocabSize, [9, 14]);
    const batch = buildBatch(seqs, config.eosTokenId, 16);
    const ids = seqs.map((s) => [...s.ids]);
    const model = new GptModel(gpu, config);
    model.upload(weights);
    const coefRef = seqs.map((s) => Array.from({ length: s.ids.length - 1 }, () => rng.uniform(-1, 1)));
    const coef = new Float32Array(batch.B * batch.T);
    coefRef.forEach((row, b) => row.forEach((c, t) => (coef[b * batch.T + t] = c)));
    for (const [acts, checkpoint] of [['f16', false], ['f32', true]] as const) {
      const runner = new GptRunner(model, batch.B, batch.T, acts, checkpoint, 'f16');
      runner.setBatch(batch);
      runner.setCoefficients(coef);
      const enc = new StepEncoder(gpu, 'step');
      enc.clear(model.grads.whole());
      runner.forward(enc);
      runner.backward(enc);
      enc.submit();
      const logp = await runner.readTokenLogps();
      const got = seqs.flatMap((s, b) => Array.from({ length: s.ids.length - 1 }, (_, t) => logp[b * batch.T + t]));
      // f16 activations round qkv and fc as well (qkv is rounded by both: the same value)
      const ref = gpt2ForwardRef(weights, config, ids, acts === 'f16' ? toF16 : undefined, undefined, toF16);
      expectClose(got, ref.logp.flat(), { rtol: LOGP_RTOL, atol: LOGP_ATOL, what: `token logp (f16 arithmetic, ${acts} activations, checkpoint ${checkpoint}) seed=${seed}` });
      const grads = await model.download(model.grads);
      const refGrads = gpt2BackwardRef(ref.cache, coefRef);
      for (const s of paramSpec(config)) {
        const w = refGrads.get(s.name)!;
        expect(relL2(grads.get(s.name)!, w), `d${s.name} (f16 arithmetic, ${acts} activations, checkpoint ${checkpoint}): ‖Δ‖₂ / ‖want‖₂, seed=${seed}`).toBeLessThan(GRAD_L2);
        expectClose(grads.get(s.name)!, w, { rtol: 1e-3, atol: GRAD_ATOL * maxAbs(w) + 1e-7, what: `d${s.name} (f16 arithmetic, ${acts} activations, checkpoint ${checkpoint}) seed=${seed}` });
      }
      runner.destroy();
    }
    model.destroy();
  });

  it('DPO, one SGD step (lr 1, no clipping): every weight moves by minus the float64 gradient; the next step reads the updated weights', async () => {
    forceF16Variant('emulated');
    await checkF16ArithmeticDpoStep(gpu, freshSeed(), 'emulated');
  });

  it('without shader-f16 a run asking for f16 arithmetic stops at start with F16UnavailableError; LoRA and bad values are refused by name', () => {
    expect(gpu.features.has('shader-f16'), 'this test expects the CI adapter (no shader-f16)').toBe(false);
    const model = new GptModel(gpu, config);
    expect(() => model.createRunner(2, 8, 'f32', false, 'f16')).toThrow(F16UnavailableError);
    expect(() => model.createRunner(2, 8, 'f32', false, 'f16')).toThrow(/f16 arithmetic needs the WebGPU feature 'shader-f16'.*use f32 arithmetic/);
    const ps = randomPairs(new Rng(1), 2, config.eosTokenId);
    const cfg: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'dpo', beta: 0.1 }, steps: 1, batchSize: 2, arithmeticDtype: 'f16' };
    expect(() => new Trainer(model, ps, [], cfg)).toThrow(F16UnavailableError);
    expect(trainConfigProblems({ ...cfg, arithmeticDtype: 'bf16' as never }).map((p) => p.message)).toEqual([expect.stringMatching(/^arithmeticDtype must be f32 or f16.*got bf16/)]);
    expect(trainConfigProblems({ ...cfg, lora: { r: 4, alpha: 8 } }).find((p) => p.field === 'arithmeticDtype')?.message).toMatch(/not supported with LoRA/);
    expect(trainConfigProblems({ ...cfg, arithmeticDtype: 'f32' })).toEqual([]);
    model.destroy();
  });

  it('train --arithmetic-dtype f16: one line naming shader-f16 before anything is written; LoRA and the Llama family refused by flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'prefplay-f16-arith-'));
    const pairs = join(dir, 'pairs.jsonl');
    writeFileSync(pairs, ['a', 'b', 'c'].map((w) => JSON.stringify({ prompt: `say ${w}`, chosen: ` ${w}`, rejected: ' no' })).join('\n'));
    const model = join(dir, 'model');
    expect(await main(['init', '--preset', 'tiny', '--out', model])).toBe(0);
    const out = join(dir, 'run');
    const train = (...more: string[]) => main(['train', '--model', model, '--pairs', pairs, '--method', 'dpo', '--steps', '1', '--batch-size', '2', '--out', out, '--quiet', '--arithmetic-dtype', 'f16', ...more]);
    const err = await train().then(() => null, (e: unknown) => e as Error);
    expect(err).toBeInstanceOf(F16UnavailableError);
    expect(err!.message).not.toContain('\n');
    expect(err!.message).toMatch(/^f16 arithmetic needs the WebGPU feature 'shader-f16', which .* does not offer/);
    expect(existsSync(out)).toBe(false);
    await expect(train('--lora-r', '4')).rejects.toThrow(/--arithmetic-dtype .*not supported with LoRA/);
    const llama = join(dir, 'llama');
    expect(await main(['init', '--preset', 'llama-tiny', '--out', llama])).toBe(0);
    await expect(main(['train', '--model', llama, '--pairs', pairs, '--method', 'dpo', '--steps', '1', '--batch-size', '2', '--out', out, '--quiet', '--arithmetic-dtype', 'f16'])).rejects.toThrow(/--arithmetic-dtype f16: f16 arithmetic is not available for llama yet/);
    await expect(train('--arithmetic-dtype', 'f8')).rejects.toThrow(/--arithmetic-dtype must be one of f32, f16, got "f8"/);
  });
});
