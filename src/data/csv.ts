// CSV / TSV rows: the first record is the header (column names = field names of docs/data-formats.md).
// Records are cut by a quote-aware scan (a quoted cell may span lines; the record's line is its
// first), then each record's cells are parsed by papaparse. A quote that never closes rejects
// its own record only: reading restarts on the next line.
import Papa from 'papaparse';
import type { ParserContext, RecordParser } from './records';
import { LineSplitter } from './text-stream';

/** A record whose quoted cell is still open after this many characters is treated as broken. */
const MAX_RECORD_CHARS = 8 << 20;

interface Pending {
  lines: string[];
  firstLine: number;
  chars: number;
}

export function csvParser(ctx: ParserContext, delimiter: ',' | '\t'): RecordParser {
  const splitter = new LineSplitter();
  const quote = '"';
  let header: string[] | null = null;
  let headerLine = 0;
  let pending: Pending | null = null;
  let inQuotes = false;

  /** Advances the quote state over one physical line; returns whether the record is complete. */
  const scan = (text: string): boolean => {
    if (!inQuotes && text.indexOf(quote) === -1) return true;
    let atFieldStart = !inQuotes;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i];
      if (inQuotes) {
        if (ch === quote) {
          if (text[i + 1] === quote) i++;
          else inQuotes = false;
        }
        atFieldStart = false;
      } else {
        if (ch === quote && atFieldStart) inQuotes = true;
        atFieldStart = ch === delimiter;
      }
    }
    return !inQuotes;
  };

  const onRecord = (text: string, line: number) => {
    const parsed = Papa.parse<string[]>(text, { delimiter, quoteChar: quote, newline: '\n', header: false, skipEmptyLines: false });
    const kind = delimiter === '\t' ? 'TSV' : 'CSV';
    if (parsed.errors.length || parsed.data.length !== 1) {
      const why = parsed.errors[0]?.message ?? 'malformed record';
      ctx.emit({ line, error: `invalid ${kind}: ${why.charAt(0).toLowerCase()}${why.slice(1)}` });
      return;
    }
    const cells = parsed.data[0];
    if (!header) {
      header = cells.map((c, i) => c.trim() || `column_${i + 1}`);
      headerLine = line;
      return;
    }
    if (cells.length !== header.length) {
      ctx.emit({ line, error: `invalid ${kind}: ${cells.length} fields where the header (line ${headerLine}) has ${header.length}` });
      return;
    }
    const row: Record<string, string> = {};
    header.forEach((name, i) => (row[name] = cells[i]));
    ctx.emit({ line, value: row, textual: true });
  };

  const onLine = (text: string, line: number) => {
    if (!pending) {
      if (/^\s*$/.test(text)) return;
      if (scan(text)) onRecord(text, line);
      else pending = { lines: [text], firstLine: line, chars: text.length };
      return;
    }
    pending.lines.push(text);
    pending.chars += text.length + 1;
    if (scan(text)) {
      const p = pending;
      pending = null;
      onRecord(p.lines.join('\n'), p.firstLine);
    } else if (pending.chars > MAX_RECORD_CHARS) {
      abandon();
    }
  };

  /** The open quote never closed: reject its record and re-read the lines after its first. */
  const abandon = () => {
    const p = pending!;
    pending = null;
    inQuotes = false;
    ctx.emit({ line: p.firstLine, error: `invalid ${delimiter === '\t' ? 'TSV' : 'CSV'}: a quoted field opened on this line is never closed` });
    p.lines.slice(1).forEach((text, k) => onLine(text, p.firstLine + 1 + k));
  };

  return {
    push: (t) => splitter.push(t, onLine),
    end: () => {
      splitter.end(onLine);
      while (pending) abandon();
    },
  };
}
