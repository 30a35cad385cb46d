// The data panel's view of a file (README.md), streamed in a worker: the validation report, the
// first accepted rows for the preview table as the model will read them (cut prompts and
// completions marked), how much of the answers survives truncation, and a histogram of token
// lengths before truncation.
import { loadTokenizerFromFiles, type TokenizerFiles } from '../tokenizer/load';
import { ByteTokenizer } from '../tokenizer/byte';
import type { Tokenizer } from '../tokenizer/types';
import { processSource, type Progress } from '../data/pipeline';
import { processPromptSource, type PromptReport } from '../data/prompts';
import { measureExample, planTruncation, resolveLengths, resolveTruncation, tokenizeExample, type Truncation } from '../data/tokenize';
import { DataError, type Example, type Shape, type ValidationReport } from '../data/types';

export interface InspectOptions {
  name: string;
  format: Shape | 'auto';
  nPositions: number;
  maxLength: number | null;
  maxPromptLength: number | null;
  /** The model's tokenizer files; the built-in byte tokenizer when absent. */
  tokenizerFiles?: Record<string, string>;
}

/** Tokens kept of a text that truncation cut: [kept, total] (a completion's total counts its end-of-text token). */
export type Cut = [kept: number, total: number];

export interface PreviewRow {
  line: number;
  /** What the model reads: a cut prompt is its end (cut from the left), a cut completion its start. */
  prompt: string;
  /** Pairs: chosen and rejected; unpaired (KTO): the completion and its label. */
  chosen: string;
  rejected: string;
  /** The texts truncation cut (absent: nothing was cut). */
  cut?: { prompt?: Cut; chosen?: Cut; rejected?: Cut };
}

/** How much of the prompts and answers survives truncation, over every accepted example. */
export interface KeptStats {
  answers: number;
  answersCut: number;
  answerKept: number;
  answerTotal: number;
  prompts: number;
  promptsCut: number;
  promptKept: number;
  promptTotal: number;
  maxLength: number;
  maxPromptLength: number;
  nPositions: number;
}

export interface Histogram {
  /** Upper edge of each bin (tokens, inclusive); bin i covers (edges[i−1], edges[i]]. */
  edges: number[];
  counts: number[];
  /** Where truncation starts. */
  maxLength: number;
}

/**
 * A file of pairs or unpaired (KTO) examples, or of prompt-only rows ({"prompt": …}: the online
 * methods' data, read as the CLI's train reads it, src/data/prompts.ts). A prompts file's preview
 * rows have empty chosen/rejected, and its histogram counts prompt tokens with the max prompt
 * length marked.
 */
export type InspectResult =
  | { kind: 'examples'; report: ValidationReport; preview: PreviewRow[]; histogram: Histogram; kept: KeptStats }
  | { kind: 'prompts'; report: PromptReport; preview: PreviewRow[]; histogram: Histogram; kept: KeptStats };

/** Rows kept for the (virtualised) preview table. */
export const PREVIEW_ROWS = 5000;
const CLIP = 400;
const BINS = 24;

const clip = (s: string) => (s.length > CLIP ? s.slice(0, /[\uD800-\uDBFF]/.test(s[CLIP - 2]) ? CLIP - 2 : CLIP - 1) + '…' : s);
/** The end of a long text (a prompt cut from the left keeps its end). */
const clipStart = (s: string) => (s.length > CLIP ? s.slice(/[\uDC00-\uDFFF]/.test(s[s.length - CLIP]) ? s.length - CLIP + 1 : s.length - CLIP) : s);

/**
 * The preview row of an example as the model reads it: the kept tokens decoded (the
 * end-of-text token left out; a character split by the cut dropped), with what was cut.
 */
