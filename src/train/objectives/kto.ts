// KTO (Ethayarajh et al. 2024; TRL KTOTrainer), unpaired. r_i = S_θ − S_ref per example and
// z₀ = max(0, mean_j(klLogp_j − klRefLogp_j)), a detached KL estimate from mismatched pairs.
//   desirable:   L_i = w_d (1 − σ(β(r_i − z₀)))    ∂L_i/∂S_i = −w_d β σ(u)σ(−u), u = β(r_i − z₀)
//   undesirable: L_i = w_u (1 − σ(β(z₀ − r_i)))    ∂L_i/∂S_i = +w_u β σ(v)σ(−v), v = β(z₀ − r_i)
//   loss = mean over all N examples (TRL losses.nanmean()), so ∂loss/∂S_i = ∂L_i/∂S_i / N.
// 'apo_zero_unpaired' replaces z₀ by 0 and the undesirable term by w_u σ(β r_i) (no KL needed).
import { checkFinite, checkUnpairedBatch, ObjectiveOptionError, requireNonNegative, requirePositive } from './check';
import { sigmoid } from './math';
import { meanLogOdds } from './metrics';
import type { MethodDescriptor } from './descriptor';
import type { UnpairedBatch, UnpairedObjective, UnpairedResult } from './types';

export const KTO_LOSS_TYPES = ['kto', 'apo_zero_unpaired'] as const;
export type KtoLossType = (typeof KTO_LOSS_TYPES)[number];

export interface KtoOptions {
  /** β > 0 (TRL KTOConfig `beta`, default 0.1). */
  beta?: number;
  /** w_d ≥ 0 (TRL `desirable_weight`, default 1). */
  desirableWeight?: number;
  /** w_u ≥ 0 (TRL `undesirable_weight`, default 1). */
  undesirableWeight?: number;
  /** TRL `loss_type`, default 'kto'. */
  lossType?: KtoLossType;
}

/**
 * TRL KTOTrainer's logged names. The chosen (desirable) metrics appear only when the batch has a
 * desirable example, the rejected ones only with an undesirable one, margins only with both.
 */
export const KTO_METRICS = [
  'loss',
  'kl',
  'rewards/chosen',
  'rewards/rejected',
  'rewards/margins',
  'logps/chosen',
  'logps/rejected',
  'logits/chosen',
  'logits/rejected',
  'log_odds/chosen',
  'log_odds/rejected',
  // PrefPlay's method-independent log-prob curves (metrics.ts), per label: desirable as chosen
  'logps_avg/chosen',
  'logps_avg/rejected',
  'margins_avg',
  'logps_sum/chosen',
  'logps_sum/rejected',
  'margins_sum',
] as const;

