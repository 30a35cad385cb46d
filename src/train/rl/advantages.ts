// Rewards and group advantages of GRPO and RLOO, TRL v1.9.0 (docs/rlhf.md):
// grpo_trainer.py `_generate_and_score_completions` 2672–2750 and rloo_trainer.py 1526–1590.
//
// A generation batch is P prompts × G completions, prompt-major (completions of prompt p at
// p·G … p·G + G − 1, TRL's RepeatSampler order). Each of F reward functions gives one value per
// completion, NaN when it has none (TRL: the function returned None). The combined reward is
//   r_i = Σ_f w_f · R_i,f   over the functions that scored i (nansum), NaN if none did.
// GRPO (sum_then_normalize, the default):  A_i = (r_i − mean_group) / (std_group + 1e−4)
//   with the unbiased group std (scale_rewards 'group', default), the batch std ('batch') or no
//   division ('none'); normalize_then_sum normalises each function per group first (GDPO).
// RLOO: r_i is clipped to reward_clip_range, then r_i −= β·Σ_t (old_t − ref_t) (k1 KL, old =
//   the sampling policy, no gradient); A_i = r_i − mean of the other scorable completions of
//   its group; optionally (normalize_advantages, default False) whitened over the batch.
// Unscorable completions (NaN) get advantage 0, as TRL's nan_to_num.
import { ObjectiveInputError } from '../objectives/check';
import { checkSeq, isCloseToZero, nanmean, nanstd, nansum, requireFinite, requireInt, requireNonNeg, type Vec } from './stats';

export interface RewardTable {
  /** F reward-function names, as TRL names them in `rewards/<name>/mean` (a function's name or a reward model's id). */
  names: readonly string[];
  /** N = P·G rows of F values (NaN: that function did not score this completion). */
  values: readonly (readonly number[])[];
  /** F weights (TRL `reward_weights`, default 1 each). */
  weights?: readonly number[];
}

function checkTable(fn: string, t: RewardTable, G: number): { N: number; F: number; w: number[] } {
  const F = t.names.length;
  if (F === 0) throw new ObjectiveInputError(fn, -1, 'names', 'is empty: at least one reward function is needed');
  if (new Set(t.names).size !== F) throw new ObjectiveInputError(fn, -1, 'names', `has duplicates (${t.names.join(', ')})`);
  const N = t.values.length;
  if (N === 0 || N % G !== 0) throw new ObjectiveInputError(fn, -1, 'values', `has ${N} rows, expected a positive multiple of numGenerations ${G}`);
  t.values.forEach((row, i) => checkSeq(fn, `values[${i}]`, row, F, true, 'completion'));
  const w = t.weights ? [...t.weights] : new Array<number>(F).fill(1);
  if (w.length !== F) throw new ObjectiveInputError(fn, -1, 'weights', `has ${w.length} entries for ${F} reward functions`);
  w.forEach((x, f) => requireFinite(fn, `weights[${f}]`, x));
  return { N, F, w };
}

/** r_i = nansum_f w_f·R_i,f, NaN where every function returned NaN (TRL's unscorable rows). */
export function combineRewards(t: RewardTable, weights?: readonly number[]): Float64Array {
  const F = t.names.length;
  const w = weights ?? t.weights ?? new Array<number>(F).fill(1);
  return Float64Array.from(t.values, (row) => {
    let all = true;
    for (let f = 0; f < F; f++) if (!Number.isNaN(row[f])) all = false;
    return all ? NaN : nansum(row.map((x, f) => x * w[f]));
  });
}

/**
 * The reward metrics both trainers log once per generation batch: `rewards/<name>/mean` and
 * `/std` (nanmean and unbiased nanstd of that function's raw values), `reward` and `reward_std`
 * (nanmean and nanstd of the combined reward, unscorable rows excluded; for RLOO before the
 * clip and the KL penalty). NaN when undefined (TRL's log() then drops it).
 */
