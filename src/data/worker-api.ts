// The data worker's API (comlink; exposed by src/worker/data.worker.ts): the page hands over a File and gets
// back plain, structured-clonable results while parsing runs off the UI thread. The file is read
// through Blob.stream(), so a 100 MB file is never one string; progress arrives at most every
// PROGRESS_MS through the page's Comlink.proxy callback.
import { ByteTokenizer } from '../tokenizer/byte';
import { loadTokenizerFromFiles, type TokenizerFiles } from '../tokenizer/load';
import type { Tokenizer } from '../tokenizer/types';
import { trlJsonlLine } from './export';
import { processSource, type Progress } from './pipeline';
import { processPromptSource, type PromptReport } from './prompts';
import { DataError, DEFAULT_MAX_PROMPT_LENGTH, type DataOptions, type Example, type TokenizedExample, type ValidationReport } from './types';

export interface WorkerDataOptions extends DataOptions {
  /** File name (decides the syntax by extension); defaults to File.name. */
  name?: string;
  /** The model's tokenizer files; the built-in byte tokenizer when absent. */
  tokenizerFiles?: TokenizerFiles;
  /** validate(): how many accepted examples to return for the preview (default 20). */
  previewRows?: number;
}

export type ProgressCallback = (p: Progress) => void;

export interface DataWorkerApi {
  /** The report and the first accepted examples (for the preview). */
  validate(file: Blob, opts?: WorkerDataOptions, onProgress?: ProgressCallback): Promise<{ report: ValidationReport; preview: Example[] }>;
  /** The report and every accepted example with its token ids (for training). */
  load(file: Blob, opts?: WorkerDataOptions, onProgress?: ProgressCallback): Promise<{ report: ValidationReport; examples: Example[]; tokenized: TokenizedExample[] }>;
  /** The accepted rows as TRL-ready JSON Lines (a prompt-only file: TRL's prompt-only rows {"prompt": …}, as rendered). */
  exportTrl(file: Blob, opts?: WorkerDataOptions, onProgress?: ProgressCallback): Promise<{ report: ValidationReport | PromptReport; jsonl: Blob }>;
}

export const PROGRESS_MS = 100;

let cached: { files: TokenizerFiles; tok: Tokenizer } | null = null;

async function tokenizerFor(files: TokenizerFiles | undefined): Promise<Tokenizer> {
  if (!files) return new ByteTokenizer();
  const same = (a: TokenizerFiles, b: TokenizerFiles) =>
    a.tokenizerJson === b.tokenizerJson && a.vocabJson === b.vocabJson && a.mergesTxt === b.mergesTxt && a.tokenizerConfigJson === b.tokenizerConfigJson && a.chatTemplate === b.chatTemplate;
  if (!cached || !same(cached.files, files)) cached = { files, tok: await loadTokenizerFromFiles(files) };
  return cached.tok;
}

function throttled(cb: ProgressCallback | undefined): (p: Progress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    const done = p.totalBytes !== null && p.bytes >= p.totalBytes;
    if (!cb || (!done && now - last < PROGRESS_MS)) return;
    last = now;
    void cb(p);
  };
}

async function run(file: Blob, opts: WorkerDataOptions, onProgress: ProgressCallback | undefined, onExample: (ex: Example, ids: TokenizedExample | null) => void, tokenize: boolean): Promise<ValidationReport> {
  const { tokenizerFiles, previewRows: _p, ...data } = opts;
  const name = opts.name ?? (file as File).name;
  try {
    return await processSource(file, { ...data, name, size: file.size, tokenizer: await tokenizerFor(tokenizerFiles), tokenize }, { onExample, afterChunk: throttled(onProgress) });
  } catch (e) {
    // a file the pipeline cannot read at all: the error names it
    if (e instanceof DataError && name) throw new Error(`${name}: ${e.message}`, { cause: e });
    throw e;
  }
}

export const dataWorkerApi: DataWorkerApi = {
  async validate(file, opts = {}, onProgress) {
    const preview: Example[] = [];
    const n = opts.previewRows ?? 20;
    const report = await run(file, opts, onProgress, (ex) => void (preview.length < n && preview.push(ex)), false);
    return { report, preview };
  },
  async load(file, opts = {}, onProgress) {
    const examples: Example[] = [];
    const tokenized: TokenizedExample[] = [];
    const report = await run(
      file,
      opts,
      onProgress,
      (ex, ids) => {
        examples.push(ex);
        tokenized.push(ids!);
      },
      true,
    );
    return { report, examples, tokenized };
  },
  async exportTrl(file, opts = {}, onProgress) {
    const parts: string[] = [];
    if ((opts.format ?? 'auto') === 'auto') {
      // a prompts file is read as the session reads it (src/worker/pairs.ts loadSessionData)
      const name = opts.name ?? (file as File).name;
      // the exported text is the whole prompt: the cut applies to token ids only
      const prompts = await processPromptSource(file, { name, tokenizer: await tokenizerFor(opts.tokenizerFiles), maxPromptLength: opts.maxPromptLength ?? DEFAULT_MAX_PROMPT_LENGTH }, (_p, text) => void parts.push(JSON.stringify({ prompt: text }) + '\n'));
      if (prompts.firstRow === 'prompt') return { report: prompts, jsonl: new Blob(parts, { type: 'application/jsonl' }) };
      parts.length = 0;
    }
    const report = await run(file, opts, onProgress, (ex) => void parts.push(trlJsonlLine(ex)), false);
    return { report, jsonl: new Blob(parts, { type: 'application/jsonl' }) };
  },
};
