// Generation: sampling (greedy, top-k, temperature) against exact expectations; the generation
// loop (end-of-text, context window, empty prompt) on scripted logits; and on the ONNX session:
// a seed reproduces the text, and greedy decoding equals argmax of the float64 GPT-2's logits.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freshSeed } from '../helpers/close';
import { randomParams, refLogitsModel } from '../helpers/onnx-ref';
import { argmax, generate, generateSideBySide, sampleToken, validateSampling, type LogitsModel } from '../../src/onnx/generate';
import type { BatchLogits } from '../../src/onnx/session';
import { exportGpt2Onnx } from '../../src/onnx/gpt2';
import { createNodeOnnxLm } from '../../src/onnx/session-node';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { ByteTokenizer } from '../../src/tokenizer/byte';
import { main } from '../../src/cli/main';
import { UsageError } from '../../src/cli/command';
import { Rng } from '../../src/util/rng';

const tok = new ByteTokenizer();
const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 24 };

/** Logits that depend only on the context length: scripted[len] (else uniform). */
function scriptedModel(V: number, nPositions: number, scripted: Record<number, number>, seen: number[][]): LogitsModel {
  return {
    vocabSize: V,
    nPositions,
    async logits(seqs): Promise<BatchLogits> {
      const s = seqs[0];
      seen.push([...s]);
      const T = s.length;
      const logits = new Float32Array(T * V);
      const favourite = scripted[T];
      if (favourite !== undefined) logits[(T - 1) * V + favourite] = 50;
      return { B: 1, T, V, lengths: [T], logits };
    },
  };
}

describe('sampling', () => {
  it('temperature 0 and top-k 1 are argmax (first index on ties)', () => {
    const rng = new Rng(freshSeed());
    const row = Float32Array.from([0.5, 2, -1, 2, 1.5]);
    expect(argmax(row)).toBe(1);
    for (let i = 0; i < 20; i++) {
      expect(sampleToken(row, 0, 5, 0, 0, rng)).toBe(1);
      expect(sampleToken(row, 0, 5, 1.3, 1, rng)).toBe(1);
    }
    // an offset row inside a longer buffer
    const buf = Float32Array.from([9, 9, 9, 0, 0, 3, 0]);
    expect(sampleToken(buf, 3, 4, 0, 0, rng)).toBe(2);
  });

  it('draws follow softmax(logits / T) restricted to the top k', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const row = Float32Array.from([1.0, 0.2, -0.5, 0.9, 0.0, 1.2]);
    const T = 0.7;
    const k = 3; // ids 5, 0, 3
    const n = 60_000;
    const counts = new Array(6).fill(0);
    for (let i = 0; i < n; i++) counts[sampleToken(row, 0, 6, T, k, rng)]++;
    expect(counts[1] + counts[2] + counts[4]).toBe(0);
    const w = [5, 0, 3].map((v) => Math.exp(row[v] / T));
    const z = w.reduce((a, b) => a + b, 0);
    [5, 0, 3].forEach((v, i) => {
      const p = w[i] / z;
      const sd = Math.sqrt((p * (1 - p)) / n);
      expect(Math.abs(counts[v] / n - p), `id ${v} seed=${seed}`).toBeLessThan(5 * sd);
    });
  });

  it('rejects bad options with the field', () => {
    const ok = { maxNewTokens: 5, temperature: 1, topK: 0, seed: 1 };
    expect(() => validateSampling(ok)).not.toThrow();
    expect(() => validateSampling({ ...ok, temperature: -0.1 })).toThrow(/temperature must be a number ≥ 0/);
    expect(() => validateSampling({ ...ok, temperature: NaN })).toThrow(/temperature/);
    expect(() => validateSampling({ ...ok, topK: 1.5 })).toThrow(/topK must be an integer/);
    expect(() => validateSampling({ ...ok, maxNewTokens: -1 })).toThrow(/maxNewTokens/);
    expect(() => validateSampling({ ...ok, seed: 2 ** 32 })).toThrow(/seed/);
  });
});

describe('generation loop', () => {
  it('stops at end-of-text, which is not part of the text', async () => {
    const seen: number[][] = [];
    const m = scriptedModel(257, 64, { 2: 72, 3: 105, 4: 256 }, seen);
    const g = await generate(m, tok, 'ab', { maxNewTokens: 10, temperature: 0, topK: 0, seed: 0 });
    expect(g.ids).toEqual([72, 105]);
    expect(g.text).toBe('Hi');
    expect(g.stop).toBe('eos');
    expect(g.promptIds).toEqual([97, 98]);
    expect(seen.map((s) => s.length)).toEqual([2, 3, 4]);
  }, 60_000);

  it('an empty prompt starts from <|endoftext|>; long contexts keep their last n_positions tokens', async () => {
    const seen: number[][] = [];
    const m = scriptedModel(257, 4, {}, seen);
    const g = await generate(m, tok, '', { maxNewTokens: 6, temperature: 0, topK: 0, seed: 0 });
    expect(seen[0]).toEqual([256]);
    expect(g.stop).toBe('length');
    expect(g.ids).toEqual([0, 0, 0, 0, 0, 0]);
    expect(seen.map((s) => s.length)).toEqual([1, 2, 3, 4, 4, 4]);
    expect(seen[5]).toEqual([0, 0, 0, 0]);
    const none = await generate(m, tok, 'x', { maxNewTokens: 0, temperature: 1, topK: 0, seed: 0 });
    expect(none).toMatchObject({ ids: [], text: '', stop: 'length' });
  }, 60_000);
});

