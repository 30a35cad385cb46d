// GRPO's clipped token-level loss, TRL v1.9.0 GRPOTrainer._compute_loss (trl/trainer/
// grpo_trainer.py 2991–3262), importance_sampling_level 'token' (the default). For completion i,
// token t (m_it the loss mask), with ρ = exp(logp − old) (old = the sampling policy's log-prob;
// when absent TRL uses logp.detach(), so ρ = 1 with gradient ρ):
//   ℓ_it = −min(ρ·A_i, clamp(ρ, 1 − ε_low, 1 + ε_high)·A_i) + β·k3_it,
//   k3_it = exp(ref − logp) − (ref − logp) − 1   (Schulman's k3, ≥ 0)
// aggregated by loss_type:
//   dapo (default)  Σ m·ℓ / N_active, N_active = active tokens of the whole generation batch
//                   (TRL num_items_in_batch, all processes, all accumulation steps); no 1/GA
//   bnpo            Σ m·ℓ / max(1, Σ m) of this micro-batch, / GA
//   grpo            mean_i (Σ_t m·ℓ / max(1, Σ_t m)), / GA
//   dr_grpo         Σ m·ℓ / (B · max_completion_length), / GA
// Per-token coefficient (what the GPU backward takes): c_it = ∂loss/∂logp_it
//   = w_it · m_it · [ −A_i·ρ·(a + b·1[1−ε_low ≤ ρ ≤ 1+ε_high]) + β·(1 − exp(ref − logp)) ]
// with (a, b) torch's gradient split of min(ρA, clamp(ρ)A): (1, 0) where ρA is smaller, (0, 1)
// where the clipped term is (then 0 outside the clip range: the zero-gradient region), (½, ½)
// on ties; w_it the aggregation weight (1/N_active for dapo …).
// Metrics per micro-batch (TRL appends one value per compute_loss call and log() averages them):
//   kl      Σ m·k3 / max(1, Σ m)             (TRL: only when β ≠ 0; here whenever refLogps are given)
//   entropy Σ m·H / max(1, Σ m)              (when entropies are given)
//   clip_ratio/low_mean    Σ m·1[ρ < 1−ε_low ∧ A < 0] / max(1, Σ m), high_mean likewise with
//   ρ > 1+ε_high ∧ A > 0, region_mean their union; clip_ratio/low_min = nanmin over completions of
//   the per-completion low fraction, clip_ratio/high_max = nanmax of the high one (NaN for an
//   all-masked completion, skipped).
// Logits must be divided by the sampling temperature before the log-softmax (logp, old, ref,
// entropies), as TRL's _get_per_token_logps_and_entropies does (1527–1532).
import { ObjectiveNumericError, ObjectiveOptionError } from '../objectives/check';
import { checkMask, checkSeq, checkTokens, clampGrad, nanmax, nanmin, pickWeights, requireInt, requireNonNeg, requirePos, type Vec } from './stats';

export const GRPO_LOSS_TYPES = ['dapo', 'grpo', 'bnpo', 'dr_grpo'] as const;
export type GrpoLossType = (typeof GRPO_LOSS_TYPES)[number];

/** TRL GRPOConfig defaults (v1.9.0). The project's CLI may choose its own β (issue 16: 0.04). */
export const GRPO_DEFAULTS = {
  beta: 0,
  epsilon: 0.2,
  lossType: 'dapo' as GrpoLossType,
  numGenerations: 8,
  temperature: 1,
  topP: 1,
  topK: 0,
  maxCompletionLength: 256,
  learningRate: 1e-6,
  scaleRewards: 'group' as const,
  numIterations: 1,
};

export interface GrpoTokenBatch {
  /** B completions (a micro-batch) … */
  B: number;
  /** … padded to T tokens. */
  T: number;
  /** (B,T) log π_θ(y_t) of the policy being trained (logits / temperature). */
  logps: Vec;
  /** (B,T) log-probs of the policy that sampled the completions; absent: logps itself, detached (ρ = 1). */
  oldLogps?: Vec;
  /** (B,T) reference log-probs; required when β ≠ 0, and gives the `kl` metric whenever present. */
  refLogps?: Vec;
  /** (B,T) 1 on the tokens the loss covers (completion_mask; zero rows for masked truncated completions). */
  mask: Vec;
  /** (B) advantages A_i. */
  advantages: Vec;
  /** (B,T) entropies H_t (nats, of logits / temperature) for the `entropy` metric; optional. */
  entropies?: Vec;
}

export interface GrpoLossOptions {
  /** β of the k3 KL term (TRL `beta`, default 0). */
  beta?: number;
  /** ε_low (TRL `epsilon`, default 0.2). */
  epsilonLow?: number;
  /** ε_high (TRL `epsilon_high`, default = ε_low). */
  epsilonHigh?: number;
  /** TRL `loss_type`, default 'dapo'. */
  lossType?: GrpoLossType;
  /** dapo: active tokens of the whole generation batch (TRL num_items_in_batch); default: Σ mask of this batch. */
  activeTokens?: number;
  /** Gradient accumulation steps (grpo, bnpo, dr_grpo divide by it; dapo does not). Default 1. */
  gradAccum?: number;
  /** dr_grpo's constant (TRL `max_completion_length`, default 256). */
  maxCompletionLength?: number;
}

export const GRPO_METRICS = ['kl', 'entropy', 'clip_ratio/low_mean', 'clip_ratio/low_min', 'clip_ratio/high_mean', 'clip_ratio/high_max', 'clip_ratio/region_mean'] as const;

