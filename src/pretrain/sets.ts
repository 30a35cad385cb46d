// The built-in preference sets (docs/data-formats.md standard rows {prompt, chosen, rejected}), written to
// public/data/ by scripts/make-sets.ts. Prompts use the built-in model's Q/A template
// (qaPrompt) so the pretrained model completes them. Deterministic for a given seed.
import { Rng } from '../util/rng';
import {
  ARITH_PROBLEMS, arithMistake, arithQuestion, arithValue, type ArithOp, curtReply, LANGS, pick, politeReply, politeRequest, qaPrompt, TASKS,
} from './facts';

type ArithProblem = { a: number; op: ArithOp; b: number };

export interface PairRow {
  prompt: string;
  chosen: string;
  rejected: string;
}

/**
 * The examples of the seed posts, word for word: 000's three pairs (Newton's first law, the
 * French translation, the Seoul question) and 003's capital of France, in English and in the
 * Korean of the translated post.
 */
export function seedExamples(): PairRow[] {
  return [
    {
      prompt: qaPrompt('뉴턴의 제1법칙을 쉽게 설명해줘.'),
      chosen: '뉴턴의 제1법칙은 물체가 외부 힘을 받지 않으면 현재의 운동 상태를 유지한다는 뜻이에요.',
      rejected: '뉴턴의 제1법칙은 아이작 뉴턴이 만든 세 가지 운동 법칙 중 하나예요.',
    },
    { prompt: qaPrompt('‘안녕하세요, 잘 지내세요?’를 프랑스어로 번역해줘.'), chosen: 'Bonjour, comment ça va?', rejected: 'Bonjour, comment es-tu?' },
    { prompt: qaPrompt('서울의 수도는 어디야?'), chosen: '서울은 대한민국의 수도입니다.', rejected: '서울은 한국의 한 도시입니다.' },
    { prompt: qaPrompt('What is the capital of France?'), chosen: 'The capital of France is Paris.', rejected: 'The capital of France is Berlin.' },
    { prompt: qaPrompt('프랑스의 수도는 어디입니까?'), chosen: '프랑스의 수도는 파리입니다.', rejected: '프랑스의 수도는 베를린입니다.' },
  ];
}

/** The problems split once (seeded): 80 % for training pairs, 20 % held out for judging. */
export function arithmeticProblemSplit(seed = 7): { train: ArithProblem[]; test: ArithProblem[] } {
  const order = new Rng(seed).shuffle([...ARITH_PROBLEMS]);
  const nTest = Math.round(order.length * 0.2);
  return { test: order.slice(0, nTest), train: order.slice(nTest) };
}

/**
 * n arithmetic pairs with distinct prompts over `problems`, in English, Korean and French:
 * chosen = the true value, rejected = a typical mistake (a sum without its carry, off by one,
 * the other operation, a neighbouring product).
 */
export function arithmeticSet(seed: number, n: number, problems: readonly ArithProblem[]): PairRow[] {
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const out: PairRow[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > 1000 * n) throw new Error(`arithmeticSet: could not find ${n} distinct prompts over ${problems.length} problems`);
    const { a, op, b } = pick(rng, problems);
    const prompt = qaPrompt(arithQuestion(a, op, b, pick(rng, LANGS), rng));
    if (seen.has(prompt)) continue;
    seen.add(prompt);
    out.push({ prompt, chosen: String(arithValue(a, op, b)), rejected: String(arithMistake(a, op, b, rng)) });
  }
  return out;
}

/** Pairs that fit the built-in model's 128 positions whole: prompt + longer completion + end-of-text. */
export const MAX_PAIR_BYTES = 128;

const bytes = (s: string) => new TextEncoder().encode(s).length;

/** Tasks (indices into TASKS[lang]) that only the politeness test set asks about. */
export const HELDOUT_TASKS: ReadonlySet<number> = new Set([2, 5, 8]);

/**
 * n distinct requests for help in English, Korean and French: chosen = a polite reply,
 * rejected = a curt one. `heldout` picks the tasks of HELDOUT_TASKS, otherwise the others.
 */
export function politenessSet(seed: number, n: number, heldout = false): PairRow[] {
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const out: PairRow[] = [];
  for (let tries = 0; out.length < n; tries++) {
    if (tries > 1000 * n) throw new Error(`politenessSet: could not find ${n} distinct pairs`);
    const lang = LANGS[out.length % LANGS.length];
    const task = pick(rng, TASKS[lang].filter((_, i) => HELDOUT_TASKS.has(i) === heldout));
    const row = { prompt: qaPrompt(politeRequest(lang, task, rng)), chosen: politeReply(lang, task, rng), rejected: curtReply(lang, rng) };
    const key = JSON.stringify(row);
    if (seen.has(key) || bytes(row.prompt) + Math.max(bytes(row.chosen), bytes(row.rejected)) + 1 > MAX_PAIR_BYTES) continue;
    seen.add(key);
    out.push(row);
  }
  return out;
}

export interface BuiltinSet {
  name: string;
  file: string;
  description: string;
  rows: () => PairRow[];
}


/** Every built-in set: name, file under public/data/, and its rows. */
export const BUILTIN_SETS: readonly BuiltinSet[] = [
  { name: 'seed-examples', file: 'seed-examples.jsonl', description: "The seed posts' examples (Newton's first law, a French translation, the Seoul question, the capital of France)", rows: seedExamples },
  { name: 'arithmetic', file: 'arithmetic.jsonl', description: '600 arithmetic questions (sums of digits, times table): correct answer vs a typical mistake', rows: () => arithmeticSet(1001, 600, arithmeticProblemSplit().train) },
  { name: 'arithmetic-test', file: 'arithmetic-test.jsonl', description: '150 arithmetic questions on the 29 problems arithmetic.jsonl never asks, for judging', rows: () => arithmeticSet(2002, 150, arithmeticProblemSplit().test) },
  { name: 'politeness', file: 'politeness.jsonl', description: '300 requests for help: polite reply vs curt reply', rows: () => politenessSet(3003, 300) },
  { name: 'politeness-test', file: 'politeness-test.jsonl', description: '60 requests for help about tasks politeness.jsonl never mentions, for judging', rows: () => politenessSet(4004, 60, true) },
];

export function toJsonl(rows: readonly PairRow[]): string {
  return rows.map((r) => JSON.stringify({ prompt: r.prompt, chosen: r.chosen, rejected: r.rejected })).join('\n') + '\n';
}
