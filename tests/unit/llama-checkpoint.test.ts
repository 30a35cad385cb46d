// Llama-family model folders (src/model/llama-checkpoint.ts): save -> load round trips
// bit-exactly in one file and in shards; hand-written sharded indexes, names without the
// `model.` prefix, tied heads stored or not, BF16/F16/F64 widened exactly; every refusal, in one
// line naming the file, tensor or field; the Node folder helpers with the byte tokenizer; the
// float64 reference's forward on a folder loaded through the reader.
import { describe, it, expect } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initLlamaParams, LLAMA_ARCHITECTURES, llamaConfigToHF, llamaParamSpec, llamaPresetConfig, llamaRefConfig, type LlamaFamilyConfig } from '../../src/model/llama-config';
import { loadLlamaWeights, parseWeightIndex, readWeightFiles, saveLlamaCheckpoint, shardFileName, WEIGHTS_INDEX_FILE, type ReadFile } from '../../src/model/llama-checkpoint';
import { readLlamaCheckpointDir, readLlamaWeightsDir, writeCheckpointDir } from '../../src/model/llama-checkpoint-node';
import { parseSafetensors, serializeSafetensors } from '../../src/model/safetensors';
import { llamaForwardRef } from '../../src/reference/llama';

const LLAMA = llamaPresetConfig('llama-tiny');
const QWEN = llamaPresetConfig('qwen-tiny');
const enc = new TextEncoder();

const reader = (files: Map<string, Uint8Array>): ReadFile => async (name) => files.get(name) ?? null;
const configFile = (c: LlamaFamilyConfig) => enc.encode(JSON.stringify(llamaConfigToHF(c)));
const numel = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A safetensors file from entries whose data is given as raw little-endian bytes. */
function rawSafetensors(entries: Array<{ name: string; dtype: string; shape: readonly number[]; bytes: Uint8Array }>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  const json = enc.encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const e of entries) {
    out.set(e.bytes, pos);
    pos += e.bytes.length;
  }
  return out;
}

/** Round to bf16 (truncate the low 16 bits) so the value is exact in bf16. */
const toBf16 = (xs: Float32Array) => {
  const bits = new Uint32Array(Float32Array.from(xs).buffer);
  for (let i = 0; i < bits.length; i++) bits[i] &= 0xffff0000;
  return new Float32Array(bits.buffer);
};
const bf16Bytes = (xs: Float32Array) => new Uint8Array(Uint16Array.from(new Uint32Array(Float32Array.from(xs).buffer), (b) => b >>> 16).buffer);
/** f16 bits of x, for values exact in f16 (normal, ≤ 11 significant bits) and zero. */
function f16Bits(x: number): number {
  if (x === 0) return Object.is(x, -0) ? 0x8000 : 0;
  const sign = x < 0 ? 0x8000 : 0;
  const a = Math.abs(x);
  const e = Math.floor(Math.log2(a));
  return sign | ((e + 15) << 10) | Math.round((a / 2 ** e - 1) * 1024);
}
/** Round to a multiple of 2⁻¹⁰ in [-1, 1]: exact in f16 when ≥ 2⁻¹⁴ in magnitude, or zero. */
const toF16Grid = (xs: Float32Array) => xs.map((x) => {
  const r = Math.round(x * 1024) / 1024;
  return Math.abs(r) < 2 ** -10 ? 0 : r;
});

function expectSameParams(got: Map<string, Float32Array>, want: ReadonlyMap<string, Float32Array>): void {
  expect([...got.keys()]).toEqual([...want.keys()]);
  for (const [name, v] of want) {
    const g = got.get(name)!;
    // bit-exact, so -0 and NaN payloads would show too
    expect(Buffer.from(g.buffer, g.byteOffset, g.byteLength).equals(Buffer.from(v.buffer, v.byteOffset, v.byteLength)), name).toBe(true);
  }
}

/** A folder whose weights are the given tensors under the given names (F32), plus config.json. */
function folderWith(config: LlamaFamilyConfig, tensors: Array<{ name: string; shape: readonly number[]; data: Float32Array }>): Map<string, Uint8Array> {
  return new Map([['config.json', configFile(config)], ['model.safetensors', serializeSafetensors(tensors, { format: 'pt' })]]);
}
const specTensors = (config: LlamaFamilyConfig, params: Map<string, Float32Array>) => llamaParamSpec(config).map(({ name, shape }) => ({ name, shape, data: params.get(name)! }));

