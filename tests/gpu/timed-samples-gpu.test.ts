// Samples over time on the GPU (src/onnx/timed-samples-gpu.ts) against the ONNX path
// (src/onnx/timed-samples.ts, onnxruntime-web's wasm backend), the independent check, on real
// WebGPU: for the same weights the same rows (ids, text, stop, judge) —
// - GPT-2 tiny, llama-tiny and qwen-tiny with random weights (prompts of different lengths and an
//   empty one, continued from BOS), and the built-in model (arithmetic: answers that end at eos);
// - LoRA adapters with B ≠ 0 over an f32 and a bf16-packed base against the ONNX path on the
//   merged weights (TrainingRun.weights' merge), with the adapters' switch off before the call:
//   it samples the trained policy and leaves the switch as it found it;
// - a prompt too long for the cache falls back to the ONNX path; every buffer the decode creates
//   is destroyed by the end of each call;
// - a LoRA DPO run that samples on the GPU after every update trains exactly as one that does not.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { freshSeed } from '../helpers/close';
import { makeModel, randomAdapters, randomWeights, refLogprobs } from '../helpers/decode-models';
import type { GpuContext } from '../../src/engine/gpu';
import { presetConfig } from '../../src/model/config';
import { llamaPresetConfig } from '../../src/model/llama-config';
import type { ModelConfig } from '../../src/model/family';
import { mergeLora, type BaseDtype, type LoraConfig } from '../../src/model/lora';
import { readCheckpointDir } from '../../src/model/checkpoint-node';
import { builtinModelDir } from '../../src/cli/model-load';
import { createNodeOnnxLm } from '../../src/onnx/session-node';
import { timedSamples, TIMED_SAMPLE_TOKENS, type TimedPrompt, type TimedSample } from '../../src/onnx/timed-samples';
import { gpuSamplesProblem, samplesAt, timedSamplesOnGpu } from '../../src/onnx/timed-samples-gpu';
import { arithmeticJudge, referenceJudge } from '../../src/judge';
import { ByteTokenizer } from '../../src/tokenizer/byte';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import { TrainingRun } from '../../src/train/training-run';
import type { PairIds } from '../../src/train/pairs';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const tok = new ByteTokenizer();
const enc = (s: string) => tok.encode(s);
const open = (bytes: Uint8Array, dims: { vocabSize: number; nPositions: number; padId?: number }) => createNodeOnnxLm(bytes, dims);

function prompts(texts: readonly string[]): TimedPrompt[] {
  return texts.map((t, i) => ({ prompt: t, promptIds: enc(t), pair: { chosen: String(i + 1), rejected: `${i + 2}?` } }));
}

/** Prompts of 4, 11, 0 (BOS) and 1 tokens in one batch. */
const MIXED = prompts(['3+4=', 'hello world', '', 'x']);

function onnx(config: ModelConfig, params: ReadonlyMap<string, Float32Array>, ps: readonly TimedPrompt[], step = 5): Promise<TimedSample[]> {
  return timedSamples(open, { config, tokenizer: tok }, params, ps, referenceJudge, step);
}

/**
 * The GPU's samples are the ONNX path's, row by row — except where greedy met a near tie: when the
 * float64 model's log-probs of the two engines' picks differ by under 1e-4, f32 rounding in either
 * may choose either, and the row goes on differently; then only the ids before the tie must agree
 * (decode.test.ts's rule for greedy against float64). `w`: the weights both engines ran.
 */
