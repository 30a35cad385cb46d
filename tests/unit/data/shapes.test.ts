// Row shapes: detection, normalization (prompt extraction per shape) and per-row reasons.
import { describe, it, expect } from 'vitest';
import { detectShape, normalizeRow, RowError, splitCommonPrefix } from '../../../src/data/shapes';
import { processText } from '../../../src/data/pipeline';

const msgs = (...pairs: Array<[string, string]>) => pairs.map(([role, content]) => ({ role, content }));

describe('detectShape', () => {
  it('one shape per layout', () => {
    expect(detectShape({ prompt: 'p', chosen: 'c', rejected: 'r' })).toBe('standard');
    expect(detectShape({ chosen: 'c', rejected: 'r' })).toBe('implicit');
    expect(detectShape({ chosen: '\n\nHuman: a\n\nAssistant: b', rejected: '\n\nHuman: a\n\nAssistant: c' })).toBe('hh-rlhf');
    expect(detectShape({ prompt: msgs(['user', 'q']), chosen: msgs(['assistant', 'a']), rejected: msgs(['assistant', 'b']) })).toBe('conversational');
    expect(detectShape({ chosen: msgs(['user', 'q'], ['assistant', 'a']), rejected: msgs(['user', 'q'], ['assistant', 'b']) })).toBe('conversational');
    expect(detectShape({ prompt: 'q', chosen: msgs(['user', 'q'], ['assistant', 'a']), rejected: msgs(['user', 'q'], ['assistant', 'b']), score_chosen: 8 })).toBe('ultrafeedback');
    expect(detectShape({ system: '', question: 'q', chosen: 'a', rejected: 'b' })).toBe('orca');
    expect(detectShape({ prompt: 'q', completion: 'a', label: true })).toBe('kto');
    expect(detectShape({ text: 'q' })).toBeNull();
  });
});

describe('splitCommonPrefix (implicit prompt, TRL extract_prompt)', () => {
  it('leaves the space before the divergence in the completions', () => {
    const c = 'The sky is blue';
    expect(c.slice(0, splitCommonPrefix(c, 'The sky is green'))).toBe('The sky is');
  });
  it('keeps at least one character in each completion and never splits an emoji', () => {
    expect(splitCommonPrefix('abc', 'abcdef')).toBe(2);
    expect(splitCommonPrefix('ok 😀', 'ok 😁')).toBe(2); // "ok", then " 😀" / " 😁"
    expect(splitCommonPrefix('서울 a', '서울 b')).toBe(2);
  });
});

describe('normalizeRow', () => {
  it('HH-RLHF: transcripts that differ before the last turn split at the last shared Assistant marker', () => {
    const n = normalizeRow({ chosen: '\n\nHuman: a\n\nAssistant: b\n\nHuman: c\n\nAssistant: d', rejected: '\n\nHuman: a\n\nAssistant: b\n\nHuman: x\n\nAssistant: y' }, 'hh-rlhf');
    expect(n).toMatchObject({ text: { prompt: '\n\nHuman: a\n\nAssistant:', chosen: ' b\n\nHuman: c\n\nAssistant: d' } });
  });

  it('Orca: an empty system prompt is left out', () => {
    expect(normalizeRow({ system: ' ', question: 'q', chosen: 'a', rejected: 'b' }, 'orca')).toMatchObject({ messages: { prompt: msgs(['user', 'q']) } });
  });

  it('UltraFeedback: a prompt that differs from the repeated user turn is a warning', () => {
    const n = normalizeRow({ prompt: 'other', chosen: msgs(['user', 'q'], ['assistant', 'a']), rejected: msgs(['user', 'q'], ['assistant', 'b']) }, 'ultrafeedback');
    expect(n.warnings.map((w) => w.code)).toEqual(['prompt-mismatch']);
    expect(n).toMatchObject({ messages: { prompt: msgs(['user', 'q']), chosen: msgs(['assistant', 'a']) } });
  });

  it('KTO: message lists and textual labels (CSV only)', () => {
    expect(normalizeRow({ prompt: msgs(['user', 'q']), completion: msgs(['assistant', 'a']), label: false }, 'kto')).toMatchObject({ kind: 'unpaired', label: false });
    expect(normalizeRow({ prompt: 'q', completion: 'a', label: 'TRUE' }, 'kto', true)).toMatchObject({ label: true });
    expect(() => normalizeRow({ prompt: 'q', completion: 'a', label: 'TRUE' }, 'kto', false)).toThrow(RowError);
  });

  it('names the field and the reason', () => {
    const fail = (row: Record<string, unknown>, shape: Parameters<typeof normalizeRow>[1]) => {
      try {
        normalizeRow(row, shape);
      } catch (e) {
        const r = e as RowError;
        return [r.code, r.field, r.reason];
      }
      return null;
    };
    expect(fail({ prompt: 'p', chosen: 'c' }, 'standard')).toEqual(['missing-field', 'rejected', 'missing field "rejected"']);
    expect(fail({ prompt: null, chosen: 'c', rejected: 'r' }, 'standard')).toEqual(['missing-field', 'prompt', 'missing field "prompt"']);
    expect(fail({ prompt: 'p', chosen: ['x'], rejected: 'r' }, 'standard')).toEqual(['wrong-type', 'chosen', '"chosen" must be a string, got a list']);
    expect(fail({ prompt: 'p', chosen: ' \n', rejected: 'r' }, 'standard')).toEqual(['empty-completion', 'chosen', 'completion "chosen" is only whitespace']);
    expect(fail({ prompt: msgs(['user', 'q']), chosen: [{ role: 'assistant' }], rejected: msgs(['assistant', 'b']) }, 'conversational')?.[1]).toBe('chosen[0].content');
    expect(fail({ prompt: msgs(['user', 'q']), chosen: [{ content: 'x' }], rejected: msgs(['assistant', 'b']) }, 'conversational')?.[1]).toBe('chosen[0].role');
    expect(fail({ chosen: 'same', rejected: 'same' }, 'implicit')?.[0]).toBe('identical');
  });
});

