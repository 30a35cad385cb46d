// The data panel's view of a file (README.md), streamed in a worker: the validation report, the
// first accepted rows for the preview table, and a histogram of token lengths before truncation.
import { loadTokenizerFromFiles, type TokenizerFiles } from '../tokenizer/load';
import { ByteTokenizer } from '../tokenizer/byte';
import type { Tokenizer } from '../tokenizer/types';
import { processSource, type Progress } from '../data/pipeline';
import { measureExample } from '../data/tokenize';
import { DataError, type Shape, type ValidationReport } from '../data/types';
import { resolveLengths } from '../data/tokenize';

export interface InspectOptions {
  name: string;
  format: Shape | 'auto';
  nPositions: number;
  maxLength: number | null;
  maxPromptLength: number | null;
  /** The model's tokenizer files; the built-in byte tokenizer when absent. */
  tokenizerFiles?: Record<string, string>;
}

export interface PreviewRow {
  line: number;
  prompt: string;
  /** Pairs: chosen and rejected; unpaired (KTO): the completion and its label. */
  chosen: string;
  rejected: string;
}

export interface Histogram {
  /** Upper edge of each bin (tokens, inclusive); bin i covers (edges[i−1], edges[i]]. */
  edges: number[];
  counts: number[];
  /** Where truncation starts. */
  maxLength: number;
}

export interface InspectResult {
  report: ValidationReport;
  preview: PreviewRow[];
  histogram: Histogram;
}

/** Rows kept for the (virtualised) preview table. */
export const PREVIEW_ROWS = 5000;
const CLIP = 400;
const BINS = 24;

const clip = (s: string) => (s.length > CLIP ? s.slice(0, /[\uD800-\uDBFF]/.test(s[CLIP - 2]) ? CLIP - 2 : CLIP - 1) + '…' : s);

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

export async function inspect(file: Blob, opts: InspectOptions, onProgress?: (p: Progress) => void): Promise<InspectResult> {
  const tokenizer = await tokenizerFor(opts.tokenizerFiles);
  const lengths = resolveLengths(opts.nPositions, opts.maxLength, opts.maxPromptLength);
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
        if (preview.length >= PREVIEW_ROWS) return;
        if (ex.kind === 'pair') preview.push({ line: ex.line, prompt: clip(ex.prompt), chosen: clip(ex.chosen), rejected: clip(ex.rejected) });
        else preview.push({ line: ex.line, prompt: clip(ex.prompt), chosen: clip(ex.completion), rejected: ex.label ? '(desirable)' : '(undesirable)' });
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
  return { report, preview, histogram: histogram(totals, lengths.maxLength) };
}