async function loadError(files: Map<string, Uint8Array>): Promise<string> {
  try {
    await loadLlamaWeights(reader(files));
  } catch (e) {
    return (e as Error).message;
  }
  return '(loaded)';
}

describe('saveLlamaCheckpoint -> loadLlamaWeights', () => {
  const variants: LlamaFamilyConfig[] = [LLAMA, QWEN, { ...LLAMA, family: 'mistral', tieWordEmbeddings: false }, { ...LLAMA, attentionBias: true, eosTokenId: [256, 1] }];
  for (const cfg of variants) {
    it(`round trips ${cfg.family}${cfg.attentionBias ? ' with attention_bias' : ''} bit-exactly in one model.safetensors with Hugging Face names`, async () => {
      const params = initLlamaParams(cfg, 11);
      const files = saveLlamaCheckpoint(cfg, params, null);
      expect([...files.keys()].sort()).toEqual(['config.json', 'model.safetensors']);
      const st = parseSafetensors(files.get('model.safetensors')!);
      expect([...st.tensors.keys()]).toEqual(llamaParamSpec(cfg).map((s) => s.name));
      expect([...st.tensors.values()].every((t) => t.dtype === 'F32')).toBe(true);
      expect(st.metadata).toEqual({ format: 'pt' });
      expect(JSON.parse(new TextDecoder().decode(files.get('config.json')))).toMatchObject({ architectures: [LLAMA_ARCHITECTURES[cfg.family]], torch_dtype: 'float32' });
      const loaded = await loadLlamaWeights(reader(files));
      expect(loaded.config).toEqual(cfg);
      expectSameParams(loaded.params, params);
    });
  }

  it('writes and reads three shards with model.safetensors.index.json', async () => {
    const params = initLlamaParams(QWEN, 12);
    const total = llamaParamSpec(QWEN).reduce((a, s) => a + 4 * numel(s.shape), 0);
    const files = saveLlamaCheckpoint(QWEN, params, null, { maxShardBytes: Math.ceil(total / 2.5) });
    const shards = [1, 2, 3].map((i) => shardFileName(i, 3));
    expect([...files.keys()].sort()).toEqual(['config.json', WEIGHTS_INDEX_FILE, ...shards].sort());
    const index = JSON.parse(new TextDecoder().decode(files.get(WEIGHTS_INDEX_FILE))) as { metadata: { total_size: number }; weight_map: Record<string, string> };
    expect(index.metadata.total_size).toBe(total);
    expect(Object.keys(index.weight_map)).toEqual(llamaParamSpec(QWEN).map((s) => s.name));
    expect(new Set(Object.values(index.weight_map))).toEqual(new Set(shards));
    expect(shards[0]).toBe('model-00001-of-00003.safetensors');
    expectSameParams((await loadLlamaWeights(reader(files))).params, params);
  });

  it('reads a hand-written two-shard index, names without the model. prefix, a stored tied head and inv_freq buffers', async () => {
    const params = initLlamaParams(LLAMA, 13);
    const specs = llamaParamSpec(LLAMA);
    const bare = (name: string) => name.replace(/^model\./, '');
    const half = Math.floor(specs.length / 2);
    const shardA = specs.slice(0, half).map(({ name, shape }) => ({ name: bare(name), shape, data: params.get(name)! }));
    const shardB = specs.slice(half).map(({ name, shape }) => ({ name: bare(name), shape, data: params.get(name)! }));
    shardB.push({ name: 'lm_head.weight', shape: [LLAMA.vocabSize, LLAMA.hiddenSize], data: params.get('model.embed_tokens.weight')! });
    shardB.push({ name: 'layers.0.self_attn.rotary_emb.inv_freq', shape: [4], data: new Float32Array(4) });
    const weightMap = Object.fromEntries([...shardA.map((t) => [t.name, 'a.safetensors']), ...shardB.map((t) => [t.name, 'b.safetensors'])]);
    const files = new Map([
      ['config.json', configFile(LLAMA)],
      [WEIGHTS_INDEX_FILE, enc.encode(JSON.stringify({ metadata: {}, weight_map: weightMap }))],
      ['a.safetensors', serializeSafetensors(shardA)],
      ['b.safetensors', serializeSafetensors(shardB)],
    ]);
    expectSameParams((await loadLlamaWeights(reader(files))).params, params);
  });

  it('accepts a tied checkpoint without lm_head.weight, and prefers model.safetensors over an index', async () => {
    const params = initLlamaParams(LLAMA, 14);
    const files = folderWith(LLAMA, specTensors(LLAMA, params));
    files.set(WEIGHTS_INDEX_FILE, enc.encode('not json'));
    expectSameParams((await loadLlamaWeights(reader(files))).params, params);
  });

  it('widens BF16, F16 and F64 tensors exactly', async () => {
    for (const [dtype, round, bytes] of [
      ['BF16', toBf16, bf16Bytes],
      ['F16', toF16Grid, (xs: Float32Array) => new Uint8Array(Uint16Array.from(xs, f16Bits).buffer)],
      ['F64', (xs: Float32Array) => xs, (xs: Float32Array) => new Uint8Array(Float64Array.from(xs).buffer)],
    ] as const) {
      const params = new Map([...initLlamaParams(QWEN, 15)].map(([k, v]) => [k, round(v)]));
      const entries = llamaParamSpec(QWEN).map(({ name, shape }) => ({ name, dtype, shape, bytes: bytes(params.get(name)!) }));
      const files = new Map([['config.json', configFile(QWEN)], ['model.safetensors', rawSafetensors(entries)]]);
      expectSameParams((await loadLlamaWeights(reader(files))).params, params);
    }
  });

  it('feeds the float64 reference: finite log-probs from a sharded folder, equal to those of the saved parameters', async () => {
    for (const cfg of [LLAMA, QWEN]) {
      const params = initLlamaParams(cfg, 16);
      const files = saveLlamaCheckpoint(cfg, params, null, { maxShardBytes: 20000 });
      expect(files.has(WEIGHTS_INDEX_FILE)).toBe(true);
      const loaded = await loadLlamaWeights(reader(files));
      const seqs = [[256, 72, 105, 33], [256, 1, 2, 3, 4, 5, 255]];
      const got = llamaForwardRef(loaded.params, llamaRefConfig(loaded.config), seqs).logp;
      const want = llamaForwardRef(params, llamaRefConfig(cfg), seqs).logp;
      expect(got.flat().every((v) => Number.isFinite(v) && v < 0)).toBe(true);
      expect(got).toEqual(want);
      // a random model is near uniform over the 257 tokens
      for (const v of got.flat()) expect(Math.abs(v + Math.log(257))).toBeLessThan(0.5);
    }
  });
});

