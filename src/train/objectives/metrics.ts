// Metrics shared by the paired methods (docs/objectives.md, TRL names). Rewards arrive already scaled
// by β; `logps` are whatever TRL logs for the method (sums S for DPO/CPO, averages A for
// ORPO/SimPO). PrefPlay adds the same quantities on one definition for every method
// (`logps_avg/*`, `logps_sum/*`, `margins_avg`, `margins_sum`), so runs of different methods can be
// charted on one scale.
import { logOdds, mean } from './math';
import type { PairBatch, Vec } from './types';

/** Σ sums / Σ counts: TRL's `logits/*`, the mean over all completion tokens of the batch of the token's mean logit; 0 when there are no tokens. */
export function tokenMean(sums: Vec, counts: Vec): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < sums.length; i++) {
    s += sums[i];
    c += counts[i];
  }
  return c > 0 ? s / c : 0;
}

/** Mean over sequences of A − log(1 − e^A), A = S/|y|: the method-independent `log_odds/*` curves. */
export function meanLogOdds(logp: Vec, len: Vec, pick?: (i: number) => boolean): number {
  let s = 0;
  let k = 0;
  for (let i = 0; i < logp.length; i++) {
    if (pick && !pick(i)) continue;
    s += logOdds(logp[i] / len[i]);
    k++;
  }
  return k > 0 ? s / k : 0;
}

/** (N,) S/|y|. */
export function averages(logp: Vec, len: Vec): Float64Array {
  return Float64Array.from({ length: logp.length }, (_, i) => logp[i] / len[i]);
}

/** (N,) β·x. */
export function scaled(beta: number, x: Vec): Float64Array {
  return Float64Array.from({ length: x.length }, (_, i) => beta * x[i]);
}

/** (N,) S_θ − S_ref. */
export function logRatios(logp: Vec, ref: Vec): Float64Array {
  return Float64Array.from({ length: logp.length }, (_, i) => logp[i] - ref[i]);
}

/** PrefPlay's method-independent log-prob metrics (names in SHARED_LOGP_METRICS), from the batch's sums. */
export function sharedLogpMetrics(b: PairBatch): Record<string, number> {
  const n = b.chosenLogp.length;
  let aw = 0;
  let al = 0;
  let sw = 0;
  let sl = 0;
  for (let i = 0; i < n; i++) {
    aw += b.chosenLogp[i] / b.chosenLen[i];
    al += b.rejectedLogp[i] / b.rejectedLen[i];
    sw += b.chosenLogp[i];
    sl += b.rejectedLogp[i];
  }
  const k = n > 0 ? 1 / n : 0;
  return {
    'logps_avg/chosen': aw * k,
    'logps_avg/rejected': al * k,
    margins_avg: (aw - al) * k,
    'logps_sum/chosen': sw * k,
    'logps_sum/rejected': sl * k,
    margins_sum: (sw - sl) * k,
  };
}

/**
 * rewards/* (when rewards are given: β-scaled, per pair), logps/*, logits/*, log_odds/* and the
 * shared logps_avg/*, logps_sum/*, margins_avg, margins_sum.
 * `rewards/accuracies` is the mean of 1[reward_w > reward_l] (strict, as TRL).
 */
export function pairMetrics(
  b: PairBatch,
  logpChosen: Vec,
  logpRejected: Vec,
  rewardChosen: Float64Array | null,
  rewardRejected: Float64Array | null,
): Record<string, number> {
  const m: Record<string, number> = {};
  if (rewardChosen && rewardRejected) {
    const n = rewardChosen.length;
    let margin = 0;
    let acc = 0;
    for (let i = 0; i < n; i++) {
      margin += rewardChosen[i] - rewardRejected[i];
      if (rewardChosen[i] > rewardRejected[i]) acc++;
    }
    m['rewards/chosen'] = mean(rewardChosen);
    m['rewards/rejected'] = mean(rewardRejected);
    m['rewards/margins'] = margin / n;
    m['rewards/accuracies'] = acc / n;
  }
  m['logps/chosen'] = mean(logpChosen);
  m['logps/rejected'] = mean(logpRejected);
  m['logits/chosen'] = tokenMean(b.chosenLogitSum, b.chosenLogitCount);
  m['logits/rejected'] = tokenMean(b.rejectedLogitSum, b.rejectedLogitCount);
  m['log_odds/chosen'] = meanLogOdds(b.chosenLogp, b.chosenLen);
  m['log_odds/rejected'] = meanLogOdds(b.rejectedLogp, b.rejectedLen);
  return Object.assign(m, sharedLogpMetrics(b));
}

/** Orders `metrics` by `names` and asserts the two sets are equal (a programming error otherwise). */
export function ordered(names: readonly string[], metrics: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of names) {
    if (!(k in metrics)) throw new Error(`internal: metric ${k} was not computed`);
    out[k] = metrics[k];
  }
  for (const k of Object.keys(metrics)) {
    if (!names.includes(k)) throw new Error(`internal: metric ${k} is not declared`);
  }
  return out;
}
