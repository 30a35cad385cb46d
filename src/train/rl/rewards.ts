// Reward functions of the online methods (GRPO, RLOO; docs/rlhf.md): each scores a decoded prompt
// and completion, as TRL's reward functions take `prompts` and `completions` as text. The
// built-in ones are the rule-based judges of src/judge/ (`judge:arithmetic`, `judge:politeness`,
// the choices of the methods' `reward` option): the judge's score in [0, 1] is the reward.
// TRL logs each under `rewards/<name>/mean` with the function's name; here the judge's name.
import { arithmeticJudge, politenessJudge, type Judge } from '../../judge';

export interface RewardFunction {
  /** The name in `rewards/<name>/mean` and `/std`. */
  readonly name: string;
  /** The reward of `completion` (decoded, end-of-text removed) for `prompt` (decoded as the model read it). */
  score(prompt: string, completion: string): number;
}

const JUDGES: Record<string, Judge> = { 'judge:arithmetic': arithmeticJudge, 'judge:politeness': politenessJudge };

/** A judge as a reward function: its verdict's score. */
export function judgeReward(judge: Judge): RewardFunction {
  return { name: judge.name, score: (prompt, completion) => judge.judge(prompt, completion).score };
}

/** The reward functions an online objective names (its `rewards.names`); an unknown name throws, listing the known ones. */
export function rewardFunctions(names: readonly string[]): RewardFunction[] {
  return names.map((n) => {
    const j = JUDGES[n];
    if (!j) throw new Error(`unknown reward function "${n}" (known: ${Object.keys(JUDGES).join(', ')})`);
    return judgeReward(j);
  });
}
