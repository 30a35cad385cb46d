// The per-pair table (README.md: which pairs flipped): per-token average log-probs A = S/|y| of
// the first pairs, under the starting weights and under each run's weights, one forward pass.
import type { GptModel } from '../model/gpt';
import type { Tokenizer } from '../tokenizer/types';
import { pairLogps, type PairLogps } from '../train/logps';
import type { PairIds } from '../train/pairs';
import { RunnerPool } from '../train/runners';
import type { ActivationsDtype } from '../model/gpt';
import type { PairMeta } from './protocol';

/** Pairs shown in the table (the first training pairs). */
export const PAIR_TABLE_SIZE = 100;

const CLIP = 80;

function clip(s: string): string {
  return s.length > CLIP ? s.slice(0, CLIP - 1) + '…' : s;
}

export function pairMeta(pairs: readonly PairIds[], tok: Tokenizer): PairMeta[] {
  const text = (ids: readonly number[]) => clip(tok.decode(ids.filter((id) => id !== tok.eosTokenId)));
  return pairs.map((p) => ({ index: p.index, line: p.line ?? null, prompt: text(p.promptIds), chosen: text(p.chosenIds), rejected: text(p.rejectedIds) }));
}

/** (N) A_w and A_l from sums and lengths. */
export function averages(r: PairLogps, n = r.chosen.length): { chosen: number[]; rejected: number[] } {
  return {
    chosen: Array.from({ length: n }, (_, i) => r.chosen[i] / r.chosenLen[i]),
    rejected: Array.from({ length: n }, (_, i) => r.rejected[i] / r.rejectedLen[i]),
  };
}

/** A_w, A_l of `pairs` under the model's current weights (activations stored as the run stores them). */
export async function pairAverages(model: GptModel, pairs: readonly PairIds[], batchSize: number, activationsDtype: ActivationsDtype = 'f32'): Promise<{ chosen: number[]; rejected: number[] }> {
  const runners = new RunnerPool(model, undefined, undefined, activationsDtype);
  try {
    return averages(await pairLogps(model, runners, pairs, batchSize));
  } finally {
    runners.destroy();
  }
}
