// DPO and its loss-type relatives (TRL DPOTrainer `loss_type`, combinable with `loss_weights`).
// r = S_θ − S_ref per sequence, Δ = r_w − r_l, z = βΔ. Each per-pair term returns its loss and
// ∂/∂r_w, ∂/∂r_l, which equal ∂/∂S_w, ∂/∂S_l (the reference is a constant). The batch loss is
// Σ_k weight_k · mean_i term_k(i); `sft` is TRL's batch-level token mean −Σ S_w / Σ |y_w|.
// `aot` / `aot_unpaired` are batch-level too: they sort over the batch and pair the k-th smallest
// policy quantity with the k-th smallest reference (or rejected) one. The sort permutation is
// locally constant, so each sorted term's derivative flows back to the pair it came from.
import { checkFinite, checkPairBatch, ObjectiveOptionError, requireInRange, requirePositive } from './check';
import { logSigmoid, sigmoid } from './math';
import type { MethodDescriptor, OptionValues } from './descriptor';
import { logRatios, ordered, pairMetrics, scaled } from './metrics';
import { PAIR_METRICS, type PairBatch, type PairObjective, type PairResult, type Vec } from './types';

export const DPO_LOSS_TYPES = ['sigmoid', 'robust', 'hinge', 'ipo', 'sigmoid_norm', 'exo_pair', 'nca_pair', 'bco_pair', 'sppo_hard', 'aot', 'aot_unpaired', 'apo_zero', 'apo_down', 'discopop', 'sft'] as const;
export type DpoLossType = (typeof DPO_LOSS_TYPES)[number];

/**
 * Old loss-type names accepted on input and replaced by the canonical one when the objective is
 * created. TRL renamed `aot_pair` to `aot_unpaired` (the unpaired AOT variant) in February 2026;
 * TRL main no longer accepts the old name, we still do.
 */
export const DPO_LOSS_TYPE_ALIASES = { aot_pair: 'aot_unpaired' } as const satisfies Readonly<Record<string, DpoLossType>>;
export type DpoLossTypeAlias = keyof typeof DPO_LOSS_TYPE_ALIASES;

/** The canonical loss type for a name or alias (`aot_pair` → `aot_unpaired`); undefined when unknown. */
export function canonicalDpoLossType(name: string): DpoLossType | undefined {
  if ((DPO_LOSS_TYPES as readonly string[]).includes(name)) return name as DpoLossType;
  return Object.prototype.hasOwnProperty.call(DPO_LOSS_TYPE_ALIASES, name) ? DPO_LOSS_TYPE_ALIASES[name as DpoLossTypeAlias] : undefined;
}

/** Loss types computed over the whole batch rather than pair by pair. */
type BatchLossType = 'sft' | 'aot' | 'aot_unpaired';

/** EXO's ε when `label_smoothing` is 0 (TRL replaces 0 by the paper's 1e-3: log ε must be finite). */
export const EXO_DEFAULT_EPSILON = 1e-3;

