// The learning-rate schedule as one pure function (docs/design.md), as Hugging Face's
// get_{linear,cosine,constant}_schedule_with_warmup: update k (0-based) uses getLr(k).

export type ScheduleKind = 'linear' | 'cosine' | 'constant';

export interface Schedule {
  lr: number;
  kind: ScheduleKind;
  warmupSteps: number;
  totalSteps: number;
}

export function getLr(step: number, s: Schedule): number {
  if (s.warmupSteps > 0 && step < s.warmupSteps) return (s.lr * step) / s.warmupSteps;
  if (s.kind === 'constant') return s.lr;
  const decaySteps = Math.max(1, s.totalSteps - s.warmupSteps);
  const progress = Math.min(1, (step - s.warmupSteps) / decaySteps);
  if (s.kind === 'linear') return s.lr * Math.max(0, 1 - progress);
  return s.lr * 0.5 * (1 + Math.cos(Math.PI * progress));
}
