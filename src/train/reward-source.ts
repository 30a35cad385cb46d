// A reward model as a reward source of the online methods (issue 16: `--reward-model DIR` for
// GRPO/RLOO, and PPO's score; docs/rlhf.md). A frozen copy of the reward folder's weights on the
// policy's GPU scores prompt + completion ids exactly as the `score` command does: one forward of
// the right-padded sequences, the score head read at each sequence's last non-padding token
// (src/model/score-head.ts). It scores the ids the policy generated, so the reward model must read
// the policy's vocabulary: a different vocabulary size or end-of-text id is refused (TRL would
// decode and re-tokenize; this project requires one tokenizer, and the CLI also compares them).
import { StepEncoder } from '../engine/encoder';
import { buildBatch } from '../model/batch';
import { createModel, sequenceConfig, type ModelConfig, type TrainableModel } from '../model/family';
import { isRewardModel } from '../model/reward';
import { batchLength } from './pairs';
import { RunnerPool } from './runners';

/** A reward folder's weights and the name its scores are logged under (`rewards/<name>/mean`). */
export interface RewardModelWeights {
  /** TRL's name for a reward model: the last component of its path (config._name_or_path). */
  name: string;
  config: ModelConfig;
  params: Map<string, Float32Array>;
}

/** Why a reward model cannot score a policy's ids (null when it can): a clear message naming the mismatch. */
export function rewardModelProblem(policy: ModelConfig, reward: ModelConfig): string | null {
  if (!isRewardModel(reward)) return 'not a reward model (no *ForSequenceClassification score head with num_labels 1): make one with `train --method reward` or `init --reward-head`';
  const [p, r] = [sequenceConfig(policy), sequenceConfig(reward)];
  if (p.vocabSize !== r.vocabSize) return `its vocabulary has ${r.vocabSize} tokens and the policy's ${p.vocabSize}: the reward model must use the policy's tokenizer (it scores the generated ids)`;
  if (p.eosTokenId !== r.eosTokenId) return `its end-of-text id is ${r.eosTokenId} and the policy's ${p.eosTokenId}: the reward model must use the policy's tokenizer (it scores the generated ids)`;
  return null;
}

/** The reward model on the policy's GPU (frozen: no gradients are used, no optimizer). */
export class RewardModelScorer {
  readonly name: string;
  readonly model: TrainableModel;
  private runners: RunnerPool;

  constructor(policy: TrainableModel, w: RewardModelWeights) {
    const problem = rewardModelProblem(policy.config, w.config);
    if (problem) throw new Error(`reward model ${w.name}: ${problem}`);
    this.name = w.name;
    this.model = createModel(policy.gpu, { config: w.config });
    this.model.upload(w.params);
    this.runners = new RunnerPool(this.model);
  }

  allocated(): Promise<void> {
    return this.model.params.allocated();
  }

  /**
   * Scores of prompts[i] + completions[i] (as the `score` command reads a prompt and an answer),
   * `rows` sequences per forward.
   */
  async score(prompts: readonly (readonly number[])[], completions: readonly (readonly number[])[], rows: number): Promise<Float64Array> {
    const seq = this.model.seq;
    const out = new Float64Array(prompts.length);
    for (let i = 0; i < prompts.length; i += rows) {
      const seqs = prompts.slice(i, i + rows).map((p, k) => ({ ids: [...p, ...completions[i + k]], promptLen: p.length }));
      const batch = buildBatch(seqs, seq.eosTokenId, batchLength(Math.max(...seqs.map((s) => s.ids.length)), seq.nPositions));
      const runner = this.runners.get(batch.B, batch.T);
      runner.setBatch(batch);
      const enc = new StepEncoder(this.model.gpu, 'reward model');
      runner.forward(enc);
      enc.submit();
      out.set(await runner.readRewards!(), i);
    }
    return out;
  }

  get bytes(): number {
    return this.model.params.bytes + this.runners.bytes;
  }

  destroy(): void {
    this.runners.destroy();
    this.model.destroy();
  }
}