function expectSameSamples(got: TimedSample[] | null, want: TimedSample[], config: ModelConfig, w: Map<string, Float32Array>, what: string): void {
  expect(got, what).not.toBeNull();
  expect(got!.length, what).toBe(want.length);
  const V = config.vocabSize;
  got!.forEach((g, i) => {
    const h = want[i];
    const ids = (x: TimedSample) => [...x.completion_ids, ...(x.stop === 'eos' ? [tok.eosTokenId] : [])];
    const a = ids(g), b = ids(h);
    let k = 0;
    while (k < a.length && k < b.length && a[k] === b[k]) k++;
    if ((k === a.length && k === b.length) || k === a.length || k === b.length) {
      expect(g, `${what} sample ${i}`).toEqual(h);
      return;
    }
    const seq = [...(g.prompt_ids.length ? g.prompt_ids : [tok.bosTokenId]), ...a.slice(0, k)];
    const row = refLogprobs(config, w, seq).subarray((seq.length - 1) * V, seq.length * V);
    const gap = Math.abs(row[a[k]] - row[b[k]]);
    expect(gap, `${what} sample ${i}: GPU ${a[k]}, ONNX ${b[k]} at token ${k}, not a near tie`).toBeLessThan(1e-4);
    expect(g.prompt_ids, `${what} sample ${i}`).toEqual(h.prompt_ids);
    console.log(`${what} sample ${i}: a near tie at token ${k} (float64 log-probs ${gap.toExponential(2)} apart): GPU ${a[k]}, ONNX ${b[k]}; the ${k} ids before it agree`);
  });
}

const LORA: LoraConfig = { r: 3, alpha: 5 };
const GPT = presetConfig('tiny');

describe.each([
  ['gpt2 tiny', GPT],
  ['llama-tiny', llamaPresetConfig('llama-tiny')],
  ['qwen-tiny', llamaPresetConfig('qwen-tiny')],
] as Array<[string, ModelConfig]>)('%s: GPU timed samples', (name, config) => {
  it('equal the ONNX path\'s for the same weights (ids, text, stop, judge)', async () => {
    const seed = freshSeed();
    const w = randomWeights(config, new Rng(seed));
    const model = makeModel(gpu, config, w);
    try {
      expect(gpuSamplesProblem(model, tok, MIXED)).toBeNull();
      const got = await timedSamplesOnGpu(model, tok, MIXED, referenceJudge, 5);
      const want = await onnx(config, w, MIXED);
      expectSameSamples(got, want, config, w, `${name} seed=${seed}`);
      expect(want.some((s) => s.completion_ids.length > 0)).toBe(true);
    } finally {
      model.destroy();
    }
  });

  it.each(['f32', 'bf16'] as BaseDtype[])('with LoRA adapters (B ≠ 0) over an %s base: the ONNX path\'s on the merged weights; the switch is left off as found', async (dtype) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const w = randomWeights(config, rng);
    const adapters = randomAdapters(config, LORA, rng);
    const model = makeModel(gpu, config, w, { lora: LORA, adapters, baseDtype: dtype });
    try {
      model.lora!.enabled = false; // e.g. a reference pass's: samples are still the trained policy's
      const got = await timedSamplesOnGpu(model, tok, MIXED, referenceJudge, 2);
      expect(model.lora!.enabled).toBe(false);
      // TrainingRun.weights(): the base as the model holds it (bf16: rounded), adapters merged in
      const base = await model.download();
      const merged = mergeLora(config, LORA, base, await model.lora!.download());
      expectSameSamples(got, await onnx(config, merged, MIXED, 2), config, merged, `${name} ${dtype} seed=${seed}`);
      // the adapters change the samples: without them the base gives other ones
      expect(got!.map((s) => s.completion_ids)).not.toEqual((await onnx(config, base, MIXED, 2)).map((s) => s.completion_ids));
    } finally {
      model.destroy();
    }
  });
});

