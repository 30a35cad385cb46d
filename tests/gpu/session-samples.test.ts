// The worker's Session with samples over time and a KTO card, in Node on real WebGPU: DPO and KTO
// on the same pairs file, samples every 2 updates generated on the GPU from each run's live model
// (src/onnx/timed-samples-gpu.ts; onnxruntime-web's wasm backend is only the fallback); both runs
// get the same step-0 samples (the starting weights, generated once), then their own at steps 2
// and 4; KTO trains on the pairs split into desirable and undesirable examples and keeps the same
// held-out prompts. The step-0 samples equal the ONNX path's (timedSamples) on the starting weights.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { randomByteModel, arithmeticPairsFile } from '../helpers/session-fixtures';
import type { GpuContext } from '../../src/engine/gpu';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { DEFAULT_SETTINGS } from '../../src/store/settings';
import { memorySnapshotStore } from '../../src/train/training-run';
import { Session } from '../../src/worker/session';
import { createNodeOnnxLm } from '../../src/onnx/session-node';
import { timedSamples, type SamplesAtStep } from '../../src/onnx/timed-samples';
import { referenceJudge } from '../../src/judge';
import type { EngineEvent, TrainSettings } from '../../src/worker/protocol';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const config: GPTConfig = { ...presetConfig('tiny'), nPositions: 96 };
const base = randomByteModel(config, 5);
const file = arithmeticPairsFile(8, 2);
const settings: TrainSettings = { ...DEFAULT_SETTINGS, steps: 4, batchSize: 2, lr: 1e-2, evalFraction: 0.25, evalEvery: 4, checkpointEvery: 4, sampleEvery: 2 };

describe('Session: samples over time and KTO', () => {
  it('DPO and KTO on pairs, samples at steps 0, 2 and 4 for both', async () => {
    const events: EngineEvent[] = [];
    const session = new Session(
      {
        sessionId: 's',
        runs: [
          { id: 'dpo', label: 'DPO', objective: { method: 'dpo', beta: 0.1 } },
          { id: 'kto', label: 'KTO', objective: { method: 'kto', beta: 0.1 } },
        ],
        settings,
        data: { file, name: 'arith.jsonl', format: 'auto' },
        resume: false,
      },
      base,
      { gpu: async () => gpu, emit: (ev) => events.push(ev), store: () => memorySnapshotStore(), openLm: (bytes, dims) => createNodeOnnxLm(bytes, dims) },
    );
    await session.start();
    for (let i = 0; i < 6000 && !session.runs.every((r) => r.final); i++) await new Promise((r) => setTimeout(r, 10));
    expect(session.runs.map((r) => [r.status, r.step, r.message])).toEqual([['done', 4, undefined], ['done', 4, undefined]]);
    const samples = (id: string) => events.filter((e): e is Extract<EngineEvent, { type: 'samples' }> => e.type === 'samples' && e.runId === id).map((e) => e.at);
    const [dpo, kto] = [samples('dpo'), samples('kto')];
    expect(dpo.map((s) => s.step)).toEqual([0, 2, 4]);
    expect(kto.map((s) => s.step)).toEqual([0, 2, 4]);
    // the same two held-out prompts for both runs (KTO holds out the same pairs); step 0 is shared
    expect(dpo[0].prompts).toHaveLength(2);
    expect(kto[0].prompts).toEqual(dpo[0].prompts);
    const { data: dd, ...d0 } = dpo[0];
    const { data: kd, ...k0 } = kto[0];
    expect(k0).toEqual(d0);
    // the data's mean answer lengths: pairs for DPO, the same answers as labelled examples for KTO
    expect(kd).toEqual(dd);
    expect(dd.rejected - dd.chosen).toBeGreaterThanOrEqual(1); // "?" after every rejected answer
    for (const s of [...dpo, ...kto] as SamplesAtStep[]) {
      expect(s.judge.name).toBe('reference');
      expect(s.tokens.every((t) => t >= 0 && t <= 40)).toBe(true);
      expect(s.scores.every((x) => x >= 0 && x <= 1)).toBe(true);
    }
    // KTO trained on 12 labelled examples (6 training pairs) and logs kl
    const ktoRows = events.filter((e): e is Extract<EngineEvent, { type: 'metrics' }> => e.type === 'metrics' && e.runId === 'kto').flatMap((e) => e.rows);
    expect(ktoRows.filter((m) => 'kl' in m).map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect(session.samplePrompts(2).map((p) => p.prompt)).toEqual(dpo[0].prompts);
    // the independent check: the ONNX export of the starting weights, prompt by prompt
    const held = session.samplePrompts(2).map((p) => ({ ...p, promptIds: base.tokenizer.encode(p.prompt) }));
    const want = await timedSamples((bytes, dims) => createNodeOnnxLm(bytes, dims), base, base.params, held, referenceJudge, 0);
    expect({ completions: d0.completions, tokens: d0.tokens, scores: d0.scores, reasons: d0.reasons }).toEqual({ completions: want.map((s) => s.completion), tokens: want.map((s) => s.completion_ids.length), scores: want.map((s) => s.score), reasons: want.map((s) => s.reason) });
    await session.dispose();
  });

  it('KTO on an unpaired file: no pair table, prompts with their desirable and undesirable answers; DPO refuses it', async () => {
    const rows = Array.from({ length: 8 }, (_, i) => ({ prompt: `${i % 4}+1=`, completion: i < 4 ? String((i % 4) + 1) : 'no', label: i < 4 }));
    const unpaired = new Blob([rows.map((r) => JSON.stringify(r)).join('\n') + '\n']);
    const events: EngineEvent[] = [];
    const make = (method: 'kto' | 'dpo') =>
      new Session({ sessionId: 'u', runs: [{ id: method, label: method.toUpperCase(), objective: { method } }], settings: { ...settings, evalFraction: 0 }, data: { file: unpaired, name: 'kto.jsonl', format: 'auto' }, resume: false }, base, {
        gpu: async () => gpu,
        emit: (ev) => events.push(ev),
        store: () => memorySnapshotStore(),
        openLm: (bytes, dims) => createNodeOnnxLm(bytes, dims),
      });
    await expect(make('dpo').start()).rejects.toThrow(/DPO trains on preference pairs; kto\.jsonl holds unpaired \(KTO\) examples/);
    const session = make('kto');
    await session.start();
    for (let i = 0; i < 6000 && !session.runs.every((r) => r.final); i++) await new Promise((r) => setTimeout(r, 10));
    expect(session.runs.map((r) => [r.status, r.step])).toEqual([['done', 4]]);
    expect(events.some((e) => e.type === 'pairs-start')).toBe(false);
    expect(events).toContainEqual(expect.objectContaining({ type: 'session', phase: 'training', trainPairs: 8, evalPairs: 0 }));
    const at = events.filter((e): e is Extract<EngineEvent, { type: 'samples' }> => e.type === 'samples').map((e) => e.at);
    expect(at.map((s) => s.step)).toEqual([0, 2, 4]);
    expect(at[0].prompts).toEqual(['0+1=', '1+1=', '2+1=']);
    expect(session.samplePrompts(1)).toEqual([{ prompt: '0+1=', pair: { chosen: '1', rejected: 'no' } }]);
    await session.dispose();
  });
});
