// Shared vocabulary of the built-in corpus and the built-in preference sets: the Q/A template,
// capitals, a small phrasebook, Newton's laws, polite and curt replies and arithmetic
// mistakes, in English, Korean and French. Everything here is written for PrefPlay (no
// third-party text) and is licensed with the project.
import type { Rng } from '../util/rng';

export type Lang = 'en' | 'ko' | 'fr';
export const LANGS: readonly Lang[] = ['en', 'ko', 'fr'];

/** The built-in model's Q/A template: a pair's prompt is qaPrompt(question), its completions the answers. */
export function qaPrompt(question: string): string {
  return `Q: ${question}\nA: `;
}

export function pick<T>(rng: Rng, xs: readonly T[]): T {
  return xs[rng.int(xs.length)];
}

/** Whether the last Hangul syllable of s (ignoring trailing punctuation/quotes) ends in a consonant (batchim). */
export function hasBatchim(s: string): boolean {
  for (let i = s.length - 1; i >= 0; i--) {
    const c = s.charCodeAt(i);
    if (c >= 0xac00 && c <= 0xd7a3) return (c - 0xac00) % 28 !== 0;
    // digits read in Sino-Korean: 영 일 이 삼 사 오 육 칠 팔 구 (a final 0 reads 십/백, also with batchim)
    if (/[0-9]/.test(s[i])) return '013678'.includes(s[i]);
    if (/[A-Za-z]/.test(s[i])) return false;
  }
  return false;
}

/** Korean particle after word: topic 은/는, subject 이/가, object 을/를. */
export function josa(word: string, kind: 'topic' | 'subject' | 'object'): string {
  const b = hasBatchim(word);
  const forms = { topic: ['은', '는'], subject: ['이', '가'], object: ['을', '를'] }[kind];
  return word + (b ? forms[0] : forms[1]);
}

export interface Country {
  en: string;
  /** "the capital of X" in English needs "the" for some names. */
  enThe?: boolean;
  ko: string;
  /** French "de" form: "de la France", "du Japon", "de l'Allemagne". */
  frDe: string;
  capital: { en: string; ko: string; fr: string };
}

export const COUNTRIES: readonly Country[] = [
  { en: 'France', ko: '프랑스', frDe: 'de la France', capital: { en: 'Paris', ko: '파리', fr: 'Paris' } },
  { en: 'South Korea', ko: '대한민국', frDe: 'de la Corée du Sud', capital: { en: 'Seoul', ko: '서울', fr: 'Séoul' } },
  { en: 'Japan', ko: '일본', frDe: 'du Japon', capital: { en: 'Tokyo', ko: '도쿄', fr: 'Tokyo' } },
  { en: 'Germany', ko: '독일', frDe: "de l'Allemagne", capital: { en: 'Berlin', ko: '베를린', fr: 'Berlin' } },
  { en: 'Italy', ko: '이탈리아', frDe: "de l'Italie", capital: { en: 'Rome', ko: '로마', fr: 'Rome' } },
  { en: 'Spain', ko: '스페인', frDe: "de l'Espagne", capital: { en: 'Madrid', ko: '마드리드', fr: 'Madrid' } },
  { en: 'United Kingdom', enThe: true, ko: '영국', frDe: 'du Royaume-Uni', capital: { en: 'London', ko: '런던', fr: 'Londres' } },
  { en: 'China', ko: '중국', frDe: 'de la Chine', capital: { en: 'Beijing', ko: '베이징', fr: 'Pékin' } },
  { en: 'United States', enThe: true, ko: '미국', frDe: 'des États-Unis', capital: { en: 'Washington', ko: '워싱턴', fr: 'Washington' } },
  { en: 'Canada', ko: '캐나다', frDe: 'du Canada', capital: { en: 'Ottawa', ko: '오타와', fr: 'Ottawa' } },
  { en: 'Egypt', ko: '이집트', frDe: "de l'Égypte", capital: { en: 'Cairo', ko: '카이로', fr: 'Le Caire' } },
  { en: 'Russia', ko: '러시아', frDe: 'de la Russie', capital: { en: 'Moscow', ko: '모스크바', fr: 'Moscou' } },
  { en: 'Australia', ko: '호주', frDe: "de l'Australie", capital: { en: 'Canberra', ko: '캔버라', fr: 'Canberra' } },
  { en: 'India', ko: '인도', frDe: "de l'Inde", capital: { en: 'New Delhi', ko: '뉴델리', fr: 'New Delhi' } },
  { en: 'Portugal', ko: '포르투갈', frDe: 'du Portugal', capital: { en: 'Lisbon', ko: '리스본', fr: 'Lisbonne' } },
  { en: 'Greece', ko: '그리스', frDe: 'de la Grèce', capital: { en: 'Athens', ko: '아테네', fr: 'Athènes' } },
  { en: 'Vietnam', ko: '베트남', frDe: 'du Viêt Nam', capital: { en: 'Hanoi', ko: '하노이', fr: 'Hanoï' } },
  { en: 'Thailand', ko: '태국', frDe: 'de la Thaïlande', capital: { en: 'Bangkok', ko: '방콕', fr: 'Bangkok' } },
];

