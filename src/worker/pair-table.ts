// The per-pair table (README.md: which pairs flipped): per-token average log-probs A = S/|y| of
// the first pairs, under the starting weights and under each run's weights, one forward pass.
import type { TrainableModel } from '../model/family';
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
  if (s.length <= CLIP) return s;
  let n = CLIP - 1;
  if (/[\uD800-\uDBFF]/.test(s[n - 1])) n--; // never half an emoji
  return s.slice(0, n) + '…';
}

const isContinuation = (id: number) => id >= 0x80 && id <= 0xbf;
/** Bytes in the UTF-8 character a lead byte starts (1 for anything else). */
const charBytes = (id: number) => (id >= 0xf0 && id <= 0xf7 ? 4 : id >= 0xe0 && id <= 0xef ? 3 : id >= 0xc0 && id <= 0xdf ? 2 : 1);

/** [lo, hi): the byte ids less a partial character at either end (byte tokenizer: one id per byte). */
function wholeBytes(ids: readonly number[]): [number, number] {
  let lo = 0;
  while (lo < 3 && lo < ids.length && isContinuation(ids[lo])) lo++;
  let hi = ids.length;
  let j = hi - 1;
  while (j > lo && hi - j < 4 && isContinuation(ids[j])) j--;
  if (j >= lo && hi - j < charBytes(ids[j])) hi = j;
  return [lo, hi];
}

/** [lo, hi): any tokenizer, by decoding: at most 3 ids dropped at an end that decodes to U+FFFD only when that clears it. */
function wholeTokens(ids: readonly number[], tok: Tokenizer): [number, number] {
  let lo = 0;
  let hi = ids.length;
  if (tok.decode(ids).startsWith('\uFFFD')) {
    const k = [1, 2, 3].find((k) => k <= hi && !tok.decode(ids.slice(k, hi)).startsWith('\uFFFD'));
    if (k !== undefined) lo = k;
  }
  if (tok.decode(ids.slice(lo, hi)).endsWith('\uFFFD')) {
    const k = [1, 2, 3].find((k) => hi - k >= lo && !tok.decode(ids.slice(lo, hi - k)).endsWith('\uFFFD'));
    if (k !== undefined) hi -= k;
  }
  return [lo, hi];
}

/**
 * Token ids as table text. Truncation cuts a prompt from the left and a completion from the
 * right at a token boundary, which for byte-level tokenizers can fall inside a multi-byte
 * character (Korean, emoji): decoded, those partial bytes are U+FFFD. They are dropped for
 * display and the cut is marked with "…". End-of-text tokens are left out.
 */
export function displayText(ids: readonly number[], tok: Tokenizer): string {
  const kept = ids.filter((id) => id !== tok.eosTokenId);
  const [lo, hi] = tok.kind === 'byte' ? wholeBytes(kept) : wholeTokens(kept, tok);
  const text = tok.decode(kept.slice(lo, hi));
  return (lo > 0 ? '…' : '') + text + (hi < kept.length ? '…' : '');
}

/**
 * The text of each token of `ids`, for the per-token view: pieces that join into the decoded text.
 * A character split over several tokens (bytes of a Korean syllable or an emoji) belongs to the
 * token that completes it; the tokens before it get ''. End-of-text and special tokens show their
 * names in angle brackets.
 */
export function tokenPieces(ids: readonly number[], tok: Tokenizer): string[] {
  const out: string[] = [];
  let from = 0; // first id of the character(s) not yet emitted
  for (let i = 0; i < ids.length; i++) {
    const special = ids[i] === tok.eosTokenId ? '⟨eos⟩' : tok.specialTokens?.get(ids[i]);
    if (special !== undefined) {
      for (let j = from; j < i; j++) out[j] ??= '';
      if (from < i) out[i - 1] = tok.decode(ids.slice(from, i)); // an unfinished character before it
      out[i] = special;
      from = i + 1;
      continue;
    }
    const text = tok.decode(ids.slice(from, i + 1));
    if (text.endsWith('\uFFFD') && i + 1 < ids.length && i + 1 - from < 4) {
      out[i] = ''; // waits for the rest of its character
      continue;
    }
    out[i] = text;
    from = i + 1;
  }
  return out;
}

export function pairMeta(pairs: readonly PairIds[], tok: Tokenizer): PairMeta[] {
  const text = (ids: readonly number[]) => clip(displayText(ids, tok));
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
export async function pairAverages(model: TrainableModel, pairs: readonly PairIds[], batchSize: number, activationsDtype: ActivationsDtype = 'f32'): Promise<{ chosen: number[]; rejected: number[] }> {
  const runners = new RunnerPool(model, undefined, undefined, activationsDtype);
  try {
    return averages(await pairLogps(model, runners, pairs, batchSize));
  } finally {
    runners.destroy();
  }
}
