// Prompt-only rows, for the online methods (GRPO, RLOO: docs/data-formats.md "Prompts"):
//   {"prompt": "Q: What is 4+1?\nA: "}                       a string, used as written
//   {"prompt": [{"role": "user", "content": "…"}, …]}         messages, rendered as every
//                                                               conversational prompt is (render.ts)
// in any syntax the pipeline reads (JSON Lines, JSON, CSV/TSV with a `prompt` column, YAML). Other
// fields are left alone (TRL hands them to reward functions; here nothing reads them), except
// those of another format (chosen, rejected, completion, label, question): such a row is rejected,
// naming the line and the field, as one file holds one kind of row. A file whose first row is not
// prompt-only is not a prompts file (`firstRow: 'other'`, nothing else read): the caller reads it
// as pairs or unpaired examples and takes their prompts. Prompts are encoded without special
// tokens and cut from the LEFT to maxPromptLength, as the prompts of pairs are.
import { ByteTokenizer } from '../tokenizer/byte';
import type { Tokenizer } from '../tokenizer/types';
import { makeParser, sniffSyntax } from './pipeline';
import { type ParserContext, type RawRecord, type RecordParser } from './records';
import { rendererFor } from './render';
import { byteChunks, ChunkDecoder, type ByteSource } from './text-stream';
import { encodeProblem } from './tokenize';
import { DEFAULT_MAX_REPORTED, type Message, type RejectCode, type RejectedRow, type RowWarning, type Syntax } from './types';

/** Fields that make a row something other than a prompt. */
export const OTHER_FORMAT_FIELDS = ['chosen', 'rejected', 'completion', 'label', 'question'] as const;

export interface TokenizedPrompt {
  /** The prompt's ids, cut from the left to maxPromptLength (may be empty: generation then starts from bos). */
  promptIds: number[];
  line: number;
  index: number;
}

export interface PromptReport {
  /** The kind of the first row that is an object: 'prompt' (this is a prompts file), 'other' (pairs, KTO…: nothing else was read), null (no object row). */
  firstRow: 'prompt' | 'other' | null;
  syntax: Syntax;
  rows: number;
  accepted: number;
  rejectedCount: number;
  /** The first maxReported rejected rows. */
  rejected: RejectedRow[];
  warnings: RowWarning[];
  /** Accepted prompts cut to maxPromptLength. */
  truncated: number;
  maxPromptLength: number;
  /** "3 of 4 rows accepted, 1 rejected". */
  summary: string;
}

export interface PromptOptions {
  /** File name: its extension decides the syntax. */
  name?: string;
  /** Defaults to the built-in byte tokenizer. */
  tokenizer?: Tokenizer;
  maxPromptLength: number;
  maxReported?: number;
}

const present = (row: Record<string, unknown>, k: string) => row[k] !== undefined && row[k] !== null;

/** Whether a parsed row is prompt-only: an object with `prompt` and no field of another format. */
export function isPromptRow(row: unknown): boolean {
  if (!row || typeof row !== 'object' || Array.isArray(row)) return false;
  const r = row as Record<string, unknown>;
  return present(r, 'prompt') && !OTHER_FORMAT_FIELDS.some((k) => present(r, k));
}

class RowProblem extends Error {
  constructor(
    readonly code: RejectCode,
    readonly field: string | undefined,
    reason: string,
  ) {
    super(reason);
  }
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}

/** The prompt's text: a string as written, a message list rendered with the model's template. */
function promptText(row: Record<string, unknown>, render: (m: Message[]) => string): string {
  const other = OTHER_FORMAT_FIELDS.find((k) => present(row, k));
  if (other) throw new RowProblem('mixed-format', other, `this row has "${other}" (another format's field) but the file holds prompt-only rows {"prompt": …}; one file holds one kind of row: fix the row or split the file`);
  const p = row.prompt;
  if (p === undefined || p === null) throw new RowProblem('missing-field', 'prompt', 'prompt is missing: a prompt-only row is {"prompt": "…"} or {"prompt": [{"role": …, "content": …}]}');
  if (typeof p === 'string') return p;
  if (!Array.isArray(p)) throw new RowProblem('wrong-type', 'prompt', `prompt must be a string or a list of {role, content} messages, got ${typeName(p)}`);
  if (p.length === 0) throw new RowProblem('missing-field', 'prompt', 'prompt is an empty message list');
  const messages: Message[] = p.map((m, i) => {
    if (!m || typeof m !== 'object' || Array.isArray(m)) throw new RowProblem('wrong-type', `prompt[${i}]`, `prompt[${i}] must be a {role, content} message, got ${typeName(m)}`);
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string') throw new RowProblem('wrong-type', `prompt[${i}].role`, `prompt[${i}].role must be a string, got ${typeName(role)}`);
    if (typeof content !== 'string') throw new RowProblem('wrong-type', `prompt[${i}].content`, `prompt[${i}].content must be a string, got ${typeName(content)}`);
    return { role, content };
  });
  try {
    return render(messages);
  } catch (e) {
    throw new RowProblem('template', 'prompt', `the chat template failed on this prompt: ${(e as Error).message}`);
  }
}