const enCountry = (c: Country) => (c.enThe ? `the ${c.en}` : c.en);

/** Questions about a capital and their correct answers, per language. */
export function capitalQA(c: Country, lang: Lang, rng: Rng): { q: string; a: string } {
  const k = c.capital;
  switch (lang) {
    case 'en':
      return pick(rng, [
        { q: `What is the capital of ${enCountry(c)}?`, a: `The capital of ${enCountry(c)} is ${k.en}.` },
        { q: `Which country has ${k.en} as its capital?`, a: `${k.en} is the capital of ${enCountry(c)}.` },
      ]);
    case 'ko':
      return pick(rng, [
        { q: `${c.ko}의 수도는 어디야?`, a: `${c.ko}의 수도는 ${k.ko}입니다.` },
        { q: `${c.ko}의 수도는 어디입니까?`, a: `${c.ko}의 수도는 ${k.ko}입니다.` },
        { q: `${josa(k.ko, 'topic')} 어느 나라의 수도야?`, a: `${josa(k.ko, 'topic')} ${c.ko}의 수도입니다.` },
      ]);
    case 'fr':
      return pick(rng, [
        { q: `Quelle est la capitale ${c.frDe} ?`, a: `La capitale ${c.frDe} est ${k.fr}.` },
        { q: `${k.fr} est la capitale de quel pays ?`, a: `${k.fr} est la capitale ${c.frDe}.` },
      ]);
  }
}

/** A plausible but worse answer: a vaguer statement or another country's capital. */
export function capitalWrong(c: Country, lang: Lang, rng: Rng): string {
  const other = pick(rng, COUNTRIES.filter((o) => o !== c)).capital;
  const k = c.capital;
  switch (lang) {
    case 'en':
      return rng.next() < 0.5 ? `The capital of ${enCountry(c)} is ${other.en}.` : `${k.en} is a city in ${enCountry(c)}.`;
    case 'ko':
      return rng.next() < 0.5 ? `${c.ko}의 수도는 ${other.ko}입니다.` : `${josa(k.ko, 'topic')} ${c.ko}의 한 도시입니다.`;
    case 'fr':
      return rng.next() < 0.5 ? `La capitale ${c.frDe} est ${other.fr}.` : `${k.fr} est une ville ${c.frDe}.`;
  }
}

export interface Phrase {
  en: string;
  ko: string;
  fr: string;
  /** A correct but less natural French rendering (seed 000's "comment es-tu?"). */
  frAlt?: string;
}

