// Read a pairs file into token ids for the model's tokenizer (streaming, as `validate`).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { UsageError } from './command';
import { processSource } from '../data/pipeline';
import { DataError, type ValidationReport } from '../data/types';
import { resolveLengths } from '../data/tokenize';
import type { Tokenizer } from '../tokenizer/types';
import type { LoadedPairs, PairIds } from '../train/pairs';
import type { UnpairedIds } from '../train/kto-trainer';

export interface LoadedExamples extends LoadedPairs {
  unpaired: UnpairedIds[];
}

export async function loadPairsFile(path: string, tokenizer: Tokenizer, nPositions: number, maxLength?: number, maxPromptLength?: number): Promise<LoadedPairs> {
  const r = await loadExamplesFile(path, tokenizer, nPositions, maxLength, maxPromptLength);
  if (r.unpaired.length) throw new UsageError(`${path}: holds unpaired (KTO) examples; this command takes preference pairs (use --method kto to train on them)`);
  if (!r.pairs.length) throw new UsageError(`${path}: no usable preference pairs`);
  return r;
}

/** Pairs or unpaired (KTO) examples, whichever the file holds. */
export async function loadExamplesFile(path: string, tokenizer: Tokenizer, nPositions: number, maxLength?: number, maxPromptLength?: number): Promise<LoadedExamples> {
  const st = await stat(path).catch(() => null);
  if (!st?.isFile()) throw new UsageError(`--pairs ${path}: no such file`);
  const { maxLength: ml, maxPromptLength: mpl } = cliLengths(nPositions, maxLength, maxPromptLength);
  const pairs: PairIds[] = [];
  const unpaired: UnpairedIds[] = [];
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  let report: ValidationReport;
  try {
    report = await processSource(stream, { name: path, tokenizer, tokenize: true, maxLength: ml, maxPromptLength: mpl }, {
      onExample: (_ex, ids) => {
        if (!ids) return;
        if ('chosenIds' in ids) pairs.push({ promptIds: ids.promptIds, chosenIds: ids.chosenIds, rejectedIds: ids.rejectedIds, index: ids.index, line: ids.line });
        else unpaired.push({ promptIds: ids.promptIds, completionIds: ids.completionIds, label: ids.label, index: ids.index, line: ids.line });
      },
    });
  } catch (e) {
    if (e instanceof DataError) throw new UsageError(`${path}: ${e.message}`, { cause: e });
    throw e;
  } finally {
    stream.destroy();
  }
  if (report.rejectedCount > 0) {
    const first = report.rejected[0];
    console.error(`${path}: ${report.rejectedCount} of ${report.rows} rows rejected and skipped${first ? ` (first: line ${first.line}: ${first.reason})` : ''}; see \`npm run cli -- validate --pairs ${path}\``);
  }
  if (!pairs.length && !unpaired.length) throw new UsageError(`${path}: no usable examples`);
  return { pairs, unpaired, report };
}

/** resolveLengths with its errors as one-line usage errors naming the flag. */
export function cliLengths(nPositions: number, maxLength?: number | null, maxPromptLength?: number | null) {
  try {
    return resolveLengths(nPositions, maxLength, maxPromptLength);
  } catch (e) {
    throw new UsageError(`--${(e as Error).message.replace(/^max (prompt )?length/, (m) => m.replace(/ /g, '-'))}`, { cause: e });
  }
}
