// DPO and its loss-type relatives (TRL DPOTrainer `loss_type`, combinable with `loss_weights`).
// r = S_θ − S_ref per sequence, Δ = r_w − r_l, z = βΔ. Each per-pair term returns its loss and
// ∂/∂r_w, ∂/∂r_l, which equal ∂/∂S_w, ∂/∂S_l (the reference is a constant). The batch loss is
// Σ_k weight_k · mean_i term_k(i); `sft` is TRL's batch-level token mean −Σ S_w / Σ |y_w|.
import { checkFinite, checkPairBatch, ObjectiveOptionError, requireInRange, requirePositive } from './check';
import { logSigmoid, sigmoid } from './math';
import { logRatios, ordered, pairMetrics, scaled } from './metrics';
import { PAIR_METRICS, type PairBatch, type PairObjective, type PairResult } from './types';

export const DPO_LOSS_TYPES = ['sigmoid', 'robust', 'hinge', 'ipo', 'sigmoid_norm', 'exo_pair', 'nca_pair', 'sppo_hard', 'apo_zero', 'apo_down', 'discopop', 'sft'] as const;
export type DpoLossType = (typeof DPO_LOSS_TYPES)[number];

/** EXO's ε when `label_smoothing` is 0 (TRL replaces 0 by the paper's 1e-3: log ε must be finite). */
export const EXO_DEFAULT_EPSILON = 1e-3;

export interface DpoOptions {
  /** β > 0 (TRL `beta`, default 0.1); for `ipo` it is the paper's τ. */
  beta?: number;
  /** One loss type or a list to combine (TRL `loss_type`, default 'sigmoid'). */
  lossType?: DpoLossType | readonly DpoLossType[];
  /** One weight per loss type (TRL `loss_weights`, default 1 each). */
  lossWeights?: readonly number[];
  /** ε of `robust` (0 ≤ ε < 0.5) and of `exo_pair` (0 < ε < 1; 0 means 1e-3). TRL `label_smoothing`, default 0. */
  labelSmoothing?: number;
  /** τ of `discopop` (TRL `discopop_tau`, default 0.05). */
  discopopTau?: number;
}

interface Resolved {
  beta: number;
  types: DpoLossType[];
  weights: number[];
  eps: number;
  tau: number;
}

/** One pair's term: [loss, ∂loss/∂r_w, ∂loss/∂r_l]. lw, ll = |y_w|, |y_l|. */
function pairTerm(type: Exclude<DpoLossType, 'sft'>, rw: number, rl: number, lw: number, ll: number, o: Resolved): [number, number, number] {
  const b = o.beta;
  const z = b * (rw - rl);
  switch (type) {
    case 'sigmoid': {
      const g = -b * sigmoid(-z);
      return [-logSigmoid(z), g, -g];
    }
    case 'robust': {
      const e = o.eps;
      const loss = (-(1 - e) * logSigmoid(z) + e * logSigmoid(-z)) / (1 - 2 * e);
      const g = (b * (-(1 - e) * sigmoid(-z) - e * sigmoid(z))) / (1 - 2 * e);
      return [loss, g, -g];
    }
    case 'hinge': {
      const g = z < 1 ? -b : 0;
      return [Math.max(0, 1 - z), g, -g];
    }
    case 'ipo': {
      const u = rw / lw - rl / ll - 1 / (2 * b);
      return [u * u, (2 * u) / lw, (-2 * u) / ll];
    }
    case 'sigmoid_norm': {
      const zn = b * (rw / lw - rl / ll);
      const g = -b * sigmoid(-zn);
      return [-logSigmoid(zn), g / lw, -g / ll];
    }
    case 'exo_pair': {
      const e = o.eps > 0 ? o.eps : EXO_DEFAULT_EPSILON;
      const p = sigmoid(z);
      const q = sigmoid(-z);
      const loss = p * (logSigmoid(z) - Math.log1p(-e)) + q * (logSigmoid(-z) - Math.log(e));
      const g = b * p * q * (z - Math.log1p(-e) + Math.log(e));
      return [loss, g, -g];
    }
    case 'nca_pair': {
      const a = b * rw;
      const c = b * rl;
      const loss = -logSigmoid(a) - 0.5 * logSigmoid(-a) - 0.5 * logSigmoid(-c);
      return [loss, b * (-sigmoid(-a) + 0.5 * sigmoid(a)), b * 0.5 * sigmoid(c)];
    }
    case 'sppo_hard': {
      const h = 1 / (2 * b);
      return [(rw - h) ** 2 + (rl + h) ** 2, 2 * (rw - h), 2 * (rl + h)];
    }
    case 'apo_zero': {
      const a = b * rw;
      const c = b * rl;
      return [1 - sigmoid(a) + sigmoid(c), -b * sigmoid(a) * sigmoid(-a), b * sigmoid(c) * sigmoid(-c)];
    }
    case 'apo_down': {
      const a = b * rw;
      const dz = sigmoid(z) * sigmoid(-z);
      return [sigmoid(a) + 1 - sigmoid(z), b * (sigmoid(a) * sigmoid(-a) - dz), b * dz];
    }
    case 'discopop': {
      const m = sigmoid(z / o.tau);
      const dm = (m * (1 - m)) / o.tau;
      const ez = Math.exp(-z);
      const ls = logSigmoid(z);
      const loss = (1 - m) * -ls + m * ez;
      const g = b * (dm * (ls + ez) - (1 - m) * sigmoid(-z) - m * ez);
      return [loss, g, -g];
    }
  }
}

