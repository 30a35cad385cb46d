// The built-in model's pretraining corpus: an endless, seeded stream of short documents in
// English, Korean and French — Q/A in the template the preference sets use (qaPrompt),
// arithmetic, capitals, a phrasebook with translations, Newton's laws, requests answered
// politely or curtly, and plain sentences. Like text from the web it is not all good: some
// answers are worse (curt replies, vague explanations, arithmetic mistakes, wrong capitals) so
// the pretrained model has both behaviours and preference training has something to shift.
// Rows for training are documents packed back to back, each followed by <|endoftext|>.
import { Rng } from '../util/rng';
import {
  arithMistake, arithProblem, arithQuestion, arithValue, capitalQA, capitalWrong, COUNTRIES, curtReply, hasBatchim, josa, LANGS, NEWTON,
  PHRASES, pick, politeReply, politeRequest, qaPrompt, TASKS, translationRequest, type Lang,
} from './facts';

export type DocKind = 'arithmetic' | 'equations' | 'politeness' | 'capitals' | 'translation' | 'newton' | 'sentences';

export interface Doc {
  kind: DocKind;
  lang: Lang;
  text: string;
}

/** Share of each kind in the stream. */
export const MIX: Readonly<Record<DocKind, number>> = {
  arithmetic: 0.24,
  equations: 0.12,
  politeness: 0.24,
  capitals: 0.14,
  translation: 0.12,
  newton: 0.09,
  sentences: 0.05,
};

/** Probability that a Q/A document carries the worse answer (see the file comment). */
export const NOISE = { arithmetic: 0.3, politeness: 0.5, capitals: 0.15, translation: 0.3, newton: 0.3 } as const;

const qa = (q: string, a: string) => qaPrompt(q) + a;

const SENTENCES: Record<Lang, readonly string[]> = {
  en: [
    'The cat is sleeping on the sofa.', 'It is raining today.', 'We went to the market in the morning.', 'The sun rises in the east.',
    'My friend likes to read books.', 'Water boils at one hundred degrees.', 'The train leaves at nine.', 'She drinks tea every afternoon.',
    'The children are playing in the park.', 'A week has seven days.', 'The river flows to the sea.', 'He is learning to play the piano.',
  ],
  ko: [
    '고양이가 소파에서 자고 있어요.', '오늘은 비가 와요.', '우리는 아침에 시장에 갔어요.', '해는 동쪽에서 떠요.',
    '제 친구는 책 읽기를 좋아해요.', '물은 백 도에서 끓어요.', '기차는 아홉 시에 떠나요.', '그녀는 매일 오후에 차를 마셔요.',
    '아이들이 공원에서 놀고 있어요.', '일주일은 칠 일이에요.', '강은 바다로 흘러가요.', '그는 피아노를 배우고 있어요.',
  ],
  fr: [
    'Le chat dort sur le canapé.', "Il pleut aujourd'hui.", 'Nous sommes allés au marché le matin.', "Le soleil se lève à l'est.",
    'Mon ami aime lire des livres.', "L'eau bout à cent degrés.", 'Le train part à neuf heures.', "Elle boit du thé tous les après-midi.",
    'Les enfants jouent dans le parc.', 'Une semaine a sept jours.', 'La rivière coule vers la mer.', 'Il apprend à jouer du piano.',
  ],
};

function kindOf(rng: Rng): DocKind {
  let u = rng.next();
  for (const [k, w] of Object.entries(MIX) as Array<[DocKind, number]>) {
    if ((u -= w) < 0) return k;
  }
  return 'sentences';
}

function arithmeticDoc(rng: Rng, lang: Lang): string {
  const { a, op, b } = arithProblem(rng);
  const answer = rng.next() < NOISE.arithmetic ? arithMistake(a, op, b, rng) : arithValue(a, op, b);
  return qa(arithQuestion(a, op, b, lang, rng), String(answer));
}

function equationsDoc(rng: Rng): string {
  const n = 4 + rng.int(5);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const { a, op, b } = arithProblem(rng);
    lines.push(`${a}${op}${b}=${arithValue(a, op, b)}`);
  }
  return lines.join('\n');
}

