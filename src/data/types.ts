// Shapes shared by the preference-data pipeline (docs/data-formats.md): file -> records -> normalized
// examples -> token ids -> batches. Plain data only: everything here is structured-clonable so it
// crosses the worker boundary unchanged.

/** File syntax. `auto` sniffs the file name, then the first bytes. */
export const SYNTAXES = ['jsonl', 'json', 'csv', 'tsv', 'yaml'] as const;
export type Syntax = (typeof SYNTAXES)[number];

/**
 * Row shape (the "format" of docs/data-formats.md), detected from the rows or chosen by the user:
 * - standard:       {prompt: str, chosen: str, rejected: str}
 * - implicit:       {chosen: str, rejected: str}, prompt = their longest common prefix
 * - conversational: prompt/chosen/rejected as [{role, content}] lists (prompt optional: then the
 *                   common leading messages of chosen and rejected)
 * - hh-rlhf:        Anthropic transcripts "\n\nHuman: … \n\nAssistant: …" in chosen/rejected
 * - ultrafeedback:  prompt: str, chosen/rejected: message lists that repeat the user turn
 * - orca:           {system?, question, chosen, rejected} strings
 * - kto:            unpaired {prompt, completion, label: bool} (strings or message lists)
 */
export const SHAPES = ['standard', 'implicit', 'conversational', 'hh-rlhf', 'ultrafeedback', 'orca', 'kto'] as const;
export type Shape = (typeof SHAPES)[number];

export interface Message {
  role: string;
  content: string;
}

/**
 * One accepted preference pair. prompt/chosen/rejected are the exact strings the model sees:
 * as given for string data, rendered with the chat template (or the plain template) for
 * conversational data. Completions never include the end-of-text token; `appendEos` says
 * whether tokenization appends it (string data and the plain template: yes; a chat template
 * closes its own turns: no).
 */
export interface PreferencePair {
  kind: 'pair';
  prompt: string;
  chosen: string;
  rejected: string;
  appendEos: boolean;
  /** 1-based line where the row starts in the file (JSON array: the element's first line). */
  line: number;
  /** 0-based position of the row among all rows of the file (accepted or not). */
  index: number;
  /** The original messages of conversational shapes (conversational, ultrafeedback, orca). */
  messages?: { prompt: Message[]; chosen: Message[]; rejected: Message[] };
  scoreChosen?: number;
  scoreRejected?: number;
}

/** One accepted unpaired (KTO) example; same conventions as PreferencePair. */
export interface UnpairedExample {
  kind: 'unpaired';
  prompt: string;
  completion: string;
  label: boolean;
  appendEos: boolean;
  line: number;
  index: number;
  messages?: { prompt: Message[]; completion: Message[] };
}

export type Example = PreferencePair | UnpairedExample;

/**
 * Token ids as trained on (README.md `logps`): promptIds (≤ maxPromptLength, cut from the left),
 * completion ids with the end-of-text token appended for string data, cut from the right so that
 * prompt + completion ≤ maxLength.
 */
export interface TokenizedPair {
  promptIds: number[];
  chosenIds: number[];
  rejectedIds: number[];
  line: number;
  index: number;
}

export interface TokenizedUnpaired {
  promptIds: number[];
  completionIds: number[];
  label: boolean;
  line: number;
  index: number;
}

export type TokenizedExample = TokenizedPair | TokenizedUnpaired;

/** Why a row was rejected. */
export type RejectCode =
  | 'syntax' // invalid JSON / CSV / YAML
  | 'not-object' // the row is not an object (a number, a list, …)
  | 'unknown-shape' // no known shape fits the row's fields
  | 'missing-field'
  | 'wrong-type' // non-string field, label not a boolean, malformed message
  | 'empty-completion'
  | 'identical' // chosen identical to rejected
  | 'template' // the chat template failed on this row
  | 'mixed-format' // the row's fields are another format's than the file's (read as the file's, they would be lost)
  | 'unread-field' // the row carries a field its format does not read (prompt and question, system in a standard row, …)
  | 'unencodable' // the tokenizer encodes a non-empty text to no tokens, or to unknown tokens only
  | 'truncated-away'; // no completion token left after truncation