function resolve(opts: DpoOptions): Resolved {
  const name = 'dpo';
  const beta = requirePositive(name, 'beta', opts.beta ?? 0.1);
  const raw = opts.lossType ?? 'sigmoid';
  const types = (typeof raw === 'string' ? [raw] : [...raw]) as DpoLossType[];
  if (types.length === 0) throw new ObjectiveOptionError(name, 'lossType', 'is empty');
  for (const t of types) {
    if (!(DPO_LOSS_TYPES as readonly string[]).includes(t)) throw new ObjectiveOptionError(name, 'lossType', `"${t}" is unknown; expected one of ${DPO_LOSS_TYPES.join(', ')}`);
  }
  const weights = opts.lossWeights ? [...opts.lossWeights] : types.map(() => 1);
  if (weights.length !== types.length) throw new ObjectiveOptionError(name, 'lossWeights', `has ${weights.length} weights for ${types.length} loss types`);
  for (const w of weights) {
    if (typeof w !== 'number' || !Number.isFinite(w)) throw new ObjectiveOptionError(name, 'lossWeights', `contains ${String(w)}, expected finite numbers`);
  }
  const eps = opts.labelSmoothing ?? 0;
  if (types.includes('robust')) requireInRange(name, 'labelSmoothing', eps, 0, 0.5);
  else if (types.includes('exo_pair')) requireInRange(name, 'labelSmoothing', eps, 0, 1);
  const tau = requirePositive(name, 'discopopTau', opts.discopopTau ?? 0.05);
  return { beta, types, weights, eps, tau };
}

export function dpoObjective(opts: DpoOptions = {}): PairObjective {
  const o = resolve(opts);
  const label = `DPO (${o.types.map((t, k) => (o.types.length > 1 ? `${o.weights[k]}·${t}` : t)).join(' + ')})`;
  const metricNames = PAIR_METRICS;
  return {
    kind: 'pair',
    method: 'dpo',
    label,
    needsReference: true,
    nll: 'none',
    metricNames,
    compute(b: PairBatch): PairResult {
      const n = checkPairBatch('dpo', b, { reference: true, nll: false });
      const rw = logRatios(b.chosenLogp, b.chosenRefLogp!);
      const rl = logRatios(b.rejectedLogp, b.rejectedRefLogp!);
      const dChosenLogp = new Float64Array(n);
      const dRejectedLogp = new Float64Array(n);
      const pairLoss = new Float64Array(n);
      let loss = 0;
      o.types.forEach((type, k) => {
        const w = o.weights[k];
        if (type === 'sft') {
          let s = 0;
          let c = 0;
          for (let i = 0; i < n; i++) {
            s += b.chosenLogp[i];
            c += b.chosenLen[i];
          }
          loss += (w * -s) / c;
          for (let i = 0; i < n; i++) dChosenLogp[i] += -w / c;
          return;
        }
        for (let i = 0; i < n; i++) {
          const [l, gw, gl] = pairTerm(type, rw[i], rl[i], b.chosenLen[i], b.rejectedLen[i], o);
          pairLoss[i] += w * l;
          loss += (w * l) / n;
          dChosenLogp[i] += (w * gw) / n;
          dRejectedLogp[i] += (w * gl) / n;
        }
      });
      checkFinite('dpo', loss, [pairLoss, dChosenLogp, dRejectedLogp]);
      const metrics = pairMetrics(b, b.chosenLogp, b.rejectedLogp, scaled(o.beta, rw), scaled(o.beta, rl));
      metrics.loss = loss;
      return { loss, metrics: ordered(metricNames, metrics), dChosenLogp, dRejectedLogp, dChosenNllSum: new Float64Array(n) };
    },
  };
}
