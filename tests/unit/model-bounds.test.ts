// Bad model files never crash and never hang: every config.json size is bounded, the parameters
// it implies are checked against model.safetensors' header and the size cap before anything is
// built, each refusal is one line naming config.json and the field, fast and in bounded memory;
// safetensors headers with a duplicate key or an absurd length are refused exactly.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCheckpoint, saveCheckpoint, type ReadFile } from '../../src/model/checkpoint';
import { writeCheckpointDir } from '../../src/model/checkpoint-node';
import { configFromHF, configToHF, CONFIG_LIMITS, MAX_PARAM_BYTES, paramArenaBytes, paramCount, paramSpec, presetConfig, validateConfig, type GPTConfig } from '../../src/model/config';
import { layoutArena } from '../../src/engine/arena';
import { initParams } from '../../src/model/init';
import { parseSafetensors } from '../../src/model/safetensors';
import { main } from '../../src/cli/main';
import { UsageError } from '../../src/cli/command';
import { loadModelSource } from '../../src/worker/model-source';

const SMALL: GPTConfig = { vocabSize: 257, nPositions: 6, nEmbd: 4, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5, bosTokenId: 256, eosTokenId: 256 };
const enc = new TextEncoder();

/** The SMALL model folder with config.json's fields overridden (undefined deletes one). */
function folder(over: Record<string, unknown> = {}): Map<string, Uint8Array> {
  const files = saveCheckpoint(SMALL, initParams(SMALL, 1), 'byte');
  const json = { ...configToHF(SMALL), ...over };
  for (const [k, v] of Object.entries(over)) if (v === undefined) delete json[k];
  files.set('config.json', enc.encode(JSON.stringify(json)));
  return files;
}
const reader = (files: Map<string, Uint8Array>): ReadFile => async (name) => files.get(name) ?? null;

/** The load's error, checked to be one line and to come within `ms`. */
async function refusal(files: Map<string, Uint8Array>, ms = 2000, limits: Parameters<typeof loadCheckpoint>[1] = {}): Promise<string> {
  const t0 = performance.now();
  const err = await loadCheckpoint(reader(files), limits).then(() => null, (e: unknown) => e as Error);
  expect(performance.now() - t0).toBeLessThan(ms);
  expect(err).toBeInstanceOf(Error);
  expect(err!.message).not.toContain('\n');
  return err!.message;
}

