// `train --sample-every N`: DIR/samples.jsonl, one JSON object per sample (step, prompt,
// completion, prompt_ids, completion_ids, score, reason, stop): greedy continuations of the first
// held-out prompts at step 0, every N updates and after the last (src/onnx/timed-samples.ts).
import { createWriteStream, type WriteStream } from 'node:fs';
import type { LoadedModel } from '../model/family-checkpoint';
import type { TrainingRun } from '../train/training-run';
import { judgeFor } from '../judge';
import { createNodeOnnxLm } from '../onnx/session-node';
import { timedPrompts, timedSamples, type TimedPrompt } from '../onnx/timed-samples';

export class SamplesLog {
  private out: WriteStream;
  private prompts: TimedPrompt[];
  private judge;

  constructor(path: string, private base: LoadedModel, run: TrainingRun, dataName: string) {
    this.out = createWriteStream(path);
    this.prompts = timedPrompts(run.train, run.evalSet, base.tokenizer);
    this.judge = judgeFor(dataName);
  }

  /** Samples of `params` at `step`, appended. */
  async write(step: number, params: ReadonlyMap<string, Float32Array>): Promise<void> {
    const rows = await timedSamples((bytes, dims) => createNodeOnnxLm(bytes, dims), this.base, params, this.prompts, this.judge, step);
    for (const r of rows) this.out.write(JSON.stringify(r) + '\n');
  }

  close(): Promise<void> {
    return new Promise((r) => this.out.end(r));
  }
}
