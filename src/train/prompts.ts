// Prompts of the online methods (GRPO, RLOO; docs/rlhf.md): from prompt-only rows
// (src/data/prompts.ts), or the prompts of preference pairs or unpaired examples of the same files.
import type { SequenceConfig } from '../model/family';

/** Token ids of one prompt as generated from (cut from the left to the max prompt length). */
export interface PromptIds {
  promptIds: readonly number[];
  /** The data row index, for messages. */
  index: number;
  line?: number;
}

/** The ids a prompt is generated from: an empty prompt becomes [bos], as pairs' prompts do (pairs.ts promptFor). */
export function promptInput(p: PromptIds, bosId: number): number[] {
  return p.promptIds.length ? [...p.promptIds] : [bosId];
}

/** Each example's prompt, in data order (a pair or unpaired example gives its own; duplicates stay, as TRL reads a prompt column). */
export function promptsOf(items: readonly { promptIds: readonly number[]; index: number; line?: number }[]): PromptIds[] {
  return items.map((x) => ({ promptIds: x.promptIds, index: x.index, line: x.line }));
}

export function promptWhere(p: PromptIds): string {
  return p.line !== undefined ? `prompt at line ${p.line}` : `prompt ${p.index}`;
}

/**
 * Throws, naming the prompt, if it cannot be generated from with this model: a token outside the
 * vocabulary, or prompt + maxNewTokens beyond the model's positions.
 */
export function checkPrompts(prompts: readonly PromptIds[], seq: SequenceConfig, maxNewTokens: number): void {
  for (const p of prompts) {
    const ids = promptInput(p, seq.bosTokenId);
    if (ids.length + maxNewTokens > seq.nPositions) throw new Error(`${promptWhere(p)}: ${ids.length} tokens + ${maxNewTokens} new tokens exceed the model's n_positions ${seq.nPositions}; lower --max-new-tokens or --max-prompt-length`);
    for (const id of ids) {
      if (!Number.isInteger(id) || id < 0 || id >= seq.vocabSize) throw new Error(`${promptWhere(p)}: token id ${id} is outside the vocabulary [0, ${seq.vocabSize})`);
    }
  }
}