export interface GrpoLossResult {
  /** This micro-batch's loss as TRL backpropagates it; the logged step `loss` is the sum over the step's micro-batches. */
  loss: number;
  /** (B,T) ∂loss/∂logps[b,t]; 0 off the mask. */
  coef: Float64Array;
  /** GRPO_METRICS for this micro-batch (`kl` only with refLogps, `entropy` only with entropies). */
  metrics: Record<string, number>;
}

export function grpoLoss(b: GrpoTokenBatch, opts: GrpoLossOptions = {}): GrpoLossResult {
  const fn = 'grpo';
  const { B, T } = b;
  requireInt(fn, 'B', B, 1);
  requireInt(fn, 'T', T, 1);
  const beta = requireNonNeg(fn, 'beta', opts.beta ?? GRPO_DEFAULTS.beta);
  const epsLow = requireNonNeg(fn, 'epsilonLow', opts.epsilonLow ?? GRPO_DEFAULTS.epsilon);
  const epsHigh = requireNonNeg(fn, 'epsilonHigh', opts.epsilonHigh ?? epsLow);
  const lossType = opts.lossType ?? GRPO_DEFAULTS.lossType;
  if (!(GRPO_LOSS_TYPES as readonly string[]).includes(lossType)) throw new ObjectiveOptionError(fn, 'lossType', `"${lossType}" is unknown; expected one of ${GRPO_LOSS_TYPES.join(', ')}`);
  const ga = requireInt(fn, 'gradAccum', opts.gradAccum ?? 1, 1);
  const logps = checkTokens(fn, 'logps', b.logps, B, T);
  const old = b.oldLogps === undefined ? logps : checkTokens(fn, 'oldLogps', b.oldLogps, B, T);
  const ref = b.refLogps === undefined ? undefined : checkTokens(fn, 'refLogps', b.refLogps, B, T);
  if (beta !== 0 && !ref) throw new ObjectiveOptionError(fn, 'beta', `is ${beta} ≠ 0, so refLogps are required`);
  const mask = checkMask(fn, 'mask', b.mask, B, T);
  const adv = checkSeq(fn, 'advantages', b.advantages, B);
  const ent = b.entropies === undefined ? undefined : checkTokens(fn, 'entropies', b.entropies, B, T);

  let active = 0;
  for (let k = 0; k < B * T; k++) active += mask[k];
  // weight(b) = ∂loss/∂(m·ℓ_bt) for each aggregation.
  let rowWeight: (b: number, rowActive: number) => number;
  if (lossType === 'dapo') {
    const n = opts.activeTokens ?? active;
    requireNonNeg(fn, 'activeTokens', n);
    rowWeight = () => 1 / Math.max(1, n);
  } else if (lossType === 'bnpo') {
    rowWeight = () => 1 / Math.max(1, active) / ga;
  } else if (lossType === 'grpo') {
    rowWeight = (_b, ra) => 1 / Math.max(1, ra) / B / ga;
  } else {
    const L = requirePos(fn, 'maxCompletionLength', opts.maxCompletionLength ?? GRPO_DEFAULTS.maxCompletionLength);
    rowWeight = () => 1 / (B * L) / ga;
  }

  const coef = new Float64Array(B * T);
  let loss = 0;
  let klSum = 0;
  let entSum = 0;
  let lowSum = 0;
  let highSum = 0;
  let regionSum = 0;
  const lowSeq = new Float64Array(B);
  const highSeq = new Float64Array(B);
  const bad: number[] = [];
  for (let i = 0; i < B; i++) {
    const A = adv[i];
    let ra = 0;
    for (let t = 0; t < T; t++) ra += mask[i * T + t];
    const w = rowWeight(i, ra);
    let low = 0;
    let high = 0;
    for (let t = 0; t < T; t++) {
      const k = i * T + t;
      if (mask[k] === 0) continue;
      const rho = Math.exp(logps[k] - old[k]);
      const rhoC = Math.min(Math.max(rho, 1 - epsLow), 1 + epsHigh);
      const l1 = rho * A;
      const l2 = rhoC * A;
      const [a1, a2] = pickWeights(l1, l2, true);
      let l = -Math.min(l1, l2);
      let d = -A * rho * (a1 + a2 * clampGrad(rho, 1 - epsLow, 1 + epsHigh));
      if (ref) {
        const x = ref[k] - logps[k];
        const kl = Math.expm1(x) - x; // exp(x) − x − 1 without cancellation
        if (beta !== 0) {
          l += beta * kl;
          d += beta * -Math.expm1(x);
        }
        klSum += kl;
      }
      loss += w * l;
      coef[k] = w * d;
      if (!Number.isFinite(coef[k])) bad.push(i);
      if (ent) entSum += ent[k];
      const isLow = rho < 1 - epsLow && A < 0;
      const isHigh = rho > 1 + epsHigh && A > 0;
      if (isLow) low++;
      if (isHigh) high++;
      if (isLow || isHigh) regionSum++;
    }
    lowSum += low;
    highSum += high;
    lowSeq[i] = low / ra; // NaN for an all-masked completion (TRL masked_seq_mean has no clamp)
    highSeq[i] = high / ra;
  }
  if (bad.length || !Number.isFinite(loss)) throw new ObjectiveNumericError(fn, [...new Set(bad)], 'loss or coefficient', 'completion');
  const denom = Math.max(1, active);
  const metrics: Record<string, number> = {};
  if (ref) metrics.kl = klSum / denom;
  if (ent) metrics.entropy = entSum / denom;
  metrics['clip_ratio/low_mean'] = lowSum / denom;
  metrics['clip_ratio/low_min'] = nanmin(lowSeq);
  metrics['clip_ratio/high_mean'] = highSum / denom;
  metrics['clip_ratio/high_max'] = nanmax(highSeq);
  metrics['clip_ratio/region_mean'] = regionSum / denom;
  return { loss, coef, metrics };
}
