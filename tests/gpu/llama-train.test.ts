// Llama-family folders through the CLI end to end on WebGPU: `init --preset llama-tiny|qwen-tiny`,
// `train` with DPO and ORPO (TRL-named, finite metrics; a model folder of the same family that
// loads again), one full-batch SGD update with lr 1 that moves every weight by minus the float64
// gradient of the loss (src/reference/llama.ts for the per-token log-probs and their gradients,
// the objectives' float64 derivatives for the per-token coefficients), and `logps` against the
// float64 model. Pairs are generated here.
import { describe, it, expect } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { readLlamaCheckpointDir } from '../../src/model/llama-checkpoint-node';
import { llamaParamSpec, llamaRefConfig } from '../../src/model/llama-config';
import { llamaBackwardRef, llamaForwardRef } from '../../src/reference/llama';
import { createObjective, type ObjectiveSpec, type PairObjective } from '../../src/train/objectives';
import { expectClose, freshSeed } from '../helpers/close';
import { TrainingRun } from '../../src/train/training-run';
import { TRAIN_DEFAULTS } from '../../src/train/config';
import { Rng } from '../../src/util/rng';

const dir = mkdtempSync(join(tmpdir(), 'prefplay-llama-train-'));
const PRESETS = ['llama-tiny', 'qwen-tiny'] as const;

function words(rng: Rng, n: number): string {
  const vocab = ['le', 'chat', '서울', '수도', 'Paris', 'is', 'the', '🙂', 'très', 'bien', 'answer', '42', 'no'];
  return Array.from({ length: n }, () => vocab[rng.int(vocab.length)]).join(' ');
}

function pairsFile(rng: Rng, name: string, n: number): string {
  const rows = Array.from({ length: n }, () => ({ prompt: words(rng, 1 + rng.int(2)), chosen: ' ' + words(rng, 1 + rng.int(2)), rejected: ' ' + words(rng, 1 + rng.int(2)) + '!' }));
  const file = join(dir, name);
  writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
  return file;
}

async function initModel(preset: string, seed: number): Promise<string> {
  const out = join(dir, `${preset}-${seed}`);
  expect(await main(['init', '--preset', preset, '--seed', String(seed), '--out', out])).toBe(0);
  return out;
}

interface LogpsLine {
  prompt_ids: number[];
  chosen_ids: number[];
  rejected_ids: number[];
  chosen_logps: number;
  rejected_logps: number;
}

async function runLogps(model: string, pairs: string, name: string): Promise<LogpsLine[]> {
  const out = join(dir, name);
  expect(await main(['logps', '--model', model, '--pairs', pairs, '--out', out, '--batch-size', '3', '--quiet'])).toBe(0);
  return readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LogpsLine);
}

const finite = (x: unknown) => typeof x === 'number' && Number.isFinite(x);

