// The method registry: every method's descriptor, and the generic readers and writers of their
// options that the CLI, the page (cards, URL) and the TRL export share. Adding a method means
// writing its file (objective + descriptor) and listing it in METHOD_DESCRIPTORS; nothing here
// or downstream names a method.
import { ALPHAPO_METHOD } from './alphapo';
import { ObjectiveOptionError } from './check';
import { decimalNumber } from '../../util/number';
import { CPO_METHOD, SIMPO_METHOD } from './cpo';
import type { MethodDescriptor, MethodOption, OptionValue, OptionValues } from './descriptor';
import { DPO_METHOD } from './dpo';
import { KTO_METHOD } from './kto';
import { GRPO_METHOD, RLOO_METHOD } from './online';
import { PPO_METHOD } from './ppo';
import { ORPO_METHOD } from './orpo';
import { REWARD_METHOD } from './reward';
import { SFT_METHOD } from './sft';
import type { Method, Objective } from './types';

/** In display order: the page's "Add a method" list, --help and the docs table follow it. */
export const METHOD_DESCRIPTORS: readonly MethodDescriptor[] = [DPO_METHOD, ORPO_METHOD, SIMPO_METHOD, CPO_METHOD, ALPHAPO_METHOD, SFT_METHOD, KTO_METHOD, REWARD_METHOD, GRPO_METHOD, RLOO_METHOD, PPO_METHOD];

export const METHODS: readonly Method[] = METHOD_DESCRIPTORS.map((d) => d.name);

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && (METHODS as readonly string[]).includes(name);
}

export function methodDescriptor(method: Method): MethodDescriptor {
  const d = METHOD_DESCRIPTORS.find((x) => x.name === method);
  if (!d) throw new ObjectiveOptionError('objective', 'method', `"${String(method)}" is unknown; expected one of ${METHODS.join(', ')}`);
  return d;
}

/** Every option's default (options without one, such as DPO's loss weights, are left out). */
export function defaultValues(method: Method): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const o of methodDescriptor(method).options) if (o.default !== null) out[o.key] = o.default;
  return out;
}

/** Canonical choice names (aliases such as DPO's `aot_pair` → `aot_unpaired`). */
function canonical(o: Extract<MethodOption, { kind: 'choice' }>, name: string): string {
  return o.aliases?.[name] ?? name;
}

/** Why `value` is not valid for option `o`, or null. */
export function optionProblem(o: MethodOption, value: unknown): string | null {
  switch (o.kind) {
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return `${o.key} must be a finite number, got ${String(value)}`;
      const lo = o.min === undefined ? '' : `${o.minOpen ? '>' : '≥'} ${o.min}`;
      const hi = o.max === undefined ? '' : `${o.maxOpen ? '<' : '≤'} ${o.max}`;
      const bad = (o.min !== undefined && (o.minOpen ? value <= o.min : value < o.min)) || (o.max !== undefined && (o.maxOpen ? value >= o.max : value > o.max));
      return bad ? `${o.key} must be ${[lo, hi].filter(Boolean).join(' and ')}, got ${value}` : null;
    }
    case 'choice': {
      const names = typeof value === 'string' ? [value] : Array.isArray(value) && o.multiple ? value : null;
      if (!names || names.length === 0) return `${o.key} must be ${o.multiple ? 'one or more' : 'one'} of ${o.choices.join(', ')}`;
      for (const n of names) if (typeof n !== 'string' || !o.choices.includes(canonical(o, n))) return `${o.key} "${String(n)}" is unknown; expected one of ${o.choices.join(', ')}`;
      return null;
    }
    case 'numbers':
      if (!Array.isArray(value) || value.length === 0 || value.some((x) => typeof x !== 'number' || !Number.isFinite(x))) return `${o.key} must be a list of finite numbers`;
      return null;
    case 'boolean':
      return typeof value === 'boolean' ? null : `${o.key} must be true or false, got ${String(value)}`;
  }
}

/**
 * The objective's options for `method`: defaults filled in, aliases resolved, unknown keys and
 * out-of-range values refused with an ObjectiveOptionError that names the option.
 */
export function normalizeOptions(method: Method, values: OptionValues = {}): Record<string, OptionValue> {
  const d = methodDescriptor(method);
  for (const key of Object.keys(values)) {
    if (key !== 'method' && !d.options.some((o) => o.key === key)) {
      const known = d.options.map((o) => o.key);
      throw new ObjectiveOptionError(method, key, `is not an option of ${method}${known.length ? `; expected one of ${known.join(', ')}` : ' (it takes none)'}`);
    }
  }
  const out = defaultValues(method);
  for (const o of d.options) {
    const v = values[o.key];
    if (v === undefined) continue;
    const problem = optionProblem(o, v);
    if (problem) throw new ObjectiveOptionError(method, o.key, problem.slice(o.key.length + 1));
    if (o.kind !== 'choice') out[o.key] = v;
    else if (typeof v === 'string') out[o.key] = canonical(o, v);
    else out[o.key] = (v as readonly string[]).length === 1 ? canonical(o, (v as readonly string[])[0]) : (v as readonly string[]).map((n) => canonical(o, n)); // one-element lists are the plain name
  }
  return out;
}