/**
 * Reads a prompts file (streaming); accepted prompts go to onPrompt in file order, with the
 * prompt's token count before truncation. A file whose first object row is not prompt-only
 * (`firstRow: 'other'`) stops being read there: the caller reads it as pairs or unpaired examples.
 */
export async function processPromptSource(source: ByteSource, opts: PromptOptions, onPrompt?: (p: TokenizedPrompt, text: string, tokens: number) => void): Promise<PromptReport> {
  const tok = opts.tokenizer ?? new ByteTokenizer();
  const renderer = rendererFor(tok);
  const maxReported = opts.maxReported ?? DEFAULT_MAX_REPORTED;
  const mpl = opts.maxPromptLength;
  if (!Number.isInteger(mpl) || mpl < 1) throw new Error(`maxPromptLength must be an integer ≥ 1, got ${mpl}`);
  const r: PromptReport = { firstRow: null, syntax: 'jsonl', rows: 0, accepted: 0, rejectedCount: 0, rejected: [], warnings: [], truncated: 0, maxPromptLength: mpl, summary: '' };
  let index = 0;
  const reject = (line: number, i: number, code: RejectCode, field: string | undefined, reason: string) => {
    r.rejectedCount++;
    if (r.rejected.length < maxReported) r.rejected.push({ line, index: i, code, field, reason });
  };
  const add = (rec: RawRecord) => {
    if (r.firstRow === 'other') return;
    const i = index++;
    r.rows++;
    if (rec.error !== undefined) return reject(rec.line, i, 'syntax', undefined, rec.error);
    const v = rec.value;
    if (!v || typeof v !== 'object' || Array.isArray(v)) return reject(rec.line, i, 'not-object', undefined, `the row is ${typeName(v)}, not an object`);
    if (r.firstRow === null) {
      r.firstRow = isPromptRow(v) ? 'prompt' : 'other';
      if (r.firstRow === 'other') return;
    }
    try {
      const text = promptText(v as Record<string, unknown>, (m) => renderer.prompt(m));
      const ids = tok.encode(text);
      const problem = encodeProblem(tok, text, ids);
      if (problem) throw new RowProblem('unencodable', 'prompt', `the tokenizer encodes prompt to ${problem}`);
      if (text.trim() === '' && r.warnings.length < maxReported) r.warnings.push({ line: rec.line, index: i, code: 'empty-prompt', message: 'empty prompt: generation starts from the beginning-of-text token' });
      const promptIds = ids.length > mpl ? ids.slice(ids.length - mpl) : ids;
      if (promptIds.length < ids.length) r.truncated++;
      r.accepted++;
      onPrompt?.({ promptIds, line: rec.line, index: i }, text, ids.length);
    } catch (e) {
      if (!(e instanceof RowProblem)) throw e;
      reject(rec.line, i, e.code, e.field, e.message);
    }
  };
  const ctx: ParserContext = { emit: add, warn: (w) => r.warnings.length < maxReported && r.warnings.push(w) };
  const decoder = new ChunkDecoder();
  let parser: RecordParser | null = null;
  let head = '';
  const feed = (text: string, final: boolean) => {
    if (!parser) {
      head += text;
      if (!final && head.length < 1 << 16 && !/\S[^\n]*\n/.test(head)) return;
      if (head.trim() === '') return;
      r.syntax = sniffSyntax(opts.name, head);
      parser = makeParser(r.syntax, ctx);
      text = head;
      head = '';
    }
    if (text) parser.push(text);
  };
  for await (const chunk of byteChunks(source)) {
    feed(decoder.decode(chunk), false);
    if (r.firstRow === 'other') break; // not a prompts file: the rest is not read
  }
  if (r.firstRow !== 'other') {
    feed(decoder.end(), true);
    (parser as RecordParser | null)?.end();
  }
  r.summary = `${r.accepted} of ${r.rows} rows accepted${r.rejectedCount ? `, ${r.rejectedCount} rejected` : ''}`;
  return r;
}
