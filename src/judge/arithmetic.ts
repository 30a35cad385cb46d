// Arithmetic judge: the prompt holds one expression "a+b" or "a*b" (also × and −); the
// completion is right when its first integer equals the expression's value.
import type { Judge, Judgement } from './types';

/** One binary expression: two integers and an operator (exported for the Python reward function, python.ts). */
export const EXPR = /(\d+)\s*([+*×x−-])\s*(\d+)/;
/** An integer, a leading minus sign included. */
export const INTEGER = /-?\d+/;

/** The value of the first binary expression in text, or null when there is none. */
export function expressionValue(text: string): { expr: string; value: number } | null {
  const m = EXPR.exec(text);
  if (!m) return null;
  const a = Number(m[1]);
  const b = Number(m[3]);
  const op = m[2];
  const value = op === '+' ? a + b : op === '-' || op === '−' ? a - b : a * b;
  return { expr: `${a}${op}${b}`, value };
}

/** The first integer in text (a leading minus sign counts), or null. */
export function firstInteger(text: string): number | null {
  const m = INTEGER.exec(text);
  return m ? Number(m[0]) : null;
}

export const arithmeticJudge: Judge = {
  name: 'arithmetic',
  description: 'the first integer of the completion equals the value of the expression in the prompt',
  judge(prompt: string, completion: string): Judgement {
    const e = expressionValue(prompt);
    if (!e) throw new Error(`arithmetic judge: no expression like "12+34" in the prompt ${JSON.stringify(prompt)}`);
    const got = firstInteger(completion);
    if (got === null) return { score: 0, reason: `no number in the answer (${e.expr} = ${e.value})` };
    if (got === e.value) return { score: 1, reason: `${e.expr} = ${got}, correct` };
    return { score: 0, reason: `${e.expr} = ${e.value}, answered ${got}` };
  },
};
