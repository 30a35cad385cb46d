// Rule-based judges on hand-written cases, the set-name mapping and the win-rate summary.
import { describe, it, expect } from 'vitest';
import { arithmeticJudge, judgeFor, judgeSamples, politenessJudge, referenceJudge, winRate } from '../../src/judge';
import { diceSimilarity } from '../../src/judge/reference';
import { expressionValue, firstInteger } from '../../src/judge/arithmetic';

describe('arithmetic judge', () => {
  it('compares the first integer of the completion with the expression of the prompt', () => {
    expect(arithmeticJudge.judge('Q: What is 7+8?\nA: ', '15')).toEqual({ score: 1, reason: '7+8 = 15, correct' });
    expect(arithmeticJudge.judge('Q: What is 7+8?\nA: ', '15 apples, not 16').score).toBe(1);
    expect(arithmeticJudge.judge('Q: What is 7+8?\nA: ', '16')).toEqual({ score: 0, reason: '7+8 = 15, answered 16' });
    expect(arithmeticJudge.judge('Q: What is 7+8?\nA: ', '1 5').score).toBe(0);
    expect(arithmeticJudge.judge('Q: 6*7을 계산해줘.\nA: ', '답: 42입니다').score).toBe(1);
    expect(arithmeticJudge.judge('Q: Combien font 9*9 ?\nA: ', 'quatre-vingt-un')).toEqual({ score: 0, reason: 'no number in the answer (9*9 = 81)' });
    expect(arithmeticJudge.judge('Q: 3 − 5 = ?', '-2').score).toBe(1);
  });

  it('parses expressions and integers', () => {
    expect(expressionValue('Compute 12 × 3.')).toEqual({ expr: '12×3', value: 36 });
    expect(expressionValue('no maths here')).toBeNull();
    expect(firstInteger('it is -4 or 5')).toBe(-4);
    expect(firstInteger('none')).toBeNull();
  });

  it('refuses a prompt with no expression', () => {
    expect(() => arithmeticJudge.judge('Q: hello\nA: ', '3')).toThrow(/no expression/);
  });
});

describe('politeness judge', () => {
  it('wants a polite marker and no curt one, in three languages', () => {
    expect(politenessJudge.judge('', 'Of course! I would be glad to help you with your homework.').score).toBe(1);
    expect(politenessJudge.judge('', '물론이죠! 숙제를 기꺼이 도와드릴게요.').score).toBe(1);
    expect(politenessJudge.judge('', 'Avec plaisir. Regardons votre CV ensemble.').score).toBe(1);
    expect(politenessJudge.judge('', 'No. Do it yourself.')).toEqual({ score: 0, reason: 'curt: "No"' });
    expect(politenessJudge.judge('', '싫어. 네가 해.').score).toBe(0);
    expect(politenessJudge.judge('', "Je m'en fiche.").score).toBe(0);
    expect(politenessJudge.judge('', 'Sure, happy to help. Whatever.').score).toBe(0);
    expect(politenessJudge.judge('', 'The cat is sleeping.')).toEqual({ score: 0, reason: 'no polite marker' });
    expect(politenessJudge.judge('', 'Nothing to add, thank you.').score).toBe(1);
  });
});

describe('reference judge', () => {
  const pair = { chosen: 'The capital of France is Paris.', rejected: 'The capital of France is Berlin.' };
  it('prefers completions closer to the chosen answer', () => {
    expect(referenceJudge.judge('', 'The capital of France is Paris.', pair).score).toBe(1);
    expect(referenceJudge.judge('', 'The capital of France is Berlin', pair).score).toBe(0);
    expect(referenceJudge.judge('', 'the capital is paris', pair).score).toBe(1);
    expect(referenceJudge.judge('', '', pair).score).toBe(0.5);
    expect(() => referenceJudge.judge('', 'x')).toThrow(/needs the pair/);
  });

  it('measures Dice similarity of character bigrams', () => {
    expect(diceSimilarity('night', 'nacht')).toBeCloseTo(0.25, 12);
    expect(diceSimilarity('서울은', '서울은')).toBe(1);
    expect(diceSimilarity('ab', 'cd')).toBe(0);
  });
});

describe('judgeFor and winRate', () => {
  it('maps set names and files to judges', () => {
    expect(judgeFor('arithmetic').name).toBe('arithmetic');
    expect(judgeFor('public/data/arithmetic-test.jsonl').name).toBe('arithmetic');
    expect(judgeFor('politeness-test').name).toBe('politeness');
    expect(judgeFor('seed-examples').name).toBe('reference');
    expect(judgeFor('my-upload.csv').name).toBe('reference');
  });

  it('averages scores and counts wins', () => {
    const judged = judgeSamples(arithmeticJudge, [
      { prompt: 'What is 2+2?', completion: '4' },
      { prompt: 'What is 2*3?', completion: '5' },
      { prompt: 'What is 9+9?', completion: '18' },
    ]);
    expect(judged.map((s) => s.score)).toEqual([1, 0, 1]);
    expect(winRate(judged)).toEqual({ winRate: 2 / 3, wins: 2, n: 3 });
    expect(winRate([{ score: 0.5 }, { score: 1 }])).toEqual({ winRate: 0.75, wins: 1, n: 2 });
    expect(() => winRate([])).toThrow(/no samples/);
    expect(() => winRate([{ score: 2 }])).toThrow(/sample 0/);
  });
});