export const PHRASES: readonly Phrase[] = [
  { en: 'Hello, how are you?', ko: '안녕하세요, 잘 지내세요?', fr: 'Bonjour, comment ça va?', frAlt: 'Bonjour, comment es-tu?' },
  { en: 'Thank you very much.', ko: '정말 감사합니다.', fr: 'Merci beaucoup.', frAlt: 'Merci très.' },
  { en: 'Good night.', ko: '안녕히 주무세요.', fr: 'Bonne nuit.' },
  { en: 'See you tomorrow.', ko: '내일 봐요.', fr: 'À demain.', frAlt: 'Voir toi demain.' },
  { en: 'Where is the station?', ko: '역이 어디에 있어요?', fr: 'Où est la gare?' },
  { en: 'What is your name?', ko: '이름이 뭐예요?', fr: 'Comment vous appelez-vous?', frAlt: 'Quel est ton nom?' },
  { en: 'My name is Minsu.', ko: '제 이름은 민수예요.', fr: "Je m'appelle Minsu.", frAlt: 'Mon nom est Minsu.' },
  { en: 'Nice to meet you.', ko: '만나서 반가워요.', fr: 'Enchanté.', frAlt: 'Gentil de vous rencontrer.' },
  { en: 'Good morning.', ko: '좋은 아침이에요.', fr: 'Bonjour.' },
  { en: 'Excuse me.', ko: '실례합니다.', fr: 'Excusez-moi.' },
  { en: 'I am hungry.', ko: '배고파요.', fr: "J'ai faim.", frAlt: 'Je suis faim.' },
  { en: 'The weather is nice today.', ko: '오늘 날씨가 좋아요.', fr: "Il fait beau aujourd'hui.", frAlt: "Le temps est gentil aujourd'hui." },
  { en: 'How much is this?', ko: '이거 얼마예요?', fr: 'Combien ça coûte?' },
  { en: "I don't understand.", ko: '이해가 안 돼요.', fr: 'Je ne comprends pas.' },
  { en: 'I love you.', ko: '사랑해요.', fr: "Je t'aime." },
  { en: 'Happy birthday!', ko: '생일 축하해요!', fr: 'Joyeux anniversaire!' },
];

const LANG_NAME: Record<Lang, Record<Lang, string>> = {
  en: { en: 'English', ko: 'Korean', fr: 'French' },
  ko: { en: '영어', ko: '한국어', fr: '프랑스어' },
  fr: { en: 'anglais', ko: 'coréen', fr: 'français' },
};

/** A translation request written in `asker`, of `p` from `from` into `to` (from ≠ to). */
export function translationRequest(p: Phrase, asker: Lang, from: Lang, to: Lang): string {
  const src = p[from];
  const target = LANG_NAME[asker][to];
  switch (asker) {
    case 'en':
      return `Translate '${src}' into ${target}.`;
    case 'ko':
      return `‘${src}’${hasBatchim(src) ? '을' : '를'} ${target}로 번역해줘.`;
    case 'fr':
      return `Traduis « ${src} » en ${target}.`;
  }
}

/** Newton's laws: [law number][lang] → { q variants, good explanations, vague answers }. */
export interface LawText {
  q: string[];
  good: string[];
  vague: string[];
}