describe('config bounds', () => {
  it('refuses a huge n_layer in well under a second, before building anything', async () => {
    const heap = process.memoryUsage().heapUsed;
    const msg = await refusal(folder({ n_layer: 10_000_000 }), 1000);
    expect(msg).toBe('config.json: n_layer = 10000000 is more than 1,024, the largest PrefPlay supports');
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(64 * 2 ** 20);
  });

  it('bounds every integer and names the field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ vocab_size: 2 ** 40 }, 'config.json: vocab_size = 1099511627776 is more than 1,048,576'],
      [{ n_positions: 1e15 }, 'config.json: n_positions = 1000000000000000 is more than 65,536'],
      [{ n_positions: undefined, n_ctx: 70_000 }, 'config.json: n_positions = 70000 is more than 65,536'],
      [{ n_embd: 2 ** 20, n_head: 2 ** 14 }, 'config.json: n_embd = 1048576 is more than 16,384'],
      [{ n_layer: 1e300 }, 'config.json: n_layer = 1e+300 is more than 1,024'],
      [{ n_layer: 0 }, 'config.json: n_layer = 0 must be a positive integer'],
      [{ n_layer: -3 }, 'config.json: n_layer = -3 must be a positive integer'],
      [{ n_layer: 2.5 }, 'config.json: n_layer = 2.5 must be a positive integer'],
      [{ n_head: 3 }, 'config.json: n_head = 3 must divide n_embd (4)'],
      [{ n_head: 8 }, 'config.json: n_head = 8 must divide n_embd (4)'],
      [{ n_embd: 512, n_head: 2 }, 'config.json: n_head = 2 gives head size n_embd/n_head = 256, more than 128'],
      [{ n_layer: '2' }, 'config.json: field "n_layer" must be a number, got "2"'],
      [{ n_layer: 'NaN' }, 'config.json: field "n_layer" must be a number, got "NaN"'],
      [{ n_layer: null }, 'config.json: field "n_layer" is missing'],
      [{ vocab_size: undefined }, 'config.json: field "vocab_size" is missing'],
      [{ n_embd: [4] }, 'config.json: field "n_embd" must be a number, got [4]'],
      [{ bos_token_id: 257 }, 'config.json: bos_token_id = 257 is outside the vocabulary [0, 257)'],
      [{ model_type: 'x'.repeat(10_000) }, 'config.json: model_type "xxxx'],
    ];
    for (const [over, want] of cases) {
      const msg = await refusal(folder(over));
      expect(msg, JSON.stringify(over).slice(0, 60)).toContain(want);
      expect(msg.length).toBeLessThan(300);
    }
  });

  it('refuses a layer_norm_epsilon that is not a sensible positive f32', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [1e300, /layer_norm_epsilon = 1e\+300 is not representable in f32 \(it rounds to Infinity there\)/],
      [3.5e38, /layer_norm_epsilon = 3\.5e\+38 is not representable in f32/],
      [2, /layer_norm_epsilon = 2 is more than 1/],
      [0, /layer_norm_epsilon = 0 must be a finite number > 0/],
      [-1e-5, /layer_norm_epsilon = -0\.00001 must be a finite number > 0/],
      [1e-40, /layer_norm_epsilon = 1e-40 is below 1\.175e-38, the smallest normal f32/],
      ['1e-5', /field "layer_norm_epsilon" must be a number, got "1e-5"/],
    ];
    for (const [eps, re] of cases) expect(await refusal(folder({ layer_norm_epsilon: eps }))).toMatch(re);
    // JSON's 1e400 parses to Infinity
    const files = folder();
    files.set('config.json', enc.encode(new TextDecoder().decode(files.get('config.json')).replace('"layer_norm_epsilon":0.00001', '"layer_norm_epsilon":1e400')));
    expect(await refusal(files)).toMatch(/^config\.json: layer_norm_epsilon = Infinity must be a finite number > 0$/);
    for (const eps of [1e-5, 1e-12, 1]) expect(() => validateConfig({ ...SMALL, layerNormEpsilon: eps })).not.toThrow();
  });

  it('refuses a config that implies more parameters than model.safetensors holds, naming the field', async () => {
    const held = paramCount(SMALL).toLocaleString('en-US');
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ n_layer: 1000 }, `config.json: n_layer = 1,000 implies ${paramCount({ ...SMALL, nLayer: 1000 }).toLocaleString('en-US')} parameters but model.safetensors holds ${held} (2 layers)`],
      [{ n_layer: 3 }, 'config.json: n_layer = 3 implies'],
      [{ vocab_size: 1_000_000 }, `config.json: vocab_size = 1,000,000 implies ${paramCount({ ...SMALL, vocabSize: 1e6 }).toLocaleString('en-US')} parameters but model.safetensors holds ${held} (wte.weight with 257 rows)`],
      [{ n_positions: 60_000 }, `config.json: n_positions = 60,000 implies 241,524 parameters but model.safetensors holds ${held} (wpe.weight with 6 rows)`],
      [{ n_embd: 8 }, 'config.json: n_embd = 8 implies'],
      [{ n_embd: 8 }, '(wte.weight with 4 columns); does config.json belong to these weights?'],
    ];
    for (const [over, want] of cases) expect(await refusal(folder(over))).toContain(want);
  });

  it('refuses a tensor bound whole past the device limits, or past MAX_PARAM_BYTES of parameters', async () => {
    // the arenas span several buffers and wte splits by rows: 11,264 bytes of parameters fit 4 KiB buffers
    await expect(loadCheckpoint(reader(folder()), { limits: { maxBufferSize: 4096, maxStorageBufferBindingSize: 1 << 30 } })).resolves.toBeTruthy();
    expect(await refusal(folder(), 2000, { limits: { maxBufferSize: 128, maxStorageBufferBindingSize: 1 << 30 } })).toBe(
      'config.json: n_embd 4 makes h.0.mlp.c_fc.weight [4, 16] 256 bytes as f32, more than 128 bytes, this GPU\'s limit (maxBufferSize 128, maxStorageBufferBindingSize 1073741824; a kernel binds this tensor whole)',
    );
    expect(await refusal(folder(), 2000, { limits: { maxBufferSize: 1 << 30, maxStorageBufferBindingSize: 64 } })).toMatch(/^config\.json: n_positions 6 and n_embd 4 make wpe\.weight \[6, 4\] 96 bytes as f32, more than 64 bytes, this GPU's limit/);
    await expect(loadCheckpoint(reader(folder()), { limits: { maxBufferSize: 1 << 20, maxStorageBufferBindingSize: 1 << 20 } })).resolves.toBeTruthy();
    // 2¹⁴ channels × 1024 layers is within every single bound but ~3.3 trillion parameters
    const big = { vocab_size: 50257, n_positions: 1024, n_embd: 16384, n_layer: 1024, n_head: 128, bos_token_id: 0, eos_token_id: 0 };
    expect(await refusal(folder(big))).toMatch(/^config\.json: vocab_size 50,257, n_positions 1,024, n_embd 16,384 and n_layer 1,024 imply [\d,]+ parameters, [\d,]+ bytes as f32, more than 68,719,476,736 bytes, PrefPlay's cap/);
    expect(() => configFromHF(big)).toThrow(/more than 68,719,476,736 bytes/);
    expect(MAX_PARAM_BYTES).toBe(2 ** 36);
    // with no GPU known a tensor bound whole must fit 4 GiB − 4 bytes
    expect(() => configFromHF({ ...big, n_layer: 2, n_positions: 65536 })).toThrow('config.json: n_positions 65,536 and n_embd 16,384 make wpe.weight [65,536, 16,384] 4,294,967,296 bytes as f32, more than 4,294,967,292 bytes, the largest storage binding with no GPU known');
    // GPT-2 small and the largest config under the cap pass
    expect(() => validateConfig(presetConfig('gpt2'))).not.toThrow();
  });

  it('the page\'s loader (engine worker) refuses the same folder, and applies the device limits it is given', async () => {
    const asFiles = (files: Map<string, Uint8Array>) => [...files].map(([name, b]) => new File([b as Uint8Array<ArrayBuffer>], name));
    const t0 = performance.now();
    await expect(loadModelSource({ kind: 'files', name: 'bad', files: asFiles(folder({ n_layer: 10_000_000 })) })).rejects.toThrow(/^config\.json: n_layer = 10000000 is more than 1,024/);
    expect(performance.now() - t0).toBeLessThan(1000);
    const limits = { maxBufferSize: 128, maxStorageBufferBindingSize: 128 };
    await expect(loadModelSource({ kind: 'files', name: 'ok', files: asFiles(folder()) }, limits)).rejects.toThrow(/more than 128 bytes, this GPU's limit/);
    expect((await loadModelSource({ kind: 'files', name: 'ok', files: asFiles(folder()) })).info.params).toBe(paramCount(SMALL));
  });

  it('paramCount and paramArenaBytes are the size table in closed form', () => {
    const configs: GPTConfig[] = [SMALL, presetConfig('tiny'), presetConfig('builtin'), presetConfig('gpt2'), { ...SMALL, vocabSize: 13, nEmbd: 12, nHead: 3, nLayer: 5, nPositions: 7 }];
    for (const c of configs) {
      expect(paramCount(c)).toBe(paramSpec(c).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0));
      for (const align of [16, 64, 256]) expect(paramArenaBytes(c, align)).toBe(layoutArena(paramSpec(c), align).bytes);
    }
    expect(() => paramSpec({ ...SMALL, nLayer: 10_000_000 })).toThrow('config: n_layer = 10000000 must be an integer from 0 to 1024');
    expect(CONFIG_LIMITS).toEqual({ vocabSize: 1048576, nPositions: 65536, nEmbd: 16384, nLayer: 1024, headSize: 128 });
  });
});