export interface RejectedRow {
  line: number;
  index: number;
  /** The offending field (`chosen`, `chosen[1].content`, …); absent for syntax errors. */
  field?: string;
  code: RejectCode;
  reason: string;
}

export type WarningCode =
  | 'duplicate' // same prompt/chosen/rejected as an earlier row
  | 'long-row' // more than 4 × maxLength tokens before truncation: most of it is cut
  | 'empty-prompt'
  | 'identical-after-truncation' // chosen and rejected ids equal once truncated
  | 'replacement-char' // U+FFFD in the text: the file is probably not valid UTF-8
  | 'prompt-mismatch' // ultrafeedback: `prompt` differs from the repeated user turn
  | 'tied-scores' // ultrafeedback: score_chosen == score_rejected
  | 'ignored-array' // JSON/YAML: a second array of rows under another key was not read
  | 'ignored-columns'; // CSV: columns no shape uses

export interface RowWarning {
  line?: number;
  index?: number;
  code: WarningCode;
  message: string;
}

export interface LengthStats {
  min: number;
  mean: number;
  max: number;
}

/**
 * The validation report (docs/data-formats.md, CLI `validate`). Every row read is counted exactly once:
 * rows = accepted + rejectedCount. Lists are capped at `maxReported` entries each; the counts
 * are always exact and `omitted` says how many entries were left out of the lists.
 */
export interface ValidationReport {
  /** The row shape used (detected or chosen); null when no row had a known shape. */
  format: Shape | null;
  /**
   * Accepted rows by the shape each was read with, when a detected format let rows of one family
   * mix (standard rows in an implicit file, …); absent when every accepted row used `format`.
   */
  formats?: Partial<Record<Shape, number>>;
  /**
   * One line on the whole file: "3 of 4 rows accepted, 1 rejected", or the file-wide cause when
   * there is one ("the tokenizer cannot encode the data: …").
   */
  summary: string;
  syntax: Syntax;
  shapeSource: 'detected' | 'chosen';
  /** Rendering of conversational rows. */
  template: 'chat-template' | 'plain' | 'none';
  rows: number;
  accepted: number;
  rejectedCount: number;
  rejected: RejectedRow[];
  /** Accepted examples that lost tokens to truncation (prompt or any completion). */
  truncated: number;
  truncation: {
    maxLength: number;
    maxPromptLength: number;
    maxCompletionLength: number | null;
    prompt: number;
    completion: number;
    /** Rows rejected because no completion token was left (also in `rejected`). */
    dropped: number;
  };
  warnings: RowWarning[];
  warningCounts: Partial<Record<WarningCode, number>>;
  omitted: { rejected: number; warnings: number };
  /** Token counts of accepted examples before truncation (EOT included). */
  tokens: { prompt: LengthStats; completion: LengthStats; total: LengthStats } | null;
  /** KTO: accepted examples by label. */
  labels?: { desirable: number; undesirable: number };
  bytes: number;
}

/** Options shared by validation, tokenization and the CLI. Defaults: TRL DPOConfig. */
export interface DataOptions {
  syntax?: Syntax | 'auto';
  format?: Shape | 'auto';
  maxLength?: number;
  maxPromptLength?: number;
  maxCompletionLength?: number | null;
  /** Cap on listed rejected rows and on listed warnings (counts stay exact). */
  maxReported?: number;
}

export const DEFAULT_MAX_LENGTH = 1024;
export const DEFAULT_MAX_PROMPT_LENGTH = 512;
export const DEFAULT_MAX_REPORTED = 100_000;

/** Stops a whole file (not one row): unreadable syntax, no rows array in a JSON object, … */
export class DataError extends Error {
  override name = 'DataError';
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(line !== undefined ? `line ${line}: ${message}` : message);
  }
}
