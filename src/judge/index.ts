// Judges of the built-in preference sets and the win-rate summary the UI and CLI show.
// judgeFor(name): arithmetic* → arithmetic, politeness* → politeness, anything else (the
// seed examples, uploaded sets) → the reference judge, which compares with the pair's answers.
import { arithmeticJudge } from './arithmetic';
import { politenessJudge } from './politeness';
import { referenceJudge } from './reference';
import type { Judge, PairRef } from './types';

export type { Judge, Judgement, PairRef } from './types';
export { arithmeticJudge, politenessJudge, referenceJudge };

export function judgeFor(setName: string): Judge {
  const base = setName.replace(/^.*[\\/]/, '').replace(/\.(jsonl|json|csv|tsv|ya?ml)$/i, '');
  if (base.startsWith('arithmetic')) return arithmeticJudge;
  if (base.startsWith('politeness')) return politenessJudge;
  return referenceJudge;
}

export interface WinRate {
  /** Mean score in [0, 1]. */
  winRate: number;
  /** Samples with score 1. */
  wins: number;
  n: number;
}

export function winRate(samples: readonly { score: number }[]): WinRate {
  if (samples.length === 0) throw new Error('winRate: no samples');
  let sum = 0;
  let wins = 0;
  for (const [i, s] of samples.entries()) {
    if (!(s.score >= 0 && s.score <= 1)) throw new Error(`winRate: sample ${i} has score ${s.score}, expected a number in [0, 1]`);
    sum += s.score;
    if (s.score === 1) wins++;
  }
  return { winRate: sum / samples.length, wins, n: samples.length };
}

export interface JudgedSample {
  prompt: string;
  completion: string;
  score: number;
  reason: string;
}

/** Scores each (prompt, completion[, pair]) with the judge. */
export function judgeSamples(judge: Judge, items: readonly { prompt: string; completion: string; pair?: PairRef }[]): JudgedSample[] {
  return items.map((it) => ({ prompt: it.prompt, completion: it.completion, ...judge.judge(it.prompt, it.completion, it.pair) }));
}