describe('safetensors header', () => {
  function file(headerText: string, data = 0): Uint8Array {
    const json = enc.encode(headerText);
    const out = new Uint8Array(8 + json.length + data);
    new DataView(out.buffer).setUint32(0, json.length, true);
    out.set(json, 8);
    return out;
  }

  it('refuses a duplicate key, naming it', () => {
    const t = (o: number) => `{"dtype":"F32","shape":[1],"data_offsets":[${o},${o + 4}]}`;
    expect(() => parseSafetensors(file(`{"a":${t(0)},"b":${t(4)},"a":${t(8)}}`, 12))).toThrow('safetensors: header has the key "a" twice (a duplicate tensor name)');
    // equal after decoding escapes
    expect(() => parseSafetensors(file(`{"w\\u0074e":${t(0)},"wte":${t(4)}}`, 8))).toThrow('safetensors: header has the key "wte" twice');
    expect(() => parseSafetensors(file(`{"x":{"dtype":"F32","shape":[1],"dtype":"F16","data_offsets":[0,4]}}`, 4))).toThrow('safetensors: header entry "x" has the key "dtype" twice');
    expect(() => parseSafetensors(file(`{"__metadata__":{"format":"pt","format":"np"}}`))).toThrow('safetensors: header entry "__metadata__" has the key "format" twice');
    // equal keys in different objects, keys inside strings and escaped quotes are not duplicates
    const ok = parseSafetensors(file(`{"__metadata__":{"a":"\\"b\\":{","b":"}"},"a":${t(0)},"b":${t(4)}}`, 8));
    expect([...ok.tensors.keys()]).toEqual(['a', 'b']);
  });

  it('prints a huge header length exactly', () => {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 62n, true);
    expect(() => parseSafetensors(bytes)).toThrow('safetensors: header length 4611686018427387904 exceeds the 104857600-byte limit');
    new DataView(bytes.buffer).setBigUint64(0, 2n ** 64n - 1n, true);
    expect(() => parseSafetensors(bytes)).toThrow('header length 18446744073709551615 exceeds');
  });
});

