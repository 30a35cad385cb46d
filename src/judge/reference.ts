// Reference judge for sets without a checkable rule (the seed examples, uploaded pairs): a
// completion wins when it is closer to the pair's chosen answer than to its rejected one,
// by Dice similarity of character bigrams (works for Korean, French and English alike).
import type { Judge, Judgement, PairRef } from './types';

function bigrams(s: string): Map<string, number> {
  const chars = Array.from(s.trim().toLowerCase());
  const out = new Map<string, number>();
  for (let i = 0; i + 1 < chars.length; i++) {
    const g = chars[i] + chars[i + 1];
    out.set(g, (out.get(g) ?? 0) + 1);
  }
  return out;
}

/** Dice coefficient of the character-bigram multisets of a and b, in [0, 1]. */
export function diceSimilarity(a: string, b: string): number {
  const A = bigrams(a);
  const B = bigrams(b);
  let na = 0;
  let nb = 0;
  let both = 0;
  for (const n of A.values()) na += n;
  for (const [g, n] of B) {
    nb += n;
    both += Math.min(n, A.get(g) ?? 0);
  }
  if (na + nb === 0) return a.trim() === b.trim() ? 1 : 0;
  return (2 * both) / (na + nb);
}

export const referenceJudge: Judge = {
  name: 'reference',
  description: "the completion is closer to the pair's chosen answer than to its rejected one (character bigrams)",
  judge(_prompt: string, completion: string, pair?: PairRef): Judgement {
    if (!pair) throw new Error('reference judge: needs the pair (chosen and rejected answers) of the prompt');
    const c = diceSimilarity(completion, pair.chosen);
    const r = diceSimilarity(completion, pair.rejected);
    const detail = `similarity to chosen ${c.toFixed(2)}, to rejected ${r.toFixed(2)}`;
    if (c > r) return { score: 1, reason: `closer to chosen (${detail})` };
    if (c < r) return { score: 0, reason: `closer to rejected (${detail})` };
    return { score: 0.5, reason: `tie (${detail})` };
  },
};
