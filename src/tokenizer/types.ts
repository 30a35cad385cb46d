// What the data pipeline and the model need from a tokenizer, whatever its origin
// (the built-in byte-level one, or a Hugging Face tokenizer.json).
export interface Tokenizer {
  readonly kind: 'byte' | 'hf';
  readonly vocabSize: number;
  /** <|endoftext|>: appended to completions of string data (TRL convention), used as padding. */
  readonly eosTokenId: number;
  readonly bosTokenId: number;
  /** Jinja chat template when the model ships one (tokenizer_config.json). */
  readonly chatTemplate?: string;
  /** The unknown token, when the vocabulary has one (Hugging Face tokenizers). */
  readonly unkTokenId?: number;
  /** Special tokens (id → text), which carry no text of the data. */
  readonly specialTokens?: ReadonlyMap<number, string>;
  /** Text -> ids, with no special tokens added. */
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}
