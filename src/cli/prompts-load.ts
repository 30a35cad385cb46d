// Prompts for the online methods (train --method grpo|rloo): a prompts file ({"prompt": …} rows,
// src/data/prompts.ts), or the prompts of a pairs or unpaired (KTO) file.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { UsageError } from './command';
import { cliLengths, loadExamplesFile } from './pairs-load';
import { processPromptSource, type PromptReport } from '../data/prompts';
import { DataError } from '../data/types';
import type { Tokenizer } from '../tokenizer/types';
import { promptsOf, type PromptIds } from '../train/prompts';

export interface LoadedPrompts {
  prompts: PromptIds[];
  /** Where they came from: prompt-only rows, or the prompts of pairs / unpaired examples. */
  source: 'prompts' | 'pairs' | 'unpaired';
  maxLength: number;
  maxPromptLength: number;
}

export async function loadPromptsFile(path: string, tokenizer: Tokenizer, nPositions: number, maxLength?: number, maxPromptLength?: number): Promise<LoadedPrompts> {
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) throw new UsageError(`--pairs ${path}: no such file`);
  const lengths = cliLengths(nPositions, maxLength, maxPromptLength);
  const prompts: PromptIds[] = [];
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let report: PromptReport;
  try {
    report = await processPromptSource(stream, { name: path, tokenizer, maxPromptLength: lengths.maxPromptLength }, (p) => prompts.push(p));
  } catch (e) {
    if (e instanceof DataError) throw new UsageError(`${path}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    stream.destroy();
  }
  if (report.firstRow !== 'prompt') {
    // pairs or unpaired examples: their prompts, read (and cut) exactly as training on them would
    const data = await loadExamplesFile(path, tokenizer, nPositions, maxLength, maxPromptLength);
    const source = data.pairs.length ? 'pairs' : 'unpaired';
    return { prompts: promptsOf(data.pairs.length ? data.pairs : data.unpaired), source, ...lengths };
  }
  if (report.rejectedCount > 0) {
    const first = report.rejected[0];
    console.error(`${path}: ${report.rejectedCount} of ${report.rows} rows rejected and skipped${first ? ` (first: line ${first.line}: ${first.reason})` : ''}`);
  }
  if (!prompts.length) throw new UsageError(`${path}: no usable prompts (${report.summary})`);
  return { prompts, source: 'prompts', ...lengths };
}
