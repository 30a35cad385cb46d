// 10k-row files in every syntax with bad rows at known lines, read in small chunks; and the
// worker API (the page's entry) on a Blob: progress, preview, token ids, TRL export.
import { describe, it, expect } from 'vitest';
import Papa from 'papaparse';
import { processSource } from '../../../src/data/pipeline';
import { dataWorkerApi } from '../../../src/data/worker-api';
import type { Progress } from '../../../src/data/pipeline';
import type { Syntax, TokenizedPair, ValidationReport } from '../../../src/data/types';
import { byteLevelTokenizerJson } from '../../../src/tokenizer/byte';

const N = 10_000;
const texts = ['서울은 한국의 수도입니다', 'Où est la bibliothèque ?', 'emoji 🎉🙂', 'plain'];
const good = (i: number) => ({ prompt: `${texts[i % 4]} #${i}`, chosen: `oui ${i} 👍`, rejected: `non ${i}` });
/** Every 997th row is bad: chosen identical to rejected. */
const rowAt = (i: number) => (i % 997 === 5 ? { prompt: `p${i}`, chosen: 'same', rejected: 'same' } : good(i));
const badRows = Array.from({ length: N }, (_, i) => i).filter((i) => i % 997 === 5);

function file(syntax: Syntax): { text: string; lineOf: (i: number) => number } {
  const rows = Array.from({ length: N }, (_, i) => rowAt(i));
  switch (syntax) {
    case 'jsonl':
      return { text: rows.map((r) => JSON.stringify(r)).join('\r\n'), lineOf: (i) => i + 1 };
    case 'json':
      return { text: '[\n' + rows.map((r) => ' ' + JSON.stringify(r)).join(',\n') + '\n]\n', lineOf: (i) => i + 2 };
    case 'csv':
      return { text: Papa.unparse(rows), lineOf: (i) => i + 2 };
    case 'tsv':
      return { text: Papa.unparse(rows, { delimiter: '\t' }), lineOf: (i) => i + 2 };
    case 'yaml':
      return { text: 'pairs:\n' + rows.map((r) => `  - prompt: ${JSON.stringify(r.prompt)}\n    chosen: ${JSON.stringify(r.chosen)}\n    rejected: ${JSON.stringify(r.rejected)}\n`).join(''), lineOf: (i) => 2 + 3 * i };
  }
}

async function validateText(text: string, name: string, chunk = 4096): Promise<ValidationReport> {
  const bytes = new TextEncoder().encode(text);
  const source = {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < bytes.length; i += chunk) yield bytes.subarray(i, i + chunk);
    },
  };
  return processSource(source, { name });
}

describe('10k-row files', () => {
  for (const syntax of ['jsonl', 'json', 'csv', 'tsv', 'yaml'] as Syntax[]) {
    it(`${syntax}: ${N - badRows.length} accepted, the ${badRows.length} bad rows by line`, async () => {
      const { text, lineOf } = file(syntax);
      const report = await validateText(text, `big.${syntax}`);
      expect([report.syntax, report.format, report.rows, report.accepted]).toEqual([syntax, 'standard', N, N - badRows.length]);
      expect(report.rejected.map((r) => [r.line, r.code])).toEqual(badRows.map((i) => [lineOf(i), 'identical']));
      expect(report.warnings).toEqual([]);
    }, 30_000);
  }
});

describe('worker API (Blob in, plain results out)', () => {
  const rows = Array.from({ length: 2000 }, (_, i) => rowAt(i));
  const blob = new Blob([rows.map((r) => JSON.stringify(r)).join('\n')]);

  it('validate: report, preview and monotone progress ending at the file size', async () => {
    const seen: Progress[] = [];
    const { report, preview } = await dataWorkerApi.validate(blob, { name: 'x.jsonl', previewRows: 3 }, (p) => void seen.push(p));
    expect([report.accepted, report.rejectedCount]).toEqual([1997, 3]); // rows 5, 1002 and 1999 are bad
    expect(preview.map((e) => e.line)).toEqual([1, 2, 3]);
    expect(seen.at(-1)).toMatchObject({ bytes: blob.size, totalBytes: blob.size, rows: 2000, accepted: 1997 });
    for (let k = 1; k < seen.length; k++) expect(seen[k].bytes).toBeGreaterThanOrEqual(seen[k - 1].bytes);
  });

  it('load: token ids for every accepted pair, with a tokenizer.json from the page', async () => {
    const { report, examples, tokenized } = await dataWorkerApi.load(blob, { name: 'x.jsonl', maxLength: 32, maxPromptLength: 16, tokenizerFiles: { tokenizerJson: JSON.stringify(byteLevelTokenizerJson()) } });
    expect(examples).toHaveLength(report.accepted);
    expect(tokenized).toHaveLength(report.accepted);
    const t = tokenized[0] as TokenizedPair;
    expect(t.promptIds).toEqual(Array.from(new TextEncoder().encode(examples[0].prompt)).slice(-16));
    expect(t.chosenIds.at(-1)).toBe(256);
    expect(report.truncation.prompt).toBeGreaterThan(0);
  });

  it('exportTrl: TRL JSON Lines of the accepted rows', async () => {
    const { report, jsonl } = await dataWorkerApi.exportTrl(blob, { name: 'x.jsonl' });
    const lines = (await jsonl.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(report.accepted);
    expect(JSON.parse(lines[0])).toEqual(good(0));
  });
});
