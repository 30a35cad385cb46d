// `train --reward-model DIR|hf:ORG/NAME` (issue 16): the reward folder a GRPO/RLOO reward function
// or PPO's reward (and value) model is read from. It scores the ids the policy generates, so it
// must use the policy's tokenizer: the vocabulary, the special ids and the encoding of a probe text
// are compared, and a mismatch is refused naming what differs.
import { basename, dirname, resolve } from 'node:path';
import { UsageError } from './command';
import { loadModelArg } from './model-load';
import { isHubId, parseHubId } from '../hub/id';
import type { LoadedModel } from '../model/family-checkpoint';
import { rewardModelProblem, type RewardModelWeights } from '../train/reward-source';

/** Text whose ids two tokenizers must agree on: letters, digits, punctuation, spaces, non-ASCII. */
const PROBE = 'Hello, world! What is 12+34? It is 46.\n  Ünïcödé — 東京 🙂 <|endoftext|>';

/** Why `reward`'s tokenizer is not the policy's (null when they agree). */
export function tokenizerProblem(policy: LoadedModel['tokenizer'], reward: LoadedModel['tokenizer']): string | null {
  if (policy.kind !== reward.kind) return `its tokenizer is ${reward.kind === 'byte' ? 'the built-in byte tokenizer' : 'a Hugging Face tokenizer'} and the policy's ${policy.kind === 'byte' ? 'the built-in byte tokenizer' : 'a Hugging Face tokenizer'}`;
  if (policy.vocabSize !== reward.vocabSize) return `its tokenizer has ${reward.vocabSize} tokens and the policy's ${policy.vocabSize}`;
  if (policy.eosTokenId !== reward.eosTokenId || policy.bosTokenId !== reward.bosTokenId) return `its end-of-text/begin ids (${reward.eosTokenId}/${reward.bosTokenId}) differ from the policy's (${policy.eosTokenId}/${policy.bosTokenId})`;
  const [a, b] = [policy.encode(PROBE), reward.encode(PROBE)];
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) return 'its tokenizer encodes text differently from the policy\'s';
  return null;
}

/**
 * TRL's name for a reward model: the last component of its path (`rewards/<name>/mean`); for a
 * run's DIR/model/ folder (train --method reward --out DIR), the run's folder name DIR.
 */
export function rewardModelName(arg: string): string {
  if (isHubId(arg)) return parseHubId(arg).name;
  const path = resolve(arg);
  const name = basename(path);
  return name === 'model' ? basename(dirname(path)) || name : name;
}

/** The reward folder `arg` names, checked against the policy `policy`; UsageError naming --reward-model otherwise. */
export async function loadRewardModelArg(arg: string, policy: LoadedModel): Promise<RewardModelWeights> {
  let ckpt: LoadedModel;
  try {
    ckpt = await loadModelArg(arg);
  } catch (e) {
    throw new UsageError(`--reward-model ${arg}: ${(e as Error).message.replace(/^--model \S+: /, '')}`, { cause: e });
  }
  const problem = rewardModelProblem(policy.config, ckpt.config);
  if (problem) throw new UsageError(`--reward-model ${arg}: ${problem}`);
  const tok = tokenizerProblem(policy.tokenizer, ckpt.tokenizer);
  if (tok) throw new UsageError(`--reward-model ${arg}: ${tok} (the reward model must use the policy's tokenizer: it scores the generated ids)`);
  return { name: rewardModelName(arg), config: ckpt.config, params: ckpt.params };
}
