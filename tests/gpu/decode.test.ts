// Generation on the GPU (src/model/decode.ts, shaders/decode.wgsl, shaders/decode-sample.wgsl):
// - the sampler against src/train/rl/sampling.ts on rows of logits: the top-k / top-p masks
//   (ties included), the warped distribution, the token drawn with the same stream, both log-probs,
//   greedy, stop ids and finished rows;
// - the cached decode's logits against the full forward's (the prefill of prompt + generated
//   prefix, training kernels, no cache) within 1e-4, against the float64 models, and the rollout
//   log-probs against the training runner's per-token log-probs, for GPT-2 and the Llama family
//   (GQA 2:1, multi-query with biases, head_dim ≠ C/NH with scattered stacks), odd prompt lengths,
//   one batch of different lengths, both kernel forms, a split arena;
// - greedy tokens equal the float64 model's greedy decode; seeded sampling is reproducible and is
//   sampleRollouts' on the same logits, stopping included, drawOffset continuing the stream.
// The models and the cached-decode check are tests/helpers/decode-models.ts (decode-lora.test.ts
// runs the same check with LoRA adapters and a 16-bit base).
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { cliStdout as stdout } from '../helpers/cli-stdout';
import { UsageError } from '../../src/cli/command';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32, readU32 } from '../../src/engine/readback';
import { sampleRows, samplerCtl, type GpuSampling } from '../../src/kernels/decode-sample';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';
import { DecodeRunner, generateOnGpu, type GenerateOptions } from '../../src/model/decode';
import { isLlamaConfig, type ModelConfig } from '../../src/model/family';
import { presetConfig } from '../../src/model/config';
import { llamaPresetConfig } from '../../src/model/llama-config';
import { greedyToken, logSoftmaxAt, sampleRollouts, softmax, warpLogits, type SamplingOptions } from '../../src/train/rl/sampling';
import { Rng } from '../../src/util/rng';
import { expectCachedDecode, makeModel, NEW, ODD_LLAMA as ODD, PROMPT_LENS, randomWeights, refLogprobs } from '../helpers/decode-models';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});
afterEach(() => forceAdapterClass(null));

const FORMS: AdapterClass[] = ['cpu', 'gpu'];

/** Draw n of new Rng(seed) (what the GPU's draw n is, before its 24-bit truncation). */
function draw(seed: number, n: number): number {
  const r = new Rng(seed);
  for (let i = 0; i < n; i++) r.next();
  return r.next();
}

/**
 * The token the host draws from `warped` with u, or — when u lies within 1e-6 of a boundary of the
 * cumulative distribution (the GPU sums in f32 and truncates u to 24 bits) — either neighbour.
 */
function hostDrawAccepts(warped: Float64Array, u: number, token: number): boolean {
  const p = softmax(warped);
  let acc = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] <= 0) continue;
    const lo = acc;
    acc += p[i];
    if (i === token) return u >= lo - 1e-6 && u < acc + 1e-6;
  }
  return false;
}

// ---------------------------------------------------------------- the sampler on rows of logits

interface SampleOut {
  tokens: Uint32Array;
  logp: Float32Array;
  wlogp: Float32Array;
  done: Uint32Array;
  probs: Float32Array;
}

/** The sampler's options plus its stream (in ctl on the GPU). */
type SamplerCase = GpuSampling & { seed?: number; draw0?: number };

/** sampleRows on (B,V) logits at column s of N, with done flags `done0`. */
async function runSampler(logits: Float32Array, B: number, V: number, o: SamplerCase, s = 0, N = 1, done0 = new Uint32Array(B)): Promise<SampleOut> {
  const d = gpu.device;
  const v = {
    tokens: createView(d, 'tokens', [B, N], new Uint32Array(B * N).fill(7777)),
    logp: createView(d, 'logp', [B, N]),
    wlogp: createView(d, 'wlogp', [B, N]),
    done: createView(d, 'done', [B], done0),
    probs: createView(d, 'probs', [B, V]),
    logits: createView(d, 'logits', [B, V], logits),
    stop: createView(d, 'stop', [Math.max(1, o.stopIds?.length ?? 0)], Uint32Array.from(o.stopIds?.length ? o.stopIds : [0])),
    ctl: createView(d, 'ctl', [4], samplerCtl(s, o.seed ?? 0, o.draw0 ?? 0)),
  };
  const enc = new StepEncoder(gpu);
  sampleRows(enc, v.tokens, v.logp, v.wlogp, v.done, v.probs, v.logits, v.stop, v.ctl, B, V, N, o);
  enc.submit();
  const out = { tokens: await readU32(d, v.tokens), logp: await readF32(d, v.logp), wlogp: await readF32(d, v.wlogp), done: await readU32(d, v.done), probs: await readF32(d, v.probs) };
  for (const x of Object.values(v)) x.buffer.destroy();
  return out;
}

