// The Llama-family ONNX export (src/onnx/llama.ts) run by onnxruntime-web (wasm, in Node) against
// the independent float64 model of src/reference/llama.ts: log-softmax of the logits within 1e-4
// relative at every real position of a right-padded ragged batch and of a single token, for
// llama-tiny (GQA 2, tied), qwen-tiny (q/k/v biases, one key/value head, untied) and a GQA-3
// llama with head_dim ≠ hidden/heads and attention biases; the graph's signature, opset, ops and
// size (≈ 4 bytes × parameters); bad inputs.
import { describe, it, expect } from 'vitest';
import { compareClose } from '../../src/reference/compare';
import { freshSeed } from '../helpers/close';
import { randomIds } from '../helpers/onnx-ref';
import { llamaParamCount, llamaParamSpec, llamaPresetConfig, llamaRefConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';
import { buildLlamaOnnx, exportLlamaOnnx, ropeInvFreq } from '../../src/onnx/llama';
import { DataType, OPSET } from '../../src/onnx/proto';
import { decodeModel, encodeModelReflection } from '../../src/onnx/proto-schema';
import { createNodeOnnxLm } from '../../src/onnx/session-node';
import { tokenLogps, type BatchLogits } from '../../src/onnx/session';
import { llamaForwardRef } from '../../src/reference/llama';
import { Rng } from '../../src/util/rng';

/** Six query heads over two key/value heads (G = 3), head_dim 12 while hidden/heads is 32/6. */
const GQA3: LlamaFamilyConfig = {
  ...llamaPresetConfig('llama-tiny'),
  hiddenSize: 32,
  intermediateSize: 40,
  numAttentionHeads: 6,
  numKeyValueHeads: 2,
  headDim: 12,
  ropeTheta: 500000,
  maxPositionEmbeddings: 32,
  attentionBias: true,
};

const CONFIGS: Array<[string, LlamaFamilyConfig]> = [
  ['llama-tiny', llamaPresetConfig('llama-tiny')],
  ['qwen-tiny', llamaPresetConfig('qwen-tiny')],
  ['gqa-3', GQA3],
];

/** Weights at a scale where every path matters: matrices 0.3·N(0,1), biases 0.05·N, RMSNorm gains 1 + 0.2·N. */
function randomLlamaParams(config: LlamaFamilyConfig, rng: Rng): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const { name, shape } of llamaParamSpec(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const norm = /(layernorm|norm)\.weight$/.test(name);
    const sd = name.endsWith('.bias') ? 0.05 : 0.3;
    m.set(name, Float32Array.from({ length: n }, () => (norm ? 1 + 0.2 * rng.normal() : sd * rng.normal())));
  }
  return m;
}

/** Log-softmax of ORT's logits at the real positions, sequence by sequence, concatenated. */
function realLogSoftmax(out: BatchLogits, seqs: number[][]): number[] {
  const { T, V, logits } = out;
  const rows: number[] = [];
  seqs.forEach((s, b) => {
    for (let t = 0; t < s.length; t++) {
      const off = (b * T + t) * V;
      let max = -Infinity;
      for (let v = 0; v < V; v++) max = Math.max(max, logits[off + v]);
      let sum = 0;
      for (let v = 0; v < V; v++) sum += Math.exp(logits[off + v] - max);
      const lse = max + Math.log(sum);
      for (let v = 0; v < V; v++) rows.push(logits[off + v] - lse);
    }
  });
  return rows;
}

