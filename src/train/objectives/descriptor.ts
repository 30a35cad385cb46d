// What the rest of the app knows about a method: one descriptor per method, kept in the same file
// as its objective. The CLI's flags and --help, the page's cards and their validation, the URL's
// run tokens, the TRL export and the methods table in docs are all derived from these objects
// (docs/design.md, "Adding a method"). Nothing outside src/train/objectives/ switches on a method.
import type { Method, Objective } from './types';

/** A value of one option as the objective takes it. */
export type OptionValue = number | string | boolean | readonly string[] | readonly number[];
/** Option key → value, for one method (the objective's options object). */
export type OptionValues = Readonly<Record<string, OptionValue | undefined>>;

/** A Python literal for the TRL script: `{ float }` prints `1` as `1.0`. */
export type PyValue = number | { float: number } | string | boolean | null | PyValue[];

interface OptionBase {
  /** Key in the objective's options object, e.g. 'beta'. */
  readonly key: string;
  /** Short label on the page, e.g. 'β', 'λ', 'loss type'. */
  readonly label: string;
  /** One line for --help and the card's tooltip. */
  readonly help: string;
  /** CLI flag without dashes, e.g. 'beta', 'loss-type'. Several methods may share one flag. */
  readonly cli: string;
  /** Position in the URL run token after the method name (`dpo:sigmoid:0.1`); absent: not in URL. */
  readonly url?: number;
  /** Always written in the URL token (else only up to the last non-default value). */
  readonly urlAlways?: boolean;
  /** TRL config name (e.g. 'label_smoothing'); null when TRL has no such option. */
  readonly trl: string | null;
  /** Whether the page's card shows the option (default true), given the card's other values. */
  readonly show?: (v: OptionValues) => boolean;
  /** Another option's key: when that one changes on a card, this one goes back to its default. */
  readonly resetWith?: string;
  /** Whether the TRL export writes it (default: whenever it has a TRL name). */
  readonly trlWhen?: (v: OptionValues) => boolean;
}

export type MethodOption =
  | (OptionBase & {
      readonly kind: 'number';
      readonly default: number;
      /** Valid range: min ≤ x (or < with minOpen), x ≤ max (or < with maxOpen). */
      readonly min?: number;
      readonly minOpen?: boolean;
      readonly max?: number;
      readonly maxOpen?: boolean;
      /** Step of the card's number field. */
      readonly step?: number;
    })
  | (OptionBase & {
      readonly kind: 'choice';
      readonly default: string;
      readonly choices: readonly string[];
      /** Old or alternative names accepted on input, mapped to a choice. */
      readonly aliases?: Readonly<Record<string, string>>;
      /** Accepts a comma-separated list (DPO's combined loss types). */
      readonly multiple?: boolean;
    })
  | (OptionBase & { readonly kind: 'numbers'; readonly default: null })
  | (OptionBase & {
      readonly kind: 'boolean';
      readonly default: boolean;
    });

export interface TrlTarget {
  /** DPOTrainer / DPOConfig → 'DPO'. */
  readonly trainer: 'DPO' | 'ORPO' | 'CPO' | 'KTO' | 'Reward' | 'GRPO' | 'RLOO' | 'PPO';
  /** Modules to import the trainer and config from, tried in order (current location first). */
  readonly modules: readonly string[];
  /** Whether the TRL trainer takes a reference model. */
  readonly usesRefModel: boolean;
  /** Config arguments fixed by the method (e.g. loss_type='simpo'), written first. */
  readonly fixed?: ReadonlyArray<readonly [string, PyValue]>;
  /** Differences TRL cannot express, for these values (written into the script as comments). */
  readonly notes?: (v: OptionValues) => string[];
  /** The TRL trainer puts the tokenizer's BOS before every prompt (ORPO, CPO: add_bos_token_if_needed). */
  readonly prependsBos?: boolean;
  /** The smallest per-device batch the TRL trainer accepts (KTO's KL estimate needs 2). */
  readonly minBatchSize?: (v: OptionValues) => number;
  /**
   * What the trainer trains: a causal LM (default; the script loads it with AutoModelForCausalLM),
   * or a reward model, which the trainer itself loads from MODEL with
   * AutoModelForSequenceClassification(num_labels=1) after set_seed (TRL RewardTrainer).
   */
  readonly model?: 'causal-lm' | 'sequence-classification';
  /** A value written differently from the one PrefPlay was given (EXO's ε = 0 → 1e-3). */
  readonly value?: (key: string, v: OptionValues) => PyValue | undefined;
}

export interface MethodDescriptor {
  readonly name: Method;
  /** 'DPO', 'ORPO', ... */
  readonly label: string;
  /** One line for --help, the page and the docs. */
  readonly description: string;
  /** What the method trains on. */
  readonly data: 'pairs' | 'unpaired' | 'prompts';
  /**
   * Which head the method trains: the LM head's log-probs (default), or a score head (a reward
   * model, *ForSequenceClassification: one score per sequence, no reference, no LM head; the
   * page does not offer it yet).
   */
  readonly head?: 'lm' | 'score';
  /** Needs reference log-probs (of the starting weights, or --ref-model). */
  readonly needsReference: boolean;
  /** "DPOTrainer (loss_type, loss_weights)": what it reproduces, for the docs. */
  readonly trlName: string;
  readonly options: readonly MethodOption[];
  /** One-line formula for the card, given the values. */
  formula(v: OptionValues): string;
  /** The objective for these options (validates them, naming the option). */
  create(v: OptionValues): Objective;
  readonly trl: TrlTarget;
}
