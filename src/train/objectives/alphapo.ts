// AlphaPO (Gupta et al. 2025, "AlphaPO: Reward shape matters for LLM alignment"), as TRL's
// CPOTrainer computes it: CPOConfig(loss_type='alphapo') is SimPO (length-averaged log-probs,
// target margin simpo_gamma, cpo_alpha forced to 0) with each average A = S/|y| reshaped by α:
//   u(A) = (1 − p^−α)/α with p = e^A, i.e. u = (1 − e^{−αA})/α   (u = A when α = 0)
//   z_i = β(u_w − u_l) − γ                  (TRL: logits − simpo_gamma/β, then ·β)
//   loss = mean_i[−(1−ε) log σ(z_i) − ε log σ(−z_i)] + c·NLL,  NLL = −Σ S_w / Σ |y_w|
// Reference-free. u is computed as −expm1(−αA)/α, exact to rounding for small α and continuous
// at α = 0. du/dA = e^{−αA}, so
//   ∂loss/∂S_w,i = k_i β e^{−αA_w,i}/|y_w,i| − c/Σ|y_w|,  ∂loss/∂S_l,i = −k_i β e^{−αA_l,i}/|y_l,i|
//   with k_i = [−(1−ε) σ(−z_i) + ε σ(z_i)] / N.
// Metrics as TRL logs them for this loss: rewards β·u, logps the averages A, nll_loss (0 when c = 0).
import { checkFinite, checkPairBatch, ObjectiveOptionError, requireInRange, requireNonNegative, requirePositive } from './check';
import { CPO_METRICS } from './cpo';
import { logSigmoid, sigmoid } from './math';
import { averages, ordered, pairMetrics, scaled } from './metrics';
import type { PairBatch, PairObjective, PairResult } from './types';
import type { MethodDescriptor } from './descriptor';

export interface AlphapoOptions {
  /** β > 0, reward scale (TRL CPOConfig `beta`, default 0.1; the AlphaPO paper uses β of SimPO's order, 2–10). */
  beta?: number;
  /**
   * α, the reward-shape parameter (TRL CPOConfig `alpha`, default 0.0, any finite value). α = 0 gives
   * SimPO's log reward u = A; du/dA = e^{−αA}, so for A < 0 an α > 0 steepens the reward of
   * low-probability answers and an α < 0 bounds it below by 1/α.
   */
  alpha?: number;
  /** γ ≥ 0, target reward margin in reward units (TRL `simpo_gamma`, default 0.5). */
  simpoGamma?: number;
  /**
   * c ≥ 0, weight of the NLL term on the chosen completions (TRL `cpo_alpha`). Default 0: TRL's
   * loss_type='alphapo' forces cpo_alpha = 0; a non-zero value is TRL's loss_type='simpo' with
   * `alpha` ≠ 0 and that cpo_alpha.
   */
  cpoAlpha?: number;
  /** ε in [0, 0.5): conservative label smoothing (TRL `label_smoothing`, default 0). */
  labelSmoothing?: number;
}

/** u(A) = (1 − e^{−αA})/α, and A itself at α = 0. */
export function alphapoReward(avgLogp: number, alpha: number): number {
  return alpha === 0 ? avgLogp : -Math.expm1(-alpha * avgLogp) / alpha;
}