describe.each(PRESETS)('%s through the CLI', (preset) => {
  it.each(['dpo', 'orpo'] as const)('train --method %s: 3 steps of TRL-named finite metrics, a model folder of the same family', async (method) => {
    const seed = freshSeed() % 1000;
    const rng = new Rng(seed);
    const model = await initModel(preset, seed);
    const pairs = pairsFile(rng, `${preset}-${method}.jsonl`, 5);
    const out = join(dir, `${preset}-${method}-run`);
    expect(await main(['train', '--model', model, '--pairs', pairs, '--method', method, '--steps', '3', '--batch-size', '2', '--lr', '1e-3', '--weight-decay', '0.1', '--out', out, '--quiet'])).toBe(0);
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(rows.map((r) => r.step)).toEqual([1, 2, 3]);
    const names = ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'rewards/accuracies', 'logps/chosen', 'logps/rejected', 'logits/chosen', 'logits/rejected', 'grad_norm', 'learning_rate', 'epoch', 'num_tokens'];
    if (method === 'orpo') names.push('nll_loss', 'log_odds_ratio', 'log_odds_chosen');
    for (const r of rows) for (const k of names) expect(finite(r[k]), `${k} = ${r[k]} seed=${seed}`).toBe(true);
    expect(rows[0].grad_norm).toBeGreaterThan(0);
    const before = await readLlamaCheckpointDir(model);
    const after = await readLlamaCheckpointDir(join(out, 'model'));
    expect(after.config).toEqual(before.config);
    expect(existsSync(join(out, 'model', 'tokenizer.json'))).toBe(true);
    // every tensor moved (AdamW, lr 1e-3, three updates)
    for (const s of llamaParamSpec(before.config)) expect(after.params.get(s.name), s.name).not.toEqual(before.params.get(s.name));
  });

  it('logps matches the float64 Llama-family model within 1e-4 relative', async () => {
    const seed = freshSeed() % 1000;
    const rng = new Rng(seed);
    const model = await initModel(preset, seed);
    const lines = await runLogps(model, pairsFile(rng, `${preset}-logps.jsonl`, 5), `${preset}-logps-out.jsonl`);
    expect(lines).toHaveLength(5);
    const ckpt = await readLlamaCheckpointDir(model);
    const seqs = lines.flatMap((l) => [[...l.prompt_ids, ...l.chosen_ids], [...l.prompt_ids, ...l.rejected_ids]]);
    const ref = llamaForwardRef(ckpt.params, llamaRefConfig(ckpt.config), seqs);
    const want = seqs.map((_, k) => ref.logp[k].slice(lines[k >> 1].prompt_ids.length - 1).reduce((a, b) => a + b, 0));
    expectClose(lines.flatMap((l) => [l.chosen_logps, l.rejected_logps]), want, { rtol: 1e-4, atol: 0, what: `${preset} logps seed=${seed}` });
  });

  it.each([
    ['dpo', { method: 'dpo', beta: 0.5 }],
    ['orpo', { method: 'orpo', beta: 0.5 }],
  ] as Array<[string, ObjectiveSpec]>)('one full-batch SGD update (lr 1, no clipping) with %s moves every weight by minus the float64 gradient', async (method, spec) => {
    const seed = freshSeed() % 1000;
    const rng = new Rng(seed);
    const model = await initModel(preset, seed);
    const pairs = pairsFile(rng, `${preset}-sgd-${method}.jsonl`, 3);
    // the ids exactly as the CLI feeds them (the same tokenizer and truncation as train)
    const lines = await runLogps(model, pairs, `${preset}-sgd-${method}-ids.jsonl`);
    const out = join(dir, `${preset}-sgd-${method}-run`);
    expect(await main(['train', '--model', model, '--pairs', pairs, '--method', method, '--beta', '0.5', '--optimizer', 'sgd', '--lr', '1', '--schedule', 'constant', '--max-grad-norm', '0', '--steps', '1', '--batch-size', String(lines.length), '--out', out, '--quiet'])).toBe(0);
    const before = await readLlamaCheckpointDir(model);
    const after = await readLlamaCheckpointDir(join(out, 'model'));

    const n = lines.length;
    const seqs = [...lines.map((l) => [...l.prompt_ids, ...l.chosen_ids]), ...lines.map((l) => [...l.prompt_ids, ...l.rejected_ids])];
    const promptLens = [...lines, ...lines].map((l) => l.prompt_ids.length);
    const r = llamaForwardRef(before.params, llamaRefConfig(before.config), seqs);
    const S = seqs.map((_, s) => r.logp[s].slice(promptLens[s] - 1).reduce((a, b) => a + b, 0));
    const all = seqs.map((_, s) => r.logp[s].reduce((a, b) => a + b, 0));
    const logitSum = seqs.map((_, s) => r.meanLogit[s].slice(promptLens[s] - 1).reduce((a, b) => a + b, 0));
    const len = seqs.map((s, i) => s.length - promptLens[i]);
    // the reference model is the starting one: S_ref = S
    const res = (createObjective(spec) as PairObjective).compute({
      chosenLogp: S.slice(0, n), rejectedLogp: S.slice(n),
      chosenRefLogp: S.slice(0, n), rejectedRefLogp: S.slice(n),
      chosenLen: len.slice(0, n), rejectedLen: len.slice(n),
      chosenLogitSum: logitSum.slice(0, n), chosenLogitCount: len.slice(0, n),
      rejectedLogitSum: logitSum.slice(n), rejectedLogitCount: len.slice(n),
      chosenNllSum: all.slice(0, n), chosenNllCount: seqs.slice(0, n).map((s) => s.length - 1),
    });
    // ∂loss/∂logp_t: dS on completion tokens, plus (ORPO) dNllSum on every token of the chosen side
    const coef = seqs.map((s, b) => Array.from({ length: s.length - 1 }, (_, t) => {
      const dS = t + 1 >= promptLens[b] ? (b < n ? res.dChosenLogp[b] : res.dRejectedLogp[b - n]) : 0;
      return dS + (b < n ? res.dChosenNllSum[b] : 0);
    }));
    const grads = llamaBackwardRef(r.cache, coef);
    for (const s of llamaParamSpec(before.config)) {
      const g = grads.get(s.name)!, p0 = before.params.get(s.name)!, p1 = after.params.get(s.name)!;
      const delta = Float64Array.from(p1, (x, i) => x - p0[i]);
      const scale = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      // f32 parameters: the delta is exact only to one ulp of the weight (~1.2e-7·|w|, RMSNorm gains ~1)
      expectClose(delta, g.map((x) => -x), { rtol: 1e-3, atol: 1e-4 * scale + 2.4e-7, what: `${preset} ${method} Δ${s.name} seed=${seed}` });
    }
  });

  it('trains with f16 activations, from the CLI and through TrainingRun', async () => {
    // accuracy of the f16 runner itself: tests/gpu/llama-f16act.test.ts
    const model = await initModel(preset, 1);
    const pairs = pairsFile(new Rng(2), `${preset}-f16.jsonl`, 4);
    const out = join(dir, `${preset}-f16-run`);
    expect(await main(['train', '--model', model, '--pairs', pairs, '--method', 'dpo', '--activations-dtype', 'f16', '--steps', '2', '--batch-size', '2', '--out', out, '--quiet'])).toBe(0);
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(finite(r.loss) && finite(r.grad_norm)).toBe(true);
    // TrainingRun (the page's path) accepts it too
    const ckpt = await readLlamaCheckpointDir(model);
    expect(() => new TrainingRun({ base: ckpt, data: { kind: 'pairs', items: [{ promptIds: [1], chosenIds: [2], rejectedIds: [3], index: 0 }] }, config: { ...TRAIN_DEFAULTS, objective: { method: 'dpo' }, activationsDtype: 'f16' } })).not.toThrow();
  });

  it('trains with bf16 AdamW moments', async () => {
    const model = await initModel(preset, 3);
    const pairs = pairsFile(new Rng(4), `${preset}-bf16.jsonl`, 4);
    const out = join(dir, `${preset}-bf16-run`);
    expect(await main(['train', '--model', model, '--pairs', pairs, '--method', 'dpo', '--moments-dtype', 'bf16', '--weight-decay', '0.01', '--steps', '2', '--batch-size', '2', '--out', out, '--quiet'])).toBe(0);
    const rows = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, number>);
    expect(rows).toHaveLength(2);
    for (const r of rows) expect(finite(r.loss) && finite(r.grad_norm)).toBe(true);
  });
});
