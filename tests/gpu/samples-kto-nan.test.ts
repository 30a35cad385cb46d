// Issue 18's samples over time, KTO on pairs and guards explained, on real WebGPU (Dawn in Node):
// `train --sample-every N` writes DIR/samples.jsonl and two runs with the same seed write the same
// file; `--method kto` trains on pairs split as TRL splits them; the worker's NaN report reads the
// failing examples' per-token log-probs back and names the forward pass.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { readCheckpointDir } from '../../src/model/checkpoint-node';
import { testGpu } from '../helpers/gpu';
import { TRAIN_DEFAULTS } from '../../src/train/config';
import { TrainingError } from '../../src/train/trainer';
import { TrainingRun } from '../../src/train/training-run';
import { ByteTokenizer } from '../../src/tokenizer/byte';
import { nanReport } from '../../src/worker/nan-report';
import type { PairIds } from '../../src/train/pairs';

const dir = mkdtempSync(join(tmpdir(), 'prefplay-samples-'));
const enc = (s: string) => Array.from(new TextEncoder().encode(s));
let model: string;
let pairsFile: string;

beforeAll(async () => {
  await testGpu();
  model = join(dir, 'tiny');
  expect(await main(['init', '--preset', 'tiny', '--seed', '3', '--out', model])).toBe(0);
  pairsFile = join(dir, 'arith.jsonl');
  const rows = Array.from({ length: 12 }, (_, i) => ({ prompt: `${i}+${i % 5}=`, chosen: String(i + (i % 5)), rejected: String(i + (i % 5) + 1) + ' and more' }));
  writeFileSync(pairsFile, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
});

const read = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

describe('samples over time, KTO on pairs, NaN report', () => {
  it('train --sample-every 2 writes samples.jsonl at steps 0, 2, 4 and 5; the same seed gives the same file', async () => {
    const args = (out: string) => ['train', '--model', model, '--pairs', pairsFile, '--method', 'dpo', '--steps', '5', '--batch-size', '2', '--lr', '0.01', '--seed', '7', '--eval-fraction', '0.25', '--sample-every', '2', '--out', out, '--quiet'];
    expect(await main(args(join(dir, 'a')))).toBe(0);
    expect(await main(args(join(dir, 'b')))).toBe(0);
    const text = readFileSync(join(dir, 'a', 'samples.jsonl'), 'utf8');
    expect(readFileSync(join(dir, 'b', 'samples.jsonl'), 'utf8')).toBe(text);
    const rows = read(join(dir, 'a', 'samples.jsonl'));
    // three held-out prompts (3 of 12 pairs held out), four sample steps
    expect(rows.map((r) => r.step)).toEqual([0, 0, 0, 2, 2, 2, 4, 4, 4, 5, 5, 5]);
    expect(new Set(rows.map((r) => r.prompt)).size).toBe(3);
    for (const r of rows) {
      expect(Object.keys(r)).toEqual(['step', 'prompt', 'completion', 'prompt_ids', 'completion_ids', 'score', 'reason', 'stop']);
      expect(r.prompt_ids).toEqual(enc(r.prompt));
      expect(new TextDecoder().decode(new Uint8Array(r.completion_ids))).toBe(r.completion);
      expect(r.completion_ids.length).toBeLessThanOrEqual(40);
      expect(r.score >= 0 && r.score <= 1).toBe(true);
      expect(r.reason).toMatch(/similarity to chosen/);
    }
    // the step-0 samples are the starting model's: the same for another method and another seed
    expect(await main(['train', '--model', model, '--pairs', pairsFile, '--method', 'orpo', '--steps', '1', '--batch-size', '2', '--seed', '7', '--eval-fraction', '0.25', '--sample-every', '1', '--out', join(dir, 'c'), '--quiet'])).toBe(0);
    expect(read(join(dir, 'c', 'samples.jsonl')).filter((r) => r.step === 0)).toEqual(rows.filter((r) => r.step === 0));
    await expect(main(['train', '--model', model, '--pairs', pairsFile, '--sample-every', '-1', '--out', join(dir, 'd')])).rejects.toThrow(/--sample-every must be/);
  });

  it('train --method kto on pairs: desirable and undesirable examples as TRL splits them, with kl and the shared log-prob curves', async () => {
    const out = join(dir, 'kto');
    expect(await main(['train', '--model', model, '--pairs', pairsFile, '--method', 'kto', '--steps', '2', '--batch-size', '4', '--eval-fraction', '0.25', '--out', out, '--quiet'])).toBe(0);
    const run = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect([run.train_pairs, run.eval_pairs]).toEqual([18, 6]); // 9 + 3 pairs, each twice
    const m = read(join(out, 'metrics.jsonl'));
    expect(m.map((r) => r.step)).toEqual([1, 2, 2]);
    for (const k of ['loss', 'kl', 'logps_avg/chosen', 'log_odds/chosen', 'grad_norm']) expect(Number.isFinite(m[1][k]), k).toBe(true);
    expect(m[0].kl).toBe(0); // step 1: the policy is the reference
    expect(Number.isFinite(m[2].eval_kl)).toBe(true);
  });

  it('the NaN report of a diverged model: the forward pass overflowed, per-token log-probs of the named pairs', async () => {
    const gpu = await testGpu();
    const ckpt = await readCheckpointDir(model);
    const blown = { config: ckpt.config, params: new Map([...ckpt.params, ['ln_f.weight', new Float32Array(ckpt.config.nEmbd).fill(3e38)]]) };
    const pairs: PairIds[] = [0, 1, 2].map((i) => ({ promptIds: enc(`${i}+1=`), chosenIds: [...enc(String(i + 1)), 256], rejectedIds: [...enc('no'), 256], index: i, line: i + 1 }));
    const run = new TrainingRun({ base: blown, data: { kind: 'pairs', items: pairs }, config: { ...TRAIN_DEFAULTS, objective: { method: 'orpo', beta: 0.1 }, steps: 1, batchSize: 3 } });
    await run.start(gpu);
    const err = await run.advance().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainingError);
    const report = (await nanReport(run, err as TrainingError, new ByteTokenizer()))!;
    run.release();
    expect(report.quantity).toBe('log-probs');
    expect(report.examples.map((e) => e.line)).toEqual([1, 2, 3]);
    const chosen = report.examples[0].sides[0];
    expect(chosen.label).toBe('chosen');
    expect(chosen.tokens).toEqual(['1', '⟨eos⟩']);
    expect(chosen.logps).toHaveLength(2);
    expect(chosen.nonFinite).toBeGreaterThan(0);
    expect(report.explanation[0]).toMatch(/^The forward pass itself gave a non-finite log-prob \(line 1, chosen token \d “.*”: (NaN|-?Infinity)\): the logits overflowed float32/);
  });
});
