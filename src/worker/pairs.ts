// A data file -> preference pairs (and KTO's unpaired examples) as token ids for the model's tokenizer, as the CLI's
// loadPairsFile does (same parser, same truncation), so page and CLI train on the same ids.
import { processSource } from '../data/pipeline';
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
