// Formula explorer (UI, works without WebGPU): from P(chosen), P(rejected), β and λ, the odds,
// ratios and the DPO and ORPO losses of one pair with their gradients, in closed form.
// Probabilities are per-sequence values in (0, 1). For ORPO as implemented (paper and TRL), P is
// the per-token geometric mean e^A, A = S/|y|; the explorer treats each answer as one token.
import { logSigmoid, sigmoid } from './math';

export interface ExplorerInput {
  /** P_θ(y_w | x) in (0, 1). */
  pChosen: number;
  /** P_θ(y_l | x) in (0, 1). */
  pRejected: number;
  /** DPO β > 0. */
  beta: number;
  /** ORPO λ ≥ 0 (TRL's ORPO `beta`). */
  lambda: number;
  /** P_ref(y_w | x) in (0, 1); default: equal to refRejected, i.e. a reference ratio of 1. */
  refChosen?: number;
  /** P_ref(y_l | x) in (0, 1); default 0.5. */
  refRejected?: number;
}

export interface ExplorerResult {
  /** P_w / (1 − P_w). */
  oddsChosen: number;
  /** P_l / (1 − P_l). */
  oddsRejected: number;
  /** P_w / P_l (what seed 000 loosely calls an odds ratio). */
  probabilityRatio: number;
  /** odds_w / odds_l. */
  oddsRatio: number;
  /** ℓ = ln(odds_w / odds_l). */
  logOddsRatio: number;
  dpo: {
    /** Δ = ln(P_w/P_ref,w) − ln(P_l/P_ref,l). */
    delta: number;
    /** −log σ(βΔ). */
    loss: number;
    /** σ(−βΔ): how strongly DPO still pushes this pair (0 once learned). */
    weight: number;
    /** ∂loss/∂ln P_w = −β σ(−βΔ). */
    dLogpChosen: number;
    /** ∂loss/∂ln P_l = +β σ(−βΔ). */
    dLogpRejected: number;
  };
  orpo: {
    /** −ln P_w (SFT term of one pair). */
    nll: number;
    /** L_OR = −log σ(ℓ). */
    orLoss: number;
    /** nll + λ·L_OR. */
    loss: number;
    /** δ = σ(−ℓ) = 1 / (1 + odds_w/odds_l): the paper's penalty factor δ(d). */
    delta: number;
    /** ∂L_OR/∂ln P_w = −δ / (1 − P_w) (the paper's h(d), chosen part, times δ). */
    dOrLogpChosen: number;
    /** ∂L_OR/∂ln P_l = +δ / (1 − P_l). */
    dOrLogpRejected: number;
    /** ∂loss/∂ln P_w = −1 + λ·dOrLogpChosen. */
    dLogpChosen: number;
    /** ∂loss/∂ln P_l = λ·dOrLogpRejected. */
    dLogpRejected: number;
  };
}

function prob(name: string, p: number): number {
  if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0 || p >= 1) throw new RangeError(`formula explorer: ${name} is ${String(p)}, expected a probability strictly between 0 and 1`);
  return p;
}

export function exploreFormulas(input: ExplorerInput): ExplorerResult {
  const pw = prob('pChosen', input.pChosen);
  const pl = prob('pRejected', input.pRejected);
  const refL = prob('refRejected', input.refRejected ?? 0.5);
  const refW = prob('refChosen', input.refChosen ?? refL);
  const { beta, lambda } = input;
  if (typeof beta !== 'number' || !Number.isFinite(beta) || beta <= 0) throw new RangeError(`formula explorer: beta is ${String(beta)}, expected a finite number > 0`);
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || lambda < 0) throw new RangeError(`formula explorer: lambda is ${String(lambda)}, expected a finite number ≥ 0`);

  const oddsChosen = pw / (1 - pw);
  const oddsRejected = pl / (1 - pl);
  const logOddsRatio = Math.log(pw) - Math.log1p(-pw) - (Math.log(pl) - Math.log1p(-pl));

  const delta = Math.log(pw / refW) - Math.log(pl / refL);
  const weight = sigmoid(-beta * delta);

  const d = sigmoid(-logOddsRatio);
  const dOrLogpChosen = -d / (1 - pw);
  const dOrLogpRejected = d / (1 - pl);
  const nll = -Math.log(pw);
  const orLoss = -logSigmoid(logOddsRatio);
  return {
    oddsChosen,
    oddsRejected,
    probabilityRatio: pw / pl,
    oddsRatio: oddsChosen / oddsRejected,
    logOddsRatio,
    dpo: { delta, loss: -logSigmoid(beta * delta), weight, dLogpChosen: -beta * weight, dLogpRejected: beta * weight },
    orpo: {
      nll,
      orLoss,
      loss: nll + lambda * orLoss,
      delta: d,
      dOrLogpChosen,
      dOrLogpRejected,
      dLogpChosen: -1 + lambda * dOrLogpChosen,
      dLogpRejected: lambda * dOrLogpRejected,
    },
  };
}

/** One point of the explorer's curves: the losses and their gradients at P. */
export interface ExplorerCurvePoint {
  /** The probability on the x axis (P(chosen) or P(rejected); the other stays at its input value). */
  p: number;
  dpoLoss: number;
  orpoLoss: number;
  /** ∂loss/∂ln P of the answer on the x axis. */
  dpoGrad: number;
  orpoGrad: number;
}

/**
 * The DPO and ORPO losses and their gradients as one probability sweeps (0, 1) on `n` evenly
 * spaced points from 0.01 to 0.99, every other input held: what the explorer plots.
 */
export function explorerCurves(input: ExplorerInput, against: 'chosen' | 'rejected', n = 50): ExplorerCurvePoint[] {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`formula explorer: n is ${String(n)}, expected an integer ≥ 2`);
  const out: ExplorerCurvePoint[] = [];
  for (let i = 0; i < n; i++) {
    const p = Math.round((0.01 + (0.98 * i) / (n - 1)) * 1e6) / 1e6;
    const r = exploreFormulas(against === 'chosen' ? { ...input, pChosen: p } : { ...input, pRejected: p });
    out.push({
      p,
      dpoLoss: r.dpo.loss,
      orpoLoss: r.orpo.loss,
      dpoGrad: against === 'chosen' ? r.dpo.dLogpChosen : r.dpo.dLogpRejected,
      orpoGrad: against === 'chosen' ? r.orpo.dLogpChosen : r.orpo.dLogpRejected,
    });
  }
  return out;
}