export function previewRow(ex: Example, tok: Tokenizer, t: Truncation): PreviewRow {
  const texts = ex.kind === 'pair' ? [ex.prompt, ex.chosen, ex.rejected] : [ex.prompt, ex.completion];
  const lengths = measureExample(ex, tok);
  const plan = planTruncation(lengths[0], lengths.slice(1), t);
  const row: PreviewRow = { line: ex.line, prompt: clip(texts[0]), chosen: clip(texts[1]), rejected: ex.kind === 'pair' ? clip(texts[2]) : ex.label ? '(desirable)' : '(undesirable)' };
  if (!plan.promptCut && !plan.completionCut) return row;
  const { ids } = tokenizeExample(ex, tok, t);
  const text = (xs: number[]) => tok.decode(xs.filter((x) => x !== tok.eosTokenId));
  const cut: NonNullable<PreviewRow['cut']> = {};
  if (plan.promptCut) {
    row.prompt = clipStart(text(ids.promptIds).replace(/^\uFFFD+/, ''));
    cut.prompt = [plan.prompt, lengths[0]];
  }
  const names = ex.kind === 'pair' ? (['chosen', 'rejected'] as const) : (['chosen'] as const);
  const compIds = 'chosenIds' in ids ? [ids.chosenIds, ids.rejectedIds] : [ids.completionIds];
  names.forEach((name, i) => {
    if (plan.completions[i] >= lengths[i + 1]) return;
    row[name] = clip(text(compIds[i]).replace(/\uFFFD+$/, ''));
    cut[name] = [plan.completions[i], lengths[i + 1]];
  });
  row.cut = cut;
  return row;
}

/**
 * The report's words on truncation: how much of each answer the model sees on average, and what
 * would let it see more. Null when nothing is cut.
 */
export function truncationSummary(k: KeptStats): { text: string; tips: string[] } | null {
  if (!k.answers || (!k.answersCut && !k.promptsCut)) return null;
  const pct = (x: number) => `${Math.round(100 * x)} %`;
  const n = (x: number) => Math.round(x).toLocaleString('en');
  const parts: string[] = [];
  if (k.answersCut) {
    parts.push(
      `the model sees on average ${pct(k.answerKept / k.answerTotal)} of each answer (${n(k.answerKept / k.answers)} of ${n(k.answerTotal / k.answers)} tokens); ${k.answersCut.toLocaleString('en')} of ${k.answers.toLocaleString('en')} answers are cut`,
    );
  }
  if (k.promptsCut) parts.push(`${k.promptsCut.toLocaleString('en')} of ${k.prompts.toLocaleString('en')} prompts lose their beginning (${n(k.promptKept / k.prompts)} of ${n(k.promptTotal / k.prompts)} prompt tokens kept on average)`);
  const text = `With max length ${k.maxLength} (prompt ≤ ${k.maxPromptLength}), ${parts.join('; ')}.`;
  const tips: string[] = [];
  if (k.maxLength < k.nPositions) tips.push(`a larger Max length: this model takes up to ${k.nPositions} tokens (now ${k.maxLength})`);
  tips.push(k.maxLength >= k.nPositions ? `a model with a longer context: this one reads at most ${k.nPositions} tokens (n_positions)` : 'a model with a longer context');
  if (k.answersCut && k.promptKept / k.prompts > 0.25 * k.maxLength) tips.push(`a lower Max prompt length, which leaves more room for the answers (prompts now take ${n(k.promptKept / k.prompts)} of the ${k.maxLength} tokens)`);
  if (k.answersCut) tips.push('shorter answers: trim or leave out the long ones in the data file');
  return { text, tips };
}

let cached: { key: string; tok: Tokenizer } | null = null;

async function tokenizerFor(files?: Record<string, string>): Promise<Tokenizer> {
  if (!files) return new ByteTokenizer();
  const key = JSON.stringify(files);
  if (cached?.key !== key) cached = { key, tok: await loadTokenizerFromFiles(files as TokenizerFiles) };
  return cached.tok;
}

export function histogram(lengths: readonly number[], maxLength: number): Histogram {
  const top = Math.max(maxLength, ...lengths, 1);
  const width = Math.max(1, Math.ceil(top / BINS));
  const edges = Array.from({ length: Math.ceil(top / width) }, (_, i) => (i + 1) * width);
  const counts = edges.map(() => 0);
  for (const n of lengths) counts[Math.min(edges.length - 1, Math.max(0, Math.ceil(n / width) - 1))]++;
  return { edges, counts, maxLength };
}

/**
 * A prompt-only file (its first row is {"prompt": …} alone), read as the session and the CLI read
 * it; null for any other file (nothing past its first row is read) or a chosen row format.
 */