function politenessDoc(rng: Rng, lang: Lang): string {
  const task = pick(rng, TASKS[lang]);
  const reply = rng.next() < NOISE.politeness ? curtReply(lang, rng) : politeReply(lang, task, rng);
  return qa(politeRequest(lang, task, rng), reply);
}

function capitalsDoc(rng: Rng, lang: Lang): string {
  const c = pick(rng, COUNTRIES);
  if (rng.next() < 0.3) {
    // a plain statement, several facts in a row
    const cs = [c, pick(rng, COUNTRIES), pick(rng, COUNTRIES)];
    return cs.map((x) => capitalQA(x, lang, rng).a).join(' ');
  }
  const { q, a } = capitalQA(c, lang, rng);
  return qa(q, rng.next() < NOISE.capitals ? capitalWrong(c, lang, rng) : a);
}

function translationDoc(rng: Rng, lang: Lang): string {
  const p = pick(rng, PHRASES);
  const from = lang;
  const to = pick(rng, LANGS.filter((l) => l !== from));
  const asker = rng.next() < 0.5 ? from : pick(rng, LANGS);
  const answer = to === 'fr' && p.frAlt && rng.next() < NOISE.translation ? p.frAlt : p[to];
  if (rng.next() < 0.2) {
    if (lang === 'ko') return `‘${p.ko}’${hasBatchim(p.ko) ? '은' : '는'} ${to === 'en' ? '영어로' : '프랑스어로'} ‘${p[to]}’예요.`;
    return `'${p[from]}' ${lang === 'en' ? 'means' : 'veut dire'} '${p[to]}'.`;
  }
  return qa(translationRequest(p, asker, from, to), answer);
}

function newtonDoc(rng: Rng, lang: Lang): string {
  const law = pick(rng, NEWTON)[lang];
  const answer = rng.next() < NOISE.newton ? pick(rng, law.vague) : pick(rng, law.good);
  return qa(pick(rng, law.q), answer);
}

function sentencesDoc(rng: Rng, lang: Lang): string {
  const n = 2 + rng.int(3);
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(pick(rng, SENTENCES[lang]));
  if (lang === 'ko' && rng.next() < 0.3) {
    const c = pick(rng, COUNTRIES);
    out.push(`${josa(c.capital.ko, 'topic')} ${c.ko}의 수도예요.`);
  }
  return out.join(' ');
}

export function makeDoc(rng: Rng): Doc {
  const kind = kindOf(rng);
  const lang = pick(rng, LANGS);
  const text = {
    arithmetic: () => arithmeticDoc(rng, lang),
    equations: () => equationsDoc(rng),
    politeness: () => politenessDoc(rng, lang),
    capitals: () => capitalsDoc(rng, lang),
    translation: () => translationDoc(rng, lang),
    newton: () => newtonDoc(rng, lang),
    sentences: () => sentencesDoc(rng, lang),
  }[kind]();
  return { kind, lang: kind === 'equations' ? 'en' : lang, text };
}

/** The seeded document stream: the same seed gives the same documents. */
export function* corpusDocs(seed: number): Generator<Doc> {
  const rng = new Rng(seed);
  for (;;) yield makeDoc(rng);
}

export function takeDocs(seed: number, n: number): Doc[] {
  const out: Doc[] = [];
  const it = corpusDocs(seed);
  while (out.length < n) out.push(it.next().value as Doc);
  return out;
}

/**
 * Rows of exactly T token ids: documents (each followed by eot) back to back; a row starts
 * at a document start and the document that overflows it is cut (its rest is dropped), so
 * every row begins where a prompt would and no position is padding.
 */
export class RowPacker {
  constructor(private docs: Iterator<Doc>, private encode: (text: string) => number[], private T: number, private eot: number) {}

  row(): number[] {
    const out: number[] = [];
    while (out.length < this.T) {
      const r = this.docs.next();
      if (r.done) throw new Error('RowPacker: the document stream ended');
      const d = [...this.encode(r.value.text), this.eot];
      out.push(...d.slice(0, this.T - out.length));
    }
    return out;
  }

  rows(n: number): number[][] {
    return Array.from({ length: n }, () => this.row());
  }
}
