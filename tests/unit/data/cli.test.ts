// The CLI itself: `validate` prints the report with the right counts and lines for every
// fixture format, `export-pairs` writes TRL-ready JSONL that validates cleanly, bad input is a
// one-line error with a non-zero exit.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../../src/cli/main';
import { UsageError } from '../../../src/cli/command';
import { byteLevelTokenizerJson } from '../../../src/tokenizer/byte';
import type { ValidationReport } from '../../../src/data/types';

const dir = 'tests/fixtures/data';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

const expected: Record<string, { format: string; accepted: number; lines: number[] }> = {
  'standard.jsonl': { format: 'standard', accepted: 4, lines: [5, 6, 7, 8, 9, 12, 13] },
  'pairs.json': { format: 'standard', accepted: 3, lines: [11, 13, 14] },
  'implicit.json': { format: 'implicit', accepted: 2, lines: [3, 4] },
  'standard.csv': { format: 'standard', accepted: 4, lines: [5, 7, 9] },
  'standard.tsv': { format: 'standard', accepted: 3, lines: [4] },
  'seed000.yaml': { format: 'standard', accepted: 3, lines: [15, 19, 23] },
  'conversational.jsonl': { format: 'conversational', accepted: 2, lines: [3, 4, 5] },
  'conversational-implicit.jsonl': { format: 'conversational', accepted: 1, lines: [2] },
  'hh-rlhf.jsonl': { format: 'hh-rlhf', accepted: 2, lines: [3] },
  'ultrafeedback.jsonl': { format: 'ultrafeedback', accepted: 2, lines: [3] },
  'orca.json': { format: 'orca', accepted: 2, lines: [3] },
  'kto.jsonl': { format: 'kto', accepted: 3, lines: [4, 5] },
  'kto.csv': { format: 'kto', accepted: 2, lines: [4] },
};