describe('refusals', () => {
  const params = initLlamaParams(LLAMA, 17);
  const good = () => specTensors(LLAMA, params);

  it('a missing config.json, weights or JSON', async () => {
    expect(await loadError(new Map())).toBe('config.json not found in the model folder');
    expect(await loadError(new Map([['config.json', enc.encode('{')]]))).toMatch(/^config\.json is not valid JSON \(/);
    expect(await loadError(new Map([['config.json', enc.encode('[]')]]))).toBe('config.json must be a JSON object');
    expect(await loadError(new Map([['config.json', configFile(LLAMA)]]))).toBe('model.safetensors not found in the model folder, nor model.safetensors.index.json (pytorch_model.bin is not supported; save with safe_serialization=True)');
  });

  it('a missing, misshapen, non-float, non-finite, unexpected or doubly stored tensor', async () => {
    expect(await loadError(folderWith(LLAMA, good().filter((t) => t.name !== 'model.norm.weight')))).toBe('model.safetensors: missing tensor "model.norm.weight" (expected shape [32])');
    const misshapen = good().map((t) => (t.name === 'model.layers.1.mlp.gate_proj.weight' ? { ...t, shape: [32, 64] } : t));
    expect(await loadError(folderWith(LLAMA, misshapen))).toBe('model.safetensors: tensor "model.layers.1.mlp.gate_proj.weight" has shape [32, 64], expected [64, 32]');
    const nan = good().map((t) => (t.name === 'model.layers.0.input_layernorm.weight' ? { ...t, data: Float32Array.from(t.data, (v, i) => (i === 3 ? NaN : v)) } : t));
    expect(await loadError(folderWith(LLAMA, nan))).toBe('model.safetensors: tensor "model.layers.0.input_layernorm.weight" has a non-finite value (NaN) at element 3');
    const extra = [...good(), { name: 'model.layers.0.self_attn.q_proj.bias', shape: [32], data: new Float32Array(32) }];
    expect(await loadError(folderWith(LLAMA, extra))).toBe('model.safetensors: unexpected tensor "model.layers.0.self_attn.q_proj.bias" (not part of a llama model with num_hidden_layers=2, tie_word_embeddings=true, attention_bias=false; does config.json match the weights?)');
    const twice = [...good(), { name: 'norm.weight', shape: [32], data: new Float32Array(32) }];
    expect(await loadError(folderWith(LLAMA, twice))).toBe('model.safetensors: tensor "model.norm.weight" is stored twice (as "model.norm.weight" and "norm.weight")');
    const ints = good().map(({ name, shape, data }) => ({ name, shape, dtype: name === 'model.norm.weight' ? 'I32' : 'F32', bytes: new Uint8Array(Float32Array.from(data).buffer) }));
    expect(await loadError(new Map([['config.json', configFile(LLAMA)], ['model.safetensors', rawSafetensors(ints)]]))).toBe('model.safetensors: tensor "model.norm.weight" has dtype I32, expected F32, F16, BF16 or F64');
  });

  it('a tied head that differs from the embedding; an untied config without lm_head.weight', async () => {
    const head = Float32Array.from(params.get('model.embed_tokens.weight')!, (v) => v + 1);
    expect(await loadError(folderWith(LLAMA, [...good(), { name: 'lm_head.weight', shape: [257, 32], data: head }]))).toBe(
      'model.safetensors: "lm_head.weight" differs from model.embed_tokens.weight but config.json has tie_word_embeddings true; set it to false if the head is separate',
    );
    const untied = { ...LLAMA, tieWordEmbeddings: false };
    const files = folderWith(LLAMA, good());
    files.set('config.json', configFile(untied));
    expect(await loadError(files)).toBe('config.json: tie_word_embeddings = false implies 35,040 parameters but model.safetensors holds 26,816 (no lm_head.weight); does config.json belong to these weights?');
  });

  it('a config.json that implies more parameters than the weights hold, naming the field', async () => {
    const cases: Array<[Partial<LlamaFamilyConfig>, string]> = [
      [{ numHiddenLayers: 3 }, 'config.json: num_hidden_layers = 3 implies 36,096 parameters but model.safetensors holds 26,816 (2 layers); does config.json belong to these weights?'],
      [{ vocabSize: 300, bosTokenId: 0, eosTokenId: 0 }, 'config.json: vocab_size = 300 implies 28,192 parameters but model.safetensors holds 26,816 (model.embed_tokens.weight with 257 rows); does config.json belong to these weights?'],
      [{ intermediateSize: 80 }, 'config.json: intermediate_size = 80 implies 29,888 parameters but model.safetensors holds 26,816 (mlp.gate_proj.weight with 64 rows); does config.json belong to these weights?'],
      [{ numKeyValueHeads: 4 }, 'config.json: num_key_value_heads = 4 implies 28,864 parameters but model.safetensors holds 26,816 (self_attn.k_proj.weight with 16 rows, head_dim 8); does config.json belong to these weights?'],
      [{ numAttentionHeads: 8, numKeyValueHeads: 2 }, 'config.json: num_attention_heads = 8 implies 30,912 parameters but model.safetensors holds 26,816 (self_attn.q_proj.weight with 32 rows, head_dim 8); does config.json belong to these weights?'],
    ];
    for (const [over, message] of cases) {
      const files = folderWith(LLAMA, good());
      files.set('config.json', configFile({ ...LLAMA, ...over }));
      expect(await loadError(files)).toBe(message);
    }
  });

  it('a config with a tensor bound whole larger than the device\'s limits', async () => {
    // 108,032 bytes of parameters in 64 KiB buffers is fine (the arenas split); a 16 KiB stacked projection in 8 KiB is not
    await expect(loadLlamaWeights(reader(folderWith(LLAMA, good())), { limits: { maxBufferSize: 1 << 16, maxStorageBufferBindingSize: 1 << 30 } })).resolves.toBeTruthy();
    await expect(loadLlamaWeights(reader(folderWith(LLAMA, good())), { limits: { maxBufferSize: 1 << 13, maxStorageBufferBindingSize: 1 << 30 } })).rejects.toThrow(
      'config.json: intermediate_size 64 and hidden_size 32 make model.layers.0.mlp.gate_proj|up_proj.weight (stacked) [128, 32] 16,384 bytes as f32, more than 8,192 bytes, this GPU\'s limit (maxBufferSize 8192, maxStorageBufferBindingSize 1073741824; a kernel binds this tensor whole)',
    );
  });

  it('a broken sharded index', async () => {
    const sharded = saveLlamaCheckpoint(LLAMA, params, null, { maxShardBytes: 40000 });
    const [first, second] = [shardFileName(1, 3), shardFileName(2, 3)];
    expect(sharded.has(first)).toBe(true);
    const index = JSON.parse(new TextDecoder().decode(sharded.get(WEIGHTS_INDEX_FILE))) as { weight_map: Record<string, string> };
    const withIndex = (weightMap: unknown) => new Map([...sharded, [WEIGHTS_INDEX_FILE, enc.encode(JSON.stringify({ weight_map: weightMap }))]]);

    const missingShard = new Map(sharded);
    missingShard.delete(second);
    const inSecond = Object.keys(index.weight_map).filter((k) => index.weight_map[k] === second);
    expect(await loadError(missingShard)).toBe(`model.safetensors.index.json: shard "${second}" (holding "${inSecond[0]}" and ${inSecond.length - 1} more) not found in the model folder`);
    expect(await loadError(withIndex({ ...index.weight_map, 'model.norm.weight': first }))).toBe(`model.safetensors.index.json: weight_map puts "model.norm.weight" in "${first}", which does not hold it`);
    expect(await loadError(withIndex({ ...index.weight_map, 'model.norm.weight': '../x.safetensors' }))).toBe('model.safetensors.index.json: weight_map["model.norm.weight"] = "../x.safetensors" is not a shard file name in the model folder');
    expect(await loadError(withIndex([]))).toBe('model.safetensors.index.json: "weight_map" must be an object of tensor name -> shard file');
    expect(await loadError(withIndex({}))).toBe('model.safetensors.index.json: weight_map is empty');
    expect(await loadError(withIndex({ ...index.weight_map, 'model.norm.weight': 3 }))).toBe('model.safetensors.index.json: weight_map["model.norm.weight"] must be a file name, got 3');
    const broken = new Map(sharded);
    broken.set(first, new Uint8Array(4));
    expect(await loadError(broken)).toBe(`${first}: safetensors: file is 4 bytes, too short for the 8-byte header length`);
    // a tensor in two shards
    const dup = new Map(sharded);
    const secondTensors = parseSafetensors(sharded.get(second)!);
    const norm = { name: 'model.norm.weight', shape: [32], data: new Float32Array(32) };
    dup.set(second, serializeSafetensors([...[...secondTensors.tensors.keys()].map((name) => ({ name, shape: secondTensors.tensors.get(name)!.shape, data: new Float32Array(numel(secondTensors.tensors.get(name)!.shape)) })), norm]));
    expect(await loadError(dup)).toMatch(/^model\.safetensors\.index\.json: tensor "model\.norm\.weight" is stored twice \(in "model-0000\d-of-00003\.safetensors" and "model-0000\d-of-00003\.safetensors"\)$/);
  });

  it('parseWeightIndex and readWeightFiles expose the map and the files', async () => {
    const sharded = saveLlamaCheckpoint(QWEN, initLlamaParams(QWEN, 1), null, { maxShardBytes: 30000 });
    const map = parseWeightIndex(sharded.get(WEIGHTS_INDEX_FILE)!);
    const weights = await readWeightFiles(reader(sharded));
    expect(weights.where).toBe(WEIGHTS_INDEX_FILE);
    for (const [name, shard] of map) expect(weights.tensors.get(name)!.fileName).toBe(shard);
  });
});

describe('Node model folders', () => {
  it('writes a folder with the byte tokenizer and reads it back (weights and tokenizer)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-llama-'));
    try {
      const params = initLlamaParams(QWEN, 21);
      await writeCheckpointDir(dir, saveLlamaCheckpoint(QWEN, params, 'byte', { maxShardBytes: 30000 }));
      const ck = await readLlamaCheckpointDir(dir);
      expect(ck.config).toEqual(QWEN);
      expectSameParams(ck.params, params);
      expect(ck.tokenizer.encode('hi')).toEqual([104, 105]);
      expect(ck.tokenizer.eosTokenId).toBe(256);
      expectSameParams((await readLlamaWeightsDir(dir)).params, params);
      await expect(readLlamaWeightsDir(join(dir, 'nope'))).rejects.toThrow(`model folder "${join(dir, 'nope')}" does not exist`);
      await expect(readLlamaWeightsDir(join(dir, 'config.json'))).rejects.toThrow('is a file; expected a folder with config.json and model.safetensors');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the folder in errors, and needs a tokenizer for the whole checkpoint', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-llama-'));
    try {
      await writeCheckpointDir(dir, saveLlamaCheckpoint(LLAMA, initLlamaParams(LLAMA, 2), null));
      await expect(readLlamaCheckpointDir(dir)).rejects.toThrow(`model folder "${dir}": the model folder has no tokenizer: expected tokenizer.json, or vocab.json and merges.txt`);
      expect((await readLlamaWeightsDir(dir)).config).toEqual(LLAMA);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
