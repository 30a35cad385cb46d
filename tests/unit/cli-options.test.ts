// The CLI's numeric options: decimal numbers only, negative values after a value-taking flag, and
// the train config's bounds from the one validator (src/train/config.ts), the page's too.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { main } from '../../src/cli/main';
import { intOption, joinNegativeValues, numberOption, UsageError } from '../../src/cli/command';

afterEach(() => vi.restoreAllMocks());

/** `train` up to its config check: it throws before reading the model or the pairs. */
const train = (...args: string[]) => main(['train', '--model', 'builtin', '--pairs', 'tests/fixtures/data/standard.jsonl', '--out', '/nonexistent/out', ...args]);

describe('cli numeric options', () => {
  it('train refuses batch sizes, steps and seeds past the validator bounds', async () => {
    await expect(train('--batch-size', '1e9')).rejects.toThrow(/^--batch-size must be ≤ 4096 .*got 1000000000$/);
    await expect(train('--steps', '1e20')).rejects.toThrow(/^--steps must be ≤ 1000000 .*got 100000000000000000000$/);
    await expect(train('--steps', '0')).rejects.toThrow('--steps must be an integer ≥ 1, got "0"');
    await expect(train('--seed', '5e9')).rejects.toThrow(/^--seed must be ≤ 4294967295/);
    await expect(train('--lr', '2')).rejects.toThrow(/^--lr must be ≤ 1 /);
    await expect(train('--grad-accum', '1e5')).rejects.toThrow(/^--grad-accum must be ≤ 4096/);
    await expect(train('--batch-size', '1e9')).rejects.toBeInstanceOf(UsageError);
  });

  it('reads only decimal numbers: 0x10 is not 16', async () => {
    await expect(train('--lr', '0x10')).rejects.toThrow('--lr must be a decimal number (like 0.5, -1 or 5e-4), got "0x10"');
    await expect(train('--steps', '0x10')).rejects.toThrow('--steps must be an integer ≥ 1, got "0x10"');
    await expect(train('--lr', 'Infinity')).rejects.toThrow(/--lr must be a decimal number/);
    expect(numberOption({ lr: '5e-4' }, 'lr', 1)).toBe(5e-4);
    expect(numberOption({ x: '-.5' }, 'x', 1)).toBe(-0.5);
    expect(intOption({ n: '1e3' }, 'n', 0)).toBe(1000);
    expect(() => intOption({ n: '0b11' }, 'n', 0)).toThrow(UsageError);
    expect(() => numberOption({ x: '' }, 'x', 1)).toThrow(UsageError);
  });

  it('a negative value after a flag is that flag\'s value, so the real problem is said', async () => {
    await expect(train('--method', 'orpo', '--beta', '-1')).rejects.toThrow('--beta: orpo: option beta must be > 0, got -1');
    await expect(train('--lr', '-1')).rejects.toThrow('--lr must be > 0, got -1');
    await expect(train('--lr', '-.5')).rejects.toThrow('--lr must be > 0, got -0.5');
    await expect(train('--seed', '-1')).rejects.toThrow('--seed must be an integer ≥ 0, got "-1"');
    // still an error for a flag where a value was due, and for a boolean flag
    await expect(train('--lr', '--quiet')).rejects.toThrow(/argument is ambiguous/);
    await expect(train('--quiet', '-1')).rejects.toThrow(/Unknown option '-1'/);
  });

  it('joins only a long value-taking option with a following negative number', () => {
    const opts = { beta: { type: 'string' }, quiet: { type: 'boolean' } };
    expect(joinNegativeValues(['--beta', '-1', '--quiet', '-2'], opts)).toEqual(['--beta=-1', '--quiet', '-2']);
    expect(joinNegativeValues(['--beta=-1', '--beta', '-x', '--beta', '-.5e3'], opts)).toEqual(['--beta=-1', '--beta', '-x', '--beta=-.5e3']);
    expect(joinNegativeValues(['--', '--beta', '-1'], opts)).toEqual(['--', '--beta', '-1']);
    expect(joinNegativeValues(['--beta'], opts)).toEqual(['--beta']);
  });
});