describe('the CLI on a bad model folder', () => {
  afterEach(() => vi.restoreAllMocks());

  async function badFolder(): Promise<{ dir: string; model: string; pairs: string }> {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-bounds-'));
    const model = join(dir, 'm');
    const files = folder({ n_layer: 10_000_000 });
    await writeCheckpointDir(model, files);
    const pairs = join(dir, 'pairs.jsonl');
    await writeFile(pairs, JSON.stringify({ prompt: 'hi', chosen: ' yes', rejected: ' no' }) + '\n');
    return { dir, model, pairs };
  }

  it('logps refuses n_layer 10,000,000 with one line, in a second', async () => {
    const { dir, model, pairs } = await badFolder();
    try {
      const t0 = performance.now();
      const err = await main(['logps', '--model', model, '--pairs', pairs, '--out', join(dir, 'out.jsonl')]).then(() => null, (e: unknown) => e as Error);
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(err).toBeInstanceOf(UsageError);
      expect(err!.message).toBe(`--model ${model}: model folder "${model}": config.json: n_layer = 10000000 is more than 1,024, the largest PrefPlay supports`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('`npm run cli -- logps` exits 2 with one line on stderr, within a 128 MB heap', async () => {
    const { dir, model, pairs } = await badFolder();
    try {
      const t0 = performance.now();
      const r = spawnSync('npx', ['tsx', 'src/cli/main.ts', 'logps', '--model', model, '--pairs', pairs, '--out', join(dir, 'out.jsonl')], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, NODE_OPTIONS: '--max-old-space-size=128' },
      });
      expect(performance.now() - t0).toBeLessThan(30_000);
      expect(r.status, r.stderr).toBe(2);
      const lines = r.stderr.trim().split('\n').filter((l) => !l.startsWith('Warning') && !/^\s+at /.test(l));
      expect(lines).toEqual([`error: --model ${model}: model folder "${model}": config.json: n_layer = 10000000 is more than 1,024, the largest PrefPlay supports`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 40_000);
});