export function rewardMetrics(t: RewardTable): Record<string, number> {
  const m: Record<string, number> = {};
  t.names.forEach((name, f) => {
    const col = t.values.map((row) => row[f]);
    m[`rewards/${name}/mean`] = nanmean(col);
    m[`rewards/${name}/std`] = nanstd(col);
  });
  const r = combineRewards(t);
  m.reward = nanmean(r);
  m.reward_std = nanstd(r);
  return m;
}

export type ScaleRewards = 'group' | 'batch' | 'none';
export type MultiObjectiveAggregation = 'sum_then_normalize' | 'normalize_then_sum';

export interface GrpoAdvantageOptions {
  /** G, completions per prompt (TRL `num_generations`, default 8). */
  numGenerations: number;
  /** TRL `scale_rewards` (default 'group'; True ≡ 'group', False ≡ 'none'). */
  scaleRewards?: ScaleRewards;
  /** TRL `multi_objective_aggregation` (default 'sum_then_normalize'). */
  aggregation?: MultiObjectiveAggregation;
}

export interface AdvantageResult {
  /** (N) advantages, 0 for unscorable completions. */
  advantages: Float64Array;
  /** (N) the rewards the advantages were formed from (GRPO: combined; normalize_then_sum: the sum of per-group normalised rewards; RLOO: after clip and KL penalty). */
  rewards: Float64Array;
  /** Logged per generation batch: reward metrics and frac_reward_zero_std (RLOO: and kl when β ≠ 0). */
  metrics: Record<string, number>;
}

/** Group means (nanmean) and unbiased stds (nanstd) of consecutive groups of G. */
function groupStats(x: Vec, G: number): { mean: Float64Array; std: Float64Array } {
  const P = x.length / G;
  const mean = new Float64Array(P);
  const std = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    const g = Array.prototype.slice.call(x, p * G, p * G + G) as number[];
    mean[p] = nanmean(g);
    std[p] = G > 1 ? nanstd(g) : 0;
  }
  return { mean, std };
}

/** GRPO advantages and its per-generation-batch reward metrics (grpo_trainer.py 2676–2750). */
export function grpoAdvantages(t: RewardTable, opts: GrpoAdvantageOptions): AdvantageResult {
  const fn = 'grpo';
  const G = requireInt(fn, 'numGenerations', opts.numGenerations, 1);
  const scale = opts.scaleRewards ?? 'group';
  const agg = opts.aggregation ?? 'sum_then_normalize';
  if (!['group', 'batch', 'none'].includes(scale)) throw new ObjectiveInputError(fn, -1, 'scaleRewards', `"${scale}" is unknown; expected group, batch or none`);
  if (!['sum_then_normalize', 'normalize_then_sum'].includes(agg)) throw new ObjectiveInputError(fn, -1, 'aggregation', `"${agg}" is unknown`);
  const { N, F, w } = checkTable(fn, t, G);
  const P = N / G;
  const advantages = new Float64Array(N);
  let rewards: Float64Array;
  const stdPer = new Float64Array(N); // std_rewards, one per completion (TRL's repeat_interleave / expand)
  if (agg === 'sum_then_normalize') {
    rewards = combineRewards(t, w);
    const { mean, std } = groupStats(rewards, G);
    const batchStd = N > 1 ? nanstd(rewards) : 0;
    for (let i = 0; i < N; i++) {
      const p = Math.floor(i / G);
      stdPer[i] = scale === 'batch' ? batchStd : std[p];
      const a = rewards[i] - mean[p];
      advantages[i] = scale === 'none' ? a : a / (stdPer[i] + 1e-4);
    }
  } else {
    const norm: number[][] = t.values.map((row) => [...row]);
    for (let f = 0; f < F; f++) {
      for (let p = 0; p < P; p++) {
        const g = t.values.slice(p * G, p * G + G).map((row) => row[f]);
        const m = nanmean(g);
        const s = G > 1 ? nanstd(g) : 0;
        for (let j = 0; j < G; j++) norm[p * G + j][f] = (g[j] - m) / (s + 1e-4);
      }
    }
    rewards = combineRewards({ ...t, values: norm }, w);
    const s = N > 1 ? nanstd(rewards) : 0;
    const m = nanmean(rewards);
    for (let i = 0; i < N; i++) {
      stdPer[i] = s;
      advantages[i] = (rewards[i] - m) / (s + 1e-4);
    }
  }
  for (let i = 0; i < N; i++) if (Number.isNaN(advantages[i])) advantages[i] = 0;
  let zero = 0;
  for (let i = 0; i < N; i++) if (isCloseToZero(stdPer[i])) zero++;
  return { advantages, rewards, metrics: { ...rewardMetrics(t), frac_reward_zero_std: zero / N } };
}

