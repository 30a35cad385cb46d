// Examples -> token ids as trained on (docs/data-formats.md): prompt and each completion encoded separately
// with no special tokens, the end-of-text token appended to completions of string data, then the
// prompt cut from the LEFT to maxPromptLength and each completion from the RIGHT so that
// prompt + completion ≤ maxLength (and ≤ maxCompletionLength when set).
import type { Tokenizer } from '../tokenizer/types';
import {
  DEFAULT_MAX_LENGTH,
  DEFAULT_MAX_PROMPT_LENGTH,
  type DataOptions,
  type Example,
  type TokenizedExample,
} from './types';

export interface Truncation {
  maxLength: number;
  maxPromptLength: number;
  maxCompletionLength: number | null;
}

/** TRL DPOConfig defaults (max_length 1024, max_prompt_length 512, no max_completion_length). */
export function resolveTruncation(o: DataOptions = {}): Truncation {
  const t = {
    maxLength: o.maxLength ?? DEFAULT_MAX_LENGTH,
    maxPromptLength: o.maxPromptLength ?? DEFAULT_MAX_PROMPT_LENGTH,
    maxCompletionLength: o.maxCompletionLength ?? null,
  };
  for (const [k, v] of Object.entries(t)) {
    if (v !== null && (!Number.isInteger(v) || v < 1)) throw new Error(`${k} must be an integer ≥ 1, got ${v}`);
  }
  return t;
}

export interface Lengths {
  maxLength: number;
  maxPromptLength: number;
}

/**
 * The truncation lengths for a model with `nPositions` positions — the one rule the CLI, the
 * page and the exports share, so they tokenize a file into the same ids: max_length defaults to
 * min(1024, n_positions) (TRL's default, capped by the model), max_prompt_length to
 * min(512, ⌊max_length / 2⌋). null or undefined means the default.
 */
export function resolveLengths(nPositions: number, maxLength?: number | null, maxPromptLength?: number | null): Lengths {
  const ml = maxLength ?? Math.min(DEFAULT_MAX_LENGTH, nPositions);
  if (!Number.isInteger(ml) || ml < 2) throw new Error(`max length must be an integer ≥ 2, got ${ml}`);
  if (ml > nPositions) throw new Error(`max length ${ml} exceeds the model's n_positions (${nPositions}); lower it`);
  const mpl = maxPromptLength ?? Math.min(DEFAULT_MAX_PROMPT_LENGTH, Math.floor(ml / 2));
  if (!Number.isInteger(mpl) || mpl < 1) throw new Error(`max prompt length must be an integer ≥ 1, got ${mpl}`);
  return { maxLength: ml, maxPromptLength: mpl };
}

/** How many tokens of a prompt of length `prompt` and of each completion are kept. */
export interface TruncationPlan {
  prompt: number;
  completions: number[];
  promptCut: boolean;
  completionCut: boolean;
  /** Index of the first completion left with no token, or -1. */
  emptied: number;
}

export function planTruncation(prompt: number, completions: number[], t: Truncation): TruncationPlan {
  const p = Math.min(prompt, t.maxPromptLength);
  const room = Math.max(0, Math.min(t.maxLength - p, t.maxCompletionLength ?? Infinity));
  const kept = completions.map((c) => Math.min(c, room));
  return {
    prompt: p,
    completions: kept,
    promptCut: p < prompt,
    completionCut: kept.some((k, i) => k < completions[i]),
    emptied: kept.findIndex((k, i) => k === 0 && completions[i] > 0),
  };
}

/** UTF-8 byte length without allocating: the byte tokenizer's token count. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3; // BMP, or a lone surrogate (encoded as U+FFFD)
  }
  return n;
}

/** Token count of `text` (no special tokens); exact for every tokenizer, fast for the byte one. */
export function countTokens(tok: Tokenizer, text: string): number {
  return tok.kind === 'byte' ? utf8Length(text) : tok.encode(text).length;
}

