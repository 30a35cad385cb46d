// The judges exported as Python reward functions (src/judge/python.ts → rewards.py of a TRL
// export): python3 runs arithmetic() and politeness() with TRL's signature on hand-written edge
// cases and on seeded random strings over an alphabet of the characters where JavaScript's and
// Python's regex, digit, whitespace and case rules differ, and every verdict must equal the
// TypeScript judge's. python3 is part of the test setup (scripts/setup-test-env.sh).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arithmeticJudge, politenessJudge } from '../../src/judge';
import { judgeRewardsPython, lowerTable, pythonRegex } from '../../src/judge/python';
import { Rng } from '../../src/util/rng';

const hasPython = spawnSync('python3', ['--version']).status === 0;

// reads [{judge, prompt, completion}] on stdin; prints each verdict (or "error: …")
const DRIVER = `
import json, sys
sys.path.insert(0, sys.argv[1])
import rewards
cases = json.load(sys.stdin)
out = []
for c in cases:
    f = getattr(rewards, c["judge"])
    try:
        r = f(prompts=[c["prompt"]], completions=[c["completion"]], completion_ids=[[0]], trainer_state=None)
        assert isinstance(r, list) and len(r) == 1 and isinstance(r[0], float), r
        out.append(r[0])
    except ValueError as e:
        out.append("error: " + str(e))
print(json.dumps(out))
`;

interface Case {
  judge: 'arithmetic' | 'politeness';
  prompt: string;
  completion: string;
}

let dir = '';

