// Row shapes of docs/data-formats.md: which one a row has, and the row in one normalized form — strings or
// message lists, prompt split off — or the exact field and reason it cannot be used.
import { decimalNumber } from '../util/number';
import type { Message, RejectCode, Shape, WarningCode } from './types';

/** A row after shape normalization, before rendering and tokenization. */
export type NormalizedRow =
  | {
      kind: 'pair';
      text?: { prompt: string; chosen: string; rejected: string };
      messages?: { prompt: Message[]; chosen: Message[]; rejected: Message[] };
      scoreChosen?: number;
      scoreRejected?: number;
      warnings: Array<{ code: WarningCode; message: string }>;
    }
  | {
      kind: 'unpaired';
      text?: { prompt: string; completion: string };
      messages?: { prompt: Message[]; completion: Message[] };
      label: boolean;
      warnings: Array<{ code: WarningCode; message: string }>;
    };

export class RowError extends Error {
  constructor(
    readonly code: RejectCode,
    readonly field: string | undefined,
    readonly reason: string,
  ) {
    super(reason);
  }
}

type Row = Record<string, unknown>;

const present = (row: Row, k: string) => row[k] !== undefined && row[k] !== null;

/** `\n\nHuman: … \n\nAssistant: …` (the leading newlines are sometimes stripped). */
export const isHHTranscript = (s: unknown) => typeof s === 'string' && /^\s*Human:/.test(s) && s.includes('\n\nAssistant:');

/** The shape a single row suggests, or null when no known shape fits its fields. */
export function detectShape(row: Row): Shape | null {
  if (present(row, 'completion') && present(row, 'label')) return 'kto';
  if (!present(row, 'chosen') || !present(row, 'rejected')) return null;
  if (present(row, 'question')) return 'orca';
  if (Array.isArray(row.chosen) || Array.isArray(row.rejected)) return typeof row.prompt === 'string' ? 'ultrafeedback' : 'conversational';
  if (present(row, 'prompt')) return 'standard';
  if (isHHTranscript(row.chosen) && isHHTranscript(row.rejected)) return 'hh-rlhf';
  return 'implicit';
}

const SCORES = ['score_chosen', 'score_rejected'];

/** The fields each shape reads (CSV columns outside these are reported as ignored). */
export const SHAPE_FIELDS: Record<Shape, string[]> = {
  standard: ['prompt', 'chosen', 'rejected', ...SCORES],
  implicit: ['chosen', 'rejected', ...SCORES],
  conversational: ['prompt', 'chosen', 'rejected', ...SCORES],
  'hh-rlhf': ['chosen', 'rejected', ...SCORES],
  ultrafeedback: ['prompt', 'chosen', 'rejected', ...SCORES],
  orca: ['system', 'question', 'chosen', 'rejected', ...SCORES],
  kto: ['prompt', 'completion', 'label'],
};

/** Every field some shape reads: a row that carries one its own shape does not read is rejected, never trimmed. */
export const DATA_FIELDS = [...new Set(Object.values(SHAPE_FIELDS).flat())];

/**
 * Shapes that can share a file, row by row: they normalize to the same kind of example (strings,
 * or message lists) and export to the same TRL columns. A standard row keeps its prompt in an
 * implicit file, an implicit row gets the common prefix in a standard file, and so on.
 */
const FAMILY: Record<Shape, 'strings' | 'messages' | 'orca' | 'kto'> = {
  standard: 'strings',
  implicit: 'strings',
  'hh-rlhf': 'strings',
  conversational: 'messages',
  ultrafeedback: 'messages',
  orca: 'orca',
  kto: 'kto',
};

const LAYOUT: Record<Shape, string> = {
  standard: 'prompt/chosen/rejected strings',
  implicit: 'chosen/rejected strings',
  'hh-rlhf': 'chosen/rejected transcripts',
  conversational: 'message lists',
  ultrafeedback: 'a prompt string and message lists',
  orca: 'system/question/chosen/rejected',
  kto: 'prompt/completion/label',
};

/** Whether a field value carries anything (an empty string or list, or null, carries nothing). */
const hasContent = (v: unknown) => v !== undefined && v !== null && !(typeof v === 'string' && v.trim() === '') && !(Array.isArray(v) && v.length === 0);

/** The field that sets a row of shape `own` apart from the file's shape. */
function telltale(own: Shape, row: Row): string {
  if (own === 'kto') return 'completion';
  if (own === 'orca') return 'question';
  return ['chosen', 'rejected', 'prompt'].find((k) => Array.isArray(row[k])) ?? 'chosen';
}

/**
 * The shape one row is read with in a file whose format is `fileShape`. A detected format lets
 * each row use its own shape within the format's family (standard, implicit and HH rows mix;
 * conversational and ultrafeedback rows mix); a chosen format is used for every row. A row whose
 * own fields belong to another family (message lists, orca's `question`, KTO's completion/label)
 * is rejected as `mixed-format`: read with the file's format it would fail or lose those fields.
 */