export interface TokenizeResult {
  ids: TokenizedExample;
  plan: TruncationPlan;
  /** Untruncated lengths: prompt, then each completion (EOT included). */
  lengths: number[];
}

/** The texts of an example as encoded: prompt, then each completion. */
export function exampleTexts(ex: Example): string[] {
  return ex.kind === 'pair' ? [ex.prompt, ex.chosen, ex.rejected] : [ex.prompt, ex.completion];
}

/** Each text of exampleTexts(ex) as token ids: untruncated, no end-of-text token. */
export function encodeExample(ex: Example, tok: Tokenizer): number[][] {
  return exampleTexts(ex).map((t) => tok.encode(t));
}

/**
 * Why `tok` cannot encode `text` (`ids` = tok.encode(text)): 'no tokens' or 'only unknown tokens'
 * when text with a visible character (besides special-token strings) has no ordinary token; null
 * when it can. A tokenizer with an empty vocabulary encodes everything to []; training on such a
 * row would learn end-of-text only.
 */
export function encodeProblem(tok: Tokenizer, text: string, ids: readonly number[]): 'no tokens' | 'only unknown tokens' | null {
  if (tok.kind === 'byte') return null; // one token per byte: every text encodes
  const { unkTokenId, specialTokens } = tok;
  let unknown = false;
  for (const id of ids) {
    if (id === unkTokenId) unknown = true;
    else if (!specialTokens?.has(id)) return null;
  }
  let visible = text;
  for (const s of specialTokens?.values() ?? []) if (s) visible = visible.split(s).join('');
  if (visible.trim() === '') return null;
  return unknown ? 'only unknown tokens' : 'no tokens';
}

/** Encodes and truncates one example. `plan.emptied >= 0` means a completion lost every token. */
export function tokenizeExample(ex: Example, tok: Tokenizer, t: Truncation): TokenizeResult {
  return tokenizeEncoded(ex, encodeExample(ex, tok), tok, t);
}

/** tokenizeExample from encodeExample's ids (not modified). */
export function tokenizeEncoded(ex: Example, encoded: readonly number[][], tok: Tokenizer, t: Truncation): TokenizeResult {
  const promptIds = encoded[0];
  const compIds = encoded.slice(1).map((c) => (ex.appendEos ? [...c, tok.eosTokenId] : c));
  const plan = planTruncation(promptIds.length, compIds.map((c) => c.length), t);
  const p = promptIds.slice(promptIds.length - plan.prompt);
  const cs = compIds.map((c, i) => c.slice(0, plan.completions[i]));
  const lengths = [promptIds.length, ...compIds.map((c) => c.length)];
  const ids: TokenizedExample =
    ex.kind === 'pair'
      ? { promptIds: p, chosenIds: cs[0], rejectedIds: cs[1], line: ex.line, index: ex.index }
      : { promptIds: p, completionIds: cs[0], label: ex.label, line: ex.line, index: ex.index };
  return { ids, plan, lengths };
}

/** Untruncated lengths (as in TokenizeResult) without building id arrays when the tokenizer allows. */
export function measureExample(ex: Example, tok: Tokenizer): number[] {
  const eos = ex.appendEos ? 1 : 0;
  const comps = ex.kind === 'pair' ? [ex.chosen, ex.rejected] : [ex.completion];
  return [countTokens(tok, ex.prompt), ...comps.map((c) => countTokens(tok, c) + eos)];
}

/** measureExample from encodeExample's ids. */
export function encodedLengths(ex: Example, encoded: readonly number[][]): number[] {
  const eos = ex.appendEos ? 1 : 0;
  return encoded.map((ids, i) => ids.length + (i > 0 ? eos : 0));
}

/** Sequence length used for batching: prompt + the longer completion. */
export function exampleLength(ex: TokenizedExample): number {
  return ex.promptIds.length + ('chosenIds' in ex ? Math.max(ex.chosenIds.length, ex.rejectedIds.length) : ex.completionIds.length);
}
