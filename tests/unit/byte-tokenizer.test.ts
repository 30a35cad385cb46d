import { describe, it, expect } from 'vitest';
import { ByteTokenizer, bytesToUnicode, EOT_TEXT } from '../../src/tokenizer/byte';

describe('byte tokenizer', () => {
  const tok = new ByteTokenizer();
  it('round-trips Korean, French and emoji through UTF-8 bytes', () => {
    for (const s of ['서울은 한국의 수도입니다.', "L'élève a répondu « très bien ».", 'ok 👍🏽!', '']) {
      const ids = tok.encode(s);
      expect(ids.length).toBe(new TextEncoder().encode(s).length);
      expect(ids.every((i) => i >= 0 && i < 256)).toBe(true);
      expect(tok.decode(ids)).toBe(s);
    }
  });
  it('renders end-of-text and rejects ids outside the vocabulary', () => {
    expect(tok.decode([...tok.encode('hi'), tok.eosTokenId])).toBe(`hi${EOT_TEXT}`);
    expect(() => tok.decode([257])).toThrow(/257/);
  });
  it('byte-to-unicode map is a bijection onto printable characters', () => {
    const m = bytesToUnicode();
    expect(new Set(m).size).toBe(256);
    expect(m['A'.charCodeAt(0)]).toBe('A');
    expect(m[32]).toBe('Ġ'); // GPT-2's space
  });
});