function runPython(cases: readonly Case[]): Array<number | string> {
  const r = spawnSync('python3', ['-c', DRIVER, dir], { input: JSON.stringify(cases), encoding: 'utf8', maxBuffer: 1 << 26 });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

function tsVerdict(c: Case): number | string {
  const judge = c.judge === 'arithmetic' ? arithmeticJudge : politenessJudge;
  try {
    return judge.judge(c.prompt, c.completion).score;
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

function compare(cases: readonly Case[]): void {
  const py = runPython(cases);
  expect(py.length).toBe(cases.length);
  cases.forEach((c, i) => {
    const ts = tsVerdict(c);
    if (typeof ts === 'string') expect(String(py[i]), JSON.stringify(c)).toMatch(/^error: arithmetic judge: no expression like "12\+34" in the prompt /);
    else expect(py[i], JSON.stringify(c)).toBe(ts);
  });
}

const A = (prompt: string, completion: string): Case => ({ judge: 'arithmetic', prompt, completion });
const P = (completion: string): Case => ({ judge: 'politeness', prompt: 'Q: help?', completion });

describe('judges as Python reward functions', () => {
  beforeAll(async () => {
    expect(hasPython, 'python3 is needed to run the exported reward functions (scripts/setup-test-env.sh installs it)').toBe(true);
    dir = await mkdtemp(join(tmpdir(), 'prefplay-judges-'));
    await writeFile(join(dir, 'rewards.py'), judgeRewardsPython());
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('the same verdicts as the TypeScript judges on hand-written edge cases', () => {
    const cases: Case[] = [
      A('Q: What is 7+8?\nA: ', '15'),
      A('Q: What is 7+8?\nA: ', '15 apples, not 16'),
      A('Q: What is 7+8?\nA: ', '16'),
      A('Q: What is 7+8?\nA: ', '1 5'),
      A('Q: 6*7을 계산해줘.\nA: ', '답: 42입니다'),
      A('Q: Combien font 9*9 ?\nA: ', 'quatre-vingt-un'),
      A('Q: 3 − 5 = ?', '-2'),
      A('Q: 3 − 5 = ?', '−2'), // U+2212 is not a minus sign for the answer
      A('Compute 12 × 3.', '36'),
      A('Compute 12 x 3.', '36'),
      A('Compute 12x3 and 4+4', '36'),
      A('7\u00a0+\u00a08', '15'), // no-break space: whitespace in both languages
      A('7\ufeff+8', '15'), // BOM: JavaScript whitespace, not Python's
      A('7\x1c+8 then 2+2', '15'), // file separator: Python whitespace, not JavaScript's
      A('7\x1c+8 then 2+2', '4'),
      A('7\x85+8 then 1+1', '2'), // NEL: Python whitespace, not JavaScript's
      A('7\u3000*\u30008', '56'),
      A('٣+٤ then 1+2', '3'), // Arabic-Indic digits: Python's \d, not JavaScript's
      A('٣+٤ then 1+2', '٧'),
      A('1+2', '٣'),
      A('３+４ or 2+2', '4'), // full-width digits
      A('0012+0003', '15'),
      A('0012+0003', '0015'),
      A('5-5', '-0'),
      A('5-5', '0'),
      A('99999999999999999999+1', '100000000000000000000'), // float64 rounding
      A('99999999999999999999+1', '99999999999999999999'),
      A('9007199254740993*1', '9007199254740992'),
      A(`${'9'.repeat(400)}*0`, '0'), // inf·0 = NaN: never equal
      A(`${'9'.repeat(400)}+1`, '9'.repeat(400)), // inf = inf
      A(`${'9'.repeat(400)}-${'9'.repeat(401)}`, '0'),
      A('2+2', 'answer: 4, or 5'),
      A('2+2', 'answer:4'),
      A('2+2', ''),
      A('2+2', 'four'),
      A('10-20', '-10'),
      A('10--20', '-10'),
      A('a 2 + 2 b', '  4'),
      A('2 +\n\t2', '4'),
      A('no maths here', '3'),
      A('', '3'),
      A('Q: 2𝟐+2?', '4'), // a mathematical digit (astral): not \d in either
      P('Of course! I would be glad to help you with your homework.'),
      P('물론이죠! 숙제를 기꺼이 도와드릴게요.'),
      P('Avec plaisir. Regardons votre CV ensemble.'),
      P('No. Do it yourself.'),
      P('싫어. 네가 해.'),
      P("Je m'en fiche."),
      P('Sure, happy to help. Whatever.'),
      P('The cat is sleeping.'),
      P('Nothing to add, thank you.'),
      P('OF COURSE I CAN'),
      P('BIEN SÛR'), // Û lowers to û
      P('MERCİ'), // İ lowers to i + U+0307: "merci" is in "merci̇"
      P('\u212aind regards, THANK YOU'),
      P('noé, please'), // JavaScript's \b: é is not a word character, so "no" is curt
      P('nobody, please'),
      P('\u00a0\u00a0no thanks, please'),
      P('\x1cno, please'), // \x1c is not JavaScript whitespace: not curt
      P('\ufeffNo, please'),
      P('Whatſoever, please'),
      P('wHaTeVeR please'),
      P('DÉBROUILLE-toi, please'),
      P('pas mon problÈme, merci'),
      P('figure ıt out, please'), // dotless ı does not match i (Python re.I would)
      P('\u212A'), // Kelvin sign
      P('sure,'),
      P('sure!'),
      P('Non merci'),
      P('nonsense, merci'),
      P(''),
      P('감사합니다'),
      P('please 😀'),
    ];
    expect(cases.length).toBeGreaterThanOrEqual(50);
    compare(cases);
  });

  it('the same verdicts on 1500 seeded random strings of the characters where the languages differ', () => {
    const rng = new Rng(16);
    const pick = <T>(xs: readonly T[]) => xs[rng.int(xs.length)];
    const tricky = ['0', '1', '2', '4', '7', '9', '٣', '３', '𝟐', '+', '-', '−', '*', '×', 'x', 'X', ' ', '\u00a0', '\ufeff', '\x1c', '\x85', '\u2028', '\n', '\t', 'é', 'É', 'ſ', 'ı', 'İ', 'K', 'k', 'K', 'Û', 'û', 'S', 's', 'Σ', '😀', '\ud800', 'n', 'o', 'N', 'O', '_', "'", ','];
    const words = ['no', 'NO', 'non', 'please', 'PLEASE', 'merci', 'MERCİ', 'whatever', 'WHATEVER', 'bien sûr', 'BIEN SÛR', 'sure,', 'thank you', 'THANK YOU', "don't care", 'débrouille', 'DÉBROUILLE', 'go away', 'glad', '물론', '싫어', 'of course', 'OF COURSE', 'figure it out', '12+3', '4 × 5', '7−2', '15', '-5', '20'];
    const text = () => {
      let s = '';
      const n = rng.int(8);
      for (let i = 0; i < n; i++) s += rng.next() < 0.5 ? pick(tricky) : pick(words);
      return s;
    };
    const cases: Case[] = [];
    for (let i = 0; i < 750; i++) cases.push(A(text(), text()));
    for (let i = 0; i < 750; i++) cases.push(P(text()));
    // both kinds of outcome occur, so the comparison is not vacuous
    const verdicts = cases.map(tsVerdict);
    for (const v of [0, 1]) expect(verdicts.filter((x) => x === v).length).toBeGreaterThan(20);
    expect(verdicts.filter((x) => typeof x === 'string').length).toBeGreaterThan(20);
    compare(cases);
  });

  it('message lists (TRL conversational format) are judged on their contents', () => {
    const py = spawnSync('python3', ['-c', `
import json, sys
sys.path.insert(0, sys.argv[1])
import rewards
p = [[{"role": "user", "content": "What is 6*7?"}]] * 2
c = [[{"role": "assistant", "content": "42"}], [{"role": "assistant", "content": "41"}]]
print(json.dumps([rewards.arithmetic(p, c), rewards.politeness(p, [[{"role": "assistant", "content": "Of course"}], [{"role": "assistant", "content": "No."}]])]))
`, dir], { encoding: 'utf8' });
    expect(py.status, py.stderr).toBe(0);
    expect(JSON.parse(py.stdout)).toEqual([[1, 0], [1, 0]]);
  });

  it('refuses regex constructs it does not translate, and non-lower-case markers', () => {
    expect(() => pythonRegex(/a.b/)).toThrow(/wildcard/);
    expect(() => pythonRegex(/[^a]/)).toThrow(/negated class/);
    expect(() => pythonRegex(/a/u)).toThrow(/only the i flag/);
    expect(() => pythonRegex(/(a)\1/)).toThrow(/escape \\1/);
    expect(() => pythonRegex(/(?<n>a)/)).toThrow(/named or unknown group/);
    expect(() => pythonRegex(/😀/)).toThrow(/outside the BMP/);
    expect(pythonRegex(/a{2,3}$/)).toBe('a{2,3}\\Z');
    expect(() => lowerTable(new Set(['A']))).toThrow(/not lower case/);
  });
});
