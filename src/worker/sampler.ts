// Samples over time in the worker (README.md): greedy samples of the comparison's fixed held-out
// prompts from every run at step 0 (the starting weights, generated once), every N updates and at
// its last update, judged (src/onnx/timed-samples.ts), sent as 'samples' events. A failure turns
// samples over time off for the comparison and says so on the run; training goes on.
import type { LoadedModel } from '../model/family-checkpoint';
import { judgeFor, type Judge } from '../judge';
import { dataLengths, isSampleStep, timedSamples, type OpenLm, type SamplesAtStep, type TimedPrompt, type TimedSample } from '../onnx/timed-samples';
import type { EngineEvent } from './protocol';
import type { Run } from './run';

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
    private open: OpenLm,
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

  private async generate(rs: readonly Run[], step: number, params: () => Promise<ReadonlyMap<string, Float32Array>>): Promise<void> {
    if (this.off || !this.prompts.length || !rs.length) return;
    try {
      const samples = await timedSamples(this.open, this.base, await params(), this.prompts, this.judge, step);
      for (const r of rs) {
        this.done.set(r.spec.id, step);
        this.emit(this.event(r, step, samples));
      }
    } catch (e) {
      this.off = true;
      for (const r of rs) r.message = `Samples at step ${step} failed (${(e as Error).message}); samples over time are off for this comparison.`;
    }
  }

  /** Step 0, once for every run that starts from the starting weights. */
  atStart(runs: readonly Run[]): Promise<void> {
    return this.generate(
      runs.filter((r) => r.step === 0),
      0,
      async () => this.base.params,
    );
  }

  /** After an update of `r`: samples when due (every N updates and the last). */
  async afterStep(r: Run): Promise<void> {
    const t = r.training;
    if (!t?.live || !isSampleStep(r.step, this.every, this.total) || this.done.get(r.spec.id) === r.step) return;
    await this.generate([r], r.step, () => t.weights());
  }
}
