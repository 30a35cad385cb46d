// Fuzzing config.json of a tiny model folder: random values for every size field (huge,
// negative, fractional, zero, strings such as "NaN", 1e400 which JSON reads as Infinity, null,
// missing) load the folder or fail with one clear line naming config.json or model.safetensors,
// each within 2 s and without a large allocation.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { loadCheckpoint, saveCheckpoint, type ReadFile } from '../../src/model/checkpoint';
import { configToHF, type GPTConfig } from '../../src/model/config';
import { initParams } from '../../src/model/init';

const SMALL: GPTConfig = { vocabSize: 257, nPositions: 6, nEmbd: 4, nLayer: 2, nHead: 2, layerNormEpsilon: 1e-5, bosTokenId: 256, eosTokenId: 256 };
const FILES = saveCheckpoint(SMALL, initParams(SMALL, 2), 'byte');
const VALID = configToHF(SMALL);
const FIELDS = ['vocab_size', 'n_positions', 'n_ctx', 'n_embd', 'n_layer', 'n_head', 'layer_norm_epsilon', 'bos_token_id', 'eos_token_id'] as const;

/** A field's value as JSON text; undefined leaves the field out. */
const token: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('null', 'true', '"NaN"', '"Infinity"', '"12"', '[]', '{}', '1e400', '-1e400', '-0', '0', '1e300', '1e-300', '1e-40', '4294967296', '9007199254740993', '1e21'),
  fc.integer({ min: -5, max: 300 }).map(String),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => JSON.stringify(x)),
  fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String),
  fc.constantFrom(2, 4, 6, 257, 256, 1024, 10_000_000).map(String),
);

function configText(over: Partial<Record<(typeof FIELDS)[number], string | undefined>>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(VALID)) if (!(k in over)) parts.push(`${JSON.stringify(k)}:${JSON.stringify(v)}`);
  for (const [k, v] of Object.entries(over)) if (v !== undefined) parts.push(`${JSON.stringify(k)}:${v}`);
  return `{${parts.join(',')}}`;
}

describe('config.json fuzzing', () => {
  it('every random config loads the matching folder or fails in one clear line, fast and small', async () => {
    let ok = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...FIELDS), token, { maxKeys: 4 }), async (over) => {
        const text = configText(over);
        const files = new Map(FILES).set('config.json', new TextEncoder().encode(text));
        const read: ReadFile = async (name) => files.get(name) ?? null;
        const before = process.memoryUsage();
        const t0 = performance.now();
        const result = await loadCheckpoint(read).then(
          (c) => ({ config: c.config }),
          (e: unknown) => ({ error: e as Error }),
        );
        const ms = performance.now() - t0;
        const after = process.memoryUsage();
        expect(ms, text).toBeLessThan(2000);
        expect(after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers, text).toBeLessThan(64 * 2 ** 20);
        if ('config' in result) {
          ok++;
          // the file fixes every size; only the epsilon and the special token ids may differ
          const { vocabSize, nPositions, nEmbd, nLayer } = result.config;
          expect({ vocabSize, nPositions, nEmbd, nLayer }, text).toEqual({ vocabSize: 257, nPositions: 6, nEmbd: 4, nLayer: 2 });
          expect(Number.isFinite(Math.fround(result.config.layerNormEpsilon)) && result.config.layerNormEpsilon > 0, text).toBe(true);
        } else {
          refused++;
          const msg = result.error.message;
          expect(result.error, text).toBeInstanceOf(Error);
          expect(msg, text).toMatch(/^(config\.json|model\.safetensors): /);
          expect(msg, text).not.toContain('\n');
          expect(msg.length, text).toBeLessThan(400);
          if (msg.startsWith('config.json')) expect(msg, text).toMatch(/vocab_size|n_positions|n_ctx|n_embd|n_layer|n_head|layer_norm_epsilon|bos_token_id|eos_token_id/);
        }
      }),
      { numRuns: 400 },
    );
    expect(ok).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(ok);
  }, 120_000);
});