export function rowShape(row: Row, fileShape: Shape, source: 'detected' | 'chosen'): Shape {
  const own = detectShape(row);
  if (!own || own === fileShape) return fileShape;
  if (FAMILY[own] === FAMILY[fileShape]) return source === 'detected' ? own : fileShape;
  if (FAMILY[own] === 'strings') return fileShape; // missing-field / wrong-type name the field
  const how = source === 'detected' ? 'detected from the first rows' : 'chosen';
  throw new RowError(
    'mixed-format',
    telltale(own, row),
    `this row is ${own} (${LAYOUT[own]}) but the file's format is ${fileShape} (${LAYOUT[fileShape]}, ${how}); one file holds one kind of row: fix the row or split the file`,
  );
}

function unreadHint(shape: Shape, field: string): string {
  if (shape === 'orca' && field === 'prompt') return 'a row with "question" is read as orca (system + question); keep either "prompt" or "question"';
  if (shape === 'kto') return `a row with "completion" and "label" is read as KTO, which has no "${field}"; split paired and unpaired rows into two files`;
  if (field === 'prompt') return `the ${shape} format (chosen) takes the prompt from chosen/rejected; choose the standard format or auto-detection to use this row's prompt`;
  if (field === 'system' && FAMILY[shape] === 'messages') return 'put the system prompt first in the prompt messages, as {"role": "system", "content": …}';
  if (field === 'system') return `the ${shape} format has no system prompt; fold it into "prompt", or use the orca format (system/question/chosen/rejected)`;
  return `the ${shape} format does not read it`;
}

