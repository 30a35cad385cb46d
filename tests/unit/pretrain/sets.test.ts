// The built-in preference sets: the committed files are the generator's output, every row
// passes `validate`, the judges prefer every chosen answer and reject every rejected one, and
// the test sets share no problem (arithmetic) or task (politeness) with the training sets.
import { describe, it, expect, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../../src/cli/main';
import { arithmeticProblemSplit, BUILTIN_SETS, HELDOUT_TASKS, seedExamples, toJsonl } from '../../../src/pretrain/sets';
import { ARITH_PROBLEMS, TASKS } from '../../../src/pretrain/facts';
import { judgeFor } from '../../../src/judge';

const dataDir = join(__dirname, '..', '..', '..', 'public', 'data');
const rowsOf = (name: string) => BUILTIN_SETS.find((s) => s.name === name)!.rows();

describe('built-in preference sets', () => {
  it('public/data holds exactly what scripts/make-sets.ts generates', () => {
    for (const set of BUILTIN_SETS) {
      expect(readFileSync(join(dataDir, set.file), 'utf8'), set.file).toBe(toJsonl(set.rows()));
    }
  });

  it('every line of every set passes `validate` with no truncation', async () => {
    for (const set of BUILTIN_SETS) {
      const log = vi.spyOn(console, 'log').mockImplementation(() => {});
      const err = vi.spyOn(console, 'error').mockImplementation(() => {});
      try {
        const code = await main(['validate', '--pairs', join(dataDir, set.file)]);
        const report = JSON.parse(String(log.mock.calls[0][0])) as { accepted: number; rejectedCount: number; truncated: number; format: string };
        expect(code, set.file).toBe(0);
        expect(report.accepted).toBe(set.rows().length);
        expect(report.rejectedCount).toBe(0);
        if (set.name !== 'seed-examples') expect(report.truncated, set.file).toBe(0);
      } finally {
        log.mockRestore();
        err.mockRestore();
      }
    }
  });

  it('has hundreds of judge-verifiable pairs: the judge scores every chosen 1 and every rejected 0', () => {
    for (const name of ['arithmetic', 'arithmetic-test', 'politeness', 'politeness-test']) {
      const rows = rowsOf(name);
      const judge = judgeFor(name);
      for (const r of rows) {
        expect(judge.judge(r.prompt, r.chosen).score, `${name}: ${r.prompt} ${r.chosen}`).toBe(1);
        expect(judge.judge(r.prompt, r.rejected).score, `${name}: ${r.prompt} ${r.rejected}`).toBe(0);
      }
    }
    expect(rowsOf('arithmetic').length).toBeGreaterThanOrEqual(500);
    expect(rowsOf('politeness').length).toBeGreaterThanOrEqual(300);
  });

  it('keeps test problems and tasks out of the training sets', () => {
    const { train, test } = arithmeticProblemSplit();
    expect(train.length + test.length).toBe(ARITH_PROBLEMS.length);
    const key = (p: { a: number; op: string; b: number }) => `${p.a}${p.op}${p.b}`;
    const testKeys = new Set(test.map(key));
    const expr = (prompt: string) => /(\d+[+*]\d+)/.exec(prompt)![1];
    for (const r of rowsOf('arithmetic')) expect(testKeys.has(expr(r.prompt))).toBe(false);
    for (const r of rowsOf('arithmetic-test')) expect(testKeys.has(expr(r.prompt))).toBe(true);
    const prompts = new Set(rowsOf('arithmetic').map((r) => r.prompt));
    expect(prompts.size).toBe(rowsOf('arithmetic').length);
    for (const lang of ['en', 'fr'] as const) {
      const held = TASKS[lang].filter((_, i) => HELDOUT_TASKS.has(i)).map((t) => t.mine);
      const mentions = (p: string) => held.some((t) => p.includes(t));
      expect(rowsOf('politeness').some((r) => mentions(r.prompt))).toBe(false);
      expect(rowsOf('politeness-test').filter((r) => r.prompt.includes(lang === 'en' ? 'help' : 'aide')).every((r) => mentions(r.prompt))).toBe(true);
    }
  });

  it("holds the seed posts' examples word for word", () => {
    const rows = seedExamples();
    expect(rows.map((r) => r.chosen)).toEqual([
      '뉴턴의 제1법칙은 물체가 외부 힘을 받지 않으면 현재의 운동 상태를 유지한다는 뜻이에요.',
      'Bonjour, comment ça va?',
      '서울은 대한민국의 수도입니다.',
      'The capital of France is Paris.',
      '프랑스의 수도는 파리입니다.',
    ]);
    expect(rows[1].rejected).toBe('Bonjour, comment es-tu?');
    expect(rows[3].rejected).toBe('The capital of France is Berlin.');
    expect(rows[0].prompt).toBe('Q: 뉴턴의 제1법칙을 쉽게 설명해줘.\nA: ');
  });
});