/** Rows of N(0, scale²) logits, some with ties planted at the top. */
function randomRows(rng: Rng, B: number, V: number, scale = 2): Float32Array {
  const z = Float32Array.from({ length: B * V }, () => scale * rng.normal());
  return z;
}

function checkAgainstHost(z: Float32Array, B: number, V: number, o: SamplerCase, got: SampleOut, what: string): void {
  const host: SamplingOptions = { temperature: o.temperature, topK: o.topK, topP: o.topP };
  for (let b = 0; b < B; b++) {
    const row = z.subarray(b * V, (b + 1) * V);
    const warped = warpLogits(row, host);
    const keptHost = Array.from(warped, (x) => x !== -Infinity);
    const keptGpu = Array.from(got.probs.subarray(b * V, (b + 1) * V), (x) => x >= 0);
    expect(keptGpu, `${what}: mask of row ${b}`).toEqual(keptHost);
    const pHost = softmax(warped);
    const e = got.probs.subarray(b * V, (b + 1) * V);
    const S = e.reduce((acc, x) => acc + Math.max(x, 0), 0);
    expectClose(Array.from(e, (x) => Math.max(x, 0) / S), pHost, { rtol: 1e-5, atol: 1e-7, what: `${what}: warped probabilities of row ${b}` });
    const tok = got.tokens[b];
    const u = draw(o.seed ?? 0, (o.draw0 ?? 0) + b);
    expect(hostDrawAccepts(warped, u, tok), `${what}: row ${b} drew ${tok} with u = ${u}`).toBe(true);
    // the GPU's log-sum-exp adds V terms in f32: its rounding grows like √V (seed 254424657 at
    // V = 50,257 was 3.9e-5 off), so the tolerance does too (1e-5 at V = 300)
    const lse = 1e-5 * Math.max(1, Math.sqrt(V / 300));
    expectClose([got.logp[b]], [logSoftmaxAt(row, tok, o.temperature)], { rtol: 1e-5, atol: lse, what: `${what}: logp row ${b}` });
    expectClose([got.wlogp[b]], [logSoftmaxAt(warped, tok)], { rtol: 1e-5, atol: lse, what: `${what}: warped logp row ${b}` });
  }
}

