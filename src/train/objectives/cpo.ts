// CPO and SimPO: TRL's CPOTrainer (`loss_type` 'sigmoid' and 'simpo'). Reference-free.
//   CPO:   z_i = β (S_w − S_l)                       (sums, TRL average_log_prob=False)
//   SimPO: z_i = β (A_w − A_l) − γ,  A = S/|y|       (TRL: logits − simpo_gamma/β, then ·β)
//   loss = mean_i[−(1−ε) log σ(z_i) − ε log σ(−z_i)] + α·NLL,  NLL = −Σ S_w / Σ |y_w|
// NLL is TRL's cross-entropy over the chosen completion tokens (CPO's labels mask the prompt), so
// it is a function of chosenLogp and chosenLen: no separate NLL sums are needed (nll = 'none').
//   ∂loss/∂S_w,i = c_i·∂z/∂S_w − α/Σ|y_w|,  ∂loss/∂S_l,i = −c_i·∂z/∂S_w(l)
//   with c_i = [−(1−ε) σ(−z_i) + ε σ(z_i)] / N, ∂z/∂S = β (CPO) or β/|y| (SimPO).
import { checkFinite, checkPairBatch, requireInRange, requireNonNegative, requirePositive } from './check';
import { logSigmoid, sigmoid } from './math';
import { averages, ordered, pairMetrics, scaled } from './metrics';
import type { MethodDescriptor } from './descriptor';
import { PAIR_METRICS, type PairBatch, type PairObjective, type PairResult } from './types';

export interface CpoOptions {
  /** β > 0 (TRL CPOConfig `beta`, default 0.1). */
  beta?: number;
  /** α ≥ 0, weight of the NLL (behaviour-cloning) term (TRL `cpo_alpha`; default 1 for CPO, 0 for SimPO). */
  cpoAlpha?: number;
  /** ε in [0, 0.5): conservative label smoothing (TRL `label_smoothing`, default 0). */
  labelSmoothing?: number;
}

export interface SimpoOptions extends CpoOptions {
  /** γ ≥ 0, target reward margin in reward units (TRL `simpo_gamma`, default 0.5). */
  simpoGamma?: number;
}

export const CPO_METRICS = [...PAIR_METRICS, 'nll_loss'] as const;

function cpoFamily(method: 'cpo' | 'simpo', opts: SimpoOptions): PairObjective {
  const beta = requirePositive(method, 'beta', opts.beta ?? 0.1);
  const alpha = requireNonNegative(method, 'cpoAlpha', opts.cpoAlpha ?? (method === 'cpo' ? 1 : 0));
  const eps = requireInRange(method, 'labelSmoothing', opts.labelSmoothing ?? 0, 0, 0.5);
  const gamma = method === 'simpo' ? requireNonNegative(method, 'simpoGamma', opts.simpoGamma ?? 0.5) : 0;
  const averaged = method === 'simpo';
  return {
    kind: 'pair',
    method,
    label: method === 'cpo' ? 'CPO' : alpha > 0 ? 'SimPO (+NLL)' : 'SimPO',
    needsReference: false,
    nll: 'none',
    metricNames: CPO_METRICS,
    compute(b: PairBatch): PairResult {
      const n = checkPairBatch(method, b, { reference: false, nll: false });
      // TRL's "logps": averages for SimPO, sums for CPO; rewards are β times them.
      const xw = averaged ? averages(b.chosenLogp, b.chosenLen) : Float64Array.from(b.chosenLogp);
      const xl = averaged ? averages(b.rejectedLogp, b.rejectedLen) : Float64Array.from(b.rejectedLogp);
      let sw = 0;
      let cw = 0;
      for (let i = 0; i < n; i++) {
        sw += b.chosenLogp[i];
        cw += b.chosenLen[i];
      }
      const nll = alpha > 0 ? -sw / cw : 0;
      const dChosenLogp = new Float64Array(n);
      const dRejectedLogp = new Float64Array(n);
      const pairLoss = new Float64Array(n);
      let prefMean = 0;
      for (let i = 0; i < n; i++) {
        const z = beta * (xw[i] - xl[i]) - gamma;
        pairLoss[i] = -(1 - eps) * logSigmoid(z) - eps * logSigmoid(-z);
        prefMean += pairLoss[i] / n;
        const c = (-(1 - eps) * sigmoid(-z) + eps * sigmoid(z)) / n;
        dChosenLogp[i] = (c * beta) / (averaged ? b.chosenLen[i] : 1) - alpha / cw;
        dRejectedLogp[i] = (-c * beta) / (averaged ? b.rejectedLen[i] : 1);
      }
      const loss = prefMean + alpha * nll;
      checkFinite(method, loss, [pairLoss, dChosenLogp, dRejectedLogp]);
      const metrics = pairMetrics(b, xw, xl, scaled(beta, xw), scaled(beta, xl));
      metrics.loss = loss;
      metrics.nll_loss = nll;
      return { loss, metrics: ordered(CPO_METRICS, metrics), dChosenLogp, dRejectedLogp, dChosenNllSum: new Float64Array(n) };
    },
  };
}

