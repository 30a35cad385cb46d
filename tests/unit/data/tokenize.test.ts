// Token ids as trained on: EOT appended to string completions, prompt cut from the left,
// completions from the right; the report's truncation counts; the tokenizer loader.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ByteTokenizer, byteLevelTokenizerJson, bytesToUnicode, EOT_TEXT } from '../../../src/tokenizer/byte';
import { loadTokenizerFromFiles } from '../../../src/tokenizer/load';
import { planTruncation, resolveTruncation, tokenizeExample, utf8Length, measureExample, exampleLength } from '../../../src/data/tokenize';
import { processText } from '../../../src/data/pipeline';
import type { PreferencePair, TokenizedPair } from '../../../src/data/types';

const byte = new ByteTokenizer();
const EOT = byte.eosTokenId;
const TEXTS = ['서울은 한국의 수도입니다.', "L'élève a répondu « très bien ».", 'ok 👍🏽! 🇰🇷', 'plain ascii', ''];

/** Any UTF-16 code units: lone surrogates, pairs, BMP and ASCII. */
const utf16 = fc.array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff })), { maxLength: 40 }).map((cs) => String.fromCharCode(...cs));

const pair = (prompt: string, chosen: string, rejected: string): PreferencePair => ({ kind: 'pair', prompt, chosen, rejected, appendEos: true, line: 1, index: 0 });

describe('tokenizeExample', () => {
  it('appends end-of-text to string completions and keeps everything when it fits', () => {
    const { ids, plan } = tokenizeExample(pair('Q?', 'é', 'no'), byte, resolveTruncation());
    expect(ids).toMatchObject({ promptIds: [81, 63], chosenIds: [0xc3, 0xa9, EOT], rejectedIds: [110, 111, EOT] });
    expect(plan.promptCut || plan.completionCut).toBe(false);
  });

  it('cuts the prompt from the left, then completions from the right to fit max_length', () => {
    const t = { maxLength: 7, maxPromptLength: 4, maxCompletionLength: null };
    const { ids, plan } = tokenizeExample(pair('0123456789', 'abcdef', 'xy'), byte, t);
    const p = ids as TokenizedPair;
    expect(p.promptIds).toEqual([...'6789'].map((c) => c.charCodeAt(0)));
    expect(p.chosenIds).toEqual([97, 98, 99]); // EOT cut with the tail
    expect(p.rejectedIds).toEqual([120, 121, EOT]);
    expect(plan).toMatchObject({ promptCut: true, completionCut: true, emptied: -1 });
    expect(exampleLength(p)).toBe(7);
  });

  it('max_completion_length caps completions on top of max_length', () => {
    const { ids } = tokenizeExample(pair('p', 'abcdef', 'x'), byte, { maxLength: 100, maxPromptLength: 50, maxCompletionLength: 2 });
    expect((ids as TokenizedPair).chosenIds).toEqual([97, 98]);
    expect((ids as TokenizedPair).rejectedIds).toEqual([120, EOT]);
  });

  it('plans: a prompt that fills max_length leaves no completion token', () => {
    expect(planTruncation(10, [3, 3], { maxLength: 8, maxPromptLength: 8, maxCompletionLength: null }).emptied).toBe(0);
    expect(planTruncation(5, [3, 1], { maxLength: 8, maxPromptLength: 8, maxCompletionLength: null })).toMatchObject({ completions: [3, 1], emptied: -1, completionCut: false });
  });

  it('byte token counts without allocation equal the encoder on any string (lone surrogates too)', () => {
    fc.assert(
      fc.property(utf16, (s) => utf8Length(s) === byte.encode(s).length),
    );
    for (const s of TEXTS) expect(measureExample(pair(s, s + 'a', 'b'), byte)).toEqual(tokenizeExample(pair(s, s + 'a', 'b'), byte, resolveTruncation()).lengths);
  });

  it('rejects bad limits', () => {
    expect(() => resolveTruncation({ maxLength: 0 })).toThrow(/maxLength/);
  });
});

