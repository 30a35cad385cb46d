// Record parsers: text chunks in, raw records out, one syntax per parser. A record is one row of
// the file with the line it starts on; a syntax error becomes a record with `error` (and the rows
// around it are still read) so no row is ever dropped silently.
import type { RowWarning } from './types';
import { LineSplitter } from './text-stream';

export interface RawRecord {
  /** 1-based line where the row starts. */
  line: number;
  /** The parsed row (absent when `error` is set). */
  value?: unknown;
  /** Syntax error, as a reason ("invalid JSON: …"). */
  error?: string;
  /** Values came from CSV/TSV cells (all strings): lets `label` be "true"/"false". */
  textual?: boolean;
}

export interface ParserContext {
  emit(rec: RawRecord): void;
  warn(w: RowWarning): void;
}

export interface RecordParser {
  push(text: string): void;
  end(): void;
}

const BLANK = /^\s*$/;

/** A JSON.parse error as a short reason: no echoed input, position as line/column within `text`. */
export function jsonErrorReason(e: unknown, text: string): string {
  let msg = e instanceof Error ? e.message : String(e);
  msg = msg.replace(/,\s*(\.\.\.)?".*is not valid JSON$/s, '').replace(/^JSON\.parse:\s*/, '');
  const m = /at position (\d+)/.exec(msg);
  if (m) {
    const pos = Number(m[1]);
    const before = text.slice(0, pos);
    const nl = before.lastIndexOf('\n');
    const lineOff = before.split('\n').length - 1;
    const col = pos - nl;
    msg = msg.replace(/\s*in JSON at position \d+|\s*at position \d+/, lineOff > 0 ? ` at line +${lineOff} column ${col}` : ` at column ${col}`);
  }
  return `invalid JSON: ${msg.charAt(0).toLowerCase()}${msg.slice(1)}`;
}

/** JSON Lines: one row per non-blank line. */
export function jsonlParser(ctx: ParserContext): RecordParser {
  const lines = new LineSplitter();
  const onLine = (text: string, line: number) => {
    if (BLANK.test(text)) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      ctx.emit({ line, error: jsonErrorReason(e, text) });
      return;
    }
    ctx.emit({ line, value });
  };
  return { push: (t) => lines.push(t, onLine), end: () => lines.end(onLine) };
}

/** Keys under which a JSON/YAML object is expected to hold its rows. */
export const ROW_KEYS = ['pairs', 'data', 'rows', 'examples', 'train', 'items', 'records', 'samples', 'dataset'];

const enum Ch {
  NL = 10,
  QUOTE = 34,
  COMMA = 44,
  COLON = 58,
  OPEN_SQ = 91,
  BACKSLASH = 92,
  CLOSE_SQ = 93,
  OPEN_CURLY = 123,
  CLOSE_CURLY = 125,
}

const isSpace = (c: number) => c === 32 || c === 10 || c === 13 || c === 9;

/**
 * A JSON array of rows, or an object holding one (`{"pairs": [...]}`; the first array under a
 * ROW_KEYS name or whose first element is an object), streamed element by element: each element
 * is cut out by bracket depth and parsed on its own, so a broken element is one rejected row.
 */
