// Truncation lengths as the CLI resolves them (src/cli/pairs-load.ts), so the page and
// `npm run cli -- train` tokenize the same file into the same ids.
import { DEFAULT_MAX_LENGTH, DEFAULT_MAX_PROMPT_LENGTH } from '../data/types';

export interface Lengths {
  maxLength: number;
  maxPromptLength: number;
}

export function resolveLengths(nPositions: number, maxLength: number | null, maxPromptLength: number | null): Lengths {
  const ml = maxLength ?? Math.min(DEFAULT_MAX_LENGTH, nPositions);
  if (!Number.isInteger(ml) || ml < 2) throw new Error(`max length must be an integer ≥ 2, got ${ml}`);
  if (ml > nPositions) throw new Error(`max length ${ml} exceeds the model's n_positions (${nPositions}); lower it`);
  const mpl = maxPromptLength ?? Math.min(DEFAULT_MAX_PROMPT_LENGTH, Math.floor(ml / 2));
  if (!Number.isInteger(mpl) || mpl < 1) throw new Error(`max prompt length must be an integer ≥ 1, got ${mpl}`);
  return { maxLength: ml, maxPromptLength: mpl };
}
