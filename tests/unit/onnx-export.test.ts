// The ONNX export run by onnxruntime-web (wasm, in Node) against the independent float64 GPT-2:
// logits within 1e-4 relative on ragged batches, through the library and through the CLI
// (`init` -> `export-onnx`); the graph's signature, opset and size bound; bad inputs.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareClose } from '../../src/reference/compare';
import { freshSeed } from '../helpers/close';
import { randomIds, randomParams, refLogits, worstDiff } from '../helpers/onnx-ref';
import { main } from '../../src/cli/main';
import { paramCount, presetConfig, type GPTConfig } from '../../src/model/config';
import { readCheckpointDir } from '../../src/model/checkpoint-node';
import { exportGpt2Onnx, buildGpt2Onnx } from '../../src/onnx/gpt2';
import { DataType, OPSET } from '../../src/onnx/proto';
import { decodeModel, encodeModelReflection } from '../../src/onnx/proto-schema';
import { createNodeOnnxLm } from '../../src/onnx/session-node';
import { tokenLogps, type BatchLogits } from '../../src/onnx/session';
import { gpt2ForwardRef } from '../../src/reference/gpt2';
import { Rng } from '../../src/util/rng';

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 16 };

/** ORT's logits at the real positions vs the reference, sequence by sequence. */
function expectLogitsMatch(out: BatchLogits, want: Float64Array[], seqs: number[][], what: string, atol: number): { maxAbs: number; relToMax: number; worstRatio: number } {
  const got: number[] = [];
  const ref: number[] = [];
  seqs.forEach((s, b) => {
    for (let i = 0; i < s.length * out.V; i++) got.push(out.logits[b * out.T * out.V + i]);
    ref.push(...want[b]);
  });
  const r = compareClose(got, ref, 1e-4, atol, what);
  expect(r.ok, r.message).toBe(true);
  return { ...worstDiff(got, ref), worstRatio: r.worstRatio };
}

