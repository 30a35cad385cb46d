// A CLI command: its options (node:util parseArgs config), help text and action.
// Every failure becomes one line on stderr and a non-zero exit (see ./main.ts).
import type { ParseArgsConfig } from 'node:util';
import { decimalNumber } from '../train/config';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & { description: string; valueName?: string };

export interface Command {
  name: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Extra help lines (examples, output format). */
  details?: string[];
  run(opts: Record<string, string | boolean | string[] | undefined>): Promise<number | void>;
}

/** Thrown for bad input: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function helpText(cmd: Command): string {
  const lines = [`Usage: npm run cli -- ${cmd.name} [options]`, '', cmd.summary, ''];
  const entries = Object.entries(cmd.options);
  if (entries.length) {
    lines.push('Options:');
    for (const [name, o] of entries) {
      const flag = `--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`;
      const def = o.default !== undefined ? ` (default: ${String(o.default)})` : '';
      lines.push(`  ${flag.padEnd(28)} ${o.description}${def}`);
    }
    lines.push(`  ${'--help'.padEnd(28)} Show this help`);
  }
  if (cmd.details?.length) lines.push('', ...cmd.details);
  return lines.join('\n');
}

export function requireString(opts: Record<string, unknown>, name: string): string {
  const v = opts[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`missing required option --${name}`);
  return v;
}

/**
 * A whole-number option, written in decimal (1e3 is 1000; 0x10 is refused). Its range beyond
 * `min` is the validator's (src/train/config.ts), so the CLI and the page agree.
 */
export function intOption(opts: Record<string, unknown>, name: string, fallback: number, min = 0): number {
  const v = opts[name];
  if (v === undefined) return fallback;
  const n = typeof v === 'string' ? decimalNumber(v) : null;
  if (n === null || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer ≥ ${min}, got "${String(v)}"`);
  return n;
}

/** An integer option that may be absent (undefined: the command's own default applies). */
export function optionalIntOption(opts: Record<string, unknown>, name: string, min = 0): number | undefined {
  return opts[name] === undefined ? undefined : intOption(opts, name, 0, min);
}

/** A number option, written in decimal: digits, optional sign, decimal point, exponent. */
export function numberOption(opts: Record<string, unknown>, name: string, fallback: number): number {
  const v = opts[name];
  if (v === undefined) return fallback;
  const n = typeof v === 'string' ? decimalNumber(v) : null;
  if (n === null) throw new UsageError(`--${name} must be a decimal number (like 0.5, -1 or 5e-4), got "${String(v)}"`);
  return n;
}

/**
 * `--name -1` as `--name=-1` for an option that takes a value: parseArgs would otherwise call a
 * negative number "ambiguous" (it looks like a flag), and the real problem (beta must be > 0, or
 * none) would go unsaid.
 */
export function joinNegativeValues(args: readonly string[], options: Record<string, { type: string }>): string[] {
  const takesValue = (a: string) => a.startsWith('--') && !a.includes('=') && options[a.slice(2)]?.type === 'string';
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const next = args[i + 1];
    if (a === '--') {
      out.push(...args.slice(i));
      break;
    }
    if (next !== undefined && takesValue(a) && /^-(\d|\.\d)/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}
