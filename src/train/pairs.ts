// Preference pairs as engine sequences. A pair (x, y_w, y_l) becomes two sequences x‖y_w and
// x‖y_l; a batch of n pairs is [chosen_0..chosen_{n−1}, rejected_0..rejected_{n−1}].
import { buildBatch, type HostBatch, type SequenceSpec } from '../model/batch';
import type { SequenceConfig } from '../model/family';
import type { ValidationReport } from '../data/types';

/** A data file read for training: its usable pairs and the validation report. */
export interface LoadedPairs {
  pairs: PairIds[];
  report: ValidationReport;
}

/** Token ids of one pair as trained on (completions include end-of-text where the data says so). */
export interface PairIds {
  promptIds: readonly number[];
  chosenIds: readonly number[];
  rejectedIds: readonly number[];
  /** Where the pair came from (data row index), for messages such as the NaN guard's. */
  index: number;
  line?: number;
}

/**
 * A GPT-2 tokenizer adds no BOS; a pair with an empty prompt (implicit-prompt data whose
 * completions share no prefix) would leave its first completion token unpredicted, so the
 * prompt becomes [bos] there.
 */
export function promptFor(p: PairIds, bosId: number): number[] {
  return p.promptIds.length ? [...p.promptIds] : [bosId];
}

export function pairLength(p: PairIds): number {
  return Math.max(1, p.promptIds.length) + Math.max(p.chosenIds.length, p.rejectedIds.length);
}

/** Throws, naming the pair, if a pair cannot be trained on with this model. */
export function checkPairs(pairs: readonly PairIds[], config: SequenceConfig): void {
  for (const p of pairs) {
    const where = p.line !== undefined ? `pair at line ${p.line}` : `pair ${p.index}`;
    if (!p.chosenIds.length || !p.rejectedIds.length) throw new Error(`${where}: empty completion`);
    const n = pairLength(p);
    if (n > config.nPositions) throw new Error(`${where}: ${n} tokens exceed the model's n_positions ${config.nPositions}; lower --max-length`);
    for (const id of [...p.promptIds, ...p.chosenIds, ...p.rejectedIds]) {
      if (!Number.isInteger(id) || id < 0 || id >= config.vocabSize) throw new Error(`${where}: token id ${id} is outside the vocabulary [0, ${config.vocabSize})`);
    }
  }
}

/** Batch length: the longest sequence rounded up to 8 (fewer distinct activation shapes), capped at P. */
export function batchLength(maxLen: number, nPositions: number): number {
  return Math.min(nPositions, Math.ceil(maxLen / 8) * 8);
}

export function pairBatch(pairs: readonly PairIds[], config: SequenceConfig, nllIncludesPrompt: boolean): HostBatch {
  const seqs: SequenceSpec[] = [];
  for (const side of ['chosen', 'rejected'] as const) {
    for (const p of pairs) {
      const prompt = promptFor(p, config.bosTokenId);
      const completion = side === 'chosen' ? p.chosenIds : p.rejectedIds;
      seqs.push({ ids: [...prompt, ...completion], promptLen: prompt.length, nllIncludesPrompt: side === 'chosen' && nllIncludesPrompt });
    }
  }
  const maxLen = Math.max(...seqs.map((s) => s.ids.length));
  return buildBatch(seqs, config.eosTokenId, batchLength(maxLen, config.nPositions));
}