describe('Llama-family ONNX export under onnxruntime-web (wasm)', () => {
  for (const [label, config] of CONFIGS) {
    it(`${label}: log-probs match the float64 reference on a right-padded ragged batch and on one token; file ≈ 4 bytes × parameters`, async () => {
      const seed = freshSeed();
      const rng = new Rng(seed);
      const params = randomLlamaParams(config, rng);
      const bytes = exportLlamaOnnx(config, params);
      const n = llamaParamCount(config);
      expect(bytes.length).toBeGreaterThan(4 * n);
      // plus the graph: a few kilobytes per layer (≈ 6 KB for these sizes)
      expect(bytes.length).toBeLessThan(4 * n + 8192 * (config.numHiddenLayers + 1));
      const V = config.vocabSize;
      const padId = 7; // a real token: padding must not matter whatever its id
      const lm = await createNodeOnnxLm(bytes, { vocabSize: V, nPositions: config.maxPositionEmbeddings, padId });
      try {
        expect(lm.backend).toBe('wasm');
        const refCfg = llamaRefConfig(config);
        const check = async (seqs: number[][], what: string) => {
          const out = await lm.logits(seqs);
          expect([out.B, out.T, out.V]).toEqual([seqs.length, Math.max(...seqs.map((s) => s.length)), V]);
          const ref = llamaForwardRef(params, refCfg, seqs);
          // the next-token log-probs the engine reports (log-softmax at the target tokens)
          const lp = compareClose(tokenLogps(out, seqs).flat(), ref.logp.flat(), 1e-4, 1e-5, `${label} ${what} token log-probs seed=${seed}`);
          expect(lp.ok, lp.message).toBe(true);
          // and every entry of every real row, the last position too
          const want = ref.cache.seqs.flatMap((sc) => Array.from(sc.logprobs));
          const all = compareClose(realLogSoftmax(out, seqs), want, 1e-4, 1e-5, `${label} ${what} log-softmax seed=${seed}`);
          expect(all.ok, all.message).toBe(true);
          return Math.max(lp.worstRatio, all.worstRatio);
        };
        const ragged = await check(randomIds(rng, V, [11, 4, 1, 7]), 'ragged 4×11');
        const single = await check(randomIds(rng, V, [1]), '1×1');
        const full = await check(randomIds(rng, V, [config.maxPositionEmbeddings, 3]), 'full context');
        console.log(`ONNX ${label} vs float64 (seed ${seed}): worst ratio to (1e-5 + 1e-4·|ref|) ragged ${ragged.toFixed(3)}, one token ${single.toFixed(3)}, full context ${full.toFixed(3)}; ${bytes.length} bytes for ${n} parameters`);
      } finally {
        await lm.release();
      }
    }, 120_000);
  }

  it('the graph: input_ids int64 [batch, sequence] -> logits float32 [batch, sequence, V], opset 17, standard ops, each weight once as stored', () => {
    for (const [label, config] of CONFIGS) {
      const params = randomLlamaParams(config, new Rng(1));
      const m = decodeModel(exportLlamaOnnx(config, params));
      expect(m.ir_version).toBe(8);
      expect(m.opset_import).toEqual([{ version: OPSET }]);
      const g = m.graph;
      expect(g.input.map((i) => i.name)).toEqual(['input_ids']);
      expect(g.output.map((o) => o.name)).toEqual(['logits']);
      expect(g.input[0].type.tensor_type.elem_type).toBe(DataType.INT64);
      expect(g.input[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'batch' }, { dim_param: 'sequence' }]);
      expect(g.output[0].type.tensor_type.elem_type).toBe(DataType.FLOAT);
      expect(g.output[0].type.tensor_type.shape.dim).toEqual([{ dim_param: 'batch' }, { dim_param: 'sequence' }, { dim_value: config.vocabSize }]);
      const standard = new Set(['Shape', 'Gather', 'Range', 'Unsqueeze', 'GreaterOrEqual', 'Cast', 'Cos', 'Sin', 'Concat', 'Add', 'Mul', 'Neg', 'Sqrt', 'Reciprocal', 'ReduceMean', 'Sigmoid', 'Gemm', 'MatMul', 'Split', 'Reshape', 'Transpose', 'Where', 'Softmax']);
      for (const node of g.node) {
        expect(standard.has(node.op_type), `${label}: ${node.op_type}`).toBe(true);
        expect((node as { domain?: string }).domain ?? '').toBe('');
      }
      // every parameter is an initializer with its Hugging Face name and (out, in) shape, its
      // bytes the weights; the tied head adds nothing
      const byName = new Map(g.initializer.map((t) => [t.name, t]));
      for (const { name, shape } of llamaParamSpec(config)) {
        const t = byName.get(name)!;
        expect(t, name).toBeDefined();
        expect(t.data_type).toBe(DataType.FLOAT);
        expect(t.dims.map(Number)).toEqual([...shape]);
        const w = params.get(name)!;
        expect(new Uint8Array(t.raw_data)).toEqual(new Uint8Array(w.buffer, w.byteOffset, w.byteLength));
      }
      expect(byName.has('lm_head.weight')).toBe(!config.tieWordEmbeddings);
      const floats = g.initializer.filter((t) => t.data_type === DataType.FLOAT).reduce((s, t) => s + t.raw_data.length / 4, 0);
      expect(floats - llamaParamCount(config) - config.headDim).toBeLessThan(8); // RoPE frequencies plus a few scalars
      // opset 17 has no RMSNormalization: RMSNorm is ReduceMean(x²), 2L + 1 of them
      expect(g.node.filter((n) => n.op_type === 'ReduceMean')).toHaveLength(2 * config.numHiddenLayers + 1);
    }
  });

  it('RoPE frequencies are Hugging Face emb = [f, f] with f_i = theta^(−2i/HS); the encoder agrees with protobufjs reflection', () => {
    const f = ropeInvFreq(8, 10000);
    expect(Array.from(f)).toEqual(Array.from(Float32Array.of(1, 0.1, 0.01, 0.001, 1, 0.1, 0.01, 0.001)));
    const config = llamaPresetConfig('qwen-tiny');
    const model = buildLlamaOnnx(config, randomLlamaParams(config, new Rng(3)), { metadata: { note: 'ünïcode ✓' } });
    const ours = decodeModel(exportLlamaOnnx(config, randomLlamaParams(config, new Rng(3)), { metadata: { note: 'ünïcode ✓' } }));
    expect(ours).toEqual(decodeModel(encodeModelReflection(model)));
    expect(ours.metadata_props).toContainEqual({ key: 'model_type', value: 'qwen2' });
    expect(ours.metadata_props).toContainEqual({ key: 'num_key_value_heads', value: '1' });
    expect(ours.metadata_props).toContainEqual({ key: 'note', value: 'ünïcode ✓' });
  });

  it('bad inputs fail with the reason', () => {
    const config = llamaPresetConfig('qwen-tiny');
    const params = randomLlamaParams(config, new Rng(2));
    const missing = new Map(params);
    missing.delete('model.layers.1.self_attn.k_proj.bias');
    expect(() => buildLlamaOnnx(config, missing)).toThrow(/missing parameter "model\.layers\.1\.self_attn\.k_proj\.bias" \[8\]/);
    const short = new Map(params);
    short.set('model.norm.weight', new Float32Array(3));
    expect(() => buildLlamaOnnx(config, short)).toThrow(/"model\.norm\.weight": 3 values for shape \[32\]/);
    expect(() => buildLlamaOnnx({ ...config, numKeyValueHeads: 3 }, params)).toThrow(/num_key_value_heads = 3 must divide num_attention_heads/);
  });
});