export const NEWTON: readonly Record<Lang, LawText>[] = [
  {
    en: {
      q: ["Explain Newton's first law simply.", "What is Newton's first law?"],
      good: [
        "Newton's first law says that an object keeps its state of motion unless an outside force acts on it.",
        'An object at rest stays at rest, and a moving object keeps moving in a straight line, unless a force acts on it.',
      ],
      vague: ["Newton's first law is one of the three laws of motion made by Isaac Newton."],
    },
    ko: {
      q: ['뉴턴의 제1법칙을 쉽게 설명해줘.', '뉴턴의 제1법칙이 뭐야?'],
      good: [
        '뉴턴의 제1법칙은 물체가 외부 힘을 받지 않으면 현재의 운동 상태를 유지한다는 뜻이에요.',
        '정지한 물체는 계속 정지하고, 움직이는 물체는 힘을 받지 않으면 같은 속도로 계속 움직여요.',
      ],
      vague: ['뉴턴의 제1법칙은 아이작 뉴턴이 만든 세 가지 운동 법칙 중 하나예요.'],
    },
    fr: {
      q: ['Explique simplement la première loi de Newton.', 'Quelle est la première loi de Newton?'],
      good: [
        "La première loi de Newton dit qu'un objet garde son état de mouvement si aucune force extérieure n'agit sur lui.",
        "Un objet immobile reste immobile, et un objet en mouvement continue tout droit, tant qu'aucune force n'agit sur lui.",
      ],
      vague: ["La première loi de Newton est l'une des trois lois du mouvement d'Isaac Newton."],
    },
  },
  {
    en: {
      q: ["Explain Newton's second law simply.", "What is Newton's second law?"],
      good: ["Newton's second law says that force equals mass times acceleration: F = ma.", 'The bigger the force on an object, the more it accelerates; a heavier object accelerates less.'],
      vague: ["Newton's second law is a law about force."],
    },
    ko: {
      q: ['뉴턴의 제2법칙을 쉽게 설명해줘.', '뉴턴의 제2법칙이 뭐야?'],
      good: ['뉴턴의 제2법칙은 힘이 질량과 가속도의 곱이라는 뜻이에요: F = ma.', '물체에 큰 힘을 주면 더 많이 가속되고, 무거운 물체는 덜 가속돼요.'],
      vague: ['뉴턴의 제2법칙은 힘에 관한 법칙이에요.'],
    },
    fr: {
      q: ['Explique simplement la deuxième loi de Newton.', 'Quelle est la deuxième loi de Newton?'],
      good: ["La deuxième loi de Newton dit que la force est égale à la masse fois l'accélération: F = ma.", "Plus la force est grande, plus l'objet accélère; un objet lourd accélère moins."],
      vague: ['La deuxième loi de Newton est une loi sur la force.'],
    },
  },
  {
    en: {
      q: ["Explain Newton's third law simply.", "What is Newton's third law?"],
      good: ["Newton's third law says that for every action there is an equal and opposite reaction.", 'When you push on a wall, the wall pushes back on you with the same force.'],
      vague: ["Newton's third law is the last of Newton's laws."],
    },
    ko: {
      q: ['뉴턴의 제3법칙을 쉽게 설명해줘.', '뉴턴의 제3법칙이 뭐야?'],
      good: ['뉴턴의 제3법칙은 모든 작용에는 크기가 같고 방향이 반대인 반작용이 있다는 뜻이에요.', '벽을 밀면 벽도 같은 힘으로 나를 밀어요.'],
      vague: ['뉴턴의 제3법칙은 뉴턴의 마지막 법칙이에요.'],
    },
    fr: {
      q: ['Explique simplement la troisième loi de Newton.', 'Quelle est la troisième loi de Newton?'],
      good: ["La troisième loi de Newton dit qu'à chaque action correspond une réaction égale et opposée.", 'Quand tu pousses un mur, le mur te pousse avec la même force.'],
      vague: ['La troisième loi de Newton est la dernière loi de Newton.'],
    },
  },
];

/** Things to help with, as the requester says them and as the helper says them back. */
export interface Task {
  mine: string;
  yours: string;
}

const same = (xs: string[]): Task[] => xs.map((x) => ({ mine: x, yours: x }));

export const TASKS: Record<Lang, readonly Task[]> = {
  en: [
    { mine: 'my homework', yours: 'your homework' }, { mine: 'this letter', yours: 'this letter' }, { mine: 'my resume', yours: 'your resume' },
    { mine: 'a birthday card', yours: 'the birthday card' }, { mine: 'the dishes', yours: 'the dishes' }, { mine: 'my math problem', yours: 'your math problem' },
    { mine: 'this recipe', yours: 'this recipe' }, { mine: 'my garden', yours: 'your garden' }, { mine: 'the report', yours: 'the report' },
    { mine: 'my travel plans', yours: 'your travel plans' },
  ],
  ko: same(['숙제', '이 편지', '이력서', '생일 카드', '설거지', '수학 문제', '이 요리법', '정원 일', '보고서', '여행 계획']),
  fr: [
    { mine: 'mes devoirs', yours: 'vos devoirs' }, { mine: 'cette lettre', yours: 'cette lettre' }, { mine: 'mon CV', yours: 'votre CV' },
    { mine: "une carte d'anniversaire", yours: "la carte d'anniversaire" }, { mine: 'la vaisselle', yours: 'la vaisselle' },
    { mine: 'mon problème de maths', yours: 'votre problème de maths' }, { mine: 'cette recette', yours: 'cette recette' },
    { mine: 'mon jardin', yours: 'votre jardin' }, { mine: 'le rapport', yours: 'le rapport' }, { mine: 'mes projets de voyage', yours: 'vos projets de voyage' },
  ],
};

