// File -> report (+ accepted examples, optionally with token ids), streaming: bytes are decoded
// chunk by chunk, the syntax is sniffed from the name and the first text, and each chunk is
// parsed and validated before the next is read. Runs unchanged in a worker, the page and Node.
import { ByteTokenizer } from '../tokenizer/byte';
import type { Tokenizer } from '../tokenizer/types';
import { csvParser } from './csv';
import { jsonlParser, jsonParser, type ParserContext, type RecordParser } from './records';
import { rendererFor } from './render';
import { byteChunks, ChunkDecoder, type ByteSource } from './text-stream';
import { DataError, SYNTAXES, type DataOptions, type Example, type Syntax, type TokenizedExample, type ValidationReport } from './types';
import { Validator } from './validate';
import { yamlParser } from './yaml';

export interface ProcessOptions extends DataOptions {
  /** File name: its extension decides the syntax when `syntax` is auto. */
  name?: string;
  /** Total bytes when known (progress). */
  size?: number;
  /** Defaults to the built-in byte tokenizer. */
  tokenizer?: Tokenizer;
  /** Build token ids for accepted examples (passed to onExample). */
  tokenize?: boolean;
}

export interface Progress {
  bytes: number;
  totalBytes: number | null;
  rows: number;
  accepted: number;
  rejected: number;
}

export interface ProcessHooks {
  onExample?: (ex: Example, ids: TokenizedExample | null) => void;
  /** Awaited after every chunk: progress, and back-pressure for writers. */
  afterChunk?: (p: Progress) => void | Promise<void>;
}

const ROW_FIELDS = ['prompt', 'chosen', 'rejected', 'completion', 'question'];

const EXTENSIONS: Record<string, Syntax> = { jsonl: 'jsonl', ndjson: 'jsonl', jsonlines: 'jsonl', csv: 'csv', tsv: 'tsv', tab: 'tsv', yaml: 'yaml', yml: 'yaml' };

/**
 * The syntax of a file from its name and its first text (`head`, at least its first line).
 * `.json` files are often JSON Lines (Hugging Face `to_json`), so they are sniffed too.
 */
