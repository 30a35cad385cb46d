// Samples over time in the worker (README.md): greedy samples of the comparison's fixed held-out
// prompts from every run at step 0 (the starting weights, generated once), every N updates and at
// its last update, judged, sent as 'samples' events. They are generated on the GPU from the run's
// live model (src/onnx/timed-samples-gpu.ts: one batched, cached decode), through the ONNX export
// (src/onnx/timed-samples.ts) only for a model the GPU decode refuses. A failure turns samples over
// time off for the comparison and says so on the run; training goes on.
// Online runs (GRPO, RLOO) also send the completions they trained on ('rollouts': rolloutsAt).
import type { LoadedModel } from '../model/family-checkpoint';
import { arithmeticJudge, judgeFor, politenessJudge, referenceJudge, type Judge } from '../judge';
import { dataLengths, isSampleStep, type OpenLm, type SamplesAtStep, type TimedPrompt, type TimedSample } from '../onnx/timed-samples';
import { samplesAt, type SampleSource } from '../onnx/timed-samples-gpu';
import type { OnlineSample } from '../train/online-trainer';
import type { PpoSample } from '../train/ppo-trainer';
import type { EngineEvent, RolloutsAtStep } from './protocol';
import type { Run } from './run';

/** Completions of an update sent to the page (the first prompt's group), and updates with rollouts at most per run. */
export const ROLLOUT_ROWS = 4;
export const ROLLOUT_STEPS = 40;

/** Whether an online run sends its completions of update `step` (1-based): the first, every ⌈total/40⌉-th and the last. */
export function isRolloutStep(step: number, total: number): boolean {
  const every = Math.max(1, Math.ceil(total / ROLLOUT_STEPS));
  return step === 1 || step % every === 0 || step === total;
}

const JUDGES: readonly Judge[] = [arithmeticJudge, politenessJudge, referenceJudge];

/**
 * The page's view of an update's completions (OnlineTrainer.samples, prompt-major): the first
 * ROLLOUT_ROWS, with each reward function's reason (the judge of that name, on the same text the
 * reward was computed from). Null when there are none.
 */
export function rolloutsAt(samples: readonly OnlineSample[]): RolloutsAtStep | null {
  if (!samples.length) return null;
  const names = Object.keys(samples[0].rewards);
  const judges = names.map((n) => JUDGES.find((j) => j.name === n) ?? null);
  const rows = samples.slice(0, ROLLOUT_ROWS);
  const reason = (x: OnlineSample) =>
    names
      .map((n, f) => {
        const j = judges[f];
        return `${n}: ${j ? j.judge(x.prompt, x.completion).reason : `reward ${x.rewards[n]}`}`;
      })
      .join('; ');
  return {
    scale: judges.every((j) => j !== null) ? 'judge' : 'model',
    step: rows[0].step,
    rewards: names.map((n, f) => ({ name: n, description: judges[f]?.description ?? n })),
    prompts: rows.map((x) => x.prompt),
    completions: rows.map((x) => x.completion),
    tokens: rows.map((x) => x.completion_ids.length),
    reward: rows.map((x) => x.reward),
    reasons: rows.map(reason),
    advantages: rows.map((x) => x.advantage),
    total: samples.length,
  };
}

/** The same view of a PPO update's responses (PpoTrainer.samples): the reward is the reward model's score. */
export function ppoRolloutsAt(samples: readonly PpoSample[], rewardModel: string): RolloutsAtStep | null {
  if (!samples.length) return null;
  const rows = samples.slice(0, ROLLOUT_ROWS);
  return {
    scale: 'model',
    step: rows[0].step,
    rewards: [{ name: rewardModel, description: 'its score of prompt + response (higher: preferred)' }],
    prompts: rows.map((x) => x.prompt),
    completions: rows.map((x) => x.completion),
    tokens: rows.map((x) => x.completion_ids.length),
    reward: rows.map((x) => x.score),
    reasons: rows.map((x) => `${rewardModel}: score ${x.score.toPrecision(4)}`),
    total: samples.length,
  };
}

export class Sampler {
  private judge: Judge;
  private off = false;
  private done = new Map<string, number>();

  constructor(
    private base: LoadedModel,
    private prompts: readonly TimedPrompt[],
    dataName: string,
    private every: number,
    private total: number,
    /** The ONNX fallback (null: none; a model the GPU decode refuses then gets no samples). */
    private open: OpenLm | null,
    private emit: (ev: EngineEvent) => void,
  ) {
    this.judge = judgeFor(dataName);
  }

  private event(r: Run, step: number, samples: readonly TimedSample[]): EngineEvent {
    const at: SamplesAtStep = {
      step,
      prompts: this.prompts.map((p) => p.prompt),
      judge: { name: this.judge.name, description: this.judge.description },
      completions: samples.map((s) => s.completion),
      tokens: samples.map((s) => s.completion_ids.length),
      scores: samples.map((s) => s.score),
      reasons: samples.map((s) => s.reason),
      data: dataLengths(r.training?.train ?? []),
    };
    return { type: 'samples', runId: r.spec.id, at };
  }

  private async generate(rs: readonly Run[], step: number, src: SampleSource): Promise<void> {
    if (this.off || !this.prompts.length || !rs.length) return;
    try {
      const { samples } = await samplesAt(src, this.open, this.base, this.prompts, this.judge, step);
      for (const r of rs) {
        this.done.set(r.spec.id, step);
        this.emit(this.event(r, step, samples));
      }
    } catch (e) {
      this.off = true;
      for (const r of rs) r.message = `Samples at step ${step} failed (${(e as Error).message}); samples over time are off for this comparison.`;
    }
  }

  /**
   * Step 0, once for every run that starts from the starting weights (a reward model generates
   * nothing: no LM head), from one of them before its first update: every run of a comparison
   * holds the same weights then (one base and base dtype; LoRA adapters at PEFT's init, B = 0).
   */
  atStart(runs: readonly Run[]): Promise<void> {
    const rs = runs.filter((r) => r.step === 0 && !r.training?.scoreHead);
    const t = rs.find((r) => r.live)?.training ?? null;
    return this.generate(rs, 0, { model: t?.model ?? null, params: async () => (t ? t.weights() : this.base.params) });
  }

  /** After an update of `r`: samples when due (every N updates and the last). */
  async afterStep(r: Run): Promise<void> {
    const t = r.training;
    if (!t?.live || t.scoreHead || !isSampleStep(r.step, this.every, this.total) || this.done.get(r.spec.id) === r.step) return;
    await this.generate([r], r.step, { model: t.model, params: () => t.weights() });
  }
}
