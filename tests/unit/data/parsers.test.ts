// Syntax layer: lines, decoding, and the record parsers, whatever the chunk boundaries.
import { describe, it, expect } from 'vitest';
import { ChunkDecoder, LineSplitter } from '../../../src/data/text-stream';
import { jsonlParser, jsonParser, type RawRecord, type RecordParser, type ParserContext } from '../../../src/data/records';
import { csvParser } from '../../../src/data/csv';
import { yamlParser } from '../../../src/data/yaml';
import { sniffSyntax, processText } from '../../../src/data/pipeline';
import type { RowWarning } from '../../../src/data/types';

function lines(chunks: string[]): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  const s = new LineSplitter();
  for (const c of chunks) s.push(c, (t, n) => out.push([t, n]));
  s.end((t, n) => out.push([t, n]));
  return out;
}

/** Every way of cutting `text` into chunks of `size` characters gives the same records. */
function parse(make: (ctx: ParserContext) => RecordParser, text: string, size = text.length): { records: RawRecord[]; warnings: RowWarning[] } {
  const records: RawRecord[] = [];
  const warnings: RowWarning[] = [];
  const p = make({ emit: (r) => records.push(r), warn: (w) => warnings.push(w) });
  for (let i = 0; i < text.length; i += Math.max(1, size)) p.push(text.slice(i, i + Math.max(1, size)));
  p.end();
  return { records, warnings };
}

function chunkInvariant(make: (ctx: ParserContext) => RecordParser, text: string) {
  const whole = parse(make, text);
  for (const size of [1, 2, 3, 7, 64]) expect(parse(make, text, size)).toEqual(whole);
  return whole;
}

describe('LineSplitter', () => {
  it('handles CRLF split across chunks, blank lines and a last line without newline', () => {
    const text = 'a\r\n\r\nbé\r\n\nlast';
    const expected = [['a', 1], ['', 2], ['bé', 3], ['', 4], ['last', 5]];
    expect(lines([text])).toEqual(expected);
    for (let cut = 0; cut <= text.length; cut++) expect(lines([text.slice(0, cut), text.slice(cut)])).toEqual(expected);
    expect(lines(['x\n'])).toEqual([['x', 1]]);
    expect(lines([])).toEqual([]);
  });
});

describe('ChunkDecoder', () => {
  it('drops a UTF-8 BOM and joins characters split across chunks', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('한😀é')]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new ChunkDecoder();
      expect(d.decode(bytes.subarray(0, cut)) + d.decode(bytes.subarray(cut)) + d.end()).toBe('한😀é');
    }
  });

  it('decodes UTF-16 LE files by their BOM', async () => {
    const s = '{"prompt":"안녕","chosen":"a","rejected":"b"}\n';
    const bytes = new Uint8Array(2 + s.length * 2);
    bytes.set([0xff, 0xfe]);
    for (let i = 0; i < s.length; i++) new DataView(bytes.buffer).setUint16(2 + 2 * i, s.charCodeAt(i), true);
    const d = new ChunkDecoder();
    expect(d.decode(bytes) + d.end()).toBe(s);
  });
});

describe('JSON Lines', () => {
  it('one record per non-blank line, syntax errors by line', () => {
    const { records } = chunkInvariant(jsonlParser, '{"a":1}\n\n  \n{"a":}\r\n[1]\n{"a":"x\\ny"}');
    expect(records).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 4, error: expect.stringMatching(/^invalid JSON: /) },
      { line: 5, value: [1] },
      { line: 6, value: { a: 'x\ny' } },
    ]);
  });
});

describe('JSON (streamed array elements)', () => {
  it('a top-level array: element lines, brackets and quotes inside strings, nested values', () => {
    const text = '[\n {"p": "a ] , [ \\" }", "n": [1, [2]]},\n\n {"p": "b"}, 3,\n "s"\n]\n';
    const { records } = chunkInvariant(jsonParser, text);
    expect(records).toEqual([
      { line: 2, value: { p: 'a ] , [ " }', n: [1, [2]] } },
      { line: 4, value: { p: 'b' } },
      { line: 4, value: 3 },
      { line: 5, value: 's' },
    ]);
  });

  it('an object holding the rows: `pairs` is read, other arrays of objects are reported', () => {
    const text = '{"meta": {"rows": [1]}, "tags": ["x"], "pairs": [{"a": 1}, {"a": 2}], "test": [{"b": 1}]}';
    const { records, warnings } = chunkInvariant(jsonParser, text);
    expect(records.map((r) => r.value)).toEqual([{ a: 1 }, { a: 2 }]);
    expect(warnings).toEqual([expect.objectContaining({ code: 'ignored-array', message: expect.stringContaining('"test"') })]);
  });

  it('a broken element is one rejected record; the file ending early is reported', () => {
    const { records } = chunkInvariant(jsonParser, '[{"a": 1}, {"a": 2 "b": 3},\n{"a": 4}, {"a": "unterminat');
    expect(records.map((r) => [r.line, r.value ?? null, Boolean(r.error)])).toEqual([
      [1, { a: 1 }, false],
      [1, null, true],
      [2, { a: 4 }, false],
      [2, null, true],
    ]);
    expect(parse(jsonParser, '[{"a": 1},\n').records.at(-1)).toEqual({ line: 2, error: expect.stringMatching(/ends before its closing bracket/) });
  });

  it('reports content after the value, a scalar file and an object with no rows', () => {
    expect(parse(jsonParser, '[{"a":1}] x').records[1].error).toMatch(/after the end/);
    expect(parse(jsonParser, '42').records).toEqual([{ line: 1, error: expect.stringMatching(/array of rows/) }]);
    expect(parse(jsonParser, '{"a": 1}').records).toEqual([{ line: 1, error: expect.stringMatching(/no array of rows/) }]);
    expect(parse(jsonParser, '[]').records).toEqual([]);
  });
});

