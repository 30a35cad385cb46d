// Model folders: init -> save -> load round trips bit-exactly; Hugging Face naming variants
// (transformer. prefix, attention-mask buffers, tied lm_head), F16/BF16 import; every
// rejection names the tensor or file; browser File objects and the Node folder helpers.
import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initParams, INITIALIZER_RANGE } from '../../src/model/init';
import { loadCheckpoint, saveCheckpoint, paramsFromSafetensors, readerFromFiles, byteTokenizerFiles, type ReadFile } from '../../src/model/checkpoint';
import { readCheckpointDir, writeCheckpointDir } from '../../src/model/checkpoint-node';
import { parseSafetensors, serializeSafetensors } from '../../src/model/safetensors';
import { configToHF, paramSpec, presetConfig, type GPTConfig } from '../../src/model/config';
import { loadTokenizerFromFiles } from '../../src/tokenizer/load';

const SMALL: GPTConfig = { vocabSize: 257, nPositions: 6, nEmbd: 4, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5, bosTokenId: 256, eosTokenId: 256 };

const reader = (files: Map<string, Uint8Array>): ReadFile => async (name) => files.get(name) ?? null;

function std(xs: Float32Array): number {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
}

/** A safetensors file from entries whose data is given as raw little-endian bytes. */
function rawSafetensors(entries: Array<{ name: string; dtype: string; shape: number[]; bytes: Uint8Array }>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
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

function f32Bytes(xs: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(xs).buffer);
}
/** bf16 = the top half of the f32 bits; the values used here are exact in bf16. */
function bf16Bytes(xs: ArrayLike<number>): Uint8Array {
  const bits = new Uint32Array(Float32Array.from(xs).buffer);
  return new Uint8Array(Uint16Array.from(bits, (b) => b >>> 16).buffer);
}
/** f16 for normal values that are exact in f16 (|x| in [2^-14, 65504], ≤ 11 significant bits). */
function f16Bytes(xs: ArrayLike<number>): Uint8Array {
  const out = Uint16Array.from(Array.from(xs), (x) => {
    if (x === 0) return Object.is(x, -0) ? 0x8000 : 0;
    const sign = x < 0 ? 0x8000 : 0;
    const a = Math.abs(x);
    const e = Math.floor(Math.log2(a));
    const frac = Math.round((a / 2 ** e - 1) * 1024);
    return sign | ((e + 15) << 10) | frac;
  });
  return new Uint8Array(out.buffer);
}

describe('initParams', () => {
  it('is reproducible from the seed and differs between seeds', () => {
    const a = initParams(SMALL, 42);
    const b = initParams(SMALL, 42);
    const c = initParams(SMALL, 43);
    for (const [name, v] of a) expect(Array.from(b.get(name)!), name).toEqual(Array.from(v));
    expect(Array.from(c.get('wte.weight')!)).not.toEqual(Array.from(a.get('wte.weight')!));
  });

  it('follows GPT-2: N(0,0.02) weights, N(0,0.02/sqrt(2L)) c_proj, zero biases, unit LayerNorm', () => {
    const cfg = presetConfig('builtin');
    const p = initParams(cfg, 1);
    expect([...p.keys()]).toEqual(paramSpec(cfg).map((s) => s.name));
    const resid = INITIALIZER_RANGE / Math.sqrt(2 * cfg.nLayer);
    for (const [name, v] of p) {
      if (/ln_\w+\.weight$/.test(name)) expect(v.every((x) => x === 1), name).toBe(true);
      else if (name.endsWith('.bias')) expect(v.every((x) => x === 0), name).toBe(true);
      else {
        const want = name.endsWith('c_proj.weight') ? resid : INITIALIZER_RANGE;
        // ≥ 16k draws each: the sample std is within 3% of the target
        expect(std(v) / want, name).toBeGreaterThan(0.97);
        expect(std(v) / want, name).toBeLessThan(1.03);
        expect(Math.abs(v.reduce((a, b) => a + b, 0) / v.length), name).toBeLessThan(0.05 * want);
      }
    }
  });
});

