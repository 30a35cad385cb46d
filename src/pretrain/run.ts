// One pretraining run of the built-in model (engine only; scripts/pretrain.ts writes the files):
// a seeded random init, packed rows from the corpus stream (seed `corpusSeed`), held-out rows
// from another seed, evaluation every `evalEvery` updates, and greedy samples before and after.
import type { GpuContext } from '../engine/gpu';
import type { GPTConfig } from '../model/config';
import { paramCount } from '../model/config';
import { GptModel } from '../model/gpt';
import { initParams } from '../model/init';
import { ByteTokenizer } from '../tokenizer/byte';
import { Rng } from '../util/rng';
import { corpusDocs, RowPacker } from './corpus';
import { Pretrainer, type PretrainHp } from './pretrain';
import { generateIds, HostGpt } from './sample';

export interface PretrainRunOptions {
  config: GPTConfig;
  hp: PretrainHp;
  initSeed: number;
  corpusSeed: number;
  heldoutSeed: number;
  /** Held-out rows (of hp.seqLen tokens). */
  heldoutRows: number;
  evalEvery: number;
  samplePrompts: readonly string[];
  sampleMaxNewTokens: number;
}

export interface Sample {
  prompt: string;
  completion: string;
}

export interface PretrainLog {
  parameters: number;
  steps: number;
  tokens: number;
  wallSeconds: number;
  curve: Array<{ step: number; loss: number; grad_norm: number; lr: number; seconds: number }>;
  heldout: Array<{ step: number; loss: number }>;
  samplesBefore: Sample[];
  samplesAfter: Sample[];
}

export function greedySamples(config: GPTConfig, params: ReadonlyMap<string, Float32Array>, prompts: readonly string[], maxNewTokens: number): Sample[] {
  const tok = new ByteTokenizer();
  const host = new HostGpt(config, params);
  return prompts.map((prompt) => {
    const ids = tok.encode(prompt);
    const room = Math.max(0, Math.min(maxNewTokens, config.nPositions - ids.length));
    return { prompt, completion: tok.decode(generateIds(host, ids, { maxNewTokens: room, temperature: 0, rng: new Rng(0) })) };
  });
}

export async function runPretraining(gpu: GpuContext, o: PretrainRunOptions, onProgress?: (line: string) => void): Promise<{ params: Map<string, Float32Array>; log: PretrainLog }> {
  const tok = new ByteTokenizer();
  const T = o.hp.seqLen;
  const encode = (s: string) => tok.encode(s);
  const train = new RowPacker(corpusDocs(o.corpusSeed), encode, T, o.config.eosTokenId);
  const heldout = new RowPacker(corpusDocs(o.heldoutSeed), encode, T, o.config.eosTokenId).rows(o.heldoutRows);
  const init = initParams(o.config, o.initSeed);
  const model = new GptModel(gpu, o.config);
  model.upload(init);
  const trainer = new Pretrainer(model, o.hp);
  const log: PretrainLog = {
    parameters: paramCount(o.config),
    steps: o.hp.steps,
    tokens: 0,
    wallSeconds: 0,
    curve: [],
    heldout: [],
    samplesBefore: greedySamples(o.config, init, o.samplePrompts, o.sampleMaxNewTokens),
    samplesAfter: [],
  };
  const t0 = performance.now();
  const evaluate = async (step: number) => {
    const loss = await trainer.evalLoss(heldout);
    log.heldout.push({ step, loss });
    onProgress?.(`eval step ${step}: held-out loss ${loss.toFixed(4)}`);
  };
  await evaluate(0);
  for (let s = 1; s <= o.hp.steps; s++) {
    const r = await trainer.trainStep(train.rows(o.hp.batchSize));
    const seconds = (performance.now() - t0) / 1000;
    log.curve.push({ step: s, loss: r.loss, grad_norm: r.gradNorm, lr: r.lr, seconds });
    log.tokens += o.hp.batchSize * T;
    onProgress?.(`step ${s}/${o.hp.steps}  loss ${r.loss.toFixed(4)}  grad_norm ${r.gradNorm.toFixed(3)}  lr ${r.lr.toExponential(2)}  ${seconds.toFixed(0)} s`);
    if (s === o.hp.steps || (o.evalEvery > 0 && s % o.evalEvery === 0)) await evaluate(s);
  }
  log.wallSeconds = (performance.now() - t0) / 1000;
  const params = await model.download();
  log.samplesAfter = greedySamples(o.config, params, o.samplePrompts, o.sampleMaxNewTokens);
  trainer.destroy();
  model.destroy();
  return { params, log };
}