async function inspectPrompts(file: Blob, opts: InspectOptions, tokenizer: Tokenizer, lengths: { maxLength: number; maxPromptLength: number }): Promise<InspectResult | null> {
  if (opts.format !== 'auto') return null;
  const { maxPromptLength } = lengths;
  const preview: PreviewRow[] = [];
  const totals: number[] = [];
  // no answers: only the prompts' cut (truncationSummary says nothing without answers)
  const kept: KeptStats = { answers: 0, answersCut: 0, answerKept: 0, answerTotal: 0, prompts: 0, promptsCut: 0, promptKept: 0, promptTotal: 0, ...lengths, nPositions: opts.nPositions };
  let report: PromptReport;
  try {
    report = await processPromptSource(file, { name: opts.name, tokenizer, maxPromptLength }, (p, text, tokens) => {
      totals.push(tokens);
      kept.prompts++;
      kept.promptKept += p.promptIds.length;
      kept.promptTotal += tokens;
      if (p.promptIds.length < tokens) kept.promptsCut++;
      if (preview.length >= PREVIEW_ROWS) return;
      const row: PreviewRow = { line: p.line, prompt: clip(text), chosen: '', rejected: '' };
      if (p.promptIds.length < tokens) {
        row.prompt = clipStart(tokenizer.decode(p.promptIds).replace(/^\uFFFD+/, ''));
        row.cut = { prompt: [p.promptIds.length, tokens] };
      }
      preview.push(row);
    });
  } catch (e) {
    if (e instanceof DataError) throw new Error(`${opts.name}: ${e.message}`, { cause: e });
    throw e;
  }
  if (report.firstRow !== 'prompt') return null;
  return { kind: 'prompts', report, preview, histogram: histogram(totals, maxPromptLength), kept };
}

export async function inspect(file: Blob, opts: InspectOptions, onProgress?: (p: Progress) => void): Promise<InspectResult> {
  const tokenizer = await tokenizerFor(opts.tokenizerFiles);
  const lengths = resolveLengths(opts.nPositions, opts.maxLength, opts.maxPromptLength);
  const prompts = await inspectPrompts(file, opts, tokenizer, lengths);
  if (prompts) {
    onProgress?.({ bytes: file.size, totalBytes: file.size, rows: prompts.report.rows, accepted: prompts.report.accepted, rejected: prompts.report.rejectedCount });
    return prompts;
  }
  const trunc = resolveTruncation(lengths);
  const kept: KeptStats = { answers: 0, answersCut: 0, answerKept: 0, answerTotal: 0, prompts: 0, promptsCut: 0, promptKept: 0, promptTotal: 0, ...lengths, nPositions: opts.nPositions };
  const preview: PreviewRow[] = [];
  const totals: number[] = [];
  let last = 0;
  const source = processSource(
    file,
    { name: opts.name, size: file.size, format: opts.format, tokenizer, ...lengths },
    {
      onExample(ex) {
        const [prompt, ...completions] = measureExample(ex, tokenizer);
        totals.push(prompt + Math.max(...completions));
        const plan = planTruncation(prompt, completions, trunc);
        kept.prompts++;
        kept.promptKept += plan.prompt;
        kept.promptTotal += prompt;
        if (plan.promptCut) kept.promptsCut++;
        completions.forEach((c, i) => {
          kept.answers++;
          kept.answerKept += plan.completions[i];
          kept.answerTotal += c;
          if (plan.completions[i] < c) kept.answersCut++;
        });
        if (preview.length < PREVIEW_ROWS) preview.push(previewRow(ex, tokenizer, trunc));
      },
      afterChunk(p) {
        const now = Date.now();
        if (onProgress && now - last > 100) {
          last = now;
          onProgress(p);
        }
      },
    },
  );
  let report: ValidationReport;
  try {
    report = await source;
  } catch (e) {
    // a file the pipeline cannot read at all: the error names it, as the CLI's does
    if (e instanceof DataError) throw new Error(`${opts.name}: ${e.message}`, { cause: e });
    throw e;
  }
  return { kind: 'examples', report, preview, histogram: histogram(totals, lengths.maxLength), kept };
}