export function sniffSyntax(name: string | undefined, head: string): Syntax {
  const ext = name?.toLowerCase().match(/\.([a-z]+)$/)?.[1];
  if (ext && EXTENSIONS[ext]) return EXTENSIONS[ext];
  const lines = head.split('\n').map((l) => l.replace(/\r$/, ''));
  const first = lines.find((l) => l.trim() !== '' && !l.trimStart().startsWith('#'))?.trim() ?? '';
  const firstAny = lines.find((l) => l.trim() !== '')?.trim() ?? '';
  if (firstAny.startsWith('[')) return 'json';
  if (firstAny.startsWith('{')) {
    try {
      const row = JSON.parse(firstAny) as Record<string, unknown>;
      // one line holding {"rows": [...]} is a JSON file, not a one-row JSON Lines file
      const wrapper = !ROW_FIELDS.some((k) => k in row) && Object.values(row).some(Array.isArray);
      return wrapper ? 'json' : 'jsonl';
    } catch {
      return /[{[,:]$/.test(firstAny) ? 'json' : 'jsonl';
    }
  }
  if (ext === 'json') return 'json';
  if (/^(---|-(\s|$)|[A-Za-z_"'][^,\t]*:(\s|$))/.test(first)) return 'yaml';
  const tabs = firstAny.split('\t').length - 1;
  const commas = firstAny.split(',').length - 1;
  if (tabs > 0 && tabs >= commas) return 'tsv';
  if (commas > 0) return 'csv';
  throw new DataError(`cannot tell the file's syntax from its first line; name it .jsonl, .json, .csv, .tsv or .yaml (or choose the syntax)`);
}

/** The record parser of a syntax (pairs, unpaired examples and prompt-only files alike). */
export function makeParser(syntax: Syntax, ctx: ParserContext): RecordParser {
  switch (syntax) {
    case 'jsonl':
      return jsonlParser(ctx);
    case 'json':
      return jsonParser(ctx);
    case 'csv':
      return csvParser(ctx, ',');
    case 'tsv':
      return csvParser(ctx, '\t');
    case 'yaml':
      return yamlParser(ctx);
  }
}

/** Text kept before the syntax is sniffed: up to the first complete non-blank line, at most this much. */
const SNIFF_CHARS = 1 << 16;

/** Validates a whole file; accepted examples stream to hooks.onExample, in file order. */
export async function processSource(source: ByteSource, opts: ProcessOptions = {}, hooks: ProcessHooks = {}): Promise<ValidationReport> {
  if (opts.syntax && opts.syntax !== 'auto' && !SYNTAXES.includes(opts.syntax)) throw new DataError(`unknown syntax "${opts.syntax}" (syntaxes: auto, ${SYNTAXES.join(', ')})`);
  const tokenizer = opts.tokenizer ?? new ByteTokenizer();
  const validator = new Validator({ ...opts, tokenizer, renderer: rendererFor(tokenizer), onExample: hooks.onExample });
  const ctx: ParserContext = { emit: (r) => validator.add(r), warn: (w) => validator.warn(w) };
  const decoder = new ChunkDecoder();
  let syntax: Syntax | null = opts.syntax && opts.syntax !== 'auto' ? opts.syntax : null;
  let parser: RecordParser | null = syntax ? makeParser(syntax, ctx) : null;
  let head = '';
  let bytes = 0;
  const totalBytes = opts.size ?? (typeof Blob !== 'undefined' && source instanceof Blob ? source.size : null);

  const feed = (text: string, final: boolean) => {
    if (!parser) {
      head += text;
      if (!final && head.length < SNIFF_CHARS && !/\S[^\n]*\n/.test(head)) return;
      if (head.trim() === '') return; // blank so far; an all-blank file is handled at the end
      syntax = sniffSyntax(opts.name, head);
      parser = makeParser(syntax, ctx);
      text = head;
      head = '';
    }
    if (text) parser.push(text);
  };

  const progress = (): Progress => ({ bytes, totalBytes, rows: validator.rows, accepted: validator.acceptedCount, rejected: validator.rejectedTotal });
  for await (const chunk of byteChunks(source)) {
    bytes += chunk.byteLength;
    feed(decoder.decode(chunk), false);
    await hooks.afterChunk?.(progress());
  }
  feed(decoder.end(), true);
  if (!parser) {
    syntax = sniffOrDefault(opts.name, head);
    parser = makeParser(syntax, ctx);
    if (head) parser.push(head);
  }
  (parser as RecordParser).end();
  const report = validator.finish(syntax!, bytes);
  await hooks.afterChunk?.(progress());
  return report;
}

/** An empty (or blank) file still gets a report: its extension's syntax, or JSON Lines. */
function sniffOrDefault(name: string | undefined, head: string): Syntax {
  if (head.trim() === '') {
    const ext = name?.toLowerCase().match(/\.([a-z]+)$/)?.[1];
    return (ext && EXTENSIONS[ext]) || (ext === 'json' ? 'json' : 'jsonl');
  }
  return sniffSyntax(name, head);
}

/** In-memory convenience (tests, small pasted data): the report and every accepted example. */
export async function processText(
  text: string,
  opts: ProcessOptions = {},
): Promise<{ report: ValidationReport; examples: Example[]; tokenized: TokenizedExample[] }> {
  const examples: Example[] = [];
  const tokenized: TokenizedExample[] = [];
  const bytes = new TextEncoder().encode(text);
  const source: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      for (let i = 0; i < bytes.length; i += 1 << 16) yield bytes.subarray(i, i + (1 << 16));
    },
  };
  const report = await processSource(source, opts, {
    onExample: (ex, ids) => {
      examples.push(ex);
      if (ids) tokenized.push(ids);
    },
  });
  return { report, examples, tokenized };
}
