// A data file -> preference pairs as token ids for the model's tokenizer, as the CLI's
// loadPairsFile does (same parser, same truncation), so page and CLI train on the same ids.
import { processSource } from '../data/pipeline';
import type { Shape } from '../data/types';
import type { Tokenizer } from '../tokenizer/types';
import type { LoadedPairs, PairIds } from '../train/pairs';
import { resolveLengths } from '../data/tokenize';

export async function loadPairs(file: Blob, name: string, format: Shape | 'auto', tokenizer: Tokenizer, nPositions: number, maxLength: number | null, maxPromptLength: number | null): Promise<LoadedPairs> {
  const lengths = resolveLengths(nPositions, maxLength, maxPromptLength);
  const pairs: PairIds[] = [];
  let unpaired = 0;
  const report = await processSource(file, { name, size: file.size, format, tokenizer, tokenize: true, ...lengths }, {
    onExample: (_ex, ids) => {
      if (!ids) return;
      if ('chosenIds' in ids) pairs.push({ promptIds: ids.promptIds, chosenIds: ids.chosenIds, rejectedIds: ids.rejectedIds, index: ids.index, line: ids.line });
      else unpaired++;
    },
  });
  if (unpaired) throw new Error(`${name} holds unpaired (KTO) examples; these methods train on preference pairs (prompt, chosen, rejected)`);
  if (!pairs.length) throw new Error(`${name}: no usable preference pairs (${report.rejectedCount} of ${report.rows} rows rejected; see the validation report)`);
  return { pairs, report };
}
