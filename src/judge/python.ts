// The rule-based judges as Python reward functions for TRL's online trainers (GRPOTrainer,
// RLOOTrainer `reward_funcs`): `def arithmetic(prompts, completions, **kwargs) -> list[float]`,
// giving the verdicts of arithmetic.ts and politeness.ts exactly. The Python is generated from the
// judges' own patterns and marker lists, so the two cannot drift, and the JavaScript semantics
// that Python's `re` and `str` do not share are written out rather than assumed:
//   \s      JavaScript's whitespace set (Python's \s is str.isspace: adds \x1c-\x1f and \x85, lacks \ufeff)
//   \d      [0-9] (Python's \d also takes other scripts' digits)
//   \b      a boundary of ASCII word characters [A-Za-z0-9_] (Python's is Unicode-aware)
//   i flag  JavaScript's non-Unicode Canonicalize (simple upper-casing that never maps a non-ASCII
//           character to an ASCII one): each letter becomes the class of characters it matches,
//           so ſ, ı and the Kelvin sign do not match s, i and k, as they do under Python's re.I
//   $       \Z (Python's $ also matches before a final newline)
//   toLowerCase  a table of the characters whose JavaScript lower case can form a polite marker
// Numbers are compared as float64, as Number() parses and adds them. A construct the translator
// does not know (., negated classes, back-references, …) is refused, so a judge edited to use one
// fails the export loudly instead of diverging. docs/export.md "Online methods".
import { EXPR, INTEGER } from './arithmetic';
import { CURT_MARKERS, POLITE_MARKERS } from './politeness';

const UNITS = 0x10000;

let canonTable: Uint16Array | null = null;

/** ECMA-262 Canonicalize(ch) for a case-insensitive regex without the u or v flag. */
function canon(cu: number): number {
  if (!canonTable) {
    canonTable = new Uint16Array(UNITS);
    for (let x = 0; x < UNITS; x++) {
      const u = String.fromCharCode(x).toUpperCase();
      const c = u.length === 1 ? u.charCodeAt(0) : x;
      canonTable[x] = x >= 128 && c < 128 ? x : c;
    }
  }
  return canonTable[cu];
}

let whitespace: number[] | null = null;

/** The code units JavaScript's \s matches. */
function jsWhitespace(): number[] {
  if (!whitespace) {
    whitespace = [];
    for (let x = 0; x < UNITS; x++) if (/\s/.test(String.fromCharCode(x))) whitespace.push(x);
  }
  return whitespace;
}

const DIGITS = Array.from({ length: 10 }, (_, i) => 0x30 + i);
const WORD = [...DIGITS, ...Array.from({ length: 26 }, (_, i) => 0x41 + i), ...Array.from({ length: 26 }, (_, i) => 0x61 + i), 0x5f];
const ESCAPED_CHARS: Record<string, number> = { n: 0x0a, t: 0x09, r: 0x0d, f: 0x0c, v: 0x0b };

/** A code unit in a Python pattern: ASCII letters and digits as they are, anything else as \uXXXX. */
function unitPy(x: number): string {
  return /^[A-Za-z0-9]$/.test(String.fromCharCode(x)) ? String.fromCharCode(x) : `\\u${x.toString(16).padStart(4, '0')}`;
}

/** A set of code units as a Python pattern: one unit alone, else a class of ranges. */
function classPy(units: Iterable<number>): string {
  const xs = [...new Set(units)].sort((a, b) => a - b);
  if (xs.length === 1) return unitPy(xs[0]);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    parts.push(j === i ? unitPy(xs[i]) : j === i + 1 ? unitPy(xs[i]) + unitPy(xs[j]) : `${unitPy(xs[i])}-${unitPy(xs[j])}`);
    i = j + 1;
  }
  return `[${parts.join('')}]`;
}

/** What a set of members matches: with the i flag, every unit whose canonical form one of them has. */
function matched(members: readonly number[], ignoreCase: boolean): number[] {
  if (!ignoreCase) return [...members];
  const canons = new Set(members.map(canon));
  const out: number[] = [];
  for (let x = 0; x < UNITS; x++) if (canons.has(canon(x))) out.push(x);
  return out;
}

const BOUNDARY = '(?:(?<=[A-Za-z0-9_])(?![A-Za-z0-9_])|(?<![A-Za-z0-9_])(?=[A-Za-z0-9_]))';

/**
 * A JavaScript regex (no u/v flag; flags none or i) as a Python `re` pattern with the same matches
 * on every string, or an Error naming the construct it does not translate.
 */
