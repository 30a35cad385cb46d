// Preference pairs as KTO's unpaired examples, as TRL's KTOTrainer takes a paired data set
// (trl/data_utils.py: maybe_unpair_preference_dataset → unpair_preference_dataset, applied to the
// train and the eval set separately). It maps `_unpair_row` with `datasets.map(batched=True)`,
// whose batches are 1000 rows: each batch becomes its chosen completions (label True) followed by
// its rejected ones (label False), every prompt twice. That order matters: KTO's KL sequences pair
// each example with its neighbour's completion (kto-trainer.ts klPartner).
import type { PairIds } from './pairs';
import type { UnpairedIds } from './kto-trainer';

/** datasets.map's default batch size. */
export const UNPAIR_BATCH = 1000;

/** Desirable (chosen) then undesirable (rejected) examples per batch of 1000 pairs; data index and line kept. */
export function unpairPairs(pairs: readonly PairIds[]): UnpairedIds[] {
  const out: UnpairedIds[] = [];
  const one = (p: PairIds, label: boolean): UnpairedIds => ({ promptIds: p.promptIds, completionIds: label ? p.chosenIds : p.rejectedIds, label, index: p.index, ...(p.line !== undefined ? { line: p.line } : {}) });
  for (let s = 0; s < pairs.length; s += UNPAIR_BATCH) {
    const batch = pairs.slice(s, s + UNPAIR_BATCH);
    for (const p of batch) out.push(one(p, true));
    for (const p of batch) out.push(one(p, false));
  }
  return out;
}
