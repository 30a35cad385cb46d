// The accept stage: raw records in, accepted examples out, and a report that accounts for every
// record (rows = accepted + rejectedCount). Memory: the report's capped lists, 12–24 bytes per
// accepted row for duplicate detection (DupIndex), and at most 16 · DETECT_ROWS records while the shape is
// being detected — never the examples themselves (they go to `onExample`).
import type { Tokenizer } from '../tokenizer/types';
import type { RawRecord } from './records';
import type { Renderer } from './render';
import { DupIndex, hashTexts } from './dup-index';
import { checkUnread, detectShape, normalizeRow, rowShape, RowError, SHAPE_FIELDS, type NormalizedRow } from './shapes';
import { encodedLengths, encodeExample, encodeProblem, exampleTexts, measureExample, planTruncation, resolveTruncation, tokenizeEncoded, type Truncation } from './tokenize';
import {
  DEFAULT_MAX_REPORTED,
  SHAPES,
  type DataOptions,
  type Example,
  type LengthStats,
  type RejectedRow,
  type RowWarning,
  type Shape,
  type Syntax,
  type TokenizedExample,
  type ValidationReport,
} from './types';

/** How the report's summary starts when every row was rejected because the tokenizer cannot encode its text. */
export const CANNOT_ENCODE = 'the tokenizer cannot encode the data';

/** Rows read before the shape is decided by majority. */
export const DETECT_ROWS = 64;

export interface ValidatorOptions extends DataOptions {
  tokenizer: Tokenizer;
  renderer: Renderer;
  /** Also build token ids (passed to onExample); otherwise only lengths are computed. */
  tokenize?: boolean;
  onExample?: (ex: Example, ids: TokenizedExample | null) => void;
}

const KNOWN_FIELDS = ['prompt', 'chosen', 'rejected', 'completion', 'question'];

class Stats {
  n = 0;
  sum = 0;
  min = Infinity;
  max = 0;
  add(x: number) {
    this.n++;
    this.sum += x;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }
  get value(): LengthStats {
    return { min: this.n ? this.min : 0, mean: this.n ? this.sum / this.n : 0, max: this.max };
  }
}

export class Validator {
  private shape: Shape | null = null;
  private shapeDecided: boolean;
  private readonly shapeSource: 'detected' | 'chosen';
  private pending: RawRecord[] = [];
  private pendingObjects = 0;
  private readonly trunc: Truncation;
  private readonly maxReported: number;
  private index = 0;
  private accepted = 0;
  private rejected: RejectedRow[] = [];
  private rejectedCount = 0;
  private warnings: RowWarning[] = [];
  private warningCounts: ValidationReport['warningCounts'] = {};
  private truncated = 0;
  private promptCut = 0;
  private completionCut = 0;
  private dropped = 0;
  /** Rows rejected as `unencodable` (the tokenizer cannot encode their text). */
  private unencodable = 0;
  /** Accepted rows by the shape each was read with (rowShape). */
  private formatCounts: Partial<Record<Shape, number>> = {};
  private seen = new DupIndex();
  private stats = { prompt: new Stats(), completion: new Stats(), total: new Stats() };
  private labels = { desirable: 0, undesirable: 0 };
  private columnsChecked = false;
  private usesRenderer = false;

  constructor(private readonly o: ValidatorOptions) {
    this.trunc = resolveTruncation(o);
    this.maxReported = o.maxReported ?? DEFAULT_MAX_REPORTED;
    const chosen = o.format && o.format !== 'auto' ? o.format : null;
    if (chosen && !SHAPES.includes(chosen)) throw new Error(`unknown format "${chosen}" (formats: auto, ${SHAPES.join(', ')})`);
    this.shape = chosen;
    this.shapeDecided = chosen !== null;
    this.shapeSource = chosen ? 'chosen' : 'detected';
  }

  get rows(): number {
    return this.index + this.pending.length;
  }
  get acceptedCount(): number {
    return this.accepted;
  }
  get rejectedTotal(): number {
    return this.rejectedCount;
  }

  add(rec: RawRecord): void {
    if (this.shapeDecided) return this.process(rec);
    this.pending.push(rec);
    if (isObject(rec.value)) this.pendingObjects++;
    if (this.pendingObjects >= DETECT_ROWS || this.pending.length >= 16 * DETECT_ROWS) this.decide();
  }

  warn(w: RowWarning): void {
    const c = this.warningCounts;
    c[w.code] = (c[w.code] ?? 0) + 1;
    if (this.warnings.length < this.maxReported) this.warnings.push(w);
  }

  private decide(): void {
    const votes = new Map<Shape, number>();
    for (const r of this.pending) {
      if (!isObject(r.value)) continue;
      const s = detectShape(unwrap(r.value));
      if (s) votes.set(s, (votes.get(s) ?? 0) + 1);
    }
    let best: Shape | null = null;
    for (const [s, n] of votes) if (best === null || n > votes.get(best)!) best = s;
    this.shape = best;
    this.shapeDecided = true;
    const pending = this.pending;
    this.pending = [];
    for (const r of pending) this.process(r);
  }

