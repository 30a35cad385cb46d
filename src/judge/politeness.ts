// Politeness judge (English, Korean, French): a completion wins when it has a polite marker
// ("of course", "기꺼이", "avec plaisir", ...) and no curt one ("figure it out", "싫어",
// "débrouille-toi", ...). Matching is case-insensitive on the text as written.
import type { Judge, Judgement } from './types';

export const POLITE_MARKERS: readonly string[] = [
  'of course', 'glad', 'happy to help', 'thank you', 'please', 'certainly', 'sure,',
  '물론', '기꺼이', '감사', '드릴게요', '드리겠습니다',
  'bien sûr', 'avec plaisir', 'merci', 'volontiers',
];

export const CURT_MARKERS: readonly RegExp[] = [
  /^\s*no\b/i, /do it yourself/i, /not my problem/i, /figure it out/i, /whatever/i, /don't care/i, /go away/i, /i am busy/i,
  /싫어/, /몰라/, /귀찮아/, /알아서 해/, /네가 해/, /알 바 아니/,
  /^\s*non\b/i, /débrouille/i, /pas mon problème/i, /je m'en fiche/i, /laisse-moi/i,
];

export const politenessJudge: Judge = {
  name: 'politeness',
  description: 'the reply has a polite marker and no curt one',
  judge(_prompt: string, completion: string): Judgement {
    const curt = CURT_MARKERS.map((r) => r.exec(completion)).find((m) => m !== null);
    if (curt) return { score: 0, reason: `curt: "${curt[0].trim()}"` };
    const lower = completion.toLowerCase();
    const polite = POLITE_MARKERS.find((m) => lower.includes(m));
    if (polite) return { score: 1, reason: `polite: "${polite}"` };
    return { score: 0, reason: 'no polite marker' };
  },
};