describe('GPU timed samples', () => {
  it('the built-in model: the ONNX path\'s answers to arithmetic prompts, ended at eos', async () => {
    const ckpt = await readCheckpointDir(builtinModelDir());
    const model = makeModel(gpu, ckpt.config, ckpt.params);
    const ps = prompts(['Q: What is 4+1?\nA: ', 'Q: Calcule 7*7.\nA: ', 'Q: 1+5는 얼마야?\nA: ']);
    try {
      const got = await timedSamplesOnGpu(model, ckpt.tokenizer, ps, arithmeticJudge, 0);
      const want = await timedSamples(open, ckpt, ckpt.params, ps, arithmeticJudge, 0);
      expect(got).toEqual(want);
      expect(want.some((s) => s.stop === 'eos')).toBe(true);
      console.log(`builtin: ${want.map((s) => JSON.stringify(s.prompt + s.completion) + ` (${s.stop}, ${s.score})`).join(', ')}`);
    } finally {
      model.destroy();
    }
  });

  it('a prompt too long for the cache falls back to the ONNX path; each call destroys every buffer it created', async () => {
    const w = randomWeights(GPT, new Rng(freshSeed()));
    const model = makeModel(gpu, GPT, w);
    const device = gpu.device;
    const create = device.createBuffer;
    const live = new Set<GPUBuffer>();
    try {
      const long = prompts(['1+2=', 'a'.repeat(GPT.nPositions - TIMED_SAMPLE_TOKENS + 2)]);
      expect(gpuSamplesProblem(model, tok, long)).toMatch(/needs 65 positions, more than the model's 64/);
      const src = { model, params: async () => w };
      const fell = await samplesAt(src, open, { config: GPT, tokenizer: tok }, long, referenceJudge, 1);
      expect(fell.engine).toBe('onnx');
      expect(fell.samples).toEqual(await onnx(GPT, w, long, 1));
      await expect(samplesAt(src, null, { config: GPT, tokenizer: tok }, long, referenceJudge, 1)).rejects.toThrow(/more than the model's 64, and there is no ONNX runtime to fall back to/);
      const first = await samplesAt(src, open, { config: GPT, tokenizer: tok }, MIXED, referenceJudge, 1);
      expect(first.engine).toBe('gpu');
      // from here every new buffer is tracked until destroyed (uniforms are pooled by content: the
      // first call made those of these shapes)
      device.createBuffer = (d: GPUBufferDescriptor) => {
        const b = create.call(device, d);
        live.add(b);
        const destroy = b.destroy.bind(b);
        b.destroy = () => {
          live.delete(b);
          destroy();
        };
        return b;
      };
      for (let i = 0; i < 3; i++) {
        const again = await samplesAt(src, open, { config: GPT, tokenizer: tok }, MIXED, referenceJudge, 1);
        expect(again).toEqual(first);
        expect([...live].map((b) => b.label)).toEqual([]);
      }
    } finally {
      device.createBuffer = create;
      model.destroy();
    }
  });

  it('a LoRA DPO run sampled on the GPU after every update trains exactly as one that is not, and its samples are the ONNX path\'s on run.weights()', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const config = llamaPresetConfig('llama-tiny');
    const base = { config, params: randomWeights(config, rng), tokenizer: tok };
    const pairs: PairIds[] = Array.from({ length: 6 }, (_, i) => ({ promptIds: enc(`${i}+${i}=`), chosenIds: [...enc(String(2 * i)), 256], rejectedIds: [...enc(`${2 * i + 1}?`), 256], index: i, line: i + 1 }));
    const cfg: TrainConfig = { ...TRAIN_DEFAULTS, objective: { method: 'dpo', beta: 0.1 }, lora: LORA, baseDtype: 'bf16', steps: 3, batchSize: 2, lr: 5e-2, evalFraction: 0 };
    const ps = prompts(['1+1=', '4+4=']);
    const plain = new TrainingRun({ base, data: { kind: 'pairs', items: pairs }, config: cfg });
    const sampled = new TrainingRun({ base, data: { kind: 'pairs', items: pairs }, config: cfg });
    try {
      await plain.start(gpu);
      await sampled.start(gpu);
      while (!plain.done) {
        const a = await plain.advance();
        const b = await sampled.advance();
        const got = await samplesAt({ model: sampled.model, params: () => sampled.weights() }, open, base, ps, referenceJudge, sampled.step);
        expect(got.engine).toBe('gpu');
        const weights = await sampled.weights();
        expectSameSamples(got.samples, await onnx(config, weights, ps, sampled.step), config, weights, `step ${sampled.step} seed=${seed}`);
        const timeless = (ms: typeof a) => ms.map(({ tokens_per_second: _, ...m }) => m);
        expect(timeless(b)).toEqual(timeless(a));
      }
      const [wa, wb] = [await plain.weights(), await sampled.weights()];
      for (const [k, v] of wa) expect(wb.get(k), k).toEqual(v);
      expect(sampled.model!.lora!.enabled).toBe(true);
    } finally {
      plain.release();
      sampled.release();
    }
  });
});