describe('ONNX export under onnxruntime-web (wasm)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('logits match the float64 GPT-2 on a ragged batch (2 × 7) and on one token (1 × 1)', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const params = randomParams(config, rng);
    const lm = await createNodeOnnxLm(exportGpt2Onnx(config, params), { ...config, padId: config.eosTokenId });
    try {
      expect(lm.backend).toBe('wasm');
      const seqs = randomIds(rng, config.vocabSize, [7, 4]);
      const out = await lm.logits(seqs);
      expect([out.B, out.T, out.V]).toEqual([2, 7, config.vocabSize]);
      const r = expectLogitsMatch(out, refLogits(params, config, seqs), seqs, `logits 2x7 seed=${seed}`, 1e-5);
      console.log(`ORT vs float64 logits (2x7): max |diff| ${r.maxAbs.toExponential(2)}, ${r.relToMax.toExponential(2)} of max |logit|, worst ratio to tolerance ${r.worstRatio.toFixed(3)}`);

      const one = randomIds(rng, config.vocabSize, [1]);
      const out1 = await lm.logits(one);
      expect([out1.B, out1.T]).toEqual([1, 1]);
      expectLogitsMatch(out1, refLogits(params, config, one), one, `logits 1x1 seed=${seed}`, 1e-5);

      // the full context (T = n_positions) and next-token log-probs gathered from the logits
      const full = randomIds(rng, config.vocabSize, [config.nPositions, 3]);
      const outFull = await lm.logits(full);
      expectLogitsMatch(outFull, refLogits(params, config, full), full, `logits full context seed=${seed}`, 1e-5);
      const ref = gpt2ForwardRef(params, config, full);
      const lp = tokenLogps(outFull, full);
      const r2 = compareClose(lp.flat(), ref.logp.flat(), 1e-4, 1e-5, `token log-probs seed=${seed}`);
      expect(r2.ok, r2.message).toBe(true);
    } finally {
      await lm.release();
    }
  }, 60_000);

  it('padding never changes a real position: a sequence alone equals it in a padded batch', async () => {
    const rng = new Rng(freshSeed());
    const params = randomParams(config, rng);
    const lm = await createNodeOnnxLm(exportGpt2Onnx(config, params), { ...config, padId: 0 });
    try {
      const seqs = randomIds(rng, config.vocabSize, [3, 9]);
      const batch = await lm.logits(seqs);
      const alone = await lm.logits([seqs[0]]);
      const V = config.vocabSize;
      // equal up to float32 summation order (ORT tiles the two shapes differently); a leak through
      // the padding would move logits by ~0.1
      const r = compareClose(batch.logits.subarray(0, 3 * V), alone.logits, 1e-4, 1e-5, 'padded vs alone');
      expect(r.ok, r.message).toBe(true);
    } finally {
      await lm.release();
    }
  }, 60_000);

  it('export-onnx of an `init` folder: logits within 1e-4 relative of float64 GPT-2, file ≈ 4 bytes × parameters', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-onnx-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const seed = freshSeed() % 100000;
      expect(await main(['init', '--preset', 'tiny', '--seed', String(seed), '--out', join(dir, 'm')])).toBe(0);
      const file = join(dir, 'tiny.onnx');
      expect(await main(['export-onnx', '--model', join(dir, 'm'), '--out', file])).toBe(0);
      expect(String(log.mock.calls.at(-1)![0])).toMatch(/wrote .*tiny\.onnx .*input_ids int64 \[batch, sequence\] -> logits float32 \[batch, sequence, 257\]/);
      const bytes = new Uint8Array(await readFile(file));
      const cfg = presetConfig('tiny');
      const n = paramCount(cfg);
      expect(bytes.length).toBeGreaterThan(4 * n);
      expect(bytes.length).toBeLessThan(4 * n + 16_384);

      const ckpt = await readCheckpointDir(join(dir, 'm'));
      const lm = await createNodeOnnxLm(bytes, cfg);
      try {
        const rng = new Rng(seed);
        const seqs = randomIds(rng, cfg.vocabSize, [7, 5]);
        const out = await lm.logits(seqs);
        const r = expectLogitsMatch(out, refLogits(ckpt.params, cfg, seqs), seqs, `export-onnx logits seed=${seed}`, 1e-6);
        log.mockRestore();
        console.log(`export-onnx (tiny, init seed ${seed}): max |diff| ${r.maxAbs.toExponential(2)}, ${r.relToMax.toExponential(2)} of max |logit|, worst ratio to (1e-6 + 1e-4·|ref|) ${r.worstRatio.toFixed(3)}`);
      } finally {
        await lm.release();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('the graph: input_ids int64 [batch, sequence] -> logits float32 [batch, sequence, V], opset 17, standard ops, weights once', () => {
    const params = randomParams(config, new Rng(1));
    const m = decodeModel(exportGpt2Onnx(config, params));
    expect(m.ir_version).toBe(8);
    expect(m.opset_import).toEqual([{ version: OPSET }]); // domain '' (ai.onnx) is the default and not stored
    const g = m.graph;
    expect(g.input.map((i) => i.name)).toEqual(['input_ids']);
    expect(g.output.map((o) => o.name)).toEqual(['logits']);
    expect(g.input[0].type.tensor_type.elem_type).toBe(DataType.INT64);
    expect(g.input[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'batch' }, { dim_param: 'sequence' }]);
    expect(g.output[0].type.tensor_type.elem_type).toBe(DataType.FLOAT);
    expect(g.output[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'batch' }, { dim_param: 'sequence' }, { dim_value: config.vocabSize }]);
    const standard = new Set(['Shape', 'Gather', 'Range', 'Unsqueeze', 'GreaterOrEqual', 'Add', 'Mul', 'Div', 'LayerNormalization', 'MatMul', 'Split', 'Reshape', 'Transpose', 'Where', 'Softmax', 'Tanh', 'Gemm', 'Concat']);
    for (const node of g.node) {
      expect(standard.has(node.op_type), node.op_type).toBe(true);
      expect((node as { domain?: string }).domain ?? '').toBe('');
    }
    // each parameter is stored once, as little-endian float32 raw_data equal to the weights
    const byName = new Map(g.initializer.map((t) => [t.name, t]));
    for (const [name, w] of params) {
      const t = byName.get(name)!;
      expect(t.data_type).toBe(DataType.FLOAT);
      const raw = t.raw_data;
      expect(raw.length).toBe(w.length * 4);
      const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
      expect(dv.getFloat32(0, true)).toBe(w[0]);
      expect(dv.getFloat32(raw.length - 4, true)).toBe(w[w.length - 1]);
    }
    const floats = g.initializer.filter((t) => t.data_type === DataType.FLOAT).reduce((s, t) => s + t.raw_data.length / 4, 0);
    expect(floats - paramCount(config)).toBeLessThan(16); // plus a few scalar constants
  });

  it('the static encoder writes what protobufjs reflection writes (decoded, field by field)', () => {
    const model = buildGpt2Onnx(config, randomParams(config, new Rng(3)), { metadata: { note: 'ünïcode ✓' } });
    const ours = decodeModel(exportGpt2Onnx(config, randomParams(config, new Rng(3)), { metadata: { note: 'ünïcode ✓' } }));
    const theirs = decodeModel(encodeModelReflection(model));
    expect(ours).toEqual(theirs);
    // attributes of every kind survive: negative ints, floats, int lists
    const ln = ours.graph.node.find((n) => n.op_type === 'LayerNormalization')!;
    expect(ln.attribute).toMatchObject([
      { name: 'axis', type: 2, i: -1 },
      { name: 'epsilon', type: 1, f: Math.fround(1e-5) },
    ]);
    expect(ours.graph.node.find((n) => n.op_type === 'Transpose')!.attribute[0]).toMatchObject({ name: 'perm', type: 7, ints: [0, 2, 1, 3] });
    expect(ours.metadata_props).toContainEqual({ key: 'note', value: 'ünïcode ✓' });
  });

  it('bad inputs fail with the reason', async () => {
    const params = randomParams(config, new Rng(2));
    const missing = new Map(params);
    missing.delete('h.1.mlp.c_fc.bias');
    expect(() => buildGpt2Onnx(config, missing)).toThrow(/missing parameter "h\.1\.mlp\.c_fc\.bias"/);
    const short = new Map(params);
    short.set('ln_f.weight', new Float32Array(3));
    expect(() => buildGpt2Onnx(config, short)).toThrow(/"ln_f\.weight": 3 values for shape \[32\]/);
    const lm = await createNodeOnnxLm(exportGpt2Onnx(config, params), config);
    try {
      await expect(lm.logits([])).rejects.toThrow(/no sequences/);
      await expect(lm.logits([[1, 2], []])).rejects.toThrow(/sequence 1 has 0 tokens/);
      await expect(lm.logits([Array(config.nPositions + 1).fill(1)])).rejects.toThrow(/17 tokens; expected 1\.\.16/);
      await expect(lm.logits([[1, config.vocabSize]])).rejects.toThrow(/position 1: token 257 is outside \[0, 257\)/);
    } finally {
      await lm.release();
    }
    const { OnnxLm } = await import('../../src/onnx/session');
    const { nodeOrt } = await import('../../src/onnx/session-node');
    await expect(OnnxLm.create(nodeOrt(), new Uint8Array([1, 2, 3]), config)).rejects.toThrow(/onnxruntime-web could not open the model \(wasm: /);
  }, 60_000);
});
