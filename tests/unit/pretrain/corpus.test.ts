// The pretraining corpus: deterministic per seed, three languages, every kind of document,
// the preference sets' Q/A template, the stated share of worse answers, and exact-length rows.
import { describe, it, expect } from 'vitest';
import { corpusDocs, MIX, NOISE, RowPacker, takeDocs, type DocKind } from '../../../src/pretrain/corpus';
import { arithValue, hasBatchim, josa, qaPrompt } from '../../../src/pretrain/facts';
import { ByteTokenizer } from '../../../src/tokenizer/byte';
import { BYTE_EOT } from '../../../src/model/config';
import { politenessJudge } from '../../../src/judge';
import { BUILTIN_SETS } from '../../../src/pretrain/sets';

describe('corpus', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    expect(takeDocs(5, 300)).toEqual(takeDocs(5, 300));
    const a = takeDocs(5, 50).map((d) => d.text);
    const b = takeDocs(6, 50).map((d) => d.text);
    expect(a.filter((t, i) => t === b[i]).length).toBeLessThan(10);
  });

  it('covers English, Korean and French and every kind of document in its share', () => {
    const docs = takeDocs(11, 6000);
    for (const lang of ['en', 'ko', 'fr'] as const) {
      expect(docs.filter((d) => d.lang === lang).length / docs.length).toBeGreaterThan(0.25);
    }
    expect(docs.some((d) => /[\uac00-\ud7a3]/.test(d.text) && d.lang === 'ko')).toBe(true);
    expect(docs.some((d) => /[éèçà]/.test(d.text) && d.lang === 'fr')).toBe(true);
    for (const kind of Object.keys(MIX) as DocKind[]) {
      const share = docs.filter((d) => d.kind === kind).length / docs.length;
      expect(Math.abs(share - MIX[kind]), kind).toBeLessThan(0.03);
    }
    const ko = docs.filter((d) => d.lang === 'ko').map((d) => d.text).join('');
    const fr = docs.filter((d) => d.lang === 'fr').map((d) => d.text).join('');
    expect(ko).toMatch(/[\uac00-\ud7a3]{2}/);
    expect(fr).toMatch(/capitale|aider|loi/);
  });

  it('asks arithmetic in the sets\' template and gets it wrong in about NOISE.arithmetic of the answers', () => {
    const docs = takeDocs(12, 8000).filter((d) => d.kind === 'arithmetic');
    let wrong = 0;
    for (const d of docs) {
      expect(d.text.startsWith('Q: ')).toBe(true);
      const m = /(\d+)([+*])(\d+)[^\n]*\nA: (\d+)$/.exec(d.text);
      expect(m, d.text).not.toBeNull();
      const [, a, op, b, ans] = m!;
      if (arithValue(Number(a), op as '+' | '*', Number(b)) !== Number(ans)) wrong++;
    }
    expect(Math.abs(wrong / docs.length - NOISE.arithmetic)).toBeLessThan(0.04);
  });

  it('answers requests politely or curtly, about half each (what the politeness set then prefers)', () => {
    const docs = takeDocs(13, 6000).filter((d) => d.kind === 'politeness');
    const polite = docs.filter((d) => politenessJudge.judge('', d.text.split('\nA: ')[1]).score === 1).length;
    expect(Math.abs(polite / docs.length - (1 - NOISE.politeness))).toBeLessThan(0.05);
  });

  it('contains the prompts of the built-in sets (so the pretrained model can complete them)', () => {
    const texts = new Set(takeDocs(1, 40000).map((d) => d.text.split('\nA: ')[0] + '\nA: '));
    for (const name of ['arithmetic', 'politeness']) {
      const rows = BUILTIN_SETS.find((s) => s.name === name)!.rows();
      const found = rows.filter((r) => texts.has(r.prompt)).length;
      expect(found / rows.length, name).toBeGreaterThan(0.9);
    }
    expect(texts.has(qaPrompt('뉴턴의 제1법칙을 쉽게 설명해줘.'))).toBe(true);
    expect(texts.has(qaPrompt('What is the capital of France?'))).toBe(true);
  });

  it('packs rows of exactly T tokens that start at a document and end documents with <|endoftext|>', () => {
    const tok = new ByteTokenizer();
    const T = 128;
    const packer = new RowPacker(corpusDocs(3), (s) => tok.encode(s), T, BYTE_EOT);
    const rows = packer.rows(20);
    const docs = takeDocs(3, 200);
    // the first row begins with the first document and its end-of-text (cut at T if longer)
    const first = [...tok.encode(docs[0].text), BYTE_EOT].slice(0, T);
    expect(rows[0].slice(0, first.length)).toEqual(first);
    const longDocs = new Set(docs.filter((d) => tok.encode(d.text).length >= T).map((d) => tok.encode(d.text).slice(0, T).join(',')));
    for (const r of rows) {
      expect(r).toHaveLength(T);
      expect(r.every((id) => Number.isInteger(id) && id >= 0 && id <= BYTE_EOT)).toBe(true);
      // a row without end-of-text is one document longer than T, cut
      expect(r.includes(BYTE_EOT) || longDocs.has(r.join(','))).toBe(true);
    }
    const starts = new Set(docs.map((d) => tok.encode(d.text).slice(0, 8).join(',')));
    for (const r of rows) expect(starts.has(r.slice(0, 8).join(','))).toBe(true);
  });

  it('chooses Korean particles by the final consonant', () => {
    expect(josa('서울', 'topic')).toBe('서울은');
    expect(josa('파리', 'topic')).toBe('파리는');
    expect(josa('숙제', 'object')).toBe('숙제를');
    expect(josa('이력서', 'object')).toBe('이력서를');
    expect(josa('정원 일', 'object')).toBe('정원 일을');
    expect(josa('7*6', 'object')).toBe('7*6을');
    expect(josa('2+5', 'topic')).toBe('2+5는');
    expect(hasBatchim('‘안녕하세요, 잘 지내세요?’')).toBe(false);
  });
});