/** Throws `unread-field` when the row carries a data field its shape would not read (and so lose). */
export function checkUnread(row: Row, shape: Shape): void {
  const reads = SHAPE_FIELDS[shape];
  const lost = DATA_FIELDS.find((k) => !reads.includes(k) && hasContent(row[k]));
  if (lost) throw new RowError('unread-field', lost, `"${lost}" would be ignored: ${unreadHint(shape, lost)}`);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

function str(row: Row, k: string): string {
  if (!present(row, k)) throw new RowError('missing-field', k, `missing field "${k}"`);
  const v = row[k];
  if (typeof v !== 'string') throw new RowError('wrong-type', k, `"${k}" must be a string, got ${typeName(v)}`);
  return v;
}

function messages(row: Row, k: string): Message[] {
  if (!present(row, k)) throw new RowError('missing-field', k, `missing field "${k}"`);
  const v = row[k];
  if (!Array.isArray(v)) throw new RowError('wrong-type', k, `"${k}" must be a list of {role, content} messages, got ${typeName(v)}`);
  return v.map((m, i) => {
    const f = `${k}[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new RowError('wrong-type', f, `${f} must be a {role, content} message, got ${typeName(m)}`);
    const { role, content } = m as Row;
    if (typeof role !== 'string' || role === '') throw new RowError('wrong-type', `${f}.role`, `${f}.role must be a non-empty string, got ${typeName(role)}`);
    if (typeof content !== 'string') throw new RowError('wrong-type', `${f}.content`, `${f}.content must be a string, got ${typeName(content)}`);
    return { role, content };
  });
}

function nonEmpty(s: string, field: string): void {
  if (s === '') throw new RowError('empty-completion', field, `empty completion "${field}"`);
  if (s.trim() === '') throw new RowError('empty-completion', field, `completion "${field}" is only whitespace`);
}

function nonEmptyMessages(ms: Message[], field: string): void {
  if (ms.length === 0) throw new RowError('empty-completion', field, `empty completion "${field}" (no messages)`);
  if (ms.every((m) => m.content.trim() === '')) throw new RowError('empty-completion', field, `completion "${field}" has no text`);
}

const sameMessages = (a: Message[], b: Message[]) => a.length === b.length && a.every((m, i) => m.role === b[i].role && m.content === b[i].content);

/**
 * The prompt of implicit-prompt data: the longest common prefix, less a trailing space (TRL's
 * extract_prompt), and never the whole of either string so each completion keeps a character.
 */
export function splitCommonPrefix(chosen: string, rejected: string): number {
  const n = Math.min(chosen.length, rejected.length);
  let i = 0;
  while (i < n && chosen.charCodeAt(i) === rejected.charCodeAt(i)) i++;
  if (i === n && i > 0) i--;
  // never cut a surrogate pair (emoji) in half
  if (i > 0 && /[\uD800-\uDBFF]/.test(chosen[i - 1])) i--;
  if (i > 0 && chosen[i - 1] === ' ') i--;
  return i;
}

/** HH-RLHF: the shared transcript up to and including its last "\n\nAssistant:". */
function splitHH(chosen: string, rejected: string): number {
  const common = splitCommonPrefix(chosen, rejected);
  const marker = '\n\nAssistant:';
  const at = chosen.lastIndexOf(marker, common - marker.length);
  return at >= 0 && at + marker.length <= common ? at + marker.length : common;
}

function checkPair(chosen: string, rejected: string): void {
  nonEmpty(chosen, 'chosen');
  nonEmpty(rejected, 'rejected');
  if (chosen === rejected) throw new RowError('identical', 'rejected', 'chosen is identical to rejected');
}

function label(row: Row, textual: boolean): boolean {
  if (!present(row, 'label')) throw new RowError('missing-field', 'label', 'missing field "label"');
  const v = row.label;
  if (typeof v === 'boolean') return v;
  if (textual && typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['true', '1', 'yes'].includes(s)) return true;
    if (['false', '0', 'no'].includes(s)) return false;
  }
  throw new RowError('wrong-type', 'label', `"label" must be true or false, got ${typeName(v)}`);
}

/** score_chosen / score_rejected: a number (or a numeric string, as CSV cells are), kept on any pair. */
function score(row: Row, k: string): number | undefined {
  if (!present(row, k)) return undefined;
  const v = row[k];
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    if (v.trim() === '') return undefined;
    const n = decimalNumber(v); // "0x10" is not a score
    if (n !== null) return n;
  }
  throw new RowError('wrong-type', k, `"${k}" must be a number, got ${typeName(v)}`);
}

/** Normalizes one row of a known shape; throws RowError naming the field and the reason. */
export function normalizeRow(row: Row, shape: Shape, textual = false): NormalizedRow {
  const out = normalizeFields(row, shape, textual);
  if (out.kind === 'pair') {
    const [c, r] = [score(row, 'score_chosen'), score(row, 'score_rejected')];
    if (c !== undefined) out.scoreChosen = c;
    if (r !== undefined) out.scoreRejected = r;
    if (c !== undefined && c === r) out.warnings.push({ code: 'tied-scores', message: `score_chosen equals score_rejected (${c})` });
  }
  return out;
}

function normalizeFields(row: Row, shape: Shape, textual: boolean): NormalizedRow {
  const warnings: NormalizedRow['warnings'] = [];
  switch (shape) {
    case 'standard': {
      const [prompt, chosen, rejected] = [str(row, 'prompt'), str(row, 'chosen'), str(row, 'rejected')];
      checkPair(chosen, rejected);
      return { kind: 'pair', text: { prompt, chosen, rejected }, warnings };
    }
    case 'implicit':
    case 'hh-rlhf': {
      const [c, r] = [str(row, 'chosen'), str(row, 'rejected')];
      checkPair(c, r);
      const p = shape === 'implicit' ? splitCommonPrefix(c, r) : splitHH(c, r);
      const text = { prompt: c.slice(0, p), chosen: c.slice(p), rejected: r.slice(p) };
      checkPair(text.chosen, text.rejected);
      return { kind: 'pair', text, warnings };
    }
    case 'orca': {
      const system = present(row, 'system') ? str(row, 'system') : '';
      const question = str(row, 'question');
      const [chosen, rejected] = [str(row, 'chosen'), str(row, 'rejected')];
      checkPair(chosen, rejected);
      const prompt: Message[] = system.trim() ? [{ role: 'system', content: system }] : [];
      prompt.push({ role: 'user', content: question });
      return { kind: 'pair', messages: { prompt, chosen: [{ role: 'assistant', content: chosen }], rejected: [{ role: 'assistant', content: rejected }] }, warnings };
    }
    case 'conversational':
    case 'ultrafeedback': {
      const promptText = shape === 'ultrafeedback' ? str(row, 'prompt') : null;
      const explicit = shape === 'conversational' && present(row, 'prompt') ? messages(row, 'prompt') : null;
      let [chosen, rejected] = [messages(row, 'chosen'), messages(row, 'rejected')];
      if (sameMessages(chosen, rejected)) throw new RowError('identical', 'rejected', 'chosen is identical to rejected');
      let prompt: Message[];
      if (explicit) prompt = explicit;
      else {
        let k = 0;
        while (k < chosen.length - 1 && k < rejected.length - 1 && chosen[k].role === rejected[k].role && chosen[k].content === rejected[k].content) k++;
        prompt = chosen.slice(0, k);
        [chosen, rejected] = [chosen.slice(k), rejected.slice(k)];
        if (promptText !== null && k === 0) prompt = [{ role: 'user', content: promptText }];
      }
      nonEmptyMessages(chosen, 'chosen');
      nonEmptyMessages(rejected, 'rejected');
      if (sameMessages(chosen, rejected)) throw new RowError('identical', 'rejected', 'chosen is identical to rejected');
      const out: NormalizedRow = { kind: 'pair', messages: { prompt, chosen, rejected }, warnings };
      if (promptText !== null) {
        const user = prompt.find((m) => m.role === 'user');
        if (!user || user.content !== promptText) warnings.push({ code: 'prompt-mismatch', message: '"prompt" differs from the user turn repeated in chosen/rejected; the user turn was used' });
      }
      return out;
    }
    case 'kto': {
      const lab = label(row, textual);
      if (Array.isArray(row.prompt) || Array.isArray(row.completion)) {
        const prompt = messages(row, 'prompt');
        const completion = messages(row, 'completion');
        nonEmptyMessages(completion, 'completion');
        return { kind: 'unpaired', messages: { prompt, completion }, label: lab, warnings };
      }
      const [prompt, completion] = [str(row, 'prompt'), str(row, 'completion')];
      nonEmpty(completion, 'completion');
      return { kind: 'unpaired', text: { prompt, completion }, label: lab, warnings };
    }
  }
}
