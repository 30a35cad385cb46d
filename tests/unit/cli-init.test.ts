// `init` through the CLI's main(): writes a loadable folder equal to initParams(preset, seed),
// prints one summary line, and turns bad options into one-line UsageErrors.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtemp, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { UsageError } from '../../src/cli/command';
import { readCheckpointDir } from '../../src/model/checkpoint-node';
import { initParams } from '../../src/model/init';
import { paramCount, presetConfig } from '../../src/model/config';

describe('cli init', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes the preset with the seed\'s weights and prints a one-line summary', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-init-'));
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      const out = join(dir, 'nested', 'tiny');
      expect(await main(['init', '--preset', 'tiny', '--seed', '12', '--out', out])).toBe(0);
      expect(log).toHaveBeenCalledTimes(1);
      const line = String(log.mock.calls[0][0]);
      expect(line).not.toContain('\n');
      expect(line).toContain('tiny');
      expect(line).toContain(paramCount(presetConfig('tiny')).toLocaleString('en-US'));
      expect(line).toContain(out);
      expect(paramCount(presetConfig('tiny'))).toBeLessThanOrEqual(100_000);
      expect((await readdir(out)).sort()).toEqual(['config.json', 'model.safetensors', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json']);
      const loaded = await readCheckpointDir(out);
      const want = initParams(presetConfig('tiny'), 12);
      expect(loaded.config).toEqual(presetConfig('tiny'));
      for (const [name, v] of want) expect(Array.from(loaded.params.get(name)!), name).toEqual(Array.from(v));
      // the same command again overwrites with identical weights
      expect(await main(['init', '--preset', 'tiny', '--seed', '12', '--out', out])).toBe(0);
      expect(Array.from((await readCheckpointDir(out)).params.get('wte.weight')!)).toEqual(Array.from(want.get('wte.weight')!));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad options with a one-line UsageError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'prefplay-init-'));
    try {
      await writeFile(join(dir, 'file'), 'x');
      const cases: Array<[string[], RegExp]> = [
        [['--preset', 'huge', '--out', dir], /unknown preset "huge" \(presets: tiny, builtin, gpt2, llama-tiny, qwen-tiny, smollm2-135m, qwen2\.5-0\.5b\)/],
        [['--preset', 'toString', '--out', dir], /unknown preset "toString"/],
        [['--out', dir], /missing required option --preset/],
        [['--preset', 'tiny'], /missing required option --out/],
        [['--preset', 'tiny', '--seed=-1', '--out', dir], /--seed must be an integer ≥ 0, got "-1"/],
        [['--preset', 'tiny', '--seed', 'abc', '--out', dir], /--seed must be an integer/],
        [['--preset', 'tiny', '--seed', '4294967296', '--out', dir], /--seed must be an integer from 0 to 4294967295/],
        [['--preset', 'tiny', '--out', join(dir, 'file')], /--out .*file: .*exists and is not a folder/],
        [['--preset', 'tiny', '--out', dir, '--bogus'], /init: Unknown option '--bogus'/],
      ];
      for (const [args, re] of cases) {
        const err = await main(['init', ...args]).then(() => null, (e: unknown) => e as Error);
        expect(err, args.join(' ')).toBeInstanceOf(UsageError);
        expect(err!.message, args.join(' ')).toMatch(re);
        expect(err!.message).not.toContain('\n');
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