export interface RlooAdvantageOptions {
  /** G, completions per prompt (TRL RLOOConfig `num_generations`, default 2). */
  numGenerations: number;
  /** β of the KL penalty in the reward (TRL `beta`, default 0.05); 0 turns it off. */
  beta?: number;
  /** (N) Σ_t mask·(old_t − ref_t): each completion's k1 KL under the sampling policy; required when β ≠ 0, and gives the `kl` metric whenever present (TRL: only when β ≠ 0). */
  klSums?: Vec;
  /** (N) the tokens in each klSum (completion mask sums), for the `kl` metric. */
  klCounts?: Vec;
  /** TRL `reward_clip_range` [lo, hi] (default None). */
  rewardClipRange?: readonly [number, number] | null;
  /** TRL `normalize_advantages` (default False). */
  normalizeAdvantages?: boolean;
}

/**
 * RLOO advantages, its reward metrics and (with klSums) the `kl` metric Σ klSums / max(1, Σ klCounts)
 * (rloo_trainer.py 1526–1590). `frac_reward_zero_std` is over groups, from the rewards after
 * the clip and the KL penalty (TRL computes it from grouped_rewards).
 */
export function rlooAdvantages(t: RewardTable, opts: RlooAdvantageOptions): AdvantageResult {
  const fn = 'rloo';
  const G = requireInt(fn, 'numGenerations', opts.numGenerations, 1);
  const beta = requireNonNeg(fn, 'beta', opts.beta ?? 0.05);
  const { N, w } = checkTable(fn, t, G);
  const P = N / G;
  const rewards = combineRewards(t, w);
  const clip = opts.rewardClipRange ?? null;
  if (clip) for (let i = 0; i < N; i++) if (!Number.isNaN(rewards[i])) rewards[i] = Math.min(Math.max(rewards[i], clip[0]), clip[1]);
  const metrics: Record<string, number> = {};
  if (beta !== 0 || opts.klSums !== undefined) {
    const kl = checkSeq(fn, 'klSums', opts.klSums, N);
    const cnt = checkSeq(fn, 'klCounts', opts.klCounts, N);
    let s = 0;
    let c = 0;
    for (let i = 0; i < N; i++) {
      if (beta !== 0) rewards[i] -= beta * kl[i];
      s += kl[i];
      c += cnt[i];
    }
    metrics.kl = s / Math.max(1, c);
  }
  const { std } = groupStats(rewards, G);
  const advantages = new Float64Array(N);
  for (let p = 0; p < P; p++) {
    let sum = 0;
    let k = 0;
    for (let j = 0; j < G; j++) {
      const r = rewards[p * G + j];
      if (!Number.isNaN(r)) {
        sum += r;
        k++;
      }
    }
    for (let j = 0; j < G; j++) {
      const i = p * G + j;
      // (Σ scorable − r_i)/(k − 1); NaN for unscorable rows and for a lone scorable one (0/0).
      advantages[i] = G > 1 ? rewards[i] - (sum - rewards[i]) / (k - 1) : 0;
    }
  }
  if (opts.normalizeAdvantages) {
    const m = nanmean(advantages);
    const s = nanstd(advantages);
    for (let i = 0; i < N; i++) advantages[i] = (advantages[i] - m) / (s + 1e-4);
  }
  for (let i = 0; i < N; i++) if (Number.isNaN(advantages[i])) advantages[i] = 0;
  let zero = 0;
  for (let p = 0; p < P; p++) if (isCloseToZero(std[p])) zero++;
  return { advantages, rewards, metrics: { ...metrics, ...rewardMetrics(t), frac_reward_zero_std: zero / P } };
}
