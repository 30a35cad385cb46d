// An independent check of the WGSL engine: the same batch through onnxruntime-web (the exported
// graph, ./export.ts) and through the model's runner (GptRunner or LlamaRunner, f32 activations);
// the engine's per-position next-token log-probs against ORT's log-softmax gathered at the same
// targets. Both must hold the same weights.
import { StepEncoder } from '../engine/encoder';
import { buildBatch } from '../model/batch';
import type { TrainableModel } from '../model/family';
import { tokenLogps, type OnnxLm } from './session';

export interface EngineCheckResult {
  /** max |engine − ORT| over every predicted position. */
  maxAbsDiff: number;
  /** max |engine − ORT| / max(|ORT|, 1e-6) over the same positions. */
  maxRelDiff: number;
  /** Where maxAbsDiff occurs. */
  worst: { seq: number; pos: number; engine: number; ort: number };
  /** Predicted positions compared. */
  positions: number;
  /** The ORT execution provider used. */
  backend: string;
}

/** seqs: ragged token ids, each 2..n_positions long (every position but the last is compared). */
export async function checkEngineAgainstOrt(model: TrainableModel, lm: OnnxLm, seqs: readonly (readonly number[])[]): Promise<EngineCheckResult> {
  if (seqs.length === 0) throw new Error('engine check: no sequences');
  seqs.forEach((s, b) => {
    if (s.length < 2) throw new Error(`engine check: sequence ${b} has ${s.length} tokens; at least 2 are needed to predict one`);
  });
  const batch = buildBatch(seqs.map((ids) => ({ ids, promptLen: 1 })), model.seq.eosTokenId);
  const runner = model.createRunner(batch.B, batch.T, 'f32');
  let engine: Float32Array;
  try {
    runner.setBatch(batch);
    const enc = new StepEncoder(model.gpu, 'engine-check');
    runner.forward(enc);
    enc.submit();
    engine = await runner.readTokenLogps();
  } finally {
    runner.destroy();
  }
  const ort = tokenLogps(await lm.logits(seqs), seqs);
  let maxAbsDiff = -1;
  let maxRelDiff = 0;
  let worst = { seq: 0, pos: 0, engine: 0, ort: 0 };
  let positions = 0;
  ort.forEach((row, b) =>
    row.forEach((want, t) => {
      const got = engine[b * batch.T + t];
      const d = Math.abs(got - want);
      if (!Number.isFinite(d)) throw new Error(`engine check: sequence ${b} position ${t}: engine ${got}, ORT ${want}`);
      positions++;
      maxRelDiff = Math.max(maxRelDiff, d / Math.max(Math.abs(want), 1e-6));
      if (d > maxAbsDiff) {
        maxAbsDiff = d;
        worst = { seq: b, pos: t, engine: got, ort: want };
      }
    }),
  );
  return { maxAbsDiff, maxRelDiff, worst, positions, backend: lm.backend };
}