  private reject(line: number, index: number, code: RejectedRow['code'], reason: string, field?: string): void {
    this.rejectedCount++;
    if (this.rejected.length < this.maxReported) this.rejected.push(field === undefined ? { line, index, code, reason } : { line, index, field, code, reason });
  }

  private process(rec: RawRecord): void {
    const index = this.index++;
    const { line } = rec;
    if (rec.error !== undefined) return this.reject(line, index, 'syntax', rec.error);
    if (!isObject(rec.value)) return this.reject(line, index, 'not-object', `the row is ${describe(rec.value)}, expected an object with named fields`);
    const row = unwrap(rec.value);
    if (!this.shape) {
      const fields = Object.keys(row).slice(0, 8).join(', ') || 'none';
      return this.reject(line, index, 'unknown-shape', `unrecognized row (fields: ${fields}); expected prompt/chosen/rejected, chosen/rejected, system/question/chosen/rejected or prompt/completion/label`);
    }
    if (rec.textual && !this.columnsChecked) {
      this.columnsChecked = true;
      const unused = Object.keys(row).filter((k) => !SHAPE_FIELDS[this.shape!].includes(k));
      if (unused.length) this.warn({ line, code: 'ignored-columns', message: `columns not used by the ${this.shape} format: ${unused.join(', ')}` });
    }
    let norm: NormalizedRow;
    let ex: Example;
    let shape: Shape;
    try {
      shape = rowShape(row, this.shape, this.shapeSource);
      norm = normalizeRow(row, shape, rec.textual === true);
      checkUnread(row, shape);
      ex = this.render(norm, line, index);
    } catch (e) {
      if (e instanceof RowError) return this.reject(line, index, e.code, e.reason, e.field);
      return this.reject(line, index, 'template', `chat template failed: ${(e as Error).message.split('\n')[0]}`);
    }
    if (!this.measure(ex, line, index, norm.warnings)) return;
    this.formatCounts[shape] = (this.formatCounts[shape] ?? 0) + 1;
  }

  private render(n: NormalizedRow, line: number, index: number): Example {
    if (n.text) {
      if (n.kind === 'unpaired') return { kind: 'unpaired', ...n.text, label: n.label, appendEos: true, line, index };
      const ex: Example = { kind: 'pair', ...n.text, appendEos: true, line, index };
      if (n.scoreChosen !== undefined) ex.scoreChosen = n.scoreChosen;
      if (n.scoreRejected !== undefined) ex.scoreRejected = n.scoreRejected;
      return ex;
    }
    this.usesRenderer = true;
    const r = this.o.renderer;
    if (n.kind === 'pair') {
      const m = n.messages!;
      const prompt = r.prompt(m.prompt);
      const ex: Example = { kind: 'pair', prompt, chosen: r.completion(m.prompt, m.chosen, prompt), rejected: r.completion(m.prompt, m.rejected, prompt), appendEos: r.appendEos, line, index, messages: m };
      if (n.scoreChosen !== undefined) ex.scoreChosen = n.scoreChosen;
      if (n.scoreRejected !== undefined) ex.scoreRejected = n.scoreRejected;
      if (ex.chosen === ex.rejected) throw new RowError('identical', 'rejected', 'chosen is identical to rejected once rendered');
      return ex;
    }
    const m = n.messages!;
    const prompt = r.prompt(m.prompt);
    return { kind: 'unpaired', prompt, completion: r.completion(m.prompt, m.completion, prompt), label: n.label, appendEos: r.appendEos, line, index, messages: m };
  }