export function jsonParser(ctx: ParserContext): RecordParser {
  let line = 1;
  let depth = 0;
  let inString = false;
  let escape = false;
  let topKind: 'array' | 'object' | null = null;
  let finished = false; // the top-level value is closed (or unusable): anything else is an error
  let trailingReported = false;
  // object mode: where we are among the top-level properties
  let keyState: 'key' | 'value' = 'key';
  let key = '';
  let capturingKey = false;
  let selectedKey: string | null = null;
  // the array being walked: its elements sit at depth 1 (top-level array) or 2 (in the object)
  let inArray = false;
  let arrayMode: 'undecided' | 'rows' | 'skip' = 'undecided';
  let arrayKey = '';
  const ignored = new Map<string, number>();
  // the element being cut out
  let elemOpen = false;
  let elemStart = 0;
  let elemLine = 0;
  let pieces: string[] = [];

  const finishElement = (chunk: string, end: number) => {
    elemOpen = false;
    if (arrayMode !== 'rows') return;
    pieces.push(chunk.slice(elemStart, end));
    const text = pieces.join('');
    pieces = [];
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      ctx.emit({ line: elemLine, error: jsonErrorReason(e, text) });
      return;
    }
    ctx.emit({ line: elemLine, value });
  };

  const startArray = (k: string) => {
    inArray = true;
    arrayKey = k;
    arrayMode = 'undecided';
  };

  const startElement = (c: number, i: number) => {
    if (arrayMode === 'undecided') {
      const rows = selectedKey === null && (topKind === 'array' || ROW_KEYS.includes(arrayKey) || c === Ch.OPEN_CURLY);
      if (rows) selectedKey = arrayKey;
      else if (c === Ch.OPEN_CURLY) ignored.set(arrayKey, 0);
      arrayMode = rows ? 'rows' : 'skip';
    }
    if (arrayMode === 'skip' && ignored.has(arrayKey)) ignored.set(arrayKey, ignored.get(arrayKey)! + 1);
    elemOpen = true;
    elemStart = i;
    elemLine = line;
  };

  const push = (chunk: string) => {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === Ch.NL) line++;
      if (inString) {
        if (escape) escape = false;
        else if (c === Ch.BACKSLASH) escape = true;
        else if (c === Ch.QUOTE) {
          inString = false;
          capturingKey = false;
        } else if (capturingKey && key.length < 200) key += chunk[i];
        continue;
      }
      if (isSpace(c)) continue;
      if (finished) {
        if (!trailingReported) ctx.emit({ line, error: 'invalid JSON: unexpected content after the end of the top-level value' });
        trailingReported = true;
        continue;
      }
      if (topKind === null && c !== Ch.OPEN_SQ && c !== Ch.OPEN_CURLY) {
        ctx.emit({ line, error: `invalid JSON: the file must hold an array of rows or an object holding one, found "${chunk[i]}"` });
        finished = trailingReported = true;
        continue;
      }
      if (inArray && depth === (topKind === 'array' ? 1 : 2)) {
        if (c === Ch.COMMA || c === Ch.CLOSE_SQ) {
          if (elemOpen) finishElement(chunk, i);
          if (c === Ch.CLOSE_SQ) {
            inArray = false;
            if (--depth === 0) finished = true;
          }
          continue;
        }
        if (!elemOpen) startElement(c, i);
      }
      switch (c) {
        case Ch.QUOTE:
          inString = true;
          if (topKind === 'object' && depth === 1 && keyState === 'key') {
            capturingKey = true;
            key = '';
          }
          break;
        case Ch.OPEN_SQ:
        case Ch.OPEN_CURLY:
          if (depth === 0) {
            topKind = c === Ch.OPEN_SQ ? 'array' : 'object';
            if (topKind === 'array') startArray('');
          } else if (topKind === 'object' && depth === 1 && keyState === 'value' && c === Ch.OPEN_SQ) {
            startArray(key);
          }
          depth++;
          break;
        case Ch.CLOSE_SQ:
        case Ch.CLOSE_CURLY:
          if (--depth <= 0) {
            depth = 0;
            finished = true;
          }
          break;
        case Ch.COLON:
          if (topKind === 'object' && depth === 1) keyState = 'value';
          break;
        case Ch.COMMA:
          if (topKind === 'object' && depth === 1) keyState = 'key';
          break;
      }
    }
    if (elemOpen && arrayMode === 'rows') {
      pieces.push(chunk.slice(elemStart));
      elemStart = 0;
    }
  };

  const end = () => {
    if (elemOpen) finishElement('', 0);
    else if (topKind !== null && !finished) ctx.emit({ line, error: 'invalid JSON: the file ends before its closing bracket (truncated?)' });
    for (const [k, n] of ignored) {
      ctx.warn({ code: 'ignored-array', message: `JSON: ${n} row(s) under "${k}" were not read (rows were read from "${selectedKey}")` });
    }
    if (topKind === 'object' && selectedKey === null) {
      ctx.emit({ line: 1, error: 'invalid JSON: the top-level object holds no array of rows (expected e.g. {"pairs": [...]})' });
    }
  };

  return { push, end };
}
