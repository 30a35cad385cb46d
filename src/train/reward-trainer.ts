// The reward model's trainer (TRL RewardTrainer; issue 16, docs/rlhf.md "Reward model on the GPU"):
// BaseTrainer's update skeleton with a score head instead of the LM head. Per micro-batch of n
// pairs: one forward of [chosen_0..chosen_{n−1}, rejected_0..rejected_{n−1}] (prompt + completion,
// right-padded) gives one score per sequence at its last non-padding token; the Bradley–Terry
// loss (src/train/rl/reward-model.ts, already divided by gradAccum) gives ∂loss/∂score per
// sequence; the backward starts there (ModelRunner.setRewardGradients). No reference, no
// log-probs. Metrics: TRL's `loss`, `min_reward`, `mean_reward`, `max_reward`, `accuracy`,
// `margin` (micro-batches and eval batches averaged, as TRL's log() does) and the running
// `num_tokens`; eval rows carry the `eval_` prefix.
import { StepEncoder } from '../engine/encoder';
import type { ModelRunner, TrainableModel } from '../model/family';
import { isRewardModel } from '../model/reward';
import { createObjective, type ScoreObjective } from './objectives';
import type { TrainConfig } from './config';
import { BaseTrainer, meanMetrics, prefixed, type Metrics, type MicroResult } from './trainer';
import { checkPairs, pairBatch, promptFor, type PairIds } from './pairs';
import { RunnerPool } from './runners';
import { checkCancelled, type PassHooks } from './progress';
import { batchTokens } from './token-metrics';
import type { HostBatch } from '../model/batch';

/** The runner's score-head methods, which only a reward model's runner has. */
function scoring(runner: ModelRunner): Required<Pick<ModelRunner, 'readRewards' | 'setRewardGradients'>> {
  if (!runner.readRewards || !runner.setRewardGradients) throw new Error('this model runner has no score head');
  return { readRewards: () => runner.readRewards!(), setRewardGradients: (d) => runner.setRewardGradients!(d) };
}

/** One forward pass of a batch of pairs on a reward model: the batch and one score per sequence (2n). */
export async function scorePairs(model: TrainableModel, runners: RunnerPool, pairs: readonly PairIds[]): Promise<{ batch: HostBatch; rewards: Float64Array; runner: ModelRunner }> {
  const batch = pairBatch(pairs, model.seq, false);
  const runner = runners.get(batch.B, batch.T);
  runner.setBatch(batch);
  const enc = new StepEncoder(model.gpu, 'forward');
  runner.forward(enc);
  enc.submit();
  return { batch, rewards: await scoring(runner).readRewards(), runner };
}

/** Scores of every pair's chosen and rejected sequence, `batchSize` pairs per forward. */
export async function pairRewards(model: TrainableModel, runners: RunnerPool, pairs: readonly PairIds[], batchSize: number, hooks?: PassHooks): Promise<{ chosen: Float64Array; rejected: Float64Array }> {
  const n = pairs.length;
  const out = { chosen: new Float64Array(n), rejected: new Float64Array(n) };
  hooks?.progress?.({ done: 0, total: n });
  for (let i = 0; i < n; i += batchSize) {
    checkCancelled(hooks);
    const part = pairs.slice(i, i + batchSize);
    const { rewards } = await scorePairs(model, runners, part);
    out.chosen.set(rewards.subarray(0, part.length), i);
    out.rejected.set(rewards.subarray(part.length, 2 * part.length), i);
    hooks?.progress?.({ done: i + part.length, total: n });
  }
  return out;
}

export class RewardTrainer extends BaseTrainer<null> {
  readonly objective: ScoreObjective;

  constructor(model: TrainableModel, readonly train: readonly PairIds[], readonly evalSet: readonly PairIds[], cfg: TrainConfig) {
    const objective = createObjective(cfg.objective);
    if (objective.kind !== 'score') throw new Error(`method "${objective.method}" trains the LM head: use Trainer or KtoTrainer`);
    if (!isRewardModel(model.config)) throw new Error('method reward needs a model with a score head (a reward model: see toRewardModel)');
    checkPairs(train, model.seq);
    checkPairs(evalSet, model.seq);
    super(model, train.length, cfg);
    this.objective = objective;
  }

  protected dataIndex(i: number): number {
    return this.train[i].index;
  }

  protected exampleTokens(i: number): number {
    const p = this.train[i];
    return 2 * promptFor(p, this.model.seq.bosTokenId).length + p.chosenIds.length + p.rejectedIds.length;
  }

  /** No reference model. */
  async prepare(): Promise<void> {}

  protected async microStep(idx: number[]): Promise<MicroResult> {
    const { batch, rewards, runner } = await scorePairs(this.model, this.runners, idx.map((i) => this.train[i]));
    this.check(rewards, 'rewards', idx);
    const n = idx.length;
    const res = this.objectiveResult(() => this.objective.compute({ chosen: rewards.subarray(0, n), rejected: rewards.subarray(n, 2 * n) }, this.cfg.gradAccum), idx);
    this.check([res.loss], 'loss', idx);
    const d = new Float64Array(2 * n);
    d.set(res.dChosen, 0);
    d.set(res.dRejected, n);
    this.check(d, 'reward gradients', idx);
    scoring(runner).setRewardGradients(d);
    const enc = new StepEncoder(this.model.gpu, 'backward');
    runner.backward(enc);
    enc.submit();
    this.numTokens += batchTokens(batch.lengths, batch.B);
    return { metrics: { ...res.metrics, num_tokens: this.numTokens }, tokens: batchTokens(batch.lengths, batch.B) };
  }

  /** Held-out metrics (prefix `eval_`), averaged over batches. */
  async evaluate(hooks?: PassHooks): Promise<Metrics> {
    if (this.evalSet.length === 0) return {};
    const all: Metrics[] = [];
    const bs = this.cfg.batchSize;
    const n = this.evalSet.length;
    hooks?.progress?.({ done: 0, total: n });
    for (let i = 0; i < n; i += bs) {
      checkCancelled(hooks);
      const part = this.evalSet.slice(i, i + bs);
      const { rewards } = await scorePairs(this.model, this.runners, part);
      const k = part.length;
      all.push({ ...this.objective.compute({ chosen: rewards.subarray(0, k), rejected: rewards.subarray(k, 2 * k) }).metrics, num_tokens: this.numTokens });
      hooks?.progress?.({ done: i + k, total: n });
    }
    return prefixed(meanMetrics(all), 'eval_');
  }
}
