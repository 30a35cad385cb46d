// The CLI's method flags (--method, --beta, --loss-type, ...), derived from the method registry:
// a flag exists for every option of every method, its help lists each method's default, and a
// flag given to a method that does not take it is refused by name.
import type { OptionSpec } from './command';
import { UsageError } from './command';
import { createObjective, isMethod, METHOD_DESCRIPTORS, methodDescriptor, METHODS, normalizeOptions, parseOptionText, type MethodOption, type ObjectiveSpec, type OptionValue } from '../train/objectives';

interface Flag {
  name: string;
  uses: Array<{ method: string; option: MethodOption }>;
}

function flags(): Flag[] {
  const out = new Map<string, Flag>();
  for (const d of METHOD_DESCRIPTORS) {
    for (const o of d.options) {
      const f = out.get(o.cli) ?? { name: o.cli, uses: [] };
      f.uses.push({ method: d.name, option: o });
      out.set(o.cli, f);
    }
  }
  return [...out.values()];
}

function defaultText(o: MethodOption): string {
  if (o.kind === 'boolean') return o.default ? 'off' : 'on';
  if (o.default === null) return 'none';
  return String(o.default);
}

function valueName(o: MethodOption): string {
  switch (o.kind) {
    case 'choice':
      return o.multiple ? 'T[,T]' : 'T';
    case 'numbers':
      return 'X[,X]';
    default:
      return 'X';
  }
}

/** parseArgs options for --method and every method flag, with help text. */
export function methodFlagOptions(): Record<string, OptionSpec> {
  const opts: Record<string, OptionSpec> = {
    method: { type: 'string', valueName: 'NAME', description: `Objective: ${METHODS.join(', ')} (default dpo)` },
  };
  for (const f of flags()) {
    const first = f.uses[0].option;
    const choices = first.kind === 'choice' ? `; ${f.uses.map((u) => (u.option.kind === 'choice' ? `${u.method}: ${u.option.choices.join(', ')}` : '')).filter(Boolean).join('; ')}` : '';
    const labelled = new Set(f.uses.map((u) => u.option.label)).size > 1;
    const defaults = f.uses.map((u) => `${u.method} ${labelled ? `${u.option.label}=` : ''}${defaultText(u.option)}`).join(', ');
    const help = new Set(f.uses.map((u) => u.option.help)).size > 1 ? `${[...new Set(f.uses.map((u) => u.option.label))].join(' or ')}, per method: ${first.help}` : first.help;
    opts[f.name] = first.kind === 'boolean' ? { type: 'boolean', description: `${first.help} [${f.uses.map((u) => u.method).join(', ')}]` } : { type: 'string', valueName: valueName(first), description: `${help}${choices} [default: ${defaults}]` };
  }
  return opts;
}

/** The objective the flags name; every bad flag is a UsageError naming it. */
export function objectiveFromFlags(opts: Record<string, unknown>): ObjectiveSpec {
  const method = String(opts.method ?? 'dpo');
  if (!isMethod(method)) throw new UsageError(`--method must be one of ${METHODS.join(', ')}, got "${method}"`);
  const d = methodDescriptor(method);
  const values: Record<string, OptionValue> = {};
  const flagOf = new Map<string, string>();
  for (const f of flags()) {
    const raw = opts[f.name];
    if (raw === undefined || raw === false) continue;
    const use = f.uses.find((u) => u.method === method);
    if (!use) throw new UsageError(`--${f.name} applies to --method ${f.uses.map((u) => u.method).join(', ')} only`);
    const o = use.option;
    flagOf.set(o.key, f.name);
    try {
      values[o.key] = o.kind === 'boolean' ? !o.default : parseOptionText(o, String(raw), `--${f.name}`);
    } catch (e) {
      throw new UsageError((e as Error).message, { cause: e });
    }
  }
  try {
    const spec = { method, ...normalizeOptions(method, values) };
    createObjective(spec); // the objective's own checks (e.g. robust's ε < 0.5)
    return spec;
  } catch (e) {
    const key = d.options.find((o) => (e as Error).message.includes(`option ${o.key} `))?.key;
    throw new UsageError(`${key && flagOf.has(key) ? `--${flagOf.get(key)}: ` : ''}${(e as Error).message}`, { cause: e });
  }
}