describe('CSV / TSV', () => {
  const csv = (ctx: ParserContext) => csvParser(ctx, ',');
  it('header, quoted cells across lines, escaped quotes, blank lines', () => {
    const { records } = chunkInvariant(csv, 'prompt,chosen\r\n"a\r\nb","x ""y"", z"\r\n\r\nc,d\r\n');
    expect(records).toEqual([
      { line: 2, value: { prompt: 'a\nb', chosen: 'x "y", z' }, textual: true },
      { line: 5, value: { prompt: 'c', chosen: 'd' }, textual: true },
    ]);
  });

  it('a quote that never closes rejects its own record and reading resumes on the next line', () => {
    const { records } = chunkInvariant(csv, 'p,c\n"open,x\nok,1\nfine,2');
    expect(records.map((r) => [r.line, r.value ?? r.error])).toEqual([
      [2, expect.stringMatching(/never closed/)],
      [3, { p: 'ok', c: '1' }],
      [4, { p: 'fine', c: '2' }],
    ]);
  });

  it('wrong field counts and malformed quotes are rejected by line; a quote inside a cell is literal', () => {
    const { records } = parse(csv, 'p,c\na,b,c\n"a"x,b\nsay "hi",ok\n');
    expect(records.map((r) => [r.line, r.value ?? r.error])).toEqual([
      [2, expect.stringMatching(/3 fields where the header \(line 1\) has 2/)],
      [3, expect.stringMatching(/^invalid CSV/)],
      [4, { p: 'say "hi"', c: 'ok' }],
    ]);
  });

  it('TSV', () => {
    expect(parse((c) => csvParser(c, '\t'), 'p\tc\na, b\tc, d\n').records).toEqual([{ line: 2, value: { p: 'a, b', c: 'c, d' }, textual: true }]);
  });
});

describe('YAML', () => {
  it('a top-level list, flow style and anchors parse whole', () => {
    expect(parse(yamlParser, '- {prompt: a, chosen: b, rejected: c}\n- prompt: d\n  chosen: e\n  rejected: f\n').records).toEqual([
      { line: 1, value: { prompt: 'a', chosen: 'b', rejected: 'c' } },
      { line: 2, value: { prompt: 'd', chosen: 'e', rejected: 'f' } },
    ]);
    const anchors = 'defaults: &d {prompt: shared}\npairs:\n  - {<<: *d, chosen: x, rejected: y}\n';
    expect(parse(yamlParser, anchors).records.map((r) => r.value)).toEqual([{ prompt: 'shared', chosen: 'x', rejected: 'y' }]);
  });

  it('an error rejects only its item', () => {
    const text = 'pairs:\n- prompt: a\n  chosen: [1, 2\n  rejected: c\n- prompt: ok\n  chosen: b\n  rejected: "c"\n';
    const { records } = parse(yamlParser, text);
    expect(records.map((r) => [r.line, r.value ?? r.error])).toEqual([
      [2, expect.stringMatching(/^invalid YAML/)],
      [5, { prompt: 'ok', chosen: 'b', rejected: 'c' }],
    ]);
  });

  it('a document with no list of rows is reported', () => {
    expect(parse(yamlParser, 'a: 1\n').records).toEqual([{ line: 1, error: expect.stringMatching(/no list of rows/) }]);
  });
});

describe('syntax sniffing', () => {
  it('by extension, then by content', () => {
    expect(sniffSyntax('x.JSONL', '[')).toBe('jsonl');
    expect(sniffSyntax('x.json', '{"a": 1}\n{"a": 2}')).toBe('jsonl'); // datasets.to_json writes JSON Lines
    expect(sniffSyntax('x.json', '{\n "pairs": [')).toBe('json');
    expect(sniffSyntax(undefined, '\n  [')).toBe('json');
    expect(sniffSyntax(undefined, '{"a": broken\n')).toBe('jsonl');
    expect(sniffSyntax(undefined, '# comment\npairs:\n')).toBe('yaml');
    expect(sniffSyntax(undefined, 'prompt\tchosen\trejected\n')).toBe('tsv');
    expect(sniffSyntax(undefined, 'prompt,chosen,rejected\n')).toBe('csv');
    expect(() => sniffSyntax(undefined, 'hello\n')).toThrow(/cannot tell/);
  });

  it('an empty file is a report with no rows, not a crash', async () => {
    const { report } = await processText('\n\n', { name: 'empty.jsonl' });
    expect([report.rows, report.accepted, report.format]).toEqual([0, 0, null]);
  });
});