describe('GPU sampler vs src/train/rl/sampling.ts', () => {
  const B = 5;
  const V = 301; // not a multiple of any workgroup size
  const CASES: Array<[string, SamplerCase]> = [
    ['T = 1', { temperature: 1 }],
    ['T = 0.7, top-k 5', { temperature: 0.7, topK: 5 }],
    ['T = 1.3, top-p 0.8', { temperature: 1.3, topP: 0.8 }],
    ['T = 0.9, top-k 20, top-p 0.6', { temperature: 0.9, topK: 20, topP: 0.6 }],
    ['top-p 0 (the maximum only)', { temperature: 1, topP: 0 }],
    ['top-k ≥ V (off)', { temperature: 0.5, topK: V + 3 }],
    ['top-k 1', { temperature: 2, topK: 1 }],
  ];

  it.each(FORMS)('%s kernel form: masks, warped probabilities, the drawn token and both log-probs', async (form) => {
    forceAdapterClass(form);
    const seed = freshSeed();
    const rng = new Rng(seed);
    for (const [what, o] of CASES) {
      const z = randomRows(rng, B, V);
      const opts = { ...o, seed: rng.int(2 ** 32), draw0: rng.int(1000) };
      checkAgainstHost(z, B, V, opts, await runSampler(z, B, V, opts), `${what} seed=${seed}`);
    }
  });

  it("GPT-2's vocabulary (V = 50257): top-k 50 then top-p 0.95, and top-p alone", async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const V = 50257;
    for (const o of [{ temperature: 0.7, topK: 50, topP: 0.95 }, { temperature: 1, topP: 0.9 }] as SamplerCase[]) {
      const z = randomRows(rng, 2, V, 3);
      const opts = { ...o, seed: rng.int(2 ** 32), draw0: rng.int(1000) };
      checkAgainstHost(z, 2, V, opts, await runSampler(z, 2, V, opts), `${JSON.stringify(o)} seed=${seed}`);
    }
  });

  it('ties: at the k-th value all survive; at the top-p cut they drop in vocabulary order; −0 equals +0', async () => {
    // row 0: 4.0 ×1, 3.0 ×3, then lower: top-k 2 keeps 4.0 and every 3.0
    // row 1: equal scores straddle the top-p cut: ascending cumulative of [1,1,1,1] (+ a large one)
    // row 2: zeros of both signs at the k-th value
    const V = 8;
    const rows = [
      [3, 0.5, 4, 3, -1, 3, 0, -2],
      [1, 1, 1, 5, 1, -3, -3, -3],
      [-0, 1, 0, -1, -0, 2, -5, 0],
    ];
    const z = Float32Array.from(rows.flat());
    for (const o of [
      { temperature: 1, topK: 2 },
      { temperature: 1, topP: 0.3 },
      { temperature: 1, topP: 0.02 },
      { temperature: 1, topK: 4, topP: 0.95 },
      { temperature: 1, topK: 3 },
    ] as SamplerCase[]) {
      const opts = { ...o, seed: 11 };
      checkAgainstHost(z, 3, V, opts, await runSampler(z, 3, V, opts), JSON.stringify(o));
    }
  });

  it('greedy is the first argmax with log softmax(logits); stop ids finish a row; finished rows write pad', async () => {
    const V = 9;
    const z = Float32Array.from([0, 2, 1, 2, -1, 0, 0, 0, 0, /**/ 5, 1, 1, 1, 1, 1, 1, 1, 1, /**/ 0, 0, 0, 0, 0, 0, 0, 0, 3]);
    const got = await runSampler(z, 3, V, { temperature: 0, stopIds: [0, 8], pad: 4 }, 1, 3, Uint32Array.from([0, 0, 1]));
    expect([got.tokens[0 * 3 + 1], got.tokens[1 * 3 + 1], got.tokens[2 * 3 + 1]]).toEqual([greedyToken(z.subarray(0, V)), 0, 4]);
    expect(Array.from(got.done)).toEqual([0, 1, 1]);
    expectClose([got.logp[1], got.logp[4]], [logSoftmaxAt(z.subarray(0, V), 1), logSoftmaxAt(z.subarray(V, 2 * V), 0)], { atol: 1e-6 });
    expect([got.logp[7], got.wlogp[7], got.wlogp[1]]).toEqual([0, 0, 0]);
    expect(got.tokens[0]).toBe(7777); // other columns untouched
  });
});

// ---------------------------------------------------------------- the model: cached decode

const GPT: ModelConfig = { ...presetConfig('tiny'), nPositions: 40 };
/** Each model with the kernel forms its cached-decode test runs (SwiftShader runs the GPU forms slowly: two models cover them). */
const MODELS: Array<[string, ModelConfig, AdapterClass[]]> = [
  ['gpt2 tiny', GPT, FORMS],
  ['llama-tiny (GQA 4:2)', { ...llamaPresetConfig('llama-tiny'), maxPositionEmbeddings: 40 }, ['cpu']],
  ['qwen-tiny (MQA, q/k/v biases, untied)', { ...llamaPresetConfig('qwen-tiny'), maxPositionEmbeddings: 40 }, ['cpu']],
  ['odd llama (HS 12, GQA 3:1, all biases)', ODD, FORMS],
];