export function pythonRegex(re: RegExp): string {
  const src = re.source;
  if (!/^i?$/.test(re.flags)) throw new Error(`pythonRegex: /${src}/${re.flags}: only the i flag is translated`);
  const ic = re.flags === 'i';
  const fail = (i: number, what: string): never => {
    throw new Error(`pythonRegex: /${src}/${re.flags}: ${what} at ${i} is not translated`);
  };
  const single = (x: number) => classPy(matched([x], ic));
  // an escape's members (\d \s \w) or its character; `inClass` refuses \b (backspace there)
  const escape = (i: number, inClass: boolean): { members: number[]; next: number } => {
    const e = src[i + 1];
    if (e === undefined) fail(i, 'a trailing backslash');
    if (e === 'd') return { members: DIGITS, next: i + 2 };
    if (e === 's') return { members: jsWhitespace(), next: i + 2 };
    if (e === 'w') return { members: WORD, next: i + 2 };
    if (ESCAPED_CHARS[e] !== undefined) return { members: [ESCAPED_CHARS[e]], next: i + 2 };
    if (/[\\^$.*+?()[\]{}|/-]/.test(e)) return { members: [e.charCodeAt(0)], next: i + 2 };
    return fail(i, `the escape \\${e}${inClass ? ' in a class' : ''}`);
  };
  let out = '';
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    const code = src.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdfff) fail(i, 'a character outside the BMP');
    if (ch === '\\') {
      if (src[i + 1] === 'b') {
        out += BOUNDARY;
        i += 2;
        continue;
      }
      const e = escape(i, false);
      out += classPy(matched(e.members, ic));
      i = e.next;
    } else if (ch === '[') {
      if (src[i + 1] === '^') fail(i, 'a negated class');
      const members: number[] = [];
      let j = i + 1;
      const atom = (k: number): { members: number[]; next: number } => {
        if (src[k] === '\\') return escape(k, true);
        const c = src.charCodeAt(k);
        if (c >= 0xd800 && c <= 0xdfff) fail(k, 'a character outside the BMP');
        return { members: [c], next: k + 1 };
      };
      while (j < src.length && src[j] !== ']') {
        const a = atom(j);
        if (src[a.next] === '-' && a.next + 1 < src.length && src[a.next + 1] !== ']') {
          const b = atom(a.next + 1);
          if (a.members.length !== 1 || b.members.length !== 1) fail(j, 'a range with a class escape');
          if (a.members[0] > b.members[0]) fail(j, 'a range out of order');
          for (let x = a.members[0]; x <= b.members[0]; x++) members.push(x);
          j = b.next;
        } else {
          members.push(...a.members);
          j = a.next;
        }
      }
      if (src[j] !== ']') fail(i, 'an unclosed class');
      if (!members.length) fail(i, 'an empty class');
      out += classPy(matched(members, ic));
      i = j + 1;
    } else if (ch === '(') {
      const head = /^\((\?:|\?=|\?!|\?<=|\?<!)?/.exec(src.slice(i))![0];
      if (src[i + 1] === '?' && head === '(') fail(i, 'a named or unknown group');
      out += head;
      i += head.length;
    } else if (ch === '{') {
      const q = /^\{\d+(,\d*)?\}\??/.exec(src.slice(i));
      if (!q) fail(i, 'a literal {');
      out += q![0];
      i += q![0].length;
    } else if (')|*+?'.includes(ch)) {
      out += ch;
      i++;
    } else if (ch === '^') {
      out += '\\A';
      i++;
    } else if (ch === '$') {
      out += '\\Z';
      i++;
    } else if (ch === '.') {
      fail(i, 'the wildcard .');
    } else {
      out += single(code);
      i++;
    }
  }
  return out;
}

/**
 * The characters whose JavaScript toLowerCase() differs from themselves and holds a character of
 * `alphabet`, with that lower case: lower-casing through this table and leaving every other
 * character as it is gives the same runs of `alphabet` characters as toLowerCase() (the only
 * context rule, final sigma, maps to σ/ς, which must not be in the alphabet).
 */
export function lowerTable(alphabet: ReadonlySet<string>): Array<[string, string]> {
  for (const c of alphabet) {
    if (c.toLowerCase() !== c) throw new Error(`lowerTable: "${c}" is not lower case`);
    if (c === 'σ' || c === 'ς') throw new Error('lowerTable: sigma depends on its context');
  }
  const out: Array<[string, string]> = [];
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp === 0xd800) cp = 0xe000;
    const s = String.fromCodePoint(cp);
    const l = s.toLowerCase();
    if (l !== s && [...l].some((c) => alphabet.has(c))) out.push([s, l]);
  }
  return out;
}

