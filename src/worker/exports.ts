// What the page exports from the engine worker: a run's model folder, a runnable TRL experiment
// with the same hyperparameters and split (src/export/trl-script.ts), and generated samples
// before and after training (exported to ONNX, run by onnxruntime-web, greedy decoding).
import { saveCheckpoint as checkpointFiles, type LoadedCheckpoint } from '../model/checkpoint';
import { processSource } from '../data/pipeline';
import { splitTrainEval } from '../data/split';
import type { Example } from '../data/types';
import { trlExportFiles } from '../export/trl-script';
import { resolveLengths } from './lengths';
import type { Session } from './session';

export function modelFiles(base: LoadedCheckpoint, params: ReadonlyMap<string, Float32Array>): Map<string, Uint8Array> {
  return checkpointFiles(base.config, params, base.tokenizer.kind === 'byte' ? 'byte' : base.tokenizerFiles);
}

/** train.py, README.txt, requirements.txt, data.jsonl, eval.jsonl and model/ (the starting weights). */
export async function trlFiles(session: Session, runId: string): Promise<Map<string, Uint8Array | string>> {
  const run = session.runs.find((r) => r.spec.id === runId);
  if (!run) throw new Error(`no run "${runId}" in this comparison`);
  const { settings, data } = session.spec;
  const base = session.base;
  const lengths = resolveLengths(base.config.nPositions, settings.maxLength, settings.maxPromptLength);
  const examples: Example[] = [];
  await processSource(data.file, { name: data.name, size: data.file.size, format: data.format, tokenizer: base.tokenizer, tokenize: true, ...lengths }, { onExample: (ex) => void (ex.kind === 'pair' && examples.push(ex)) });
  const split = splitTrainEval(examples, run.cfg.evalFraction, run.cfg.seed);
  const out = new Map<string, Uint8Array | string>(trlExportFiles({ config: run.cfg, ...lengths, model: 'model', refModel: null }, split.train, split.eval));
  for (const [name, bytes] of modelFiles(base, base.params)) out.set(`model/${name}`, bytes);
  return out;
}

export interface SampleSet {
  backend: string;
  prompts: string[];
  /** By model: 'start' for the starting weights, else the run id. */
  outputs: Record<string, string[]>;
}

export const SAMPLE_PROMPTS = 3;
export const SAMPLE_TOKENS = 40;

/** Greedy continuations of `prompts` under each set of weights. */
export async function generateSamples(base: LoadedCheckpoint, models: Array<{ id: string; params: ReadonlyMap<string, Float32Array> }>, prompts: string[]): Promise<SampleSet> {
  const [{ exportGpt2Onnx }, { createWebOnnxLm }, { generate }] = await Promise.all([import('../onnx/gpt2'), import('../onnx/session-web'), import('../onnx/generate')]);
  const { config, tokenizer } = base;
  const outputs: Record<string, string[]> = {};
  let backend = '';
  for (const m of models) {
    const lm = await createWebOnnxLm(exportGpt2Onnx(config, m.params), { vocabSize: config.vocabSize, nPositions: config.nPositions, padId: config.eosTokenId }, ['wasm']);
    backend = lm.backend;
    try {
      outputs[m.id] = [];
      for (const p of prompts) outputs[m.id].push((await generate(lm, tokenizer, p, { maxNewTokens: SAMPLE_TOKENS, temperature: 0, topK: 0, seed: 0 })).text);
    } finally {
      await lm.release();
    }
  }
  return { backend, prompts, outputs };
}
