// The CLI commands that run a model, on Llama-family folders (`init --preset llama-tiny|qwen-tiny`,
// weights then redrawn at a scale where every path matters): `generate` (seeded: the same seed
// gives the same text; greedy = the float64 model's greedy continuation), `judge` (a judged win
// rate, reproducible), `export-onnx` (the file's logits under onnxruntime-web within 1e-4 of the
// independent float64 Llama of src/reference/llama.ts, and the same per-position log-probs as the
// WGSL engine) and `export-trl` of a `train` run (the starting model in its own family's layout,
// train.py and README.txt naming the family).
import { describe, it, expect, beforeAll, afterEach, vi } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { cliStdout as stdout } from '../helpers/cli-stdout';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import { randomIds } from '../helpers/onnx-ref';
import type { GpuContext } from '../../src/engine/gpu';
import { createModel } from '../../src/model/family';
import { writeCheckpointDir } from '../../src/model/checkpoint-node';
import { readLlamaCheckpointDir } from '../../src/model/llama-checkpoint-node';
import { saveLlamaCheckpoint, type LoadedLlamaCheckpoint } from '../../src/model/llama-checkpoint';
import { llamaParamSpec, llamaRefConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';
import { exportModelOnnx, generationConfig } from '../../src/onnx/export';
import { checkEngineAgainstOrt } from '../../src/onnx/engine-check';
import { generate, type LogitsModel } from '../../src/onnx/generate';
import { decodeModel } from '../../src/onnx/proto-schema';
import { createNodeOnnxLm } from '../../src/onnx/session-node';
import { tokenLogps, type BatchLogits } from '../../src/onnx/session';
import { llamaForwardRef } from '../../src/reference/llama';
import { Rng } from '../../src/util/rng';

const dir = mkdtempSync(join(tmpdir(), 'prefplay-cli-llama-'));
const PRESETS = ['llama-tiny', 'qwen-tiny'] as const;
const seed = freshSeed();

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});
afterEach(() => vi.restoreAllMocks());

/** Weights at a scale where every path matters: matrices 0.3·N(0,1), biases 0.05·N, RMSNorm gains 1 + 0.2·N. */
function scaledParams(config: LlamaFamilyConfig, rng: Rng): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const { name, shape } of llamaParamSpec(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = /(layernorm|norm)\.weight$/.test(name);
    const sd = name.endsWith('.bias') ? 0.05 : 0.3;
    m.set(name, Float32Array.from({ length: n }, () => (norm ? 1 + 0.2 * rng.normal() : sd * rng.normal())));
  }
  return m;
}

/** `init --preset P`, then the same folder (config, byte tokenizer) with scaled random weights. */
async function modelFolder(preset: string): Promise<{ dir: string; ckpt: LoadedLlamaCheckpoint }> {
  const out = join(dir, preset);
  expect(await main(['init', '--preset', preset, '--seed', String(seed % 1000), '--out', out])).toBe(0);
  const init = await readLlamaCheckpointDir(out);
  await writeCheckpointDir(out, saveLlamaCheckpoint(init.config, scaledParams(init.config, new Rng(seed)), 'byte'));
  return { dir: out, ckpt: await readLlamaCheckpointDir(out) };
}


