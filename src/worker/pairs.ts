// A data file -> preference pairs (and KTO's unpaired examples) as token ids for the model's tokenizer, as the CLI's
// loadPairsFile does (same parser, same truncation), so page and CLI train on the same ids.
import { processSource } from '../data/pipeline';
import { processPromptSource } from '../data/prompts';
import type { PromptIds } from '../train/prompts';
import type { Shape } from '../data/types';
import type { Tokenizer } from '../tokenizer/types';
import type { LoadedPairs, PairIds } from '../train/pairs';
import { resolveLengths } from '../data/tokenize';
import type { UnpairedIds } from '../train/kto-trainer';

/** Pairs and unpaired (KTO) examples, whichever the file holds (a KTO card takes either). */
export async function loadExamples(file: Blob, name: string, format: Shape | 'auto', tokenizer: Tokenizer, nPositions: number, maxLength: number | null, maxPromptLength: number | null): Promise<LoadedPairs & { unpaired: UnpairedIds[] }> {
  const lengths = resolveLengths(nPositions, maxLength, maxPromptLength);
  const pairs: PairIds[] = [];
  const unpaired: UnpairedIds[] = [];
  const report = await processSource(file, { name, size: file.size, format, tokenizer, tokenize: true, ...lengths }, {
    onExample: (_ex, ids) => {
      if (!ids) return;
      if ('chosenIds' in ids) pairs.push({ promptIds: ids.promptIds, chosenIds: ids.chosenIds, rejectedIds: ids.rejectedIds, index: ids.index, line: ids.line });
      else unpaired.push({ promptIds: ids.promptIds, completionIds: ids.completionIds, label: ids.label, index: ids.index, line: ids.line });
    },
  });
  if (!pairs.length && !unpaired.length) throw new Error(`${name}: no usable examples (${report.rejectedCount} of ${report.rows} rows rejected; see the validation report)`);
  return { pairs, unpaired, report };
}

export async function loadPairs(file: Blob, name: string, format: Shape | 'auto', tokenizer: Tokenizer, nPositions: number, maxLength: number | null, maxPromptLength: number | null): Promise<LoadedPairs> {
  const r = await loadExamples(file, name, format, tokenizer, nPositions, maxLength, maxPromptLength);
  if (r.unpaired.length) throw new Error(`${name} holds unpaired (KTO) examples; these methods train on preference pairs (prompt, chosen, rejected)`);
  if (!r.pairs.length) throw new Error(`${name}: no usable preference pairs (${r.report.rejectedCount} of ${r.report.rows} rows rejected; see the validation report)`);
  return r;
}

/** What a comparison trains on: the file's pairs and unpaired examples, or its prompt-only rows. */
export type SessionData = (LoadedPairs & { unpaired: UnpairedIds[]; prompts: null }) | { pairs: []; unpaired: []; prompts: PromptIds[]; report: null };

/**
 * A data file as the CLI's `train` reads it (src/cli/prompts-load.ts): with auto-detection, a file
 * whose first row is prompt-only ({"prompt": …}) is a prompts file, read by the same reader with
 * the same prompt cut, so an online run on the page sees the CLI's prompts (and so its split);
 * any other file gives its pairs and unpaired examples. A chosen format reads rows as that format.
 */
export async function loadSessionData(file: Blob, name: string, format: Shape | 'auto', tokenizer: Tokenizer, nPositions: number, maxLength: number | null, maxPromptLength: number | null): Promise<SessionData> {
  if (format === 'auto') {
    const { maxPromptLength: mpl } = resolveLengths(nPositions, maxLength, maxPromptLength);
    const prompts: PromptIds[] = [];
    const report = await processPromptSource(file, { name, tokenizer, maxPromptLength: mpl }, (p) => prompts.push(p));
    if (report.firstRow === 'prompt') {
      if (!prompts.length) throw new Error(`${name}: no usable prompts (${report.summary}; see the validation report)`);
      return { pairs: [], unpaired: [], prompts, report: null };
    }
  }
  return { ...(await loadExamples(file, name, format, tokenizer, nPositions, maxLength, maxPromptLength)), prompts: null };
}
