// The diagnostics' GPU side (README.md, "Diagnostics"): per-token log-probs and CHES from one
// forward pass (src/train/pair-pass.ts) against the independent float64 models — GPT-2 and the
// Llama family, whose final-norm output both runners keep as `lnf` — and the CLI's data behind the
// page's views: `train` writes DIR/pairs.jsonl whose per-token values at the last step equal
// `logps --per-token` on DIR/model, whose step-0 CHES equals `logps --ches`; the worker Session's
// tracked points (what the per-token view draws) equal `logps --per-token` on the run's weights.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu';
import { randomByteModel } from '../helpers/session-fixtures';
import { expectClose, freshSeed } from '../helpers/close';
import { randomParams } from '../helpers/random-model';
import type { GpuContext } from '../../src/engine/gpu';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { llamaParamSpec, llamaPresetConfig, llamaRefConfig } from '../../src/model/llama-config';
import { createModel, sequenceConfig, type ModelConfig } from '../../src/model/family';
import { gpt2ForwardRef } from '../../src/reference/gpt2';
import { llamaForwardRef } from '../../src/reference/llama';
import { RunnerPool } from '../../src/train/runners';
import { pairPass } from '../../src/train/pair-pass';
import { promptFor, type PairIds } from '../../src/train/pairs';
import { main } from '../../src/cli/main';
import { writeCheckpointDir } from '../../src/model/checkpoint-node';
import { saveCheckpoint } from '../../src/model/checkpoint';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import { memorySnapshotStore } from '../../src/train/training-run';
import { Session } from '../../src/worker/session';
import type { EngineEvent } from '../../src/worker/protocol';
import type { TrackPoint } from '../../src/train/pair-track';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});
const dir = mkdtempSync(join(tmpdir(), 'prefplay-diag-'));

function pairsOf(rng: Rng, n: number, V: number, eos: number): PairIds[] {
  const ids = (k: number) => Array.from({ length: k }, () => rng.int(V));
  return Array.from({ length: n }, (_, i) => ({ promptIds: ids(1 + rng.int(6)), chosenIds: [...ids(1 + rng.int(9)), eos], rejectedIds: [...ids(1 + rng.int(9)), eos], index: i }));
}

function llamaParams(c: ReturnType<typeof llamaPresetConfig>, rng: Rng): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const s of llamaParamSpec(c)) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const norm = /norm\.weight$/.test(s.name);
    m.set(s.name, Float32Array.from({ length: n }, () => (norm ? 1 + 0.2 * rng.normal() : 0.3 * rng.normal())));
  }
  return m;
}

/** Per sequence: float64 log-probs (T−1) and final hidden states (T×C) of the family's reference. */
function reference(config: ModelConfig, params: Map<string, Float32Array>, seqs: number[][]): { logp: number[][]; hidden: Float64Array[] } {
  if ('family' in config) {
    const r = llamaForwardRef(params, llamaRefConfig(config), seqs);
    return { logp: r.logp, hidden: r.cache.seqs.map((s) => Float64Array.from(s.rmsf.out)) };
  }
  const r = gpt2ForwardRef(params, config, seqs);
  return { logp: r.logp, hidden: r.cache.seqs.map((s) => Float64Array.from(s.lnf.out)) };
}