describe('side by side', () => {
  it('each model continues each prompt from the same seed', async () => {
    const before = scriptedModel(257, 64, { 2: 120 }, []);
    const after = scriptedModel(257, 64, { 2: 121 }, []);
    const opts = { maxNewTokens: 1, temperature: 0.9, topK: 0, seed: 5 };
    const rows = await generateSideBySide([{ label: 'before', model: before }, { label: 'after', model: after }], tok, ['ab', 'cd'], opts);
    expect(rows.map((r) => r.prompt)).toEqual(['ab', 'cd']);
    expect(rows[0].outputs.map((o) => [o.label, o.generation.text])).toEqual([['before', 'x'], ['after', 'y']]);
    // the same model twice gives the same sample: the seed restarts per generation
    const uniform = scriptedModel(257, 64, {}, []);
    const twice = await generateSideBySide([{ label: 'a', model: uniform }, { label: 'b', model: uniform }], tok, ['q'], { ...opts, maxNewTokens: 6 });
    expect(twice[0].outputs[0].generation.ids).toEqual(twice[0].outputs[1].generation.ids);
    await expect(generateSideBySide([], tok, ['q'], { ...opts, topK: -1 })).rejects.toThrow(/topK/);
  });
});

describe('generation with onnxruntime-web', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a seed reproduces the sample; greedy equals argmax of the float64 reference logits', async () => {
    const seed = freshSeed();
    const params = randomParams(config, new Rng(seed));
    const lm = await createNodeOnnxLm(exportGpt2Onnx(config, params), config);
    try {
      const opts = { maxNewTokens: 12, temperature: 1, topK: 20, seed: seed % 1000 };
      const a = await generate(lm, tok, 'Hello', opts);
      const b = await generate(lm, tok, 'Hello', opts);
      expect(b).toEqual(a);
      if (a.stop === 'length') expect(a.ids.length).toBe(12);
      else expect(a.ids.length).toBeLessThan(12);
      // other seeds give other samples (12 draws among 20 candidates: equal by chance ~never)
      const others = await Promise.all([1, 2, 3].map((d) => generate(lm, tok, 'Hello', { ...opts, seed: opts.seed + d })));
      expect(others.some((o) => o.ids.join() !== a.ids.join()), `seed=${seed}`).toBe(true);

      // greedy over 25 tokens (unless end-of-text comes first the context passes n_positions = 24 and slides)
      const greedy = { maxNewTokens: 25, temperature: 0, topK: 0, seed: 0 };
      const ref = refLogitsModel(params, config);
      const viaRef = await generate(ref, tok, 'Hi!', greedy);
      const viaOrt = await generate(lm, tok, 'Hi!', greedy);
      // every step of the reference's greedy path: ORT's argmax is the reference's argmax (or ties
      // it within 1e-5, where float32 may legitimately pick the other one)
      const ctx = [...viaRef.promptIds, ...viaRef.ids];
      const steps = viaRef.ids.length + (viaRef.stop === 'eos' ? 1 : 0);
      let nearTie = false;
      for (let k = 0; k < steps; k++) {
        const window = ctx.slice(0, viaRef.promptIds.length + k).slice(-config.nPositions);
        const [o, r] = await Promise.all([lm.logits([window]), ref.logits([window])]);
        const off = (window.length - 1) * o.V;
        const rRow = r.logits.subarray(off, off + o.V);
        const best = argmax(rRow);
        const pick = argmax(o.logits, off, o.V);
        const sorted = Array.from(rRow).sort((x, y) => y - x);
        nearTie ||= sorted[0] - sorted[1] < 1e-4; // onnxruntime-web's f32 logits sit ~1e-5 from float64
        expect(rRow[best] - rRow[pick], `step ${k} seed=${seed}`).toBeLessThan(1e-4);
      }
      if (!nearTie) expect(viaOrt, `seed=${seed}`).toEqual(viaRef);
    } finally {
      await lm.release();
    }
  }, 60_000);

  it('CLI generate: the same seed prints the same text; --json has prompt, text, ids, stop; bad options are usage errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-gen-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      expect(await main(['init', '--preset', 'tiny', '--seed', '5', '--out', dir])).toBe(0);
      const args = ['generate', '--engine', 'onnx', '--model', dir, '--prompt', 'Bonjour', '--max-new-tokens', '8', '--temperature', '0.9', '--top-k', '10', '--seed', '7'];
      expect(await main([...args, '--json'])).toBe(0);
      const first = JSON.parse(String(log.mock.calls.at(-1)![0]));
      expect(Object.keys(first).sort()).toEqual(['ids', 'prompt', 'stop', 'text']);
      expect(first.prompt).toBe('Bonjour');
      expect(await main([...args, '--json'])).toBe(0);
      expect(JSON.parse(String(log.mock.calls.at(-1)![0]))).toEqual(first);
      expect(await main(args)).toBe(0);
      expect(String(log.mock.calls.at(-1)![0])).toBe('Bonjour' + first.text);
      await expect(main(['generate', '--model', dir, '--prompt', 'x', '--temperature', '-1'])).rejects.toThrow(UsageError);
      await expect(main(['generate', '--model', dir, '--prompt', 'x', '--top-k', '2.5'])).rejects.toThrow(/--top-k must be an integer/);
      await expect(main(['generate', '--model', dir])).rejects.toThrow(/--prompt/);
      await expect(main(['generate', '--model', join(dir, 'nope'), '--prompt', 'x'])).rejects.toThrow(/no such folder/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