export function cpoObjective(opts: CpoOptions = {}): PairObjective {
  return cpoFamily('cpo', opts);
}

export function simpoObjective(opts: SimpoOptions = {}): PairObjective {
  return cpoFamily('simpo', opts);
}

const smoothing = { key: 'labelSmoothing', kind: 'number', default: 0, min: 0, max: 0.5, maxOpen: true, step: 0.05, label: 'ε', help: 'ε: conservative label smoothing', cli: 'label-smoothing', trl: 'label_smoothing', show: () => false } as const;

export const SIMPO_METHOD: MethodDescriptor = {
  name: 'simpo',
  label: 'SimPO',
  description: 'Length-normalised reward margin with a target gap γ; no reference model.',
  data: 'pairs',
  needsReference: false,
  trlName: "CPOTrainer (loss_type='simpo', cpo_alpha=0)",
  options: [
    // β = 2: the SimPO paper's setting (TRL's generic CPOConfig default is 0.1; the export writes β explicitly)
    { key: 'beta', kind: 'number', default: 2, min: 0, minOpen: true, step: 0.1, label: 'β', help: 'β: reward scale', cli: 'beta', url: 0, urlAlways: true, trl: 'beta' },
    { key: 'simpoGamma', kind: 'number', default: 0.5, min: 0, step: 0.1, label: 'γ', help: 'γ: target reward margin', cli: 'simpo-gamma', url: 1, urlAlways: true, trl: 'simpo_gamma' },
    { key: 'cpoAlpha', kind: 'number', default: 0, min: 0, step: 0.1, label: 'α (NLL)', help: 'α: weight of the NLL term', cli: 'cpo-alpha', url: 2, trl: 'cpo_alpha' },
    { ...smoothing, url: 3 },
  ],
  formula: () => '−log σ(β(A_w − A_l) − γ)  (+ α·NLL)',
  create: (v) => simpoObjective(v as SimpoOptions),
  trl: { trainer: 'CPO', modules: ['trl.experimental.cpo', 'trl'], usesRefModel: false, prependsBos: true, fixed: [['loss_type', 'simpo']] },
};

export const CPO_METHOD: MethodDescriptor = {
  name: 'cpo',
  label: 'CPO',
  description: 'Reference-free sigmoid preference loss on sequence log-probs plus NLL.',
  data: 'pairs',
  needsReference: false,
  trlName: "CPOTrainer (loss_type='sigmoid')",
  options: [
    { key: 'beta', kind: 'number', default: 0.1, min: 0, minOpen: true, step: 0.05, label: 'β', help: 'β: reward scale', cli: 'beta', url: 0, urlAlways: true, trl: 'beta' },
    { key: 'cpoAlpha', kind: 'number', default: 1, min: 0, step: 0.1, label: 'α (NLL)', help: 'α: weight of the NLL term', cli: 'cpo-alpha', url: 1, urlAlways: true, trl: 'cpo_alpha' },
    { ...smoothing, url: 2 },
  ],
  formula: () => '−log σ(β(S_w − S_l)) + α·NLL',
  create: (v) => cpoObjective(v as CpoOptions),
  trl: { trainer: 'CPO', modules: ['trl.experimental.cpo', 'trl'], usesRefModel: false, prependsBos: true, fixed: [['loss_type', 'sigmoid']] },
};
