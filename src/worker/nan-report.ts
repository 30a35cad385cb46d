// Guards explained (README.md): when the NaN guard stops a run, the examples it named with each
// completion token's log-prob, read back from one forward pass under the run's current weights —
// the weights of the failing update, since the guard stops before the optimizer applies it — and
// the explanation of src/train/objectives/nan-explain.ts.
import { StepEncoder } from '../engine/encoder';
import { buildBatch, type SequenceSpec } from '../model/batch';
import type { Tokenizer } from '../tokenizer/types';
import { explainNan, type NanExampleInput, type NanReport } from '../train/objectives';
import { batchLength, promptFor, type PairIds } from '../train/pairs';
import type { UnpairedIds } from '../train/kto-trainer';
import type { TrainingError } from '../train/trainer';
import type { TrainingRun } from '../train/training-run';
import { displayText, tokenPieces } from './pair-table';

/** Examples shown at most. */
export const NAN_EXAMPLES = 3;

type Example = PairIds | UnpairedIds;
const isPair = (x: Example): x is PairIds => 'chosenIds' in x;

/** Reference sum S_ref of training example i (side 0: chosen or the unpaired example, 1: rejected). */
function refSum(t: TrainingRun, i: number, side: number): number | undefined {
  const r = t.reference?.train as Record<string, Float64Array> | undefined;
  const arr = r && (t.kind === 'pairs' ? r[side ? 'rejected' : 'chosen'] : r.main);
  return arr?.[i];
}

/** The report of `e` for a run whose GPU state still exists (null otherwise). */
export async function nanReport(t: TrainingRun, e: TrainingError, tok: Tokenizer): Promise<NanReport | null> {
  const model = t.model;
  if (!model) return null;
  const wanted = new Set(e.pairs);
  const picked: Array<{ x: Example; i: number }> = [];
  t.train.forEach((x, i) => void (wanted.has(x.index) && picked.length < NAN_EXAMPLES && picked.push({ x, i })));
  if (!picked.length) return null;
  const bos = model.seq.bosTokenId;
  const seqs: Array<SequenceSpec & { label: string; completion: readonly number[]; who: number }> = [];
  picked.forEach(({ x }, who) => {
    const prompt = promptFor({ promptIds: x.promptIds, chosenIds: [], rejectedIds: [], index: 0 }, bos);
    const sides: Array<[string, readonly number[]]> = isPair(x) ? [['chosen', x.chosenIds], ['rejected', x.rejectedIds]] : [[x.label ? 'desirable' : 'undesirable', x.completionIds]];
    for (const [label, completion] of sides) seqs.push({ ids: [...prompt, ...completion], promptLen: prompt.length, label, completion, who });
  });
  const batch = buildBatch(seqs, model.seq.eosTokenId, batchLength(Math.max(...seqs.map((s) => s.ids.length)), model.seq.nPositions));
  const runner = model.createRunner(batch.B, batch.T, t.cfg.activationsDtype ?? 'f32');
  let logp: Float32Array;
  try {
    runner.setBatch(batch);
    const enc = new StepEncoder(model.gpu, 'nan-report');
    runner.forward(enc);
    enc.submit();
    logp = await runner.readTokenLogps();
  } finally {
    runner.destroy();
  }
  const inputs: NanExampleInput[] = picked.map(({ x, i }, who) => ({
    index: x.index,
    ...(x.line !== undefined ? { line: x.line } : {}),
    prompt: displayText(x.promptIds, tok),
    sides: seqs
      .map((s, b) => ({ s, b }))
      .filter(({ s }) => s.who === who)
      .map(({ s, b }, k) => ({
        label: s.label,
        tokens: tokenPieces(s.completion, tok),
        // completion token j is predicted at position promptLen − 1 + j
        logps: s.completion.map((_, j) => logp[b * batch.T + s.promptLen - 1 + j]),
        ...(refSum(t, i, k) !== undefined ? { ref: refSum(t, i, k) } : {}),
      })),
  }));
  return explainNan(t.cfg.objective, e.message, e.step, inputs);
}