describe('per-token log-probs and CHES on the GPU', () => {
  const gpt: GPTConfig = presetConfig('tiny');
  const cases: Array<[string, ModelConfig, (rng: Rng) => Map<string, Float32Array>]> = [
    ['GPT-2 tiny', gpt, (rng) => randomParams(gpt, rng)],
    ['llama-tiny', llamaPresetConfig('llama-tiny'), (rng) => llamaParams(llamaPresetConfig('llama-tiny'), rng)],
  ];
  for (const [name, config, init] of cases) {
    it(`${name}: every completion token's log-prob and each pair's CHES equal float64`, async () => {
      const seed = freshSeed();
      const rng = new Rng(seed);
      const params = init(rng);
      const seq = sequenceConfig(config);
      const pairs = pairsOf(rng, 5, seq.vocabSize - 1, seq.eosTokenId);
      const model = createModel(gpu, { config });
      const runners = new RunnerPool(model);
      try {
        model.upload(params);
        const r = await pairPass(model, runners, pairs, 2, { tokens: true, ches: true });
        const seqs = pairs.flatMap((p) => [[...promptFor(p, seq.bosTokenId), ...p.chosenIds], [...promptFor(p, seq.bosTokenId), ...p.rejectedIds]]);
        const ref = reference(config, params, seqs);
        const C = ref.hidden[0].length / seqs[0].length;
        const wantTokens: number[] = [];
        const gotTokens: number[] = [];
        const wantChes: number[] = [];
        const gotChes: number[] = [];
        const scale: number[] = [];
        pairs.forEach((p, i) => {
          const P = promptFor(p, seq.bosTokenId).length;
          const sums = [2 * i, 2 * i + 1].map((k) => {
            const len = seqs[k].length - P;
            const s = new Float64Array(C);
            for (let t = P - 1; t < P - 1 + len; t++) for (let c = 0; c < C; c++) s[c] += ref.hidden[k][t * C + c];
            wantTokens.push(...ref.logp[k].slice(P - 1));
            return s;
          });
          gotTokens.push(...r.chosenTokens![i], ...r.rejectedTokens![i]);
          expect(r.chosenTokens![i].reduce((a, b) => a + b, 0)).toBeCloseTo(r.chosen[i], 3);
          const dot = sums[0].reduce((a, x, c) => a + x * sums[1][c], 0);
          const norm = sums[0].reduce((a, x) => a + x * x, 0);
          wantChes.push(dot - norm);
          gotChes.push(r.ches![i].ches);
          scale.push(Math.abs(dot) + norm);
          const [lw, ll] = [p.chosenIds.length, p.rejectedIds.length];
          expect(r.ches![i].normalized).toBeCloseTo(dot / (lw * ll) - norm / (lw * lw), 2);
        });
        expectClose(gotTokens, wantTokens, { rtol: 1e-4, atol: 1e-5, what: `${name} token log-probs seed=${seed}` });
        // CHES is a difference of sums of products: its error scales with the terms, not the result
        gotChes.forEach((g, i) => expect(Math.abs(g - wantChes[i]), `${name} CHES pair ${i} seed=${seed}: ${g} vs ${wantChes[i]}`).toBeLessThanOrEqual(1e-4 * scale[i] + 1e-5));
      } finally {
        runners.destroy();
        model.destroy();
      }
    });
  }
});

const readJsonl = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
const arith = (n: number, seed: number) => {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const a = 1 + rng.int(9), b = 1 + rng.int(9);
    return JSON.stringify({ prompt: `${a}+${b}=`, chosen: String(a + b), rejected: String(a + b + 1) });
  }).join('\n') + '\n';
};