  /** Token checks and counts of a rendered row (with its shape's warnings); false when it is rejected here. */
  private measure(ex: Example, line: number, index: number, rowWarnings: NormalizedRow['warnings']): boolean {
    const tok = this.o.tokenizer;
    const names = ex.kind === 'pair' ? ['chosen', 'rejected'] : ['completion'];
    // the byte tokenizer encodes any text and is counted without encoding; others encode once here
    const encoded = tok.kind === 'byte' ? null : encodeExample(ex, tok);
    if (encoded) {
      const texts = exampleTexts(ex);
      for (let i = 0; i < texts.length; i++) {
        const problem = encodeProblem(tok, texts[i], encoded[i]);
        if (!problem) continue;
        this.unencodable++;
        this.reject(line, index, 'unencodable', `the tokenizer encodes this text to ${problem}`, i === 0 ? 'prompt' : names[i - 1]);
        return false;
      }
    }
    let lengths: number[];
    let ids: TokenizedExample | null = null;
    if (this.o.tokenize) {
      const res = tokenizeEncoded(ex, encoded ?? encodeExample(ex, tok), tok, this.trunc);
      lengths = res.lengths;
      ids = res.ids;
    } else lengths = encoded ? encodedLengths(ex, encoded) : measureExample(ex, tok);
    const plan = planTruncation(lengths[0], lengths.slice(1), this.trunc);
    if (plan.emptied >= 0) {
      this.dropped++;
      this.reject(line, index, 'truncated-away', `no completion token left after truncation (prompt ${plan.prompt} tokens, max_length ${this.trunc.maxLength})`, names[plan.emptied]);
      return false;
    }
    for (const w of rowWarnings) this.warn({ line, index, ...w });
    const total = lengths[0] + Math.max(...lengths.slice(1));
    if (plan.promptCut || plan.completionCut) {
      this.truncated++;
      if (plan.promptCut) this.promptCut++;
      if (plan.completionCut) this.completionCut++;
      if (total > 4 * this.trunc.maxLength) this.warn({ line, index, code: 'long-row', message: `${total} tokens before truncation (max_length ${this.trunc.maxLength}): most of the row is cut` });
      if (ex.kind === 'pair' && plan.completions[0] === plan.completions[1] && lengths[1] > plan.completions[0] && lengths[2] > plan.completions[1]) {
        const a = ids ? (ids as { chosenIds: number[] }).chosenIds : (encoded?.[1] ?? tok.encode(ex.chosen)).slice(0, plan.completions[0]);
        const b = ids ? (ids as { rejectedIds: number[] }).rejectedIds : (encoded?.[2] ?? tok.encode(ex.rejected)).slice(0, plan.completions[1]);
        if (a.every((x, i) => x === b[i])) this.warn({ line, index, code: 'identical-after-truncation', message: 'chosen and rejected are identical once truncated: the pair carries no preference' });
      }
    }
    if (ex.prompt === '') this.warn({ line, index, code: 'empty-prompt', message: 'empty prompt' });
    const texts = ex.kind === 'pair' ? [ex.prompt, ex.chosen, ex.rejected] : [ex.prompt, ex.completion, String(ex.label)];
    if (texts.some((t) => t.includes('\uFFFD'))) this.warn({ line, index, code: 'replacement-char', message: 'text contains U+FFFD: the file is probably not valid UTF-8' });
    const first = this.seen.checkAndAdd(hashTexts(texts), line);
    if (first !== undefined) this.warn({ line, index, code: 'duplicate', message: `duplicate of the row on line ${first}` });
    this.stats.prompt.add(lengths[0]);
    for (const c of lengths.slice(1)) this.stats.completion.add(c);
    this.stats.total.add(total);
    if (ex.kind === 'unpaired') this.labels[ex.label ? 'desirable' : 'undesirable']++;
    this.accepted++;
    this.o.onExample?.(ex, ids);
    return true;
  }

  finish(syntax: Syntax, bytes: number): ValidationReport {
    if (!this.shapeDecided) this.decide();
    const t = this.trunc;
    const report: ValidationReport = {
      format: this.shape,
      summary: this.summary(),
      syntax,
      shapeSource: this.shapeSource,
      template: this.usesRenderer ? this.o.renderer.kind : 'none',
      rows: this.index,
      accepted: this.accepted,
      rejectedCount: this.rejectedCount,
      rejected: this.rejected,
      truncated: this.truncated,
      truncation: { ...t, prompt: this.promptCut, completion: this.completionCut, dropped: this.dropped },
      warnings: this.warnings,
      warningCounts: this.warningCounts,
      omitted: { rejected: this.rejectedCount - this.rejected.length, warnings: Object.values(this.warningCounts).reduce((a, b) => a + (b ?? 0), 0) - this.warnings.length },
      tokens: this.accepted ? { prompt: this.stats.prompt.value, completion: this.stats.completion.value, total: this.stats.total.value } : null,
      bytes,
    };
    if (this.shape === 'kto') report.labels = { ...this.labels };
    if (Object.keys(this.formatCounts).some((k) => k !== this.shape)) report.formats = { ...this.formatCounts };
    return report;
  }

  private summary(): string {
    const rows = this.index;
    if (rows === 0) return 'the file has no rows';
    if (this.accepted === 0 && this.unencodable > 0 && this.unencodable === this.rejectedCount) {
      return `${CANNOT_ENCODE}: every row (${rows}) has a text it encodes to no tokens or only unknown tokens; is it this data's model?`;
    }
    if (this.accepted === 0 && !this.shape) return `no row has a known format: all ${rows} rows rejected`;
    return this.rejectedCount === 0 ? `all ${rows} rows accepted` : `${this.accepted} of ${rows} rows accepted, ${this.rejectedCount} rejected`;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Hugging Face datasets-server rows: {"row_idx": 0, "row": {...}}. */
function unwrap(v: Record<string, unknown>): Record<string, unknown> {
  if (!KNOWN_FIELDS.some((k) => k in v) && isObject(v.row)) return v.row;
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}