/** The float64 model's logits (T,V) per sequence: rms_f output · headᵀ from the reference's cache. */
function refLogits(ckpt: LoadedLlamaCheckpoint, seqs: number[][]): Float64Array[] {
  const { cache } = llamaForwardRef(ckpt.params, llamaRefConfig(ckpt.config), seqs);
  const { hiddenSize: C, vocabSize: V } = ckpt.config;
  const head = cache.params.get(ckpt.config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight')!;
  return cache.seqs.map((sc) => {
    const T = sc.tokens.length;
    const out = new Float64Array(T * V);
    for (let t = 0; t < T; t++) {
      for (let v = 0; v < V; v++) {
        let s = 0;
        for (let c = 0; c < C; c++) s += sc.rmsf.out[t * C + c] * head[v * C + c];
        out[t * V + v] = s;
      }
    }
    return out;
  });
}

/** The float64 model as generate() sees a model. */
function refModel(ckpt: LoadedLlamaCheckpoint): LogitsModel {
  const { vocabSize: V, nPositions } = generationConfig(ckpt.config);
  return {
    vocabSize: V,
    nPositions,
    async logits(seqs): Promise<BatchLogits> {
      const rows = refLogits(ckpt, seqs.map((s) => [...s]));
      const T = Math.max(...seqs.map((s) => s.length));
      const logits = new Float32Array(seqs.length * T * V);
      rows.forEach((r, b) => logits.set(r, b * T * V));
      return { B: seqs.length, T, V, lengths: seqs.map((s) => s.length), logits };
    },
  };
}

describe.each(PRESETS)('%s: the commands that run a model', (preset) => {
  let model: { dir: string; ckpt: LoadedLlamaCheckpoint };
  beforeAll(async () => {
    model = await modelFolder(preset);
  });

  it('generate: the same seed gives the same text, another seed another; greedy is the float64 model\'s greedy continuation', async () => {
    const run = async (extra: string[]) => JSON.parse(await stdout(['generate', '--model', model.dir, '--prompt', 'Le chat ', '--max-new-tokens', '6', '--json', ...extra])) as { prompt: string; text: string; ids: number[]; stop: string };
    const a = await run(['--temperature', '1', '--top-k', '0', '--seed', '7']);
    const b = await run(['--temperature', '1', '--top-k', '0', '--seed', '7']);
    const c = await run(['--temperature', '1', '--top-k', '0', '--seed', '8']);
    expect(a).toEqual(b);
    expect(a.prompt).toBe('Le chat ');
    expect(a.ids.length === 6 || a.stop === 'eos', `seed=${seed}`).toBe(true);
    expect(c.ids, `seed=${seed}`).not.toEqual(a.ids);
    const greedy = await run(['--temperature', '0']);
    const want = await generate(refModel(model.ckpt), model.ckpt.tokenizer, 'Le chat ', { maxNewTokens: 6, temperature: 0, topK: 0, seed: 0 });
    expect(greedy.ids, `seed=${seed}`).toEqual(want.ids);
    // an empty prompt starts from the tokenizer's BOS
    const empty = await run(['--prompt', '', '--temperature', '0']);
    expect(empty.ids, `seed=${seed}`).toEqual((await generate(refModel(model.ckpt), model.ckpt.tokenizer, '', { maxNewTokens: 6, temperature: 0, topK: 0, seed: 0 })).ids);
  });

  it('judge: a judged win rate over the sampled prompts, the same for the same seed', async () => {
    const out = join(dir, `${preset}-judged.jsonl`);
    const args = ['judge', '--model', model.dir, '--set', 'arithmetic-test', '--samples', '3', '--seed', '2', '--max-new-tokens', '4'];
    const a = JSON.parse(await stdout([...args, '--out', out])) as { judge: string; n: number; wins: number; win_rate: number; examples: Array<{ prompt: string; completion: string }> };
    const b = JSON.parse(await stdout(args));
    expect(a.judge).toBe('arithmetic');
    expect(a.n).toBe(3);
    expect(a.win_rate).toBeCloseTo(a.wins / 3, 12);
    expect(b).toEqual(a);
    expect(readFileSync(out, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('export-onnx: logits within 1e-4 of the float64 model on a ragged batch; the engine gives the same log-probs', async () => {
    const file = join(dir, `${preset}.onnx`);
    const printed = await stdout(['export-onnx', '--model', model.dir, '--out', file]);
    const { config } = model.ckpt;
    expect(printed).toContain(`${config.family},`);
    const bytes = new Uint8Array(readFileSync(file));
    expect(decodeModel(bytes).metadata_props).toContainEqual({ key: 'model_type', value: config.family });
    expect(decodeModel(bytes).metadata_props).toEqual(decodeModel(exportModelOnnx(config, model.ckpt.params, { metadata: { source: model.dir } })).metadata_props);
    expect(bytes).toEqual(new Uint8Array(exportModelOnnx(config, model.ckpt.params, { metadata: { source: model.dir } })));
    const gen = generationConfig(config);
    const lm = await createNodeOnnxLm(bytes, gen);
    const gm = createModel(gpu, model.ckpt);
    try {
      const rng = new Rng(seed + 1);
      const seqs = randomIds(rng, config.vocabSize, [13, 5, 1, config.maxPositionEmbeddings]);
      const out = await lm.logits(seqs);
      const want = refLogits(model.ckpt, seqs);
      const got = seqs.flatMap((s, b) => Array.from(out.logits.subarray(b * out.T * out.V, (b * out.T + s.length) * out.V)));
      const wantFlat = want.flatMap((r) => Array.from(r));
      const scale = wantFlat.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      const maxErr = got.reduce((m, x, i) => Math.max(m, Math.abs(x - wantFlat[i])), 0);
      console.log(`${preset} seed=${seed}: ONNX logits max |err| ${maxErr.toExponential(2)}, max |logit| ${scale.toFixed(3)}`);
      // f32 sums of terms up to |logit| ≈ 7 leave ~1e-5 absolute error even where a logit is near 0
      expectClose(got, wantFlat, { rtol: 1e-4, atol: 1e-4, what: `${preset} ONNX logits seed=${seed}` });

      // the WGSL engine on the same weights: per-position next-token log-probs against ORT's
      gm.upload(model.ckpt.params);
      const withTargets = seqs.filter((s) => s.length >= 2);
      const r = await checkEngineAgainstOrt(gm, lm, withTargets);
      const ref = llamaForwardRef(model.ckpt.params, llamaRefConfig(config), withTargets).logp;
      expect(r.positions).toBe(12 + 4 + config.maxPositionEmbeddings - 1);
      const worstRef = ref[r.worst.seq][r.worst.pos];
      expect(r.maxAbsDiff, `seed=${seed}`).toBeLessThanOrEqual(2 * (1e-5 + 1e-4 * Math.abs(worstRef)));
      expectClose(tokenLogps(await lm.logits(withTargets), withTargets).flat(), ref.flat(), { rtol: 1e-4, atol: 1e-5, what: `${preset} ORT log-probs seed=${seed}` });
      expectClose([r.worst.engine], [worstRef], { rtol: 1e-4, atol: 1e-5, what: `${preset} engine at the worst position seed=${seed}` });
    } finally {
      await lm.release();
      gm.destroy();
    }
  });

  it('export-trl of a train run: the starting model in its family\'s layout, train.py and README.txt name the family', async () => {
    const rng = new Rng(seed + 2);
    const rows = Array.from({ length: 6 }, () => {
      const x = 1 + rng.int(9), y = 1 + rng.int(9);
      return { prompt: `${x}+${y}=`, chosen: String(x + y), rejected: String(x + y + 1) };
    });
    const pairs = join(dir, `${preset}-pairs.jsonl`);
    writeFileSync(pairs, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const runDir = join(dir, `${preset}-run`);
    vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(await main(['train', '--model', model.dir, '--pairs', pairs, '--method', 'dpo', '--steps', '1', '--batch-size', '2', '--eval-fraction', '0.34', '--out', runDir, '--quiet'])).toBe(0);
    const out = join(dir, `${preset}-trl`);
    const printed = await stdout(['export-trl', '--run', runDir, '--out', out]);
    const { config } = model.ckpt;
    expect(printed).toContain(`train.py (dpo, ${config.family})`);
    const copy = await readLlamaCheckpointDir(join(out, 'model'));
    expect(copy.config).toEqual(config);
    for (const { name } of llamaParamSpec(config)) expect(Array.from(copy.params.get(name)!), name).toEqual(Array.from(model.ckpt.params.get(name)!));
    expect(JSON.parse(readFileSync(join(out, 'model', 'config.json'), 'utf8')).model_type).toBe(config.family);
    const arch = config.family === 'qwen2' ? 'Qwen2ForCausalLM' : 'LlamaForCausalLM';
    const hub = config.family === 'qwen2' ? 'Qwen/Qwen2.5-0.5B' : 'HuggingFaceTB/SmolLM2-135M';
    const py = readFileSync(join(out, 'train.py'), 'utf8');
    expect(py).toContain(`# Starting model: model (model_type ${config.family}, ${arch})`);
    expect(py).toContain(`MODEL = "model"  # a folder in Hugging Face layout, or a Hub id such as "${hub}"`);
    expect(py).toContain('from trl import DPOConfig, DPOTrainer');
    expect(py).not.toMatch(/gpt2|GPT-2/i);
    const readme = readFileSync(join(out, 'README.txt'), 'utf8');
    expect(readme).toContain(`(${config.family}, ${arch}; from_pretrained loads it)`);
    expect(readme).toContain(`-family checkpoint (e.g. "${hub}")`);
    const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { train_pairs: number; eval_pairs: number };
    expect(readFileSync(join(out, 'data.jsonl'), 'utf8').trim().split('\n')).toHaveLength(run.train_pairs);
    expect(readFileSync(join(out, 'eval.jsonl'), 'utf8').trim().split('\n')).toHaveLength(run.eval_pairs);
    if (spawnSync('python3', ['--version']).status === 0) {
      const r = spawnSync('python3', ['-m', 'py_compile', join(out, 'train.py')], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
  });
});
