// ORPO (Hong et al. 2024; TRL ORPOTrainer). Reference-free. A = S/|y| (TRL's average_log_prob),
// ℓ_i = (A_w − A_l) − [log(1 − e^{A_w}) − log(1 − e^{A_l})] (the log odds ratio), and
//   loss = NLL + λ · mean_i(−log σ(ℓ_i)),   NLL = −Σ_i chosenNllSum_i / Σ_i chosenNllCount_i
// (the token mean of cross-entropy over the chosen sequences' NLL tokens: prompt + completion by
// default as TRL, completion only with nllIncludesPrompt = false). λ is TRL's `beta`.
//   ∂loss/∂S_w,i = −λ σ(−ℓ_i) / (N (1 − e^{A_w,i}) |y_w,i|)
//   ∂loss/∂S_l,i = +λ σ(−ℓ_i) / (N (1 − e^{A_l,i}) |y_l,i|)
//   ∂loss/∂chosenNllSum_i = −1 / Σ_j chosenNllCount_j
import { checkFinite, checkPairBatch, requirePositive } from './check';
import { dLogOdds, logOdds, logSigmoid, sigmoid } from './math';
import { averages, ordered, pairMetrics, scaled } from './metrics';
import type { MethodDescriptor } from './descriptor';
import { PAIR_METRICS, type PairBatch, type PairObjective, type PairResult } from './types';

export interface OrpoOptions {
  /** λ > 0, weight of the odds-ratio term (TRL ORPOConfig `beta`, default 0.1). */
  beta?: number;
  /** NLL over prompt + completion tokens (true, TRL) or completion tokens only (false). */
  nllIncludesPrompt?: boolean;
}

export const ORPO_METRICS = [...PAIR_METRICS, 'nll_loss', 'log_odds_ratio', 'log_odds_chosen'] as const;

export function orpoObjective(opts: OrpoOptions = {}): PairObjective {
  const lambda = requirePositive('orpo', 'beta', opts.beta ?? 0.1);
  const includePrompt = opts.nllIncludesPrompt ?? true;
  return {
    kind: 'pair',
    method: 'orpo',
    label: includePrompt ? 'ORPO' : 'ORPO (completion-only NLL)',
    needsReference: false,
    nll: includePrompt ? 'prompt_and_completion' : 'completion',
    metricNames: ORPO_METRICS,
    compute(b: PairBatch): PairResult {
      const n = checkPairBatch('orpo', b, { reference: false, nll: true });
      const aw = averages(b.chosenLogp, b.chosenLen);
      const al = averages(b.rejectedLogp, b.rejectedLen);
      let nllSum = 0;
      let nllCount = 0;
      for (let i = 0; i < n; i++) {
        nllSum += b.chosenNllSum![i];
        nllCount += b.chosenNllCount![i];
      }
      const nll = -nllSum / nllCount;
      const dChosenLogp = new Float64Array(n);
      const dRejectedLogp = new Float64Array(n);
      const dChosenNllSum = new Float64Array(n).fill(-1 / nllCount);
      const pairLoss = new Float64Array(n);
      let orMean = 0;
      let ratioMean = 0;
      let ellMean = 0;
      for (let i = 0; i < n; i++) {
        const ell = logOdds(aw[i]) - logOdds(al[i]);
        const ls = logSigmoid(ell);
        pairLoss[i] = -ls;
        orMean += -ls / n;
        ratioMean += ls / n;
        ellMean += ell / n;
        const g = (-lambda * sigmoid(-ell)) / n;
        dChosenLogp[i] = (g * dLogOdds(aw[i])) / b.chosenLen[i];
        dRejectedLogp[i] = (-g * dLogOdds(al[i])) / b.rejectedLen[i];
      }
      const loss = nll + lambda * orMean;
      checkFinite('orpo', loss, [pairLoss, dChosenLogp, dRejectedLogp]);
      const metrics = pairMetrics(b, aw, al, scaled(lambda, aw), scaled(lambda, al));
      metrics.loss = loss;
      metrics.nll_loss = nll;
      metrics.log_odds_ratio = ratioMean;
      metrics.log_odds_chosen = ellMean;
      return { loss, metrics: ordered(ORPO_METRICS, metrics), dChosenLogp, dRejectedLogp, dChosenNllSum };
    },
  };
}

export const ORPO_METHOD: MethodDescriptor = {
  name: 'orpo',
  label: 'ORPO',
  description: 'SFT plus an odds-ratio penalty; no reference model.',
  data: 'pairs',
  needsReference: false,
  trlName: 'ORPOTrainer',
  options: [
    { key: 'beta', kind: 'number', default: 0.1, min: 0, minOpen: true, step: 0.05, label: 'λ', help: "λ: weight of the odds-ratio term (TRL's beta)", cli: 'beta', url: 0, urlAlways: true, trl: 'beta' },
    { key: 'nllIncludesPrompt', kind: 'boolean', default: true, label: 'NLL over the prompt too', help: 'NLL over prompt + completion (TRL); the flag restricts it to the chosen completion', cli: 'nll-exclude-prompt', url: 1, trl: null, show: () => false },
  ],
  formula: () => 'NLL + λ·(−log σ(ℓ)),  ℓ = log odds(A_w) − log odds(A_l),  odds(A) = e^A / (1 − e^A)',
  create: (v) => orpoObjective(v as OrpoOptions),
  trl: {
    trainer: 'ORPO',
    modules: ['trl.experimental.orpo', 'trl'],
    usesRefModel: false,
    prependsBos: true,
    notes: (v) => (v.nllIncludesPrompt === false ? ["PrefPlay ran ORPO with the NLL over completion tokens only; TRL's ORPOTrainer always includes the prompt."] : []),
  },
};
