// Bad input that used to pass silently: rows whose own fields were discarded by format
// detection, tokenizers that encode the data to nothing, a YAML alias bomb that failed without
// naming the file, and the per-pair table's U+FFFD where truncation cut a character in half.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { main } from '../../../src/cli/main';
import { UsageError } from '../../../src/cli/command';
import { loadExamplesFile } from '../../../src/cli/pairs-load';
import { processSource, processText } from '../../../src/data/pipeline';
import { trlRecord } from '../../../src/data/export';
import { tokenizeExample, resolveTruncation } from '../../../src/data/tokenize';
import { DataError, type Example, type PreferencePair, type ValidationReport } from '../../../src/data/types';
import { ByteTokenizer, byteLevelTokenizerJson } from '../../../src/tokenizer/byte';
import { loadTokenizerFromFiles } from '../../../src/tokenizer/load';
import type { Tokenizer } from '../../../src/tokenizer/types';
import { inspect } from '../../../src/worker/inspect';
import { displayText, pairMeta } from '../../../src/worker/pair-table';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = vi.spyOn(console, 'log').mockImplementation((...a) => void out.push(a.join(' ')));
  const error = vi.spyOn(console, 'error').mockImplementation((...a) => void err.push(a.join(' ')));
  try {
    const code = await main(args);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    log.mockRestore();
    error.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

const tmp = () => mkdtempSync(join(tmpdir(), 'prefplay-bad-'));
const jsonl = (...rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const msgs = (...pairs: Array<[string, string]>) => pairs.map(([role, content]) => ({ role, content }));
const rejections = (r: ValidationReport) => r.rejected.map((x) => [x.line, x.field ?? null, x.code]);
const pair = (ex: Example) => ex as PreferencePair;

describe('format detection never discards a row’s own fields', () => {
  it('implicit first row, standard second: the explicit prompt is kept (validate exit 0, export writes it)', async () => {
    const text = jsonl({ chosen: 'The sky is blue', rejected: 'The sky is green' }, { prompt: 'Q: 2+2?', chosen: '4', rejected: '5' });
    const { report, examples } = await processText(text);
    expect([report.format, report.accepted, report.rejectedCount, report.formats]).toEqual(['implicit', 2, 0, { implicit: 1, standard: 1 }]);
    expect(examples.map((e) => [e.prompt, pair(e).chosen])).toEqual([
      ['The sky is', ' blue'],
      ['Q: 2+2?', '4'],
    ]);
    expect(report.warningCounts['empty-prompt']).toBeUndefined();

    const d = tmp();
    writeFileSync(join(d, 'mixed.jsonl'), text);
    const v = await cli(['validate', '--pairs', join(d, 'mixed.jsonl')]);
    expect([v.code, v.err]).toEqual([0, '']);
    expect((JSON.parse(v.out) as ValidationReport).summary).toBe('all 2 rows accepted');
    const e = await cli(['export-pairs', '--pairs', join(d, 'mixed.jsonl'), '--out', join(d, 'out.jsonl')]);
    expect(e.code).toBe(0);
    const out = readFileSync(join(d, 'out.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(out).toEqual([
      { prompt: 'The sky is', chosen: ' blue', rejected: ' green' },
      { prompt: 'Q: 2+2?', chosen: '4', rejected: '5' },
    ]);
  });

  it('standard, implicit and HH rows mix, each read with its own shape; the majority is the format', async () => {
    const hh = (a: string) => `\n\nHuman: Hi\n\nAssistant: ${a}`;
    const { report, examples } = await processText(jsonl({ chosen: hh('Hello'), rejected: hh('Go away') }, { chosen: hh('Hey'), rejected: hh('No') }, { prompt: 'P', chosen: 'a', rejected: 'b' }, { chosen: 'x a', rejected: 'x b' }));
    expect([report.format, report.accepted, report.formats]).toEqual(['hh-rlhf', 4, { 'hh-rlhf': 2, standard: 1, implicit: 1 }]);
    expect(examples.map((e) => e.prompt)).toEqual(['\n\nHuman: Hi\n\nAssistant:', '\n\nHuman: Hi\n\nAssistant:', 'P', 'x']);
  });

  it('conversational and ultrafeedback rows mix: the ultrafeedback row keeps its prompt string and scores', async () => {
    const conv = { prompt: msgs(['user', 'q']), chosen: msgs(['assistant', 'a']), rejected: msgs(['assistant', 'b']) };
    const uf = { prompt: 'Explain.', chosen: msgs(['assistant', 'yes']), rejected: msgs(['assistant', 'no']), score_chosen: 8, score_rejected: 2 };
    const { report, examples } = await processText(jsonl(conv, conv, uf));
    expect([report.format, report.accepted, report.formats]).toEqual(['conversational', 3, { conversational: 2, ultrafeedback: 1 }]);
    expect(examples[2]).toMatchObject({ prompt: 'User: Explain.\nAssistant: ', chosen: 'yes', scoreChosen: 8, scoreRejected: 2 });
    expect(trlRecord(examples[2])).toMatchObject({ prompt: msgs(['user', 'Explain.']), score_chosen: 8, score_rejected: 2 });
  });

  it('scores are kept on any pair (numeric strings too) and a non-numeric score is rejected, not dropped', async () => {
    const { report, examples } = await processText(
      jsonl({ prompt: 'p', chosen: 'a', rejected: 'b', score_chosen: 9, score_rejected: '4.5' }, { prompt: 'p', chosen: 'a', rejected: 'c', score_chosen: 'high' }, { prompt: 'p', chosen: 'a', rejected: 'd', score_chosen: 3, score_rejected: 3 }),
    );
    expect([report.format, report.accepted]).toEqual(['standard', 2]);
    expect(examples[0]).toMatchObject({ scoreChosen: 9, scoreRejected: 4.5 });
    expect(trlRecord(examples[0])).toEqual({ prompt: 'p', chosen: 'a', rejected: 'b', score_chosen: 9, score_rejected: 4.5 });
    expect(rejections(report)).toEqual([[2, 'score_chosen', 'wrong-type']]);
    expect(report.warningCounts['tied-scores']).toBe(1);
    // CSV cells are strings: a score column is read, not reported as ignored
    const csv = await processText('prompt,chosen,rejected,score_chosen,score_rejected\np,a,b,7,1\n', { syntax: 'csv' });
    expect([csv.report.accepted, csv.report.warningCounts['ignored-columns'], (csv.examples[0] as PreferencePair).scoreChosen]).toEqual([1, undefined, 7]);
  });

  it('rows of another family are rejected as mixed-format, naming the field and both formats', async () => {
    const std = { prompt: 'p', chosen: 'a', rejected: 'b' };
    const { report } = await processText(
      jsonl(
        std,
        std,
        { prompt: 'p', chosen: 'a', rejected: 'c' },
        { system: 'Be brief.', question: 'q?', chosen: 'a', rejected: 'b' }, // orca among strings: system/question would be lost
        { prompt: msgs(['user', 'q']), chosen: msgs(['assistant', 'a']), rejected: msgs(['assistant', 'b']) },
        { prompt: 'q', completion: 'a', label: true },
      ),
    );
    expect([report.format, report.accepted]).toEqual(['standard', 3]);
    expect(rejections(report)).toEqual([
      [4, 'question', 'mixed-format'],
      [5, 'chosen', 'mixed-format'],
      [6, 'completion', 'mixed-format'],
    ]);
    expect(report.rejected[0].reason).toMatch(/this row is orca .* but the file's format is standard .*detected/);
    expect(report.summary).toBe('3 of 6 rows accepted, 3 rejected');
    // string rows in a conversational file are still rejected with the field's type
    const c = await processText(jsonl({ chosen: msgs(['user', 'q'], ['assistant', 'a']), rejected: msgs(['user', 'q'], ['assistant', 'b']) }, { prompt: 'p', chosen: 'a', rejected: 'b' }));
    expect(rejections(c.report)).toEqual([[2, 'prompt', 'wrong-type']]);
  });

  it('a field the row’s shape does not read is rejected as unread-field', async () => {
    const orca = { system: '', question: 'q?', chosen: 'a', rejected: 'b' };
    const o = await processText(jsonl(orca, orca, { ...orca, prompt: 'Q: something else', rejected: 'c' }));
    expect(rejections(o.report)).toEqual([[3, 'prompt', 'unread-field']]);
    expect(o.report.rejected[0].reason).toMatch(/keep either "prompt" or "question"/);

    const std = { prompt: 'p', chosen: 'a', rejected: 'b' };
    const s = await processText(jsonl(std, { ...std, system: 'You are terse.', rejected: 'c' }, { ...std, system: '', rejected: 'd' }));
    expect(rejections(s.report)).toEqual([[2, 'system', 'unread-field']]);
    expect(s.report.accepted).toBe(2); // an empty system carries nothing

    const conv = { prompt: msgs(['user', 'q']), chosen: msgs(['assistant', 'a']), rejected: msgs(['assistant', 'b']) };
    const cv = await processText(jsonl(conv, { ...conv, system: 'Be nice.' }));
    expect(rejections(cv.report)).toEqual([[2, 'system', 'unread-field']]);

    const kto = { prompt: 'q', completion: 'a', label: true };
    const k = await processText(jsonl(kto, { ...kto, chosen: 'x', rejected: 'y' }));
    expect(rejections(k.report)).toEqual([[2, 'chosen', 'unread-field']]);

    // CSV: a system column with text in a standard file
    const csv = await processText('prompt,chosen,rejected,system\np,a,b,\np,a,c,Be brief.\n', { syntax: 'csv' });
    expect(rejections(csv.report)).toEqual([[3, 'system', 'unread-field']]);
  });

  it('a chosen format reads every row with it: a prompt it does not read rejects the row', async () => {
    const { report, examples } = await processText(jsonl({ chosen: 'x a', rejected: 'x b' }, { prompt: 'Q: 2+2?', chosen: '4', rejected: '5' }), { format: 'implicit' });
    expect([report.format, report.shapeSource, report.accepted, report.formats]).toEqual(['implicit', 'chosen', 1, undefined]);
    expect(examples[0].prompt).toBe('x');
    expect(rejections(report)).toEqual([[2, 'prompt', 'unread-field']]);
    expect(report.rejected[0].reason).toMatch(/choose the standard format or auto-detection/);
  });
});

/** tokenizer.json: byte-level BPE with an empty vocabulary (only <|endoftext|>, an added token). */
const emptyVocab = () => {
  const j = byteLevelTokenizerJson() as { model: Record<string, unknown> };
  return JSON.stringify({ ...j, model: { ...j.model, vocab: {}, merges: [] } });
};
/** tokenizer.json: a word-level vocabulary that knows only "hi" (everything else is [UNK]). */
const unkOnly = () =>
  JSON.stringify({
    version: '1.0',
    added_tokens: [{ id: 2, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'Whitespace' },
    post_processor: null,
    decoder: null,
    model: { type: 'WordLevel', vocab: { '[UNK]': 0, hi: 1, '<|endoftext|>': 2 }, unk_token: '[UNK]' },
  });

describe('a tokenizer that cannot encode the data is refused', () => {
  it('empty vocabulary: every row rejected naming the field, and the summary says the tokenizer cannot encode the data', async () => {
    const tokenizer = await loadTokenizerFromFiles({ tokenizerJson: emptyVocab() });
    expect(tokenizer.encode('hello')).toEqual([]);
    for (const tokenize of [false, true]) {
      const { report, tokenized } = await processText(jsonl({ prompt: 'Q: 2+2?', chosen: '4', rejected: '5' }, { prompt: '', chosen: '4', rejected: '5' }), { tokenizer, tokenize });
      expect(report.accepted).toBe(0);
      expect(tokenized).toEqual([]);
      expect(rejections(report)).toEqual([
        [1, 'prompt', 'unencodable'],
        [2, 'chosen', 'unencodable'],
      ]);
      expect(report.rejected[0].reason).toBe('the tokenizer encodes this text to no tokens');
      expect(report.summary).toMatch(/^the tokenizer cannot encode the data/);
    }
  });

  it('unknown tokens only: rejected; a row with one known token, an empty or blank prompt, or special tokens only, is fine', async () => {
    const tokenizer = await loadTokenizerFromFiles({ tokenizerJson: unkOnly() });
    expect(tokenizer.encode('hello world')).toEqual([0, 0]);
    const { report } = await processText(
      jsonl(
        { prompt: 'hi there', chosen: 'hi', rejected: 'hi you' }, // one known token each: kept
        { prompt: 'hi', chosen: 'hi', rejected: 'nope' },
        { prompt: ' ', chosen: 'hi', rejected: 'hi hi' },
        { prompt: '<|endoftext|>', chosen: 'hi', rejected: 'hi hi hi' },
      ),
      { tokenizer },
    );
    expect(rejections(report)).toEqual([[2, 'rejected', 'unencodable']]);
    expect(report.rejected[0].reason).toBe('the tokenizer encodes this text to only unknown tokens');
    expect(report.summary).toBe('3 of 4 rows accepted, 1 rejected');
  });

  it('CLI: validate exits 1 saying why, export-pairs says so, and train’s loader finds no usable example', async () => {
    const model = tmp();
    writeFileSync(join(model, 'tokenizer.json'), emptyVocab());
    const pairs = join(model, 'pairs.jsonl');
    writeFileSync(pairs, jsonl({ prompt: 'Q: 2+2?', chosen: '4', rejected: '5' }, { prompt: 'Q: 3+3?', chosen: '6', rejected: '7' }));
    const v = await cli(['validate', '--pairs', pairs, '--model', model]);
    expect(v.code).toBe(1);
    expect((JSON.parse(v.out) as ValidationReport).summary).toMatch(/^the tokenizer cannot encode the data/);
    expect(v.err).toMatch(/^2 of 2 rows rejected: the tokenizer cannot encode the data.*\(first: line 1: the tokenizer encodes this text to no tokens\)$/);
    const e = await cli(['export-pairs', '--pairs', pairs, '--model', model, '--out', join(model, 'out.jsonl')]);
    expect(e.code).toBe(1);
    expect(e.err).toMatch(/pairs\.jsonl: the tokenizer cannot encode the data/);
    const tok = await loadTokenizerFromFiles({ tokenizerJson: emptyVocab() });
    const errors = vi.spyOn(console, 'error').mockImplementation(() => {});
    await expect(loadExamplesFile(pairs, tok, 1024)).rejects.toThrow(/no usable examples/);
    expect(String(errors.mock.calls[0][0])).toMatch(/line 1: the tokenizer encodes this text to no tokens/);
  });
});

const BOMB = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
pairs:
  - prompt: "ok"
    chosen: "x"
    rejected: "y"
  - prompt: *f
    chosen: x
    rejected: y
`;

describe('a YAML alias bomb', () => {
  it('stops the file with a DataError (the pipeline), naming the file (the page’s inspect)', async () => {
    await expect(processText(BOMB, { syntax: 'yaml' })).rejects.toThrow(DataError);
    await expect(processText(BOMB, { syntax: 'yaml' })).rejects.toThrow(/invalid YAML: its aliases expand to too much data/);
    const seen: Example[] = [];
    await expect(processSource(new Blob([BOMB]), { name: 'bomb.yaml' }, { onExample: (ex) => void seen.push(ex) })).rejects.toThrow(DataError);
    expect(seen).toEqual([]); // the good first item is not emitted from a refused file
    const opts = { name: 'bomb.yaml', format: 'auto' as const, nPositions: 256, maxLength: null, maxPromptLength: null };
    await expect(inspect(new Blob([BOMB]), opts)).rejects.toThrow(/^bomb\.yaml: invalid YAML: its aliases expand/);
  });

  it('CLI: a one-line error naming the file, exit 2 (unreadable file), as documented', async () => {
    const d = tmp();
    const file = join(d, 'bomb.yaml');
    writeFileSync(file, BOMB);
    await expect(cli(['validate', '--pairs', file])).rejects.toThrow(UsageError);
    await expect(cli(['export-pairs', '--pairs', file, '--out', join(d, 'o.jsonl')])).rejects.toThrow(`${file}: invalid YAML`);
    expect(readFileSync(join(d, 'o.jsonl'), 'utf8')).toBe('');
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'validate', '--pairs', file], { encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([`error: ${file}: invalid YAML: its aliases expand to too much data (a resource-exhaustion "billion laughs" document?)`]);
  }, 60_000);
});

describe('per-pair table text where truncation cut a character', () => {
  const cut = async (tok: Tokenizer) => {
    // the last 10 bytes of the prompt start with 2 of 의's 3 bytes; 4 completion bytes end inside 😀 (4 bytes)
    const ex: Example = { kind: 'pair', prompt: 'Q: 서울의 수도?', chosen: 'A 😀 yes', rejected: 'no', appendEos: true, line: 1, index: 0 };
    const { ids } = tokenizeExample(ex, tok, resolveTruncation({ maxLength: 14, maxPromptLength: 10 }));
    return ids as { promptIds: number[]; chosenIds: number[]; rejectedIds: number[] };
  };

  for (const [name, make] of [
    ['byte tokenizer', async () => new ByteTokenizer()],
    ['byte-level tokenizer.json', () => loadTokenizerFromFiles({ tokenizerJson: JSON.stringify(byteLevelTokenizerJson()) })],
  ] as const) {
    it(`${name}: the partial bytes are dropped and the cut is marked with "…"`, async () => {
      const tok = await make();
      const ids = await cut(tok);
      expect(tok.decode(ids.promptIds)).toMatch(/\uFFFD/); // what the table used to show
      const [meta] = pairMeta([{ ...ids, index: 0, line: 1 }], tok);
      expect(meta.prompt).toBe('… 수도?');
      expect(meta.chosen).toBe('A …'); // 2 of 😀's 4 bytes fit: none is shown
      expect(meta.rejected).toBe('no');
      for (const t of [meta.prompt, meta.chosen]) expect(t).not.toMatch(/\uFFFD/);
    });
  }

  it('uncut text is shown as is, end-of-text left out; a genuine U+FFFD in the data stays', () => {
    const tok = new ByteTokenizer();
    expect(displayText([...tok.encode('서울 😀'), tok.eosTokenId], tok)).toBe('서울 😀');
    expect(displayText(tok.encode('\uFFFDok'), tok)).toBe('\uFFFDok');
    expect(displayText(tok.encode('😀').slice(1), tok)).toBe('…');
  });
});