export function ktoObjective(opts: KtoOptions = {}): UnpairedObjective {
  const beta = requirePositive('kto', 'beta', opts.beta ?? 0.1);
  const wd = requireNonNegative('kto', 'desirableWeight', opts.desirableWeight ?? 1);
  const wu = requireNonNegative('kto', 'undesirableWeight', opts.undesirableWeight ?? 1);
  const lossType = opts.lossType ?? 'kto';
  if (!(KTO_LOSS_TYPES as readonly string[]).includes(lossType)) throw new ObjectiveOptionError('kto', 'lossType', `"${lossType}" is unknown; expected one of ${KTO_LOSS_TYPES.join(', ')}`);
  const needsKl = lossType === 'kto';
  return {
    kind: 'unpaired',
    method: 'kto',
    label: lossType === 'kto' ? 'KTO' : 'KTO (apo_zero_unpaired)',
    needsReference: true,
    needsKl,
    metricNames: KTO_METRICS,
    compute(b: UnpairedBatch): UnpairedResult {
      const n = checkUnpairedBatch('kto', b, needsKl);
      let kl = 0;
      if (needsKl) {
        const m = b.klLogp!.length;
        for (let j = 0; j < m; j++) kl += (b.klLogp![j] - b.klRefLogp![j]) / m;
        kl = Math.max(0, kl);
      }
      const dLogp = new Float64Array(n);
      const exLoss = new Float64Array(n);
      const acc = { chosen: { r: 0, s: 0, a: 0, ls: 0, lc: 0, k: 0 }, rejected: { r: 0, s: 0, a: 0, ls: 0, lc: 0, k: 0 } };
      let loss = 0;
      for (let i = 0; i < n; i++) {
        const r = b.logp[i] - b.refLogp[i];
        if (b.desirable[i]) {
          const u = beta * (r - kl);
          exLoss[i] = wd * (1 - sigmoid(u));
          dLogp[i] = (-wd * beta * sigmoid(u) * sigmoid(-u)) / n;
        } else {
          const v = needsKl ? beta * (kl - r) : -beta * r;
          exLoss[i] = wu * (needsKl ? 1 - sigmoid(v) : sigmoid(-v));
          dLogp[i] = (wu * beta * sigmoid(v) * sigmoid(-v)) / n;
        }
        loss += exLoss[i] / n;
        const a = b.desirable[i] ? acc.chosen : acc.rejected;
        a.r += beta * r;
        a.s += b.logp[i];
        a.a += b.logp[i] / b.len[i];
        a.ls += b.logitSum[i];
        a.lc += b.logitCount[i];
        a.k++;
      }
      checkFinite('kto', loss, [exLoss, dLogp], 'example');
      const metrics: Record<string, number> = { loss, kl };
      for (const side of ['chosen', 'rejected'] as const) {
        const a = acc[side];
        if (a.k === 0) continue;
        const want = side === 'chosen';
        metrics[`rewards/${side}`] = a.r / a.k;
        metrics[`logps/${side}`] = a.s / a.k;
        metrics[`logits/${side}`] = a.lc > 0 ? a.ls / a.lc : 0;
        metrics[`log_odds/${side}`] = meanLogOdds(b.logp, b.len, (i) => b.desirable[i] === want);
        metrics[`logps_avg/${side}`] = a.a / a.k;
        metrics[`logps_sum/${side}`] = a.s / a.k;
      }
      if (acc.chosen.k > 0 && acc.rejected.k > 0) {
        metrics['rewards/margins'] = metrics['rewards/chosen'] - metrics['rewards/rejected'];
        metrics.margins_avg = metrics['logps_avg/chosen'] - metrics['logps_avg/rejected'];
        metrics.margins_sum = metrics['logps_sum/chosen'] - metrics['logps_sum/rejected'];
      }
      const ordered: Record<string, number> = {};
      for (const k of KTO_METRICS) if (k in metrics) ordered[k] = metrics[k];
      return { loss, metrics: ordered, dLogp };
    },
  };
}

export const KTO_METHOD: MethodDescriptor = {
  name: 'kto',
  label: 'KTO',
  description: 'Unpaired desirable/undesirable examples against a KL baseline.',
  data: 'unpaired',
  needsReference: true,
  trlName: 'KTOTrainer',
  options: [
    { key: 'beta', kind: 'number', default: 0.1, min: 0, minOpen: true, step: 0.05, label: 'β', help: 'β: reward scale', cli: 'beta', url: 0, urlAlways: true, trl: 'beta' },
    { key: 'desirableWeight', kind: 'number', default: 1, min: 0, step: 0.1, label: 'w_d', help: 'weight of desirable examples', cli: 'desirable-weight', url: 1, trl: 'desirable_weight' },
    { key: 'undesirableWeight', kind: 'number', default: 1, min: 0, step: 0.1, label: 'w_u', help: 'weight of undesirable examples', cli: 'undesirable-weight', url: 2, trl: 'undesirable_weight' },
    { key: 'lossType', kind: 'choice', default: 'kto', choices: KTO_LOSS_TYPES, label: 'loss type', help: 'KTO loss type: kto or apo_zero_unpaired', cli: 'loss-type', url: 3, trl: 'loss_type' },
  ],
  formula: (v) => (v.lossType === 'apo_zero_unpaired' ? 'desirable 1 − σ(βr), undesirable σ(βr)' : 'desirable w_d(1 − σ(β(r − z₀))), undesirable w_u(1 − σ(β(z₀ − r)))'),
  create: (v) => ktoObjective(v as KtoOptions),
  trl: { trainer: 'KTO', modules: ['trl', 'trl.experimental.kto'], usesRefModel: true, minBatchSize: (v) => (v.lossType === 'apo_zero_unpaired' ? 1 : 2) },
};
