// YAML rows: a top-level `pairs:` list (seed 000), another ROW_KEYS list, or a top-level list.
// YAML is parsed as one document (the text is held whole: use JSONL for very large files). When
// the document has errors, the block list is re-read item by item so an error rejects only the
// item it is in; every row's line is its `-` line.
import { parseDocument, LineCounter, isMap, isSeq, isScalar, type Document, type Node, type YAMLSeq } from 'yaml';
import type { ParserContext, RecordParser } from './records';
import { ROW_KEYS } from './records';
import { DataError } from './types';

export function yamlParser(ctx: ParserContext): RecordParser {
  const pieces: string[] = [];
  return {
    push: (t) => void pieces.push(t),
    end: () => readYaml(pieces.join(''), ctx),
  };
}

function rowsNode(doc: Document): { seq: YAMLSeq | null; key: string | null } {
  const c = doc.contents;
  if (isSeq(c)) return { seq: c, key: null };
  if (!isMap(c)) return { seq: null, key: null };
  const seqs = c.items.filter((p) => isSeq(p.value) && isScalar(p.key)).map((p) => ({ key: String((p.key as { value: unknown }).value), seq: p.value as YAMLSeq }));
  const pick = seqs.find((s) => s.key === 'pairs') ?? seqs.find((s) => ROW_KEYS.includes(s.key)) ?? seqs.find((s) => isMap(s.seq.items[0]));
  return pick ?? { seq: null, key: null };
}

/**
 * A node as plain data. Aliases are expanded here; past the yaml package's alias budget (a
 * "billion laughs" document) it throws, and the whole file is refused: the anchors are
 * document-wide, so no row can be read on its own.
 */
function toData(toJS: () => unknown): unknown {
  try {
    return toJS();
  } catch (e) {
    const m = (e as Error).message.split('\n')[0];
    const why = /alias/i.test(m) ? 'its aliases expand to too much data (a resource-exhaustion "billion laughs" document?)' : `${m.charAt(0).toLowerCase()}${m.slice(1)}`;
    throw new DataError(`invalid YAML: ${why}`);
  }
}

const yamlReason = (message: string) => {
  const m = message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  return `invalid YAML: ${m.charAt(0).toLowerCase()}${m.slice(1)}`;
};

function readYaml(text: string, ctx: ParserContext): void {
  if (/^\s*$/.test(text)) return;
  const lc = new LineCounter();
  let doc: Document;
  try {
    doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true, merge: true });
  } catch (e) {
    ctx.emit({ line: 1, error: yamlReason((e as Error).message) });
    return;
  }
  if (doc.errors.length === 0) {
    const { seq } = rowsNode(doc);
    if (!seq) {
      ctx.emit({ line: 1, error: 'invalid YAML: no list of rows (expected a top-level `pairs:` list)' });
      return;
    }
    // every row is read before any is emitted: a refused file emits none
    const rows = seq.items.map((item) => ({ line: lc.linePos((item as Node).range?.[0] ?? 0).line, value: toData(() => (item as Node).toJS(doc)) }));
    for (const r of rows) ctx.emit(r);
    return;
  }
  if (!readItemwise(text, ctx)) {
    for (const e of doc.errors) ctx.emit({ line: lc.linePos(e.pos[0]).line, error: yamlReason(e.message) });
  }
}

/**
 * The first block list of the file (`- ` lines at one indent, under a top-level key or at the
 * top), each item parsed on its own. Returns false when the file has no such list.
 */
function readItemwise(text: string, ctx: ParserContext): boolean {
  const lines = text.split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  const itemRe = /^(\s*)-(\s|$)/;
  const skip = (l: string) => /^\s*(#.*)?$/.test(l);
  const nextItem = (from: number) => {
    for (let j = from; j < lines.length; j++) if (!skip(lines[j])) return itemRe.test(lines[j]) ? j : -1;
    return -1;
  };
  let first = -1;
  for (let i = 0; i < lines.length && first < 0; i++) {
    const key = /^([A-Za-z_][\w-]*):\s*(#.*)?$/.exec(lines[i])?.[1];
    if (key && ROW_KEYS.includes(key)) first = nextItem(i + 1);
  }
  for (let i = 0; i < lines.length && first < 0; i++) if (/^-(\s|$)/.test(lines[i])) first = i;
  if (first < 0) return false;
  const indent = itemRe.exec(lines[first])![1].length;
  const items: Array<{ line: number; body: string[] }> = [];
  for (let i = first; i < lines.length; i++) {
    const l = lines[i];
    if (skip(l)) {
      items.at(-1)?.body.push('');
      continue;
    }
    const ind = l.length - l.trimStart().length;
    if (ind === indent && itemRe.test(l)) items.push({ line: i + 1, body: [' '.repeat(indent) + ' ' + l.slice(indent + 1)] });
    else if (ind > indent) items.at(-1)!.body.push(l);
    else break;
  }
  const rows = items.map((item) => {
    const doc = parseDocument(item.body.join('\n'), { prettyErrors: false, uniqueKeys: true, merge: true });
    return doc.errors.length ? { line: item.line, error: yamlReason(doc.errors[0].message) } : { line: item.line, value: toData(() => doc.toJS()) };
  });
  for (const r of rows) ctx.emit(r);
  return true;
}