export function politeRequest(lang: Lang, t: Task, rng: Rng): string {
  const task = t.mine;
  switch (lang) {
    case 'en':
      return pick(rng, [`Can you help me with ${task}?`, `Could you help me with ${task}?`, `I need help with ${task}.`]);
    case 'ko':
      return pick(rng, [`${josa(task, 'object')} 도와줄 수 있어?`, `${task} 좀 도와줘.`, `${josa(task, 'object')} 도와주실 수 있나요?`]);
    case 'fr':
      return pick(rng, [`Peux-tu m'aider avec ${task} ?`, `Pourriez-vous m'aider avec ${task} ?`, `J'ai besoin d'aide pour ${task}.`]);
  }
}

export function politeReply(lang: Lang, t: Task, rng: Rng): string {
  const task = t.yours;
  switch (lang) {
    case 'en':
      return pick(rng, [`Of course! I would be glad to help you with ${task}.`, `Sure, happy to help. Let's look at ${task} together.`, `Thank you for asking. I will gladly help you with ${task}.`, `Certainly! Please show me ${task} and we will start.`]);
    case 'ko':
      return pick(rng, [`물론이죠! ${josa(task, 'object')} 기꺼이 도와드릴게요.`, `네, 도와드리겠습니다. ${josa(task, 'object')} 같이 살펴봐요.`, `말씀해 주셔서 감사합니다. ${task} 도와드릴게요.`]);
    case 'fr':
      return pick(rng, [`Bien sûr ! Je vous aide avec plaisir pour ${task}.`, `Avec plaisir. Regardons ${task} ensemble.`, `Merci de votre question, je vous aide volontiers pour ${task}.`]);
  }
}

export function curtReply(lang: Lang, rng: Rng): string {
  switch (lang) {
    case 'en':
      return pick(rng, ['No. Do it yourself.', 'Not my problem.', 'Figure it out.', "Whatever. I don't care.", 'Go away, I am busy.']);
    case 'ko':
      return pick(rng, ['싫어. 네가 해.', '몰라. 알아서 해.', '귀찮아.', '내 알 바 아니야.']);
    case 'fr':
      return pick(rng, ['Non. Débrouille-toi.', 'Pas mon problème.', "Je m'en fiche.", 'Laisse-moi tranquille.']);
  }
}

export type ArithOp = '+' | '*';

export function arithValue(a: number, op: ArithOp, b: number): number {
  return op === '+' ? a + b : a * b;
}

export function arithQuestion(a: number, op: ArithOp, b: number, lang: Lang, rng: Rng): string {
  const e = `${a}${op}${b}`;
  switch (lang) {
    case 'en':
      return pick(rng, [`What is ${e}?`, `Compute ${e}.`]);
    case 'ko':
      return pick(rng, [`${josa(e, 'topic')} 얼마야?`, `${josa(e, 'object')} 계산해줘.`]);
    case 'fr':
      return pick(rng, [`Combien font ${e} ?`, `Calcule ${e}.`]);
  }
}

/** A typical mistake: a sum without its carry, off by one, the other operation, a neighbouring product. Never the true value. */
export function arithMistake(a: number, op: ArithOp, b: number, rng: Rng): number {
  const v = arithValue(a, op, b);
  const candidates = op === '+' ? [v + 1, v - 1, a * b, v >= 10 ? v % 10 : v + 2] : [a * (b + 1), a * (b - 1), a + b, v + 1, v - 1];
  return pick(rng, candidates.filter((x) => x >= 0 && x !== v));
}

/** Every problem: sums of two digits 1–9 and times-table products 2–9 (145 in all). */
export const ARITH_PROBLEMS: readonly { a: number; op: ArithOp; b: number }[] = [
  ...Array.from({ length: 81 }, (_, i) => ({ a: 1 + Math.floor(i / 9), op: '+' as const, b: 1 + (i % 9) })),
  ...Array.from({ length: 64 }, (_, i) => ({ a: 2 + Math.floor(i / 8), op: '*' as const, b: 2 + (i % 8) })),
];

export function arithProblem(rng: Rng): { a: number; op: ArithOp; b: number } {
  return pick(rng, ARITH_PROBLEMS);
}