describe.each(MODELS)('%s: cached decode', (_name, config, forms) => {
  it.each(forms)('%s kernel form: step logits equal the full forward\'s (1e-4) and the float64 model\'s; rollout log-probs equal the training runner\'s', async (form) => {
    forceAdapterClass(form);
    const seed = freshSeed();
    const rng = new Rng(seed);
    const w = randomWeights(config, rng);
    const model = makeModel(gpu, config, w);
    try {
      await expectCachedDecode(gpu, model, config, { weights: w }, rng, `seed=${seed}`);
    } finally {
      model.destroy();
    }
  });

  it('greedy tokens are the float64 model\'s greedy decode', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const w = randomWeights(config, rng);
    const model = makeModel(gpu, config, w);
    const V = config.vocabSize;
    try {
      const prompts = PROMPT_LENS.map((n) => Array.from({ length: n }, () => rng.int(V)));
      const out = await generateOnGpu(model, prompts, { maxNewTokens: NEW, temperature: 0, stopIds: [] });
      prompts.forEach((p, b) => {
        const seq = [...p];
        for (let s = 0; s < NEW; s++) {
          const lp = refLogprobs(config, w, seq);
          const row = lp.subarray((seq.length - 1) * V, seq.length * V);
          const want = greedyToken(row);
          const got = out.generated[b][s];
          if (got !== want) {
            // a near tie in float64 may go either way in f32: then the rest of the row is another continuation
            expect(row[want] - row[got], `seed=${seed} row ${b} step ${s}: GPU ${got}, float64 ${want}`).toBeLessThan(1e-4);
            break;
          }
          expectClose([out.logprobs[b][s]], [row[want]], { rtol: 1e-4, atol: 1e-4, what: `seed=${seed} row ${b} step ${s}: greedy logprob` });
          seq.push(want);
        }
      });
    } finally {
      model.destroy();
    }
  });

  it('stops reading early for short answers: every row stopped at its second token ends after step 2 (not checkEvery)', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const w = randomWeights(config, rng);
    const model = makeModel(gpu, config, w);
    try {
      const prompts = PROMPT_LENS.map((n) => Array.from({ length: n }, () => rng.int(config.vocabSize)));
      const free = await generateOnGpu(model, prompts, { maxNewTokens: NEW, temperature: 0, stopIds: [] });
      expect(free.stepsRun, `seed=${seed}`).toBe(NEW);
      // each row's second greedy token as a stop id: a row may stop at its first token when that id is another row's
      const stopIds = [...new Set(free.generated.map((g) => g[1]))];
      const out = await generateOnGpu(model, prompts, { maxNewTokens: NEW, temperature: 0, stopIds });
      expect(out.stopped.every(Boolean), `seed=${seed}`).toBe(true);
      expect(out.stepsRun, `seed=${seed}`).toBe(2);
      out.generated.forEach((g, b) => {
        expect(g.length).toBeLessThanOrEqual(2);
        expect(g, `seed=${seed} row ${b}`).toEqual(free.generated[b].slice(0, g.length));
      });
    } finally {
      model.destroy();
    }
  });
});