export interface DpoOptions {
  /** β > 0 (TRL `beta`, default 0.1); for `ipo` it is the paper's τ. */
  beta?: number;
  /** One loss type or a list to combine (TRL `loss_type`, default 'sigmoid'); aliases such as `aot_pair` are accepted. */
  lossType?: DpoLossType | DpoLossTypeAlias | readonly (DpoLossType | DpoLossTypeAlias)[];
  /** One weight per loss type (TRL `loss_weights`, default 1 each). */
  lossWeights?: readonly number[];
  /**
   * ε of `robust` (0 ≤ ε < 0.5), of `exo_pair` (0 < ε < 1; 0 means 1e-3) and of `aot` / `aot_unpaired`
   * (0 ≤ ε < 1). TRL `label_smoothing`, default 0.
   */
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
function pairTerm(type: Exclude<DpoLossType, BatchLossType>, rw: number, rl: number, lw: number, ll: number, o: Resolved): [number, number, number] {
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
    case 'bco_pair': {
      // TRL main's form: no running mean of the rewards subtracted (older TRL had one).
      const a = b * rw;
      const c = b * rl;
      return [-logSigmoid(a) - logSigmoid(-c), -b * sigmoid(-a), b * sigmoid(c)];
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

/** Indices 0..n−1 ordered by ascending x (ties by index; ties are measure-zero for the gradient). */
function argsort(x: Vec): number[] {
  return Array.from({ length: x.length }, (_, i) => i).sort((i, j) => x[i] - x[j] || i - j);
}

/**
 * AOT (TRL `aot` / `aot_unpaired`). `aot`: x = S_w − S_l (policy), y = S_ref,w − S_ref,l;
 * `aot_unpaired`: x = r_w, y = r_l. With p, q the ascending orders of x and y, the k-th term is
 * δ_k = x[p_k] − y[q_k], L_k = −(1−ε) log σ(βδ_k) − ε log σ(−βδ_k). Returns mean_k L_k and adds
 * w·∂(mean_k L_k)/∂S to the derivative arrays: ∂δ_k/∂S_w[p_k] = 1, and −1 on S_l[p_k] (`aot`) or
 * on S_l[q_k] (`aot_unpaired`; for `aot` y is reference-only, a constant). L_k is booked in
 * pairLoss under every pair it depends on, so a non-finite term names them.
 */
function aotTerms(
  type: 'aot' | 'aot_unpaired',
  b: PairBatch,
  rw: Float64Array,
  rl: Float64Array,
  o: Resolved,
  w: number,
  pairLoss: Float64Array,
  dChosenLogp: Float64Array,
  dRejectedLogp: Float64Array,
): number {
  const n = rw.length;
  const e = o.eps;
  const paired = type === 'aot';
  const x = paired ? Float64Array.from({ length: n }, (_, i) => b.chosenLogp[i] - b.rejectedLogp[i]) : rw;
  const y = paired ? Float64Array.from({ length: n }, (_, i) => b.chosenRefLogp![i] - b.rejectedRefLogp![i]) : rl;
  const p = argsort(x);
  const q = argsort(y);
  let total = 0;
  for (let k = 0; k < n; k++) {
    const z = o.beta * (x[p[k]] - y[q[k]]);
    const l = -(1 - e) * logSigmoid(z) - e * logSigmoid(-z);
    const g = (w * o.beta * (-(1 - e) * sigmoid(-z) + e * sigmoid(z))) / n;
    total += l / n;
    const rejected = paired ? p[k] : q[k];
    pairLoss[p[k]] += w * l;
    if (rejected !== p[k]) pairLoss[rejected] += w * l;
    dChosenLogp[p[k]] += g;
    dRejectedLogp[rejected] -= g;
  }
  return total;
}

function resolve(opts: DpoOptions): Resolved {
  const name = 'dpo';
  const beta = requirePositive(name, 'beta', opts.beta ?? 0.1);
  const raw = opts.lossType ?? 'sigmoid';
  const given = (typeof raw === 'string' ? [raw] : [...raw]) as string[];
  if (given.length === 0) throw new ObjectiveOptionError(name, 'lossType', 'is empty');
  const types = given.map((t) => {
    const c = canonicalDpoLossType(t);
    if (c === undefined) throw new ObjectiveOptionError(name, 'lossType', `"${t}" is unknown; expected one of ${DPO_LOSS_TYPES.join(', ')}`);
    return c;
  });
  const weights = opts.lossWeights ? [...opts.lossWeights] : types.map(() => 1);
  if (weights.length !== types.length) throw new ObjectiveOptionError(name, 'lossWeights', `has ${weights.length} weight${weights.length === 1 ? '' : 's'} for ${types.length} loss type${types.length === 1 ? '' : 's'}`);
  for (const w of weights) {
    if (typeof w !== 'number' || !Number.isFinite(w)) throw new ObjectiveOptionError(name, 'lossWeights', `contains ${String(w)}, expected finite numbers`);
  }
  const eps = opts.labelSmoothing ?? 0;
  if (types.includes('robust')) requireInRange(name, 'labelSmoothing', eps, 0, 0.5);
  else if (types.includes('exo_pair') || types.includes('aot') || types.includes('aot_unpaired')) requireInRange(name, 'labelSmoothing', eps, 0, 1);
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
        if (type === 'aot' || type === 'aot_unpaired') {
          loss += w * aotTerms(type, b, rw, rl, o, w, pairLoss, dChosenLogp, dRejectedLogp);
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

const DPO_FORMULA: Record<DpoLossType, string> = {
  sigmoid: '−log σ(βΔ),  Δ = (S_w − S_ref,w) − (S_l − S_ref,l)',
  robust: '[−(1−ε) log σ(βΔ) + ε log σ(−βΔ)] / (1 − 2ε)',
  hinge: 'max(0, 1 − βΔ)',
  ipo: '(r_w/|y_w| − r_l/|y_l| − 1/(2β))²',
  sigmoid_norm: '−log σ(β(r_w/|y_w| − r_l/|y_l|))',
  exo_pair: 'σ(βΔ)[log σ(βΔ) − log(1−ε)] + σ(−βΔ)[log σ(−βΔ) − log ε]',
  nca_pair: '−log σ(βr_w) − ½ log σ(−βr_w) − ½ log σ(−βr_l)',
  bco_pair: '−log σ(βr_w) − log σ(−βr_l)',
  sppo_hard: '(r_w − 1/(2β))² + (r_l + 1/(2β))²',
  aot: '−(1−ε) log σ(βδ_k) − ε log σ(−βδ_k),  δ = sort(S_w − S_l) − sort(S_ref,w − S_ref,l)',
  aot_unpaired: '−(1−ε) log σ(βδ_k) − ε log σ(−βδ_k),  δ = sort(r_w) − sort(r_l)',
  apo_zero: '1 − σ(βr_w) + σ(βr_l)',
  apo_down: 'σ(βr_w) + 1 − σ(βΔ)',
  discopop: '(1−m)(−log σ(βΔ)) + m·e^(−βΔ),  m = σ(βΔ/τ)',
  sft: '−Σ S_w / Σ |y_w|  (NLL of the chosen answers)',
};

const dpoTypes = (v: OptionValues): string[] => {
  const t = v.lossType ?? 'sigmoid';
  return typeof t === 'string' ? [t] : [...(t as readonly string[])];
};

export const DPO_METHOD: MethodDescriptor = {
  name: 'dpo',
  label: 'DPO',
  description: 'Direct Preference Optimization and its loss types, against a frozen reference.',
  data: 'pairs',
  needsReference: true,
  trlName: 'DPOTrainer (loss_type, loss_weights)',
  options: [
    { key: 'lossType', kind: 'choice', multiple: true, default: 'sigmoid', choices: DPO_LOSS_TYPES, aliases: DPO_LOSS_TYPE_ALIASES, label: 'loss type', help: 'DPO loss type(s), TRL names; a comma-separated list combines them', cli: 'loss-type', url: 0, urlAlways: true, trl: 'loss_type' },
    { key: 'beta', kind: 'number', default: 0.1, min: 0, minOpen: true, step: 0.05, label: 'β', help: 'β: scale of the implicit reward, i.e. strength of the KL constraint to the reference (for ipo: τ)', cli: 'beta', url: 1, urlAlways: true, trl: 'beta' },
    { key: 'labelSmoothing', kind: 'number', default: 0, min: 0, max: 1, maxOpen: true, step: 0.05, label: 'ε', help: 'ε of robust (< 0.5), exo_pair (0 means 1e-3) and aot / aot_unpaired', cli: 'label-smoothing', url: 2, trl: 'label_smoothing', show: (v) => dpoTypes(v).some((t) => ['robust', 'exo_pair', 'aot', 'aot_unpaired'].includes(canonicalDpoLossType(t) ?? t)) },
    { key: 'discopopTau', kind: 'number', default: 0.05, min: 0, minOpen: true, step: 0.01, label: 'τ', help: 'τ of discopop', cli: 'discopop-tau', url: 3, trl: 'discopop_tau', show: (v) => dpoTypes(v).includes('discopop'), trlWhen: (v) => dpoTypes(v).includes('discopop') },
    { key: 'lossWeights', kind: 'numbers', default: null, label: 'loss weights', help: 'Weights of combined loss types, one per type', cli: 'loss-weights', url: 4, trl: 'loss_weights', show: () => false, resetWith: 'lossType', trlWhen: (v) => v.lossWeights !== undefined },
  ],
  formula: (v) => dpoTypes(v).map((t) => DPO_FORMULA[canonicalDpoLossType(t) ?? (t as DpoLossType)] ?? t).join('  +  '),
  create: (v) => dpoObjective(v as DpoOptions),
  trl: {
    trainer: 'DPO',
    modules: ['trl'],
    usesRefModel: true,
    value: (key, v) => (key === 'labelSmoothing' && dpoTypes(v).includes('exo_pair') && !v.labelSmoothing ? { float: EXO_DEFAULT_EPSILON } : undefined),
    notes: (v) => [
      ...(dpoTypes(v).includes('exo_pair') && !v.labelSmoothing ? ["exo_pair with label_smoothing 0 uses ε = 1e-3 in PrefPlay (the EXO paper's value), written here explicitly."] : []),
      ...(dpoTypes(v).includes('sigmoid_norm') ? ['loss_type "sigmoid_norm" (length-normalised DPO) needs a recent TRL (1.x); older releases reject it.'] : []),
    ],
  },
};
