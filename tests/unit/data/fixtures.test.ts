// Every fixture format end to end (file stream -> report): accepted counts, and every rejected
// row by line, field and code — the same numbers the CLI prints.
import { describe, it, expect } from 'vitest';
import { createReadStream } from 'node:fs';
import { processSource } from '../../../src/data/pipeline';
import type { Example, ValidationReport } from '../../../src/data/types';

const dir = 'tests/fixtures/data';

async function run(file: string, opts = {}): Promise<{ report: ValidationReport; examples: Example[] }> {
  const examples: Example[] = [];
  const report = await processSource(createReadStream(`${dir}/${file}`, { highWaterMark: 64 }), { name: file, ...opts }, { onExample: (ex) => void examples.push(ex) });
  expect(report.rows).toBe(report.accepted + report.rejectedCount);
  expect(report.rejected.length).toBe(report.rejectedCount);
  return { report, examples };
}

const rejections = (r: ValidationReport) => r.rejected.map((x) => [x.line, x.field ?? null, x.code]);

describe('fixtures: every format', () => {
  it('standard.jsonl (BOM, CRLF, blank lines, truncated last line): 4 accepted, 7 rejected by line', async () => {
    const { report, examples } = await run('standard.jsonl');
    expect([report.format, report.syntax, report.accepted]).toEqual(['standard', 'jsonl', 4]);
    expect(rejections(report)).toEqual([
      [5, null, 'syntax'],
      [6, 'rejected', 'missing-field'],
      [7, 'chosen', 'wrong-type'],
      [8, 'chosen', 'empty-completion'],
      [9, 'rejected', 'identical'],
      [12, null, 'not-object'],
      [13, null, 'syntax'],
    ]);
    expect(examples.map((e) => e.line)).toEqual([1, 2, 4, 11]);
    // BOM stripped, CRLF stripped, text intact
    expect(examples[0].prompt).toBe('뉴턴의 제1법칙을 쉽게 설명해줘.');
    expect((examples[2] as { chosen: string }).chosen).toBe('Hi 👋🏽!');
    expect(examples[3].prompt).toBe('Où est Séoul ?');
  });

  it('pairs.json (object holding the array, pretty-printed): lines of elements', async () => {
    const { report, examples } = await run('pairs.json');
    expect([report.format, report.syntax, report.accepted]).toEqual(['standard', 'json', 3]);
    expect(rejections(report)).toEqual([
      [11, null, 'syntax'],
      [13, 'prompt', 'wrong-type'],
      [14, null, 'not-object'],
    ]);
    expect(examples.map((e) => e.line)).toEqual([5, 6, 12]);
  });

  it('implicit.json (top-level array): prompt = common prefix', async () => {
    const { report, examples } = await run('implicit.json');
    expect([report.format, report.accepted]).toEqual(['implicit', 2]);
    expect(rejections(report)).toEqual([
      [3, 'rejected', 'identical'],
      [4, 'rejected', 'missing-field'],
    ]);
    expect(examples[0]).toMatchObject({ prompt: 'Q: 2+2? A:', chosen: ' 4', rejected: ' 5' });
    expect(examples[1]).toMatchObject({ prompt: 'Le ciel est', chosen: ' bleu.', rejected: ' vert.' });
  });

  it('standard.csv (CRLF, multi-line quoted cell, short row, broken quote)', async () => {
    const { report, examples } = await run('standard.csv');
    expect([report.format, report.syntax, report.accepted]).toEqual(['standard', 'csv', 4]);
    expect(rejections(report)).toEqual([
      [5, null, 'syntax'],
      [7, null, 'syntax'],
      [9, 'chosen', 'empty-completion'],
    ]);
    expect(examples.map((e) => e.line)).toEqual([2, 4, 6, 8]);
    expect(examples[0]).toMatchObject({ prompt: '뉴턴의 제1법칙을\n쉽게 설명해줘.', chosen: '물체는 "관성"을 가져요.' });
    expect(examples[3]).toMatchObject({ chosen: 'oui, merci' });
  });

  it('standard.tsv', async () => {
    const { report } = await run('standard.tsv');
    expect([report.format, report.syntax, report.accepted]).toEqual(['standard', 'tsv', 3]);
    expect(rejections(report)).toEqual([[4, 'rejected', 'identical']]);
    expect(report.warningCounts['empty-prompt']).toBe(1);
  });

  it('seed000.yaml (top-level pairs: list): the three seed pairs, broken items by line', async () => {
    const { report, examples } = await run('seed000.yaml');
    expect([report.format, report.syntax, report.accepted]).toEqual(['standard', 'yaml', 3]);
    expect(rejections(report)).toEqual([
      [15, null, 'syntax'],
      [19, 'chosen', 'wrong-type'],
      [23, 'rejected', 'missing-field'],
    ]);
    expect(examples.map((e) => e.line)).toEqual([3, 7, 11]);
    expect(examples[1]).toMatchObject({ chosen: 'Bonjour, comment ça va?' });
  });

  it('conversational.jsonl: plain template for a model without a chat template', async () => {
    const { report, examples } = await run('conversational.jsonl');
    expect([report.format, report.template, report.accepted]).toEqual(['conversational', 'plain', 2]);
    expect(rejections(report)).toEqual([
      [3, 'chosen[0].content', 'wrong-type'],
      [4, 'chosen', 'wrong-type'],
      [5, 'chosen', 'empty-completion'],
    ]);
    expect(examples[1]).toMatchObject({ prompt: 'System: Réponds en français.\nUser: Bonjour\nAssistant: ', chosen: 'Bonjour ! 😊', appendEos: true });
    expect((examples[1] as { messages?: unknown }).messages).toBeDefined();
  });

  it('conversational-implicit.jsonl: prompt = common leading messages', async () => {
    const { report, examples } = await run('conversational-implicit.jsonl');
    expect([report.format, report.accepted]).toEqual(['conversational', 1]);
    expect(rejections(report)).toEqual([[2, 'rejected', 'identical']]);
    expect(examples[0]).toMatchObject({ prompt: 'User: 안녕?\nAssistant: ', chosen: '안녕하세요!', rejected: '뭐?' });
  });

  it('hh-rlhf.jsonl: prompt up to the last Assistant turn', async () => {
    const { report, examples } = await run('hh-rlhf.jsonl');
    expect([report.format, report.accepted]).toEqual(['hh-rlhf', 2]);
    expect(rejections(report)).toEqual([[3, 'rejected', 'identical']]);
    expect(examples[0]).toMatchObject({ prompt: '\n\nHuman: What is a good name for a cat?\n\nAssistant:', chosen: ' How about Mochi?', rejected: " I don't know." });
    expect(examples[1].prompt.endsWith('Say it in Korean\n\nAssistant:')).toBe(true);
  });

  it('ultrafeedback.jsonl: the repeated user turn is the prompt; scores kept', async () => {
    const { report, examples } = await run('ultrafeedback.jsonl');
    expect([report.format, report.accepted]).toEqual(['ultrafeedback', 2]);
    expect(rejections(report)).toEqual([[3, 'chosen', 'empty-completion']]);
    expect(examples[0]).toMatchObject({ prompt: 'User: Explain gravity in one line.\nAssistant: ', chosen: 'Masses attract each other.', scoreChosen: 9, scoreRejected: 4 });
    expect(report.warningCounts['tied-scores']).toBe(1);
  });

  it('orca.json (JSON Lines under a .json name): system + question', async () => {
    const { report, examples } = await run('orca.json');
    expect([report.format, report.syntax, report.accepted]).toEqual(['orca', 'jsonl', 2]);
    expect(rejections(report)).toEqual([[3, 'question', 'missing-field']]);
    expect(examples[0].prompt).toBe('System: You are a helpful assistant.\nUser: What is 2+2?\nAssistant: ');
    expect(examples[1].prompt).toBe('User: Traduire « chat » en coréen.\nAssistant: ');
  });

  it('kto.jsonl and kto.csv: unpaired examples with labels', async () => {
    const j = await run('kto.jsonl');
    expect([j.report.format, j.report.accepted, j.report.labels]).toEqual(['kto', 3, { desirable: 2, undesirable: 1 }]);
    expect(rejections(j.report)).toEqual([
      [4, 'label', 'wrong-type'],
      [5, 'completion', 'empty-completion'],
    ]);
    const c = await run('kto.csv');
    expect([c.report.accepted, c.report.labels]).toEqual([2, { desirable: 1, undesirable: 1 }]);
    expect(rejections(c.report)).toEqual([[4, 'label', 'wrong-type']]);
  });

  it('a manual format override beats detection, but never discards a field', async () => {
    const hh = await run('hh-rlhf.jsonl', { format: 'implicit' });
    expect([hh.report.format, hh.report.shapeSource, hh.report.accepted]).toEqual(['implicit', 'chosen', 2]);
    expect(hh.examples[0].prompt).toBe('\n\nHuman: What is a good name for a cat?\n\nAssistant:');
    // implicit reads no prompt: rows that carry one are rejected, naming the field, not trimmed
    const { report } = await run('standard.tsv', { format: 'implicit' });
    expect([report.format, report.shapeSource, report.accepted]).toEqual(['implicit', 'chosen', 1]);
    expect(rejections(report)).toEqual([
      [2, 'prompt', 'unread-field'],
      [3, 'prompt', 'unread-field'],
      [4, 'rejected', 'identical'],
    ]);
  });
});
