// Prompt-only rows for the online methods (src/data/prompts.ts): strings and message lists are
// accepted and cut from the left; every rejected row names its line, field and reason; a file
// whose first row is a pair is not a prompts file.
import { describe, expect, it } from 'vitest';
import { isPromptRow, processPromptSource, type TokenizedPrompt } from '../../../src/data/prompts';

const enc = new TextEncoder();
async function read(text: string, name = 'p.jsonl', maxPromptLength = 64) {
  const got: Array<TokenizedPrompt & { text: string }> = [];
  const source: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      yield enc.encode(text);
    },
  };
  const report = await processPromptSource(source, { name, maxPromptLength }, (p, t) => got.push({ ...p, text: t }));
  return { report, got };
}

describe('prompt-only rows', () => {
  it('accepts strings (as written) and message lists (rendered as conversational prompts), other fields left alone', async () => {
    const { report, got } = await read(['{"prompt": "Q: What is 2+3?\\nA: ", "answer": 5}', '', '{"prompt": [{"role": "user", "content": "What is 6+1?"}]}'].join('\n'));
    expect(report.firstRow).toBe('prompt');
    expect(report.summary).toBe('2 of 2 rows accepted');
    expect(got.map((p) => [p.line, p.index, p.text])).toEqual([
      [1, 0, 'Q: What is 2+3?\nA: '],
      [3, 1, 'User: What is 6+1?\nAssistant: '],
    ]);
    expect(got[0].promptIds).toEqual([...enc.encode('Q: What is 2+3?\nA: ')]);
  });

  it('rejects bad rows by line and field, and keeps reading', async () => {
    const rows = ['{"prompt": "a"}', '{"prompt": 5}', '{"prompt": "b", "chosen": "c", "rejected": "d"}', '[1]', '{oops', '{"text": "x"}', '{"prompt": [{"role": "user", "content": 3}]}', '{"prompt": []}', '{"prompt": "ok"}'];
    const { report, got } = await read(rows.join('\n'));
    expect(got.map((p) => p.line)).toEqual([1, 9]);
    expect(report.rows).toBe(9);
    expect(report.rejectedCount).toBe(7);
    expect(report.rejected.map((r) => [r.line, r.code, r.field])).toEqual([
      [2, 'wrong-type', 'prompt'],
      [3, 'mixed-format', 'chosen'],
      [4, 'not-object', undefined],
      [5, 'syntax', undefined],
      [6, 'missing-field', 'prompt'],
      [7, 'wrong-type', 'prompt[0].content'],
      [8, 'missing-field', 'prompt'],
    ]);
    expect(report.rejected[0].reason).toMatch(/prompt must be a string or a list of \{role, content\} messages, got number/);
    expect(report.rejected[1].reason).toMatch(/another format's field/);
  });

  it('cuts long prompts from the left and counts them', async () => {
    const { report, got } = await read('{"prompt": "0123456789"}\n{"prompt": "abc"}\n', 'p.jsonl', 4);
    expect(got.map((p) => new TextDecoder().decode(new Uint8Array(p.promptIds)))).toEqual(['6789', 'abc']);
    expect(report.truncated).toBe(1);
  });

  it('reads CSV with a prompt column and YAML lists', async () => {
    expect((await read('prompt,id\nhello,1\n"a, b",2\n', 'p.csv')).got.map((p) => p.text)).toEqual(['hello', 'a, b']);
    expect((await read('- prompt: hi\n- prompt: there\n', 'p.yaml')).got.map((p) => p.text)).toEqual(['hi', 'there']);
  });

  it('a pairs or KTO file is not a prompts file: nothing past its first row is read', async () => {
    for (const first of ['{"prompt": "p", "chosen": "a", "rejected": "b"}', '{"prompt": "p", "completion": "a", "label": true}', '{"chosen": "a", "rejected": "b"}']) {
      const { report, got } = await read(`${first}\n{"prompt": "x"}\n`);
      expect(report.firstRow).toBe('other');
      expect(got).toEqual([]);
      expect(report.rows).toBe(1);
    }
    expect(isPromptRow({ prompt: 'x', chosen: null })).toBe(true);
    expect(isPromptRow({ prompt: 'x', label: false })).toBe(false);
  });
});