describe('seeded sampling', () => {
  it('the same seed gives the same tokens; they are sampleRollouts\' on the same logits, stops and drawOffset included', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const config = MODELS[1][1];
    const w = randomWeights(config, rng);
    const model = makeModel(gpu, config, w);
    const V = config.vocabSize;
    const runner = new DecodeRunner(model, 4, 7, 10);
    try {
      const prompts = [3, 7, 1, 4].map((n) => Array.from({ length: n }, () => rng.int(V)));
      const base: GenerateOptions = { maxNewTokens: 10, temperature: 1.1, topK: 40, topP: 0.9, seed: rng.int(2 ** 32), drawOffset: rng.int(100), stopIds: [], captureLogits: true, checkEvery: 3 };
      const a = await runner.generate(prompts, base);
      const again = await runner.generate(prompts, base);
      expect(again.generated).toEqual(a.generated);
      expect(again.logprobs).toEqual(a.logprobs);
      const other = await runner.generate(prompts, { ...base, seed: (base.seed! + 1) >>> 0 });
      expect(other.generated, `seed=${seed}`).not.toEqual(a.generated);
      // stop at a token row 0 produced at step 3: row 0 stops there, rows keep their draws
      const eos = a.generated[0][3];
      const c = await runner.generate(prompts, { ...base, stopIds: [eos], padId: 0 });
      expect(c.stopped[0]).toBe(true);
      for (let b = 0; b < 4; b++) {
        const cut = a.generated[b].indexOf(eos);
        expect(c.generated[b], `seed=${seed} row ${b}`).toEqual(cut < 0 ? a.generated[b] : a.generated[b].slice(0, cut + 1));
      }
      for (const [run, spec] of [[a, { eosId: -1 }], [c, { eosId: eos }]] as const) {
        const host = new Rng(base.seed!);
        for (let i = 0; i < base.drawOffset!; i++) host.next();
        const ref = sampleRollouts(prompts, (b, ids) => run.logits![ids.length - prompts[b].length].subarray(b * V, (b + 1) * V), { maxNewTokens: 10, eosId: spec.eosId, padId: 0, sampling: { temperature: 1.1, topK: 40, topP: 0.9 } }, host);
        expect(run.generated, `seed=${seed}`).toEqual(ref.generated);
        expect(run.T).toBe(ref.T);
        expect(Array.from(run.responses)).toEqual(Array.from(ref.responses));
        run.generated.forEach((_, b) => expectClose(run.warpedLogprobs[b], ref.logprobs[b], { atol: 2e-5, what: `seed=${seed} row ${b} warped logprobs` }));
      }
      // drawOffset continues the stream: the second half of a run equals a run whose offset skips the first draws
      const shifted = await runner.generate(prompts, { ...base, drawOffset: base.drawOffset! + 4 * 3 });
      const host = new Rng(base.seed!);
      for (let i = 0; i < base.drawOffset! + 12; i++) host.next();
      const ref = sampleRollouts(prompts, (b, ids) => shifted.logits![ids.length - prompts[b].length].subarray(b * V, (b + 1) * V), { maxNewTokens: 10, eosId: -1, padId: 0, sampling: { temperature: 1.1, topK: 40, topP: 0.9 } }, host);
      expect(shifted.generated).toEqual(ref.generated);
    } finally {
      runner.destroy();
      model.destroy();
    }
  });

  it('a split arena (embedding and head in row parts) generates what the one-buffer model does', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    for (const config of [MODELS[0][1], MODELS[2][1]]) {
      const w = randomWeights(config, rng);
      const one = makeModel(gpu, config, w);
      const split = makeModel({ ...gpu, arenaBufferLimit: 16384 }, config, w);
      try {
        expect(split.params.parts(isLlamaConfig(config) ? 'lm_head.weight' : 'wte.weight').length).toBeGreaterThan(1);
        const prompts = [[1, 2, 3], [4]];
        const o: GenerateOptions = { maxNewTokens: 5, temperature: 0.8, seed: 3, stopIds: [], captureLogits: true };
        const x = await generateOnGpu(one, prompts, o);
        const y = await generateOnGpu(split, prompts, o);
        expect(y.generated).toEqual(x.generated);
        x.logits!.forEach((l, s) => expectClose(y.logits![s], l, { rtol: 1e-6, atol: 1e-6, what: `step ${s}` }));
      } finally {
        one.destroy();
        split.destroy();
      }
    }
  });
});

describe('CLI generate', () => {
  it('--engine gpu (the default) and --engine onnx give the same greedy text; the same seed the same sample; bad engine options are usage errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-decode-'));
    try {
      expect(await main(['init', '--preset', 'tiny', '--seed', '9', '--out', dir])).toBe(0);
      const run = async (extra: string[]) => JSON.parse(await stdout(['generate', '--model', dir, '--prompt', 'Bonjour', '--max-new-tokens', '12', '--json', ...extra])) as { prompt: string; text: string; ids: number[]; stop: string };
      const gpuGreedy = await run(['--temperature', '0']);
      const onnxGreedy = await run(['--temperature', '0', '--engine', 'onnx']);
      expect(gpuGreedy).toEqual(onnxGreedy);
      expect(gpuGreedy.ids.length === 12 || gpuGreedy.stop === 'eos').toBe(true);
      const a = await run(['--temperature', '1.2', '--top-k', '30', '--top-p', '0.9', '--seed', '4']);
      expect(await run(['--temperature', '1.2', '--top-k', '30', '--top-p', '0.9', '--seed', '4'])).toEqual(a);
      expect((await run(['--temperature', '1.2', '--top-k', '30', '--top-p', '0.9', '--seed', '5'])).ids).not.toEqual(a.ids);
      await expect(main(['generate', '--model', dir, '--prompt', 'x', '--engine', 'tpu'])).rejects.toThrow(UsageError);
      await expect(main(['generate', '--model', dir, '--prompt', 'x', '--engine', 'onnx', '--top-p', '0.5'])).rejects.toThrow(/--top-p needs --engine gpu/);
      await expect(main(['generate', '--model', dir, '--prompt', 'x', '--top-p', '1.5'])).rejects.toThrow(/--top-p must be in/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
