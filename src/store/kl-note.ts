// KTO's `kl` explained (README.md): TRL's KTOTrainer logs kl = max(0, mean over the batch of
// log π(y'|x) − log π_ref(y'|x)) for mismatched pairs (each prompt with its neighbour's answer),
// detached: the reference point z₀ of the loss. A note for a KTO run whose kl has been 0 so far,
// saying which of the reasons applies.
import type { Metrics } from '../worker/protocol';

/** What 0 means, for the chart and the notes. */
export const KL_ZERO =
  "KTO's reference point z₀: the mean log-ratio log π/π_ref over the batch's mismatched prompt–answer pairs, detached and clamped at 0 (TRL). A 0 is expected: at step 1 (the policy is the reference), once the policy lowers those unrelated answers (the negative mean is clamped), and always with apo_zero_unpaired (no KL term); the loss then compares each reward with 0. A rising kl means the policy drifts from the reference on text it is not trained on.";

/** A note for a KTO run (rows with `kl`) whose kl is 0 at every step so far, or whose batch size breaks the estimate; null otherwise. */
export function klNote(label: string, rows: readonly Metrics[], opts: { lossType?: unknown; batchSize?: number } = {}): string | null {
  const kl = rows.filter((m) => typeof m.kl === 'number').map((m) => m.kl);
  if (!kl.length) return null;
  if (opts.lossType === 'apo_zero_unpaired') return `${label}: kl is 0 by definition: loss type apo_zero_unpaired has no KL term (z₀ = 0).`;
  if (opts.batchSize === 1) return `${label}: with batch size 1 each example's mismatched pair is the example itself, so kl is just its own log-ratio and z₀ means nothing; TRL refuses batch size 1 for KTO. Use 2 or more.`;
  if (kl.some((v) => v !== 0)) return null;
  if (kl.length === 1) return `${label}: kl is 0 at step 1, as it must be: the policy still equals the reference.`;
  return `${label}: kl has been 0 at all ${kl.length} steps. The clamp max(0, ·) holds it there because the policy gives the mismatched answers less probability than the reference does; KTO then compares each reward with 0. Expected, not a bug.`;
}