/** A spec `{ method, ...options }` as the trainer's config holds it. */
export interface MethodSpec {
  readonly method: Method;
  readonly [option: string]: OptionValue | undefined;
}

/** Builds the objective a spec names; unknown methods, unknown options and bad values throw ObjectiveOptionError. */
export function createObjective(spec: MethodSpec): Objective {
  const method = (spec as { method?: unknown })?.method;
  if (!isMethod(method)) throw new ObjectiveOptionError('objective', 'method', `"${String(method)}" is unknown; expected one of ${METHODS.join(', ')}`);
  const { method: _m, ...values } = spec;
  return methodDescriptor(method).create(normalizeOptions(method, values));
}

/** Every problem of a spec, in words naming the option (empty when it trains). */
export function specProblems(spec: MethodSpec): string[] {
  try {
    createObjective(spec);
    return [];
  } catch (e) {
    return [(e as Error).message];
  }
}

// ---- URL run tokens: `dpo:sigmoid:0.1`, `orpo:0.1`, `simpo:2:0.5:0.3`; lists joined by '/' ----

const LIST = '/';

function urlOptions(d: MethodDescriptor): MethodOption[] {
  return d.options.filter((o) => o.url !== undefined).sort((a, b) => a.url! - b.url!);
}

function tokenValue(o: MethodOption, v: OptionValue): string {
  if (o.kind === 'boolean') return v ? '1' : '0';
  // ':' separates a token's values: a choice named with one (judge:arithmetic) is written by its alias
  const short = (x: unknown) => {
    const name = String(x);
    return o.kind === 'choice' && name.includes(':') ? (Object.entries(o.aliases ?? {}).find(([, c]) => c === name)?.[0] ?? name) : name;
  };
  return Array.isArray(v) ? v.map(short).join(LIST) : short(v);
}

const sameValue = (a: OptionValue | undefined, b: OptionValue | null | undefined) => JSON.stringify(a) === JSON.stringify(b);

/** The URL token of a spec: the method, then its URL options up to the last one not at its default. */
export function runToken(spec: MethodSpec): string {
  const d = methodDescriptor(spec.method);
  const opts = urlOptions(d);
  const values = opts.map((o) => spec[o.key] ?? o.default);
  let last = -1;
  opts.forEach((o, i) => {
    if (o.urlAlways || (values[i] !== null && !sameValue(values[i] ?? undefined, o.default))) last = i;
  });
  return [d.name, ...opts.slice(0, last + 1).map((o, i) => tokenValue(o, values[i] as OptionValue))].join(':');
}

/** Reads a run token; throws an Error naming the token and the part that is wrong. */
export function parseRunToken(token: string): MethodSpec {
  const [method, ...parts] = token.split(':');
  if (!isMethod(method)) throw new Error(`"${token}": unknown method "${method}" (${METHODS.join(', ')})`);
  const opts = urlOptions(methodDescriptor(method));
  if (parts.length > opts.length) throw new Error(`"${token}": ${method} takes at most ${opts.length} value${opts.length === 1 ? '' : 's'} (${opts.map((o) => o.label).join(', ') || 'none'})`);
  const values: Record<string, OptionValue> = {};
  parts.forEach((raw, i) => {
    const o = opts[i];
    values[o.key] = parseOptionText(o, raw, `"${token}": ${o.label}`);
  });
  try {
    const spec = { method, ...normalizeOptions(method, values) };
    createObjective(spec); // the objective's own checks (e.g. robust's ε < 0.5)
    return spec;
  } catch (e) {
    throw new Error(`"${token}": ${(e as Error).message}`, { cause: e });
  }
}

/** An option's value from text (a CLI flag or a URL token part); `where` prefixes the error. */
export function parseOptionText(o: MethodOption, raw: string, where: string): OptionValue {
  const number = (x: string) => {
    const n = decimalNumber(x);
    if (n === null) throw new Error(`${where}: "${x}" is not a decimal number`);
    return n;
  };
  switch (o.kind) {
    case 'number':
      return number(raw);
    case 'numbers':
      return raw.split(/[/,]/).map((x) => number(x.trim()));
    case 'boolean':
      if (raw === '1' || raw === 'true') return true;
      if (raw === '0' || raw === 'false') return false;
      throw new Error(`${where}: "${raw}" is not 1 or 0`);
    case 'choice': {
      const names = raw.split(/[/,]/).map((x) => x.trim()).filter(Boolean);
      if (names.length > 1 && !o.multiple) throw new Error(`${where}: takes one value, got "${raw}"`);
      return names.length > 1 ? names : (names[0] ?? '');
    }
  }
}