describe('validation report: truncation counts', () => {
  it('counts truncated examples and rejects rows with nothing left, by line', async () => {
    const rows = [
      { prompt: 'short', chosen: 'yes', rejected: 'no' }, // fits
      { prompt: 'x'.repeat(30), chosen: 'yes', rejected: 'no' }, // prompt cut to 8
      { prompt: 'p', chosen: 'y'.repeat(40), rejected: 'no' }, // chosen cut
      { prompt: 'p', chosen: 'same-long-prefix-aaaaaaaaaaaaa', rejected: 'same-long-prefix-bbbbbbbbbbbbb' }, // both cut, identical once cut
    ];
    const text = rows.map((r) => JSON.stringify(r)).join('\n');
    const { report, tokenized } = await processText(text, { maxLength: 16, maxPromptLength: 8, tokenize: true });
    expect(report.accepted).toBe(4);
    expect(report.truncated).toBe(3);
    expect(report.truncation).toMatchObject({ maxLength: 16, maxPromptLength: 8, prompt: 1, completion: 2, dropped: 0 });
    expect(report.warningCounts['identical-after-truncation']).toBe(1);
    for (const t of tokenized as TokenizedPair[]) {
      expect(t.promptIds.length).toBeLessThanOrEqual(8);
      expect(t.promptIds.length + Math.max(t.chosenIds.length, t.rejectedIds.length)).toBeLessThanOrEqual(16);
    }
    expect((tokenized[1] as TokenizedPair).promptIds).toEqual(Array(8).fill(120));

    const dropped = await processText(JSON.stringify({ prompt: 'long prompt here', chosen: 'a', rejected: 'b' }), { maxLength: 8, maxPromptLength: 8 });
    expect(dropped.report.accepted).toBe(0);
    expect(dropped.report.rejected).toEqual([expect.objectContaining({ line: 1, code: 'truncated-away', field: 'chosen' })]);
    expect(dropped.report.truncation.dropped).toBe(1);
  });
});

describe('loadTokenizerFromFiles', () => {
  it("byteLevelTokenizerJson() loads through @huggingface/tokenizers with ByteTokenizer's ids", async () => {
    const tok = await loadTokenizerFromFiles({ tokenizerJson: JSON.stringify(byteLevelTokenizerJson()) });
    expect(tok.kind).toBe('hf');
    expect([tok.vocabSize, tok.eosTokenId, tok.bosTokenId]).toEqual([257, EOT, EOT]);
    for (const s of TEXTS) {
      expect(tok.encode(s)).toEqual(byte.encode(s));
      expect(tok.decode(tok.encode(s))).toBe(s);
    }
    expect(tok.decode([EOT])).toBe(EOT_TEXT);
  });

  it('vocab.json + merges.txt (GPT-2 style) equals the same tokenizer.json, with config eos/bos/chat_template', async () => {
    const chars = bytesToUnicode();
    const vocab: Record<string, number> = {};
    chars.forEach((c, b) => (vocab[c] = b));
    Object.assign(vocab, { he: 256, ll: 257, hell: 258, 'Ġw': 259, [EOT_TEXT]: 260, '<s>': 261 });
    const merges = '#version: 0.2\nh e\nl l\nhe ll\nĠ w\n';
    const config = JSON.stringify({ eos_token: { content: EOT_TEXT }, bos_token: '<s>', chat_template: '{{ messages[0].content }}' });
    const tok = await loadTokenizerFromFiles({ vocabJson: JSON.stringify(vocab), mergesTxt: merges, tokenizerConfigJson: config });
    expect(tok.encode('hello world')).toEqual([258, 111, 259, 111, 114, 108, 100]);
    expect(tok.decode([258, 111, 259, 111, 114, 108, 100])).toBe('hello world');
    expect([tok.eosTokenId, tok.bosTokenId, tok.vocabSize, tok.chatTemplate]).toEqual([260, 261, 262, '{{ messages[0].content }}']);
    expect(tok.encode(`a${EOT_TEXT}`)).toEqual([97, 260]);
  });

  it('names the file at fault', async () => {
    await expect(loadTokenizerFromFiles({})).rejects.toThrow(/tokenizer\.json/);
    await expect(loadTokenizerFromFiles({ tokenizerJson: '{oops' })).rejects.toThrow(/tokenizer\.json: invalid JSON/);
    const tj = JSON.stringify(byteLevelTokenizerJson());
    await expect(loadTokenizerFromFiles({ tokenizerJson: tj, tokenizerConfigJson: '{"eos_token": "</s>"}' })).rejects.toThrow(/eos_token "<\/s>" is not in the vocabulary/);
  });

  it('renders conversational rows with the chat template (no EOT appended: the template closes turns)', async () => {
    const template = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{{ eos_token }}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
    const tok = await loadTokenizerFromFiles({ tokenizerJson: JSON.stringify(byteLevelTokenizerJson()), tokenizerConfigJson: JSON.stringify({ chat_template: template }) });
    const row = { prompt: [{ role: 'user', content: '안녕?' }], chosen: [{ role: 'assistant', content: 'Salut 👋' }], rejected: [{ role: 'assistant', content: 'non' }] };
    const { report, examples, tokenized } = await processText(JSON.stringify(row), { tokenizer: tok, tokenize: true });
    expect(report.template).toBe('chat-template');
    expect(examples[0]).toMatchObject({ prompt: '<|user|>안녕?<|endoftext|><|assistant|>', chosen: 'Salut 👋<|endoftext|>', appendEos: false });
    const t = tokenized[0] as TokenizedPair;
    expect(t.chosenIds.at(-1)).toBe(EOT); // the template's eos_token, encoded as the special token
    expect(t.chosenIds.filter((i) => i === EOT)).toHaveLength(1);
  });
});