/** An ASCII Python str literal: JSON's escapes (also Python's), other non-ASCII characters as \uXXXX / \UXXXXXXXX. */
function pyStr(s: string): string {
  let out = '';
  for (const ch of JSON.stringify(s)) {
    const cp = ch.codePointAt(0)!;
    out += cp < 0x80 ? ch : cp > 0xffff ? `\\U${cp.toString(16).padStart(8, '0')}` : `\\u${cp.toString(16).padStart(4, '0')}`;
  }
  return out;
}

/** TRL reward-function names of the CLI's reward sources (`judge:arithmetic` → `arithmetic`, as its metrics `rewards/arithmetic/mean`). */
export const PYTHON_JUDGES: Readonly<Record<string, string>> = { 'judge:arithmetic': 'arithmetic', 'judge:politeness': 'politeness' };

/** rewards.py: the judges as TRL reward functions (both, whichever the run used). */
export function judgeRewardsPython(): string {
  const alphabet = new Set(POLITE_MARKERS.flatMap((m) => [...m]));
  const table = lowerTable(alphabet);
  return [
    '# PrefPlay\'s rule-based judges (src/judge/arithmetic.ts, politeness.ts) as TRL reward functions:',
    '# reward_func(prompts, completions, **kwargs) -> list[float], one score in {0.0, 1.0} per completion.',
    '# Generated from the judges\' own patterns with JavaScript\'s regex semantics written out (\\s, \\d, \\b',
    '# and case-insensitive matching as JavaScript defines them), so the verdicts are exactly PrefPlay\'s.',
    '# The function names are the metric names: TRL logs rewards/arithmetic/mean, as PrefPlay does.',
    'import json',
    'import re',
    '',
    '',
    'def _text(x):',
    '    """A prompt or completion as text: a string, or the contents of a message list (TRL\'s conversational',
    '    format) joined by newlines. PrefPlay\'s export writes prompts as the text the model read, so TRL',
    '    hands over strings."""',
    '    if isinstance(x, str):',
    '        return x',
    '    return "\\n".join(m["content"] for m in x)',
    '',
    '',
    `# the first binary expression (JavaScript: ${EXPR.source}) and the first integer (${INTEGER.source})`,
    `_EXPR = re.compile(${pyStr(pythonRegex(EXPR))})`,
    `_INTEGER = re.compile(${pyStr(pythonRegex(INTEGER))})`,
    '',
    '',
    'def _expression_value(text):',
    '    m = _EXPR.search(text)',
    '    if m is None:',
    '        return None',
    '    # float64 as JavaScript\'s Number(): huge operands round (or overflow to inf) the same way',
    '    a, op, b = float(m.group(1)), m.group(2), float(m.group(3))',
    '    return a + b if op == "+" else a - b if op in ("-", "\\u2212") else a * b',
    '',
    '',
    'def arithmetic(prompts, completions, **kwargs):',
    '    """1.0 when the completion\'s first integer equals the value of the expression in the prompt."""',
    '    out = []',
    '    for prompt, completion in zip(prompts, completions, strict=True):',
    '        prompt, completion = _text(prompt), _text(completion)',
    '        value = _expression_value(prompt)',
    '        if value is None:',
    '            raise ValueError("arithmetic judge: no expression like \\"12+34\\" in the prompt " + json.dumps(prompt, ensure_ascii=False))',
    '        m = _INTEGER.search(completion)',
    '        out.append(1.0 if m is not None and float(m.group(0)) == value else 0.0)',
    '    return out',
    '',
    '',
    '_POLITE = [',
    ...POLITE_MARKERS.map((m) => `    ${pyStr(m)},`),
    ']',
    '_CURT = [',
    ...CURT_MARKERS.map((r) => `    re.compile(${pyStr(pythonRegex(r))}),  # /${r.source}/${r.flags}`),
    ']',
    '# JavaScript\'s toLowerCase() for the characters whose lower case can spell a polite marker',
    '_LOWER = {',
    ...table.map(([k, v]) => `    ${pyStr(k)}: ${pyStr(v)},`),
    '}',
    '',
    '',
    'def politeness(prompts, completions, **kwargs):',
    '    """1.0 when the completion has a polite marker and no curt one (the prompt is not read)."""',
    '    out = []',
    '    for completion in completions:',
    '        completion = _text(completion)',
    '        if any(p.search(completion) for p in _CURT):',
    '            out.append(0.0)',
    '            continue',
    '        lower = "".join(_LOWER.get(ch, ch) for ch in completion)',
    '        out.append(1.0 if any(m in lower for m in _POLITE) else 0.0)',
    '    return out',
    '',
  ].join('\n');
}