export function alphapoObjective(opts: AlphapoOptions = {}): PairObjective {
  const method = 'alphapo';
  const beta = requirePositive(method, 'beta', opts.beta ?? 0.1);
  const alpha = opts.alpha ?? 0;
  if (typeof alpha !== 'number' || !Number.isFinite(alpha)) throw new ObjectiveOptionError(method, 'alpha', `is ${String(alpha)}, expected a finite number`);
  const gamma = requireNonNegative(method, 'simpoGamma', opts.simpoGamma ?? 0.5);
  const nllWeight = requireNonNegative(method, 'cpoAlpha', opts.cpoAlpha ?? 0);
  const eps = requireInRange(method, 'labelSmoothing', opts.labelSmoothing ?? 0, 0, 0.5);
  return {
    kind: 'pair',
    method,
    label: `AlphaPO (α = ${alpha}${nllWeight > 0 ? ', +NLL' : ''})`,
    needsReference: false,
    nll: 'none',
    metricNames: CPO_METRICS,
    compute(b: PairBatch): PairResult {
      const n = checkPairBatch(method, b, { reference: false, nll: false });
      const aw = averages(b.chosenLogp, b.chosenLen);
      const al = averages(b.rejectedLogp, b.rejectedLen);
      const uw = aw.map((a) => alphapoReward(a, alpha));
      const ul = al.map((a) => alphapoReward(a, alpha));
      let sw = 0;
      let cw = 0;
      for (let i = 0; i < n; i++) {
        sw += b.chosenLogp[i];
        cw += b.chosenLen[i];
      }
      const nll = nllWeight > 0 ? -sw / cw : 0;
      const dChosenLogp = new Float64Array(n);
      const dRejectedLogp = new Float64Array(n);
      const pairLoss = new Float64Array(n);
      let prefMean = 0;
      for (let i = 0; i < n; i++) {
        const z = beta * (uw[i] - ul[i]) - gamma;
        pairLoss[i] = -(1 - eps) * logSigmoid(z) - eps * logSigmoid(-z);
        prefMean += pairLoss[i] / n;
        const k = (-(1 - eps) * sigmoid(-z) + eps * sigmoid(z)) / n;
        dChosenLogp[i] = (k * beta * Math.exp(-alpha * aw[i])) / b.chosenLen[i] - nllWeight / cw;
        dRejectedLogp[i] = (-k * beta * Math.exp(-alpha * al[i])) / b.rejectedLen[i];
      }
      const loss = prefMean + nllWeight * nll;
      checkFinite(method, loss, [pairLoss, dChosenLogp, dRejectedLogp]);
      const metrics = pairMetrics(b, aw, al, scaled(beta, uw), scaled(beta, ul));
      metrics.loss = loss;
      metrics.nll_loss = nll;
      return { loss, metrics: ordered(CPO_METRICS, metrics), dChosenLogp, dRejectedLogp, dChosenNllSum: new Float64Array(n) };
    },
  };
}

export const ALPHAPO_METHOD: MethodDescriptor = {
  name: 'alphapo',
  label: 'AlphaPO',
  description: 'SimPO with the reward reshaped by α: u = (1 − e^(−αA))/α of the average log-prob; no reference model.',
  data: 'pairs',
  needsReference: false,
  trlName: "CPOTrainer (loss_type='simpo', alpha)",
  options: [
    // β and γ of SimPO's scale (as the SimPO card), α = 0.25: the AlphaPO paper's range; TRL's generic defaults (β 0.1, α 0) would make it plain SimPO
    { key: 'beta', kind: 'number', default: 2, min: 0, minOpen: true, step: 0.1, label: 'β', help: 'β: reward scale', cli: 'beta', url: 0, urlAlways: true, trl: 'beta' },
    { key: 'alpha', kind: 'number', default: 0.25, step: 0.05, label: 'α', help: 'α: reward shape (0: SimPO)', cli: 'alpha', url: 1, urlAlways: true, trl: 'alpha' },
    { key: 'simpoGamma', kind: 'number', default: 0.5, min: 0, step: 0.1, label: 'γ', help: 'γ: target reward margin', cli: 'simpo-gamma', url: 2, trl: 'simpo_gamma' },
    { key: 'cpoAlpha', kind: 'number', default: 0, min: 0, step: 0.1, label: 'c (NLL)', help: 'weight of the NLL term (TRL cpo_alpha)', cli: 'cpo-alpha', url: 3, trl: 'cpo_alpha' },
    { key: 'labelSmoothing', kind: 'number', default: 0, min: 0, max: 0.5, maxOpen: true, step: 0.05, label: 'ε', help: 'ε: conservative label smoothing', cli: 'label-smoothing', url: 4, trl: 'label_smoothing', show: () => false },
  ],
  formula: () => '−log σ(β(u_w − u_l) − γ),  u = (1 − e^(−αA))/α,  A = S/|y|',
  create: (v) => alphapoObjective(v as AlphapoOptions),
  // loss_type='alphapo' would force cpo_alpha = 0; 'simpo' with `alpha` is the same loss and keeps c
  trl: { trainer: 'CPO', modules: ['trl.experimental.cpo', 'trl'], usesRefModel: false, prependsBos: true, fixed: [['loss_type', 'simpo']] },
};