describe('checkpoint save and load', () => {
  it('round-trips an initialised model bit-exactly with the byte tokenizer', async () => {
    const cfg = presetConfig('tiny');
    const params = initParams(cfg, 7);
    const files = saveCheckpoint(cfg, params, 'byte');
    expect([...files.keys()].sort()).toEqual(['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
    const st = parseSafetensors(files.get('model.safetensors')!);
    expect(st.metadata).toEqual({ format: 'pt' });
    expect([...st.tensors.keys()]).toEqual(paramSpec(cfg).map((s) => `transformer.${s.name}`));
    expect([...st.tensors.values()].every((t) => t.dtype === 'F32')).toBe(true);
    const loaded = await loadCheckpoint(reader(files));
    expect(loaded.config).toEqual(cfg);
    for (const [name, v] of params) expect(Buffer.from(loaded.params.get(name)!.buffer).equals(Buffer.from(v.buffer)), name).toBe(true);
    expect(loaded.tokenizer.kind).toBe('byte');
    expect(loaded.tokenizer.encode('été 한국 🙂')).toEqual(Array.from(new TextEncoder().encode('été 한국 🙂')));
    expect(JSON.parse(new TextDecoder().decode(files.get('config.json')))).toEqual(configToHF(cfg));
  });

  it('the exported byte tokenizer gives the same ids through the Hugging Face tokenizer loader', async () => {
    const files = byteTokenizerFiles(SMALL);
    const hf = await loadTokenizerFromFiles(files);
    expect(hf.kind).toBe('hf');
    expect(hf.eosTokenId).toBe(256);
    const text = 'Bonjour, ça va ? 안녕하세요 🙂\n\ttabs';
    expect(hf.encode(text)).toEqual(Array.from(new TextEncoder().encode(text)));
    expect(hf.vocabSize).toBe(257);
  });

  it('carries a Hugging Face tokenizer over and loads it with the general loader', async () => {
    const cfg = { ...SMALL };
    const tok = byteTokenizerFiles(cfg);
    // a different eos name: no longer the built-in tokenizer, so the general loader runs
    const custom = { ...tok, tokenizerConfigJson: JSON.stringify({ eos_token: 'a', bos_token: 'b' }) };
    const files = saveCheckpoint(cfg, initParams(cfg, 1), custom);
    expect(new TextDecoder().decode(files.get('tokenizer_config.json'))).toBe(custom.tokenizerConfigJson);
    const loaded = await loadCheckpoint(reader(files));
    expect(loaded.tokenizer.kind).toBe('hf');
    expect(loaded.tokenizer.eosTokenId).toBe(97);
    expect(loaded.tokenizerFiles.tokenizerConfigJson).toBe(custom.tokenizerConfigJson);
  });

  it('loads a hand-built file: transformer. prefix, F16 and BF16 tensors, mask buffers, tied lm_head', async () => {
    const cfg = SMALL;
    // values exact in f16 and bf16: k/8 for small integers k
    const values = new Map(paramSpec(cfg).map(({ name, shape }, i) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return [name, Float32Array.from({ length: n }, (_, j) => (((i * 31 + j * 7) % 17) - 8) / 8)] as const;
    }));
    const entries = paramSpec(cfg).map(({ name, shape }, i) => {
      const v = values.get(name)!;
      const dtype = ['F32', 'F16', 'BF16'][i % 3];
      const bytes = dtype === 'F32' ? f32Bytes(v) : dtype === 'F16' ? f16Bytes(v) : bf16Bytes(v);
      return { name: `transformer.${name}`, dtype, shape: [...shape], bytes };
    });
    entries.push(
      { name: 'transformer.h.0.attn.bias', dtype: 'U8', shape: [1, 1, 6, 6], bytes: new Uint8Array(36).fill(1) },
      { name: 'transformer.h.1.attn.masked_bias', dtype: 'F32', shape: [], bytes: f32Bytes([-1e4]) },
      { name: 'lm_head.weight', dtype: 'BF16', shape: [257, 4], bytes: bf16Bytes(values.get('wte.weight')!) },
    );
    const files = new Map([
      ['config.json', new TextEncoder().encode(JSON.stringify(configToHF(cfg)))],
      ['model.safetensors', rawSafetensors(entries)],
      ...[...Object.entries({ 'tokenizer.json': byteTokenizerFiles(cfg).tokenizerJson! })].map(([k, v]) => [k, new TextEncoder().encode(v)] as const),
    ]);
    const loaded = await loadCheckpoint(reader(files));
    for (const [name, v] of values) expect(Array.from(loaded.params.get(name)!), name).toEqual(Array.from(v));
    expect(loaded.params.size).toBe(paramSpec(cfg).length);
  });

  describe('rejects, naming the problem', () => {
    const cfg = SMALL;
    const good = () => new Map(paramSpec(cfg).map(({ name }) => [name, initParams(cfg, 3).get(name)!]));
    const st = (tensors: Array<{ name: string; shape: number[]; data: Float32Array }>) => serializeSafetensors(tensors);
    const all = () => paramSpec(cfg).map(({ name, shape }) => ({ name, shape: [...shape], data: good().get(name)! }));

    it('a missing tensor, with its expected shape', () => {
      expect(() => paramsFromSafetensors(st(all().filter((t) => t.name !== 'h.1.mlp.c_fc.bias')), cfg)).toThrow('model.safetensors: missing tensor "h.1.mlp.c_fc.bias" (expected shape [16])');
    });
    it('a wrong shape, with the expected one', () => {
      const ts = all().map((t) => (t.name === 'h.0.attn.c_attn.weight' ? { ...t, shape: [12, 4] } : t));
      expect(() => paramsFromSafetensors(st(ts), cfg)).toThrow('model.safetensors: tensor "h.0.attn.c_attn.weight" has shape [12, 4], expected [4, 12]');
    });
    it('an unexpected tensor (more layers than config.json)', () => {
      const ts = [...all(), { name: 'h.2.ln_1.weight', shape: [4], data: new Float32Array(4) }];
      expect(() => paramsFromSafetensors(st(ts), cfg)).toThrow(/unexpected tensor "h.2.ln_1.weight" \(not part of a GPT-2 with n_layer=2/);
    });
    it('a tensor stored both with and without the prefix', () => {
      const ts = [...all(), { name: 'transformer.ln_f.bias', shape: [4], data: new Float32Array(4) }];
      expect(() => paramsFromSafetensors(st(ts), cfg)).toThrow('tensor "ln_f.bias" is stored twice (as "ln_f.bias" and "transformer.ln_f.bias")');
    });
    it('an untied lm_head', () => {
      const ts = [...all(), { name: 'lm_head.weight', shape: [257, 4], data: new Float32Array(257 * 4).fill(0.5) }];
      expect(() => paramsFromSafetensors(st(ts), cfg)).toThrow(/"lm_head.weight" differs from wte.weight/);
    });
    it('a non-finite weight', () => {
      const ts = all();
      ts[5].data = ts[5].data.slice();
      ts[5].data[2] = NaN;
      expect(() => paramsFromSafetensors(st(ts), cfg)).toThrow(`tensor "${ts[5].name}" has a non-finite value (NaN) at element 2`);
    });
    it('missing files, bad config.json, a tokenizer larger than the vocabulary', async () => {
      const files = saveCheckpoint(cfg, good(), 'byte');
      const without = (name: string) => new Map([...files].filter(([k]) => k !== name));
      await expect(loadCheckpoint(reader(without('config.json')))).rejects.toThrow('config.json not found');
      await expect(loadCheckpoint(reader(without('model.safetensors')))).rejects.toThrow(/model.safetensors not found/);
      await expect(loadCheckpoint(reader(without('tokenizer.json')))).rejects.toThrow(/has no tokenizer: expected tokenizer.json, or vocab.json and merges.txt/);
      await expect(loadCheckpoint(reader(new Map([...files, ['config.json', new TextEncoder().encode('{"n_embd": ')]])))).rejects.toThrow(/config.json is not valid JSON/);
      const small = { ...cfg, vocabSize: 200, bosTokenId: 0, eosTokenId: 0 };
      const smallFiles = saveCheckpoint(small, initParams(small, 1), { tokenizerJson: byteTokenizerFiles(cfg).tokenizerJson });
      await expect(loadCheckpoint(reader(smallFiles))).rejects.toThrow('the tokenizer has 257 tokens but config.json vocab_size is 200');
    });
    it('saving incomplete parameters or a byte tokenizer for a non-byte vocabulary', () => {
      const p = good();
      p.delete('wpe.weight');
      expect(() => saveCheckpoint(cfg, p, 'byte')).toThrow('saveCheckpoint: missing parameter "wpe.weight"');
      const big = { ...cfg, vocabSize: 300 };
      expect(() => saveCheckpoint(big, initParams(big, 1), 'byte')).toThrow(/byte tokenizer needs vocab_size 257/);
    });
  });

  it('loads from browser File objects', async () => {
    const files = saveCheckpoint(SMALL, initParams(SMALL, 5), 'byte');
    const list = [...files].map(([name, bytes]) => new File([bytes as BlobPart], `picked/${name}`));
    const loaded = await loadCheckpoint(readerFromFiles(list));
    expect(Array.from(loaded.params.get('ln_f.weight')!)).toEqual([1, 1, 1, 1]);
    expect(() => readerFromFiles([new File(['a'], 'x/config.json'), new File(['b'], 'y/config.json')])).toThrow('two files are named "config.json"');
  });

  it('writes and reads a folder on disk, naming the folder in errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-ckpt-'));
    try {
      const params = initParams(SMALL, 9);
      await writeCheckpointDir(join(dir, 'm'), saveCheckpoint(SMALL, params, 'byte'));
      const loaded = await readCheckpointDir(join(dir, 'm'));
      expect(Array.from(loaded.params.get('wte.weight')!)).toEqual(Array.from(params.get('wte.weight')!));
      await expect(readCheckpointDir(join(dir, 'nope'))).rejects.toThrow(`model folder "${join(dir, 'nope')}" does not exist`);
      await writeFile(join(dir, 'f'), 'x');
      await expect(readCheckpointDir(join(dir, 'f'))).rejects.toThrow(/is a file/);
      await expect(writeCheckpointDir(join(dir, 'f'), new Map())).rejects.toThrow(/exists and is not a folder/);
      await mkdir(join(dir, 'empty'));
      await expect(readCheckpointDir(join(dir, 'empty'))).rejects.toThrow(`model folder "${join(dir, 'empty')}": config.json not found`);
      expect((await readFile(join(dir, 'm', 'config.json'), 'utf8')).endsWith('\n')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