describe('shape detection over a file', () => {
  it('the majority shape wins; an implicit row in a standard file gets its common prefix, odd rows are rejected with the reason', async () => {
    const rows = [
      ...Array.from({ length: 5 }, (_, i) => ({ prompt: `p${i}`, chosen: 'a', rejected: 'b' })),
      { chosen: 'Q: a', rejected: 'Q: b' }, // implicit row in a standard file
      { text: 'nothing known' },
    ];
    const { report, examples } = await processText(rows.map((r) => JSON.stringify(r)).join('\n'));
    expect([report.format, report.accepted, report.formats]).toEqual(['standard', 6, { standard: 5, implicit: 1 }]);
    expect(examples[5]).toMatchObject({ prompt: 'Q:', chosen: ' a', rejected: ' b' });
    expect(report.rejected.map((r) => [r.line, r.field, r.code])).toEqual([[7, 'prompt', 'missing-field']]);
  });

  it('no known shape: every row rejected as unrecognized, fields named', async () => {
    const { report } = await processText('{"instruction": "a", "output": "b"}\n{"instruction": "c"}\n');
    expect(report.format).toBeNull();
    expect(report.rejected.map((r) => [r.line, r.code])).toEqual([
      [1, 'unknown-shape'],
      [2, 'unknown-shape'],
    ]);
    expect(report.rejected[0].reason).toMatch(/fields: instruction, output/);
  });

  it('datasets-server rows ({"row": {...}}) are unwrapped', async () => {
    const { report, examples } = await processText(JSON.stringify({ rows: [{ row_idx: 0, row: { prompt: 'p', chosen: 'a', rejected: 'b' }, truncated_cells: [] }] }), { name: 'rows.json' });
    expect(report.accepted).toBe(1);
    expect(examples[0]).toMatchObject({ prompt: 'p', chosen: 'a' });
  });

  it('duplicates, long rows and U+FFFD are warnings with lines, not rejections', async () => {
    const row = JSON.stringify({ prompt: 'p', chosen: 'a', rejected: 'b' });
    const long = JSON.stringify({ prompt: 'p', chosen: 'x'.repeat(100), rejected: 'b' });
    const bad = JSON.stringify({ prompt: 'p\uFFFD', chosen: 'a', rejected: 'c' });
    const { report } = await processText([row, long, row, bad].join('\n'), { maxLength: 20, maxPromptLength: 10 });
    expect(report.accepted).toBe(4);
    expect(report.warnings.map((w) => [w.line, w.code])).toEqual([
      [2, 'long-row'],
      [3, 'duplicate'],
      [4, 'replacement-char'],
    ]);
    expect(report.warnings[1].message).toBe('duplicate of the row on line 1');
  });

  it('caps the listed rows but keeps exact counts', async () => {
    const text = Array.from({ length: 30 }, () => '{"prompt": 1}').join('\n');
    const { report } = await processText(text, { maxReported: 10, format: 'standard' });
    expect([report.rejectedCount, report.rejected.length, report.omitted.rejected]).toEqual([30, 10, 20]);
  });
});