describe('cli validate', () => {
  for (const [file, want] of Object.entries(expected)) {
    it(`${file}: ${want.accepted} accepted, rejected lines ${want.lines.join(', ')}`, async () => {
      const { code, out, err } = await cli(['validate', '--pairs', join(dir, file)]);
      const report = JSON.parse(out) as ValidationReport;
      expect([report.format, report.accepted, report.rejected.map((r) => r.line)]).toEqual([want.format, want.accepted, want.lines]);
      for (const r of report.rejected) expect(r.reason).toBeTruthy();
      expect(code).toBe(1);
      expect(err.split('\n')).toHaveLength(1);
      expect(err).toMatch(new RegExp(`^${want.lines.length} of ${want.accepted + want.lines.length} rows rejected \\(first: line ${want.lines[0]}: `));
    });
  }

  it('options: format override, truncation limits, the listed-rows cap', async () => {
    const { out } = await cli(['validate', '--pairs', join(dir, 'seed000.yaml'), '--max-length', '40', '--max-prompt-length', '10', '--max-reported', '1']);
    const r = JSON.parse(out) as ValidationReport;
    expect(r.truncation).toMatchObject({ maxLength: 40, maxPromptLength: 10 });
    expect(r.truncated).toBe(3);
    expect([r.rejected.length, r.omitted.rejected]).toEqual([1, 2]);
    const o = JSON.parse((await cli(['validate', '--pairs', join(dir, 'standard.tsv'), '--format', 'implicit'])).out) as ValidationReport;
    expect([o.format, o.shapeSource]).toEqual(['implicit', 'chosen']);
  });

  it('--model DIR: its tokenizer files and n_positions bound the limits', async () => {
    const model = mkdtempSync(join(tmpdir(), 'prefplay-model-'));
    writeFileSync(join(model, 'tokenizer.json'), JSON.stringify(byteLevelTokenizerJson()));
    writeFileSync(join(model, 'config.json'), JSON.stringify({ model_type: 'gpt2', vocab_size: 257, n_positions: 64, n_embd: 32, n_layer: 1, n_head: 2, bos_token_id: 256, eos_token_id: 256 }));
    const r = JSON.parse((await cli(['validate', '--pairs', join(dir, 'kto.jsonl'), '--model', model])).out) as ValidationReport;
    expect([r.accepted, r.truncation.maxLength, r.truncation.maxPromptLength]).toEqual([3, 64, 32]);
    await expect(cli(['validate', '--pairs', join(dir, 'kto.jsonl'), '--model', model, '--max-length', '65'])).rejects.toThrow(/exceeds the model's n_positions \(64\)/);
    const empty = join(model, 'empty');
    mkdirSync(empty);
    await expect(cli(['validate', '--pairs', join(dir, 'kto.jsonl'), '--model', empty])).rejects.toThrow(/no tokenizer\.json/);
  });

  it('bad input is a UsageError naming the problem', async () => {
    await expect(cli(['validate'])).rejects.toThrow(/missing required option --pairs/);
    await expect(cli(['validate', '--pairs', 'nope.jsonl'])).rejects.toThrow(UsageError);
    await expect(cli(['validate', '--pairs', join(dir, 'kto.csv'), '--format', 'weird'])).rejects.toThrow(/--format must be auto or one of/);
    await expect(cli(['validate', '--pairs', join(dir, 'kto.csv'), '--max-length', 'x'])).rejects.toThrow(/--max-length must be an integer/);
    const odd = join(mkdtempSync(join(tmpdir(), 'prefplay-')), 'notes.txt');
    writeFileSync(odd, 'hello there\n');
    await expect(cli(['validate', '--pairs', odd])).rejects.toThrow(/cannot tell the file's syntax/);
  });
});

describe('cli export-pairs', () => {
  it('writes TRL-ready JSONL (strings, or message lists for conversational data) that validates cleanly', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'prefplay-export-'));
    for (const [file, want] of Object.entries(expected)) {
      const out = join(tmp, `${file}.trl.jsonl`);
      const res = await cli(['export-pairs', '--pairs', join(dir, file), '--out', out]);
      expect(res.code).toBe(0);
      expect(res.out).toMatch(new RegExp(`^wrote ${want.accepted} `));
      const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(want.accepted);
      const again = await cli(['validate', '--pairs', out]);
      expect(again.code).toBe(0);
      expect((JSON.parse(again.out) as ValidationReport).accepted).toBe(want.accepted);
    }
    const conv = readFileSync(join(tmp, 'conversational.jsonl.trl.jsonl'), 'utf8').split('\n')[0];
    expect(JSON.parse(conv)).toEqual({ prompt: [{ role: 'user', content: 'What color is the sky?' }], chosen: [{ role: 'assistant', content: 'It is blue.' }], rejected: [{ role: 'assistant', content: 'It is green.' }] });
    const hh = JSON.parse(readFileSync(join(tmp, 'hh-rlhf.jsonl.trl.jsonl'), 'utf8').split('\n')[0]);
    expect(hh).toEqual({ prompt: '\n\nHuman: What is a good name for a cat?\n\nAssistant:', chosen: ' How about Mochi?', rejected: " I don't know." });
  });
});

describe('the real command line', () => {
  it('prints the report, a one-line summary on stderr, and exits 1 when rows are rejected; 2 on unusable input', () => {
    const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
    const ok = run(['validate', '--pairs', join(dir, 'standard.jsonl')]);
    expect(ok.status).toBe(1);
    expect((JSON.parse(ok.stdout) as ValidationReport).accepted).toBe(4);
    expect(ok.stderr.trim().split('\n')).toEqual(['7 of 11 rows rejected (first: line 5: invalid JSON: unexpected token \'}\')']);
    const bad = run(['validate', '--pairs', 'missing.jsonl']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim()).toBe('error: --pairs missing.jsonl: no such file');
  }, 60_000);
});
