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
  /** Text -> ids, with no special tokens added. */
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}
