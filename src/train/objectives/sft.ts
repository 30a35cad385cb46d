// SFT on the chosen completions: the token-mean cross-entropy over the batch's chosen completion
// tokens (TRL DPOTrainer loss_type 'sft' / SFTTrainer with completion_only_loss):
//   loss = −Σ_i S_w,i / Σ_i |y_w,i|,   ∂loss/∂S_w,i = −1 / Σ_j |y_w,j|,   ∂loss/∂S_l,i = 0.
// Rejected statistics are still required: every method reports log_odds/rejected (docs/objectives.md).
import { checkFinite, checkPairBatch } from './check';
import { ordered, pairMetrics } from './metrics';
import type { MethodDescriptor } from './descriptor';
import { SHARED_LOGP_METRICS, type PairBatch, type PairObjective, type PairResult } from './types';

/** SFT has no rewards: loss, logps (sums S), logits, log-odds and the shared log-prob metrics. */
export const SFT_METRICS = ['loss', 'logps/chosen', 'logps/rejected', 'logits/chosen', 'logits/rejected', 'log_odds/chosen', 'log_odds/rejected', ...SHARED_LOGP_METRICS] as const;

export function sftObjective(): PairObjective {
  return {
    kind: 'pair',
    method: 'sft',
    label: 'SFT (chosen)',
    needsReference: false,
    nll: 'none',
    metricNames: SFT_METRICS,
    compute(b: PairBatch): PairResult {
      const n = checkPairBatch('sft', b, { reference: false, nll: false });
      let s = 0;
      let c = 0;
      for (let i = 0; i < n; i++) {
        s += b.chosenLogp[i];
        c += b.chosenLen[i];
      }
      const loss = -s / c;
      const dChosenLogp = new Float64Array(n).fill(-1 / c);
      const dRejectedLogp = new Float64Array(n);
      checkFinite('sft', loss, [dChosenLogp]);
      const metrics = pairMetrics(b, b.chosenLogp, b.rejectedLogp, null, null);
      metrics.loss = loss;
      return { loss, metrics: ordered(SFT_METRICS, metrics), dChosenLogp, dRejectedLogp, dChosenNllSum: new Float64Array(n) };
    },
  };
}

export const SFT_METHOD: MethodDescriptor = {
  name: 'sft',
  label: 'SFT',
  description: 'Plain supervised fine-tuning on the chosen answers: the baseline.',
  data: 'pairs',
  needsReference: false,
  trlName: "SFTTrainer on chosen completions (DPOTrainer loss_type='sft')",
  options: [],
  formula: () => '−mean over chosen tokens of log π(y_t | x, y_<t)',
  create: () => sftObjective(),
  // PrefPlay's SFT baseline is TRL DPO's `sft` loss: token-mean NLL on the chosen completions
  trl: { trainer: 'DPO', modules: ['trl'], usesRefModel: false, fixed: [['loss_type', 'sft']] },
};