describe('the CLI writes the data behind the views', () => {
  it('train: DIR/pairs.jsonl at step 0 (CHES = logps --ches) and tracked steps; the last step’s per-token values = logps --per-token on DIR/model', async () => {
    const model = join(dir, 'tiny');
    expect(await main(['init', '--preset', 'tiny', '--seed', '3', '--out', model])).toBe(0);
    const file = join(dir, 'arith.jsonl');
    writeFileSync(file, arith(10, 4));
    const out = join(dir, 'run');
    expect(await main(['train', '--model', model, '--pairs', file, '--method', 'dpo', '--steps', '5', '--batch-size', '2', '--lr', '1e-2', '--track-pairs', '4', '--track-every', '2', '--out', out, '--quiet'])).toBe(0);
    const lines = readJsonl(join(out, 'pairs.jsonl'));
    expect(lines.map((l) => l.step)).toEqual([0, 0, 0, 0, 2, 2, 2, 2, 4, 4, 4, 4, 5, 5, 5, 5]);
    expect(lines.slice(0, 4).every((l) => typeof l.ches === 'number' && typeof l.ches_normalized === 'number')).toBe(true);
    expect(lines.slice(4).some((l) => 'ches' in l)).toBe(false);
    const indices = lines.slice(0, 4).map((l) => l.index as number);

    // logps on the same pairs: the start model with --ches, the trained one with --per-token
    const all = readFileSync(file, 'utf8').trim().split('\n');
    const tracked = join(dir, 'tracked.jsonl');
    writeFileSync(tracked, indices.map((i) => all[i]).join('\n') + '\n');
    const before = join(dir, 'before.jsonl');
    const after = join(dir, 'after.jsonl');
    expect(await main(['logps', '--model', model, '--pairs', tracked, '--out', before, '--ches', '--per-token', '--quiet'])).toBe(0);
    expect(await main(['logps', '--model', join(out, 'model'), '--pairs', tracked, '--out', after, '--per-token', '--quiet'])).toBe(0);
    const [b, a] = [readJsonl(before), readJsonl(after)];
    const num = (xs: Array<Record<string, unknown>>, k: string) => xs.flatMap((x) => x[k] as number | number[]);
    expectClose(num(lines.slice(0, 4), 'ches'), num(b, 'ches'), { rtol: 1e-5, atol: 1e-6, what: 'step-0 CHES vs logps --ches' });
    expectClose(num(lines.slice(0, 4), 'chosen_token_logps'), num(b, 'chosen_token_logps'), { rtol: 1e-5, atol: 1e-6, what: 'step 0 vs logps --per-token' });
    for (const k of ['chosen_token_logps', 'rejected_token_logps', 'chosen_logps', 'rejected_logps']) expectClose(num(lines.slice(12), k), num(a, k), { rtol: 1e-5, atol: 1e-6, what: `step 5 ${k} vs logps on DIR/model` });
    // the run moved them
    expect(num(lines.slice(12), 'chosen_logps')).not.toEqual(num(lines.slice(0, 4), 'chosen_logps'));
  });

  it('the worker Session tracks pairs every few updates; its last point equals logps --per-token on the run’s weights', async () => {
    const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 48 };
    const base = randomByteModel(config, 21);
    const text = arith(8, 8);
    const events: EngineEvent[] = [];
    const session = new Session({ sessionId: 's', runs: [{ id: 'dpo', label: 'DPO', objective: { method: 'dpo', beta: 0.1 } }], settings: { ...DEFAULT_SETTINGS, steps: 4, batchSize: 2, lr: 1e-2, evalFraction: 0, checkpointEvery: 10 }, data: { file: new Blob([text]), name: 'a.jsonl', format: 'auto' }, resume: false }, base, {
      gpu: async () => gpu,
      emit: (ev) => events.push(ev),
      store: () => memorySnapshotStore(),
    });
    await session.start();
    for (let i = 0; i < 6000 && !session.runs[0].final; i++) await new Promise((r) => setTimeout(r, 10));
    expect(session.runs[0].status).toBe('done');
    const start = events.find((e) => e.type === 'pairs-start');
    expect(start?.type === 'pairs-start' && start.track && start.ches).toBeTruthy();
    const points = events.flatMap((e) => (e.type === 'pairs-track' ? [e.point] : []));
    expect(points.map((p) => p.step)).toEqual([1, 2, 3, 4]); // 4 steps: every update
    const last: TrackPoint = points.at(-1)!;
    const folder = join(dir, 'session-model');
    await writeCheckpointDir(folder, saveCheckpoint(config, await session.runs[0].training!.weights(), 'byte'));
    const order = (start as Extract<EngineEvent, { type: 'pairs-start' }>).pairs.slice(0, last.chosen.length).map((p) => p.index);
    const rows = text.trim().split('\n');
    const file = join(dir, 'session-pairs.jsonl');
    writeFileSync(file, order.map((i) => rows[i]).join('\n') + '\n');
    const out = join(dir, 'session-logps.jsonl');
    expect(await main(['logps', '--model', folder, '--pairs', file, '--out', out, '--per-token', '--quiet'])).toBe(0);
    const want = readJsonl(out);
    expectClose(last.chosenTokens.flat(), want.flatMap((w) => w.chosen_token_logps as number[]), { rtol: 1e-5, atol: 1e-6, what: 'tracked chosen tokens vs logps --per-token' });
    expectClose(last.rejectedTokens.flat(), want.flatMap((w) => w.rejected_token_logps as number[]), { rtol: 1e-5, atol: 1e-6, what: 'tracked rejected tokens vs logps --per-token' });
    await session.dispose();
  });
});
