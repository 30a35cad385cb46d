// RLOO's loss, TRL v1.9.0 RLOOTrainer._compute_loss (trl/trainer/rloo_trainer.py 1655–1724).
// Unlike GRPO it is sequence-level: with S_i = Σ_t m_it·logp_it (the completion's log-prob sum,
// logits / temperature) and S_old,i the same under the sampling policy,
//   ρ_i = exp(S_i − S_old,i),   ℓ_i = −min(ρ_i·A_i, clamp(ρ_i, 1 − ε_low, 1 + ε_high)·A_i),
//   loss = mean_i ℓ_i  (the HF Trainer then divides by gradient_accumulation_steps).
// The KL to the reference is not in the loss: it is a reward penalty (advantages.ts). Because the
// loss depends on the policy only through S_i, the engine's per-sequence sums suffice and every
// completion token of i gets the same coefficient ∂loss/∂S_i:
//   ∂ℓ_i/∂S_i = −A_i·ρ_i·(a + b·1[1−ε_low ≤ ρ_i ≤ 1+ε_high])   (torch's min split, as in grpo.ts)
// Metrics per micro-batch: entropy = Σ m·H / max(1, Σ m); clip_ratio/low_mean, /high_mean,
// /region_mean = the fraction of completions with ρ < 1−ε_low ∧ A < 0 (resp. ρ > 1+ε_high ∧ A > 0,
// either); clip_ratio/low_min = min over completions of the low flag, /high_max = max of the high
// flag (TRL gathers per-sequence flags).
import { ObjectiveNumericError } from '../objectives/check';
import { checkSeq, clampGrad, pickWeights, requireInt, requireNonNeg, type Vec } from './stats';

/** TRL RLOOConfig defaults (v1.9.0). */
export const RLOO_DEFAULTS = {
  beta: 0.05,
  epsilon: 0.2,
  numGenerations: 2,
  temperature: 1,
  topP: 1,
  topK: 0,
  maxCompletionLength: 256,
  learningRate: 1e-6,
  normalizeAdvantages: false,
  numIterations: 1,
};

export interface RlooSequenceBatch {
  /** (B) S_i = Σ_t m·logp over each completion's loss tokens. */
  logpSums: Vec;
  /** (B) S_old,i: the same sums when the completions were sampled (TRL old_logps). */
  oldLogpSums: Vec;
  /** (B) advantages. */
  advantages: Vec;
  /** (B) Σ_t m·H_t, for the `entropy` metric; optional. */
  entropySums?: Vec;
  /** (B) Σ_t m (the loss tokens per completion), for the `entropy` metric. */
  tokenCounts?: Vec;
}

export interface RlooLossOptions {
  /** ε_low (TRL `epsilon`, default 0.2). */
  epsilonLow?: number;
  /** ε_high (TRL `epsilon_high`, default = ε_low). */
  epsilonHigh?: number;
  /** Gradient accumulation steps; the loss and derivatives are divided by it (HF Trainer). Default 1. */
  gradAccum?: number;
}

export const RLOO_METRICS = ['entropy', 'clip_ratio/low_mean', 'clip_ratio/low_min', 'clip_ratio/high_mean', 'clip_ratio/high_max', 'clip_ratio/region_mean'] as const;

export interface RlooLossResult {
  /** mean_i ℓ_i / gradAccum: the logged step `loss` is the sum over the step's micro-batches. */
  loss: number;
  /** (B) ∂loss/∂S_i: the coefficient of every loss token of completion i (see sequenceCoefficients). */
  dLogpSums: Float64Array;
  metrics: Record<string, number>;
}

export function rlooLoss(b: RlooSequenceBatch, opts: RlooLossOptions = {}): RlooLossResult {
  const fn = 'rloo';
  const B = b.logpSums?.length ?? 0;
  if (B === 0) throw new Error('rloo: empty batch');
  const S = checkSeq(fn, 'logpSums', b.logpSums, B);
  const S0 = checkSeq(fn, 'oldLogpSums', b.oldLogpSums, B);
  const adv = checkSeq(fn, 'advantages', b.advantages, B);
  const epsLow = requireNonNeg(fn, 'epsilonLow', opts.epsilonLow ?? RLOO_DEFAULTS.epsilon);
  const epsHigh = requireNonNeg(fn, 'epsilonHigh', opts.epsilonHigh ?? epsLow);
  const ga = requireInt(fn, 'gradAccum', opts.gradAccum ?? 1, 1);
  const dLogpSums = new Float64Array(B);
  let loss = 0;
  let low = 0;
  let high = 0;
  let region = 0;
  const bad: number[] = [];
  for (let i = 0; i < B; i++) {
    const A = adv[i];
    const rho = Math.exp(S[i] - S0[i]);
    const l1 = rho * A;
    const l2 = Math.min(Math.max(rho, 1 - epsLow), 1 + epsHigh) * A;
    const [a1, a2] = pickWeights(l1, l2, true);
    loss += -Math.min(l1, l2) / B / ga;
    dLogpSums[i] = (-A * rho * (a1 + a2 * clampGrad(rho, 1 - epsLow, 1 + epsHigh))) / B / ga;
    if (!Number.isFinite(dLogpSums[i])) bad.push(i);
    const isLow = rho < 1 - epsLow && A < 0;
    const isHigh = rho > 1 + epsHigh && A > 0;
    if (isLow) low++;
    if (isHigh) high++;
    if (isLow || isHigh) region++;
  }
  if (bad.length || !Number.isFinite(loss)) throw new ObjectiveNumericError(fn, bad, 'loss or derivative', 'completion');
  const metrics: Record<string, number> = {};
  if (b.entropySums) {
    const H = checkSeq(fn, 'entropySums', b.entropySums, B);
    const n = checkSeq(fn, 'tokenCounts', b.tokenCounts, B);
    let h = 0;
    let c = 0;
    for (let i = 0; i < B; i++) {
      h += H[i];
      c += n[i];
    }
    metrics.entropy = h / Math.max(1, c);
  }
  metrics['clip_ratio/low_mean'] = low / B;
  metrics['clip_ratio/low_min'] = low === B ? 1 : 0;
  metrics['clip_ratio/high_mean'] = high / B;
  metrics['clip_ratio/high_max'] = high > 0 ? 1 : 0;
  metrics['clip_ratio/region_mean'] = region / B;
  return { loss, dLogpSums, metrics };
}

/** Spreads per-sequence derivatives over the (B,T) loss mask: coef[b,t] = mask[b,t]·dS[b]. */
export function sequenceCoefficients(dS: Vec, mask: Vec, B: number, T: number): Float64Array {
  if (dS.length !== B || mask.length !== B * T) throw new Error(`sequenceCoefficients: expected dS (${B}) and mask (${B}·${T})`);
  const coef = new Float64Array(B * T);
  for (let k = 0; k < B * T; k++) coef[k] = mask[k] * dS[Math.floor(k / T)];
  return coef;
}
