// Reward models from causal LMs (issue 16, docs/rlhf.md "Reward model on the GPU"): what
// `train --method reward` does to a causal-LM folder and `init --reward-head` writes. A reward
// model is the same trunk with `score.weight` [1, C] in place of the LM head (config `scoreHead`),
// as transformers' AutoModelForSequenceClassification builds it from a causal checkpoint for
// TRL's RewardTrainer: the trunk's weights are kept, an untied lm_head.weight is dropped, and the
// new head is drawn N(0, initializer_range) (both families' nn.Linear init) from the run's seed.
import type { ModelConfig } from './family';
import { isLlamaConfig, sequenceConfig } from './family';
import { SCORE_WEIGHT } from './score-config';
import { Rng } from '../util/rng';

/** initializer_range of both families (src/model/init.ts, LLAMA_INITIALIZER_RANGE): the score head's init std. */
export const SCORE_INIT_STD = 0.02;

export function isRewardModel(c: ModelConfig): boolean {
  return c.scoreHead === true;
}

/** The channels the score head reads (n_embd, hidden_size). */
export function scoreChannels(c: ModelConfig): number {
  return isLlamaConfig(c) ? c.hiddenSize : c.nEmbd;
}

/**
 * The padding id whose trailing runs the score head skips: config.json's pad_token_id, else
 * end-of-text, as TRL's RewardTrainer sets it (`tokenizer.pad_token or tokenizer.eos_token`).
 */
export function rewardPadId(c: ModelConfig): number {
  return c.padTokenId ?? sequenceConfig(c).eosTokenId;
}

/** `c` as a reward model (scoreHead, pad_token_id set); unchanged when it already is one. */
export function rewardConfig<C extends ModelConfig>(c: C): C {
  if (isRewardModel(c)) return c;
  return { ...c, scoreHead: true, padTokenId: rewardPadId(c) };
}

/** A score head [1, C] drawn N(0, std) from its own seeded stream. */
export function initScoreHead(channels: number, seed: number, std = SCORE_INIT_STD): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: channels }, () => std * rng.normal());
}

/**
 * A causal LM's config and weights as a reward model: the trunk kept, an untied lm_head.weight
 * dropped, score.weight initialised from `seed`. A reward model is returned unchanged.
 */
export function toRewardModel<C extends ModelConfig>(base: { config: C; params: Map<string, Float32Array> }, seed: number): { config: C; params: Map<string, Float32Array> } {
  if (isRewardModel(base.config)) return { config: base.config, params: base.params };
  const params = new Map(base.params);
  params.delete('lm_head.weight');
  params.set(SCORE_WEIGHT, initScoreHead(scoreChannels(base.config), seed));
  return { config: rewardConfig(base.config), params };
}
