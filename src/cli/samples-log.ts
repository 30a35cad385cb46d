// `train --sample-every N`: DIR/samples.jsonl, one JSON object per sample (step, prompt,
// completion, prompt_ids, completion_ids, score, reason, stop): greedy continuations of the first
// held-out prompts at step 0, every N updates and after the last, generated on the GPU from the
// run's live model (src/onnx/timed-samples-gpu.ts); through the ONNX export (onnxruntime-web's
// wasm backend, src/onnx/timed-samples.ts) only for a model the GPU decode refuses.
import { createWriteStream, type WriteStream } from 'node:fs';
import type { LoadedModel } from '../model/family-checkpoint';
import type { TrainingRun } from '../train/training-run';
import { judgeFor } from '../judge';
import { createNodeOnnxLm } from '../onnx/session-node';
import { timedPrompts, type TimedPrompt } from '../onnx/timed-samples';
import { samplesAt } from '../onnx/timed-samples-gpu';

export class SamplesLog {
  private out: WriteStream;
  private prompts: TimedPrompt[];
  private judge;

  constructor(path: string, private base: LoadedModel, private run: TrainingRun, dataName: string) {
    this.out = createWriteStream(path);
    this.prompts = timedPrompts(run.train, run.evalSet, base.tokenizer);
    this.judge = judgeFor(dataName);
  }

  /**
   * Samples of the run's weights as they are (after `step` updates; the run must be live: at step
   * 0 its starting weights, imported adapters included), appended.
   */
  async write(step: number): Promise<void> {
    const { run } = this;
    const { samples: rows } = await samplesAt({ model: run.model, params: () => run.weights() }, (bytes, dims) => createNodeOnnxLm(bytes, dims), this.base, this.prompts, this.judge, step);
    for (const r of rows) this.out.write(JSON.stringify(r) + '\n');
  }

  close(): Promise<void> {
    return new Promise((r) => this.out.end(r));
  }
}
