// The built-in model's tokenizer: one token per UTF-8 byte (ids 0..255) plus <|endoftext|>
// (256), so Korean, French and emoji all encode with no unknown tokens.
// Written by hand rather than through @huggingface/tokenizers: it is a dozen lines and runs
// on hot paths (data preview of 100 MB files). byteLevelTokenizerJson() exports the same
// tokenizer in Hugging Face format (byte-level BPE with no merges) so exported models load
// with AutoTokenizer and give the same ids.
import type { Tokenizer } from './types';
import { BYTE_EOT, BYTE_VOCAB } from '../model/config';

export const EOT_TEXT = '<|endoftext|>';

export class ByteTokenizer implements Tokenizer {
  readonly kind = 'byte' as const;
  readonly vocabSize = BYTE_VOCAB;
  readonly eosTokenId = BYTE_EOT;
  readonly bosTokenId = BYTE_EOT;
  private enc = new TextEncoder();
  private dec = new TextDecoder('utf-8', { fatal: false });

  encode(text: string): number[] {
    return Array.from(this.enc.encode(text));
  }

  /** Bytes to text; <|endoftext|> is rendered as its name; split multi-byte characters as U+FFFD. */
  decode(ids: readonly number[]): string {
    let out = '';
    let run: number[] = [];
    const flush = () => {
      if (run.length) out += this.dec.decode(new Uint8Array(run));
      run = [];
    };
    for (const id of ids) {
      if (id === BYTE_EOT) {
        flush();
        out += EOT_TEXT;
      } else if (Number.isInteger(id) && id >= 0 && id < 256) {
        run.push(id);
      } else {
        throw new Error(`byte tokenizer: id ${id} is outside the vocabulary [0, ${BYTE_VOCAB})`);
      }
    }
    flush();
    return out;
  }
}

/** GPT-2's reversible byte -> printable unicode character map (as in tokenizers' ByteLevel). */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const map: string[] = new Array(256);
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (bs.includes(b)) map[b] = String.fromCodePoint(b);
    else map[b] = String.fromCodePoint(256 + n++);
  }
  return map;
}

/** tokenizer.json (Hugging Face tokenizers format) equivalent to ByteTokenizer. */
export function byteLevelTokenizerJson(): Record<string, unknown> {
  const chars = bytesToUnicode();
  const vocab: Record<string, number> = {};
  chars.forEach((ch, b) => (vocab[ch] = b));
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: BYTE_EOT, content: EOT_TEXT, single_word: false, lstrip: false, rstrip: false, normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges: [] },
  };
}
