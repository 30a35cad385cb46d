// A reward model trained with LoRA (PEFT task_type SEQ_CLS: adapters on the trunk's projections,
// the score head trained in full as a modules_to_save module), through the CLI on WebGPU:
// - one full-batch SGD update of `train --method reward --lora-r 4` (lr 1, no clipping) moves
//   every adapter and the score head by minus the float64 gradient (src/reference/score.ts over
//   the trunk references with the same adapters) within 1e-3 relative; the base is bitwise
//   unchanged (every tensor without an adapter as it was, and DIR/model/ is exactly the start
//   merged with the trained adapters). From a causal-LM folder with PEFT's init (B = 0: A's first
//   gradient is exactly 0) and from a reward folder continuing an imported SEQ_CLS adapter (B ≠ 0);
// - DIR/adapter/ is a PEFT SEQ_CLS adapter (config, names, shapes; the head as
//   base_model.model.score.weight), which `--lora-adapter` reads back;
// - `score` on the merged DIR/model/ equals the LoRA model's scores (the GPU with adapters, and
//   float64) within 1e-4;
// - SFT --lora-r 4 → reward --lora-r 4 → PPO --lora-r 4 --reward-model <merged RM>: one update,
//   objective/kl = 0 at step 1, every logged score the merged reward model's.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { main } from '../../src/cli/main';
import { readCheckpointDir } from '../../src/model/checkpoint-node';
import { readLlamaCheckpointDir } from '../../src/model/llama-checkpoint-node';
import { createModel, isLlamaConfig, type ModelConfig } from '../../src/model/family';
import { llamaRefConfig } from '../../src/model/llama-config';
import { loraInit, loraModules, loraScale, loraSpec, mergeLora, type LoraConfig } from '../../src/model/lora';
import { toRewardModel } from '../../src/model/reward';
import { parseSafetensors } from '../../src/model/safetensors';
import { loadPeftAdapter, peftAdapterFiles, peftTensorName, PEFT_SCORE_NAME } from '../../src/export/peft';
import { gpt2ScoreRef, llamaScoreRef, type ScoreRefResult } from '../../src/reference/score';
import { rewardModelLoss } from '../../src/train/rl/reward-model';
import { pairRewards } from '../../src/train/reward-trainer';
import { RunnerPool } from '../../src/train/runners';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const dir = mkdtempSync(join(tmpdir(), 'prefplay-reward-lora-'));
const LORA: LoraConfig = { r: 4, alpha: 8 };
type Model = { config: ModelConfig; params: Map<string, Float32Array> };

function pairsFile(rng: Rng, name: string, n: number): string {
  const vocab = ['le', 'chat', 'Paris', 'is', 'the', 'très', 'bien', 'answer', '42', 'no'];
  const w = (k: number) => Array.from({ length: k }, () => vocab[rng.int(vocab.length)]).join(' ');
  const file = join(dir, name);
  writeFileSync(file, Array.from({ length: n }, () => JSON.stringify({ prompt: w(1 + rng.int(2)), chosen: ' ' + w(1 + rng.int(2)), rejected: ' ' + w(1) + '!' })).join('\n'));
  return file;
}

const jsonl = <T>(file: string): T[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as T);
const load = (folder: string, preset: string): Promise<Model> => (preset === 'tiny' ? readCheckpointDir(folder) : readLlamaCheckpointDir(folder));
const readDir = (folder: string) => async (name: string) => {
  try {
    return new Uint8Array(readFileSync(join(folder, name)));
  } catch {
    return null;
  }
};

interface ScoreLine {
  prompt_ids: number[];
  chosen_ids: number[];
  rejected_ids: number[];
  chosen_reward: number;
  rejected_reward: number;
}
const seqsOf = (lines: ScoreLine[]) => [...lines.map((l) => [...l.prompt_ids, ...l.chosen_ids]), ...lines.map((l) => [...l.prompt_ids, ...l.rejected_ids])];

/** The float64 reward model with LoRA adapters (and their trained score head copy). */
function scoreRef(m: Model, seqs: number[][], adapters: Map<string, Float32Array>): ScoreRefResult {
  const pad = m.config.padTokenId ?? null;
  const lora = { scale: loraScale(LORA), weights: new Map([...adapters].map(([k, v]) => [k, Float64Array.from(v)])) };
  return isLlamaConfig(m.config) ? llamaScoreRef(m.params, llamaRefConfig(m.config), seqs, pad, lora) : gpt2ScoreRef(m.params, m.config, seqs, pad, lora);
}

describe.each(['tiny', 'qwen-tiny'] as const)('reward model with LoRA on %s through the CLI', (preset) => {
  it.each([
    ['a causal-LM folder, PEFT init (B = 0)', false],
    ['a reward folder continuing a SEQ_CLS adapter (B ≠ 0)', true],
  ] as const)('one SGD update from %s moves every adapter and the score head by minus the float64 gradient; the base never changes', async (_what, imported) => {
    const seed = freshSeed() % 1000;
    const rng = new Rng(seed);
    const folder = join(dir, `${preset}-${seed}-${imported}`);
    expect(await main(['init', '--preset', preset, '--seed', String(seed), ...(imported ? ['--reward-head'] : []), '--out', folder])).toBe(0);
    const pairs = pairsFile(rng, `${preset}-${imported}.jsonl`, 3);
    const trainSeed = 1 + rng.int(1000);
    const start = await load(folder, preset);
    const before = toRewardModel(start, trainSeed); // the head train draws (a reward folder: its own)
    // the adapters the run starts from: PEFT's init with the base's head, or a SEQ_CLS folder with B ≠ 0 and its own head
    let adapters0 = loraInit(before.config, LORA, trainSeed, before.params);
    const extra: string[] = [];
    if (imported) {
      adapters0 = new Map(loraSpec(before.config, LORA).map((s) => [s.name, Float32Array.from({ length: s.shape[0] * s.shape[1] }, () => 0.2 * rng.normal())]));
      const adapterDir = join(dir, `${preset}-${seed}-adapter-in`);
      await mkdir(adapterDir, { recursive: true });
      for (const [name, bytes] of peftAdapterFiles(before.config, LORA, adapters0, folder)) await writeFile(join(adapterDir, name), bytes);
      extra.push('--lora-adapter', adapterDir);
    }
    const run = join(dir, `${preset}-${seed}-run-${imported}`);
    expect(await main(['train', '--model', folder, '--pairs', pairs, '--method', 'reward', '--lora-r', '4', '--lora-alpha', '8', ...extra, '--optimizer', 'sgd', '--lr', '1', '--schedule', 'constant', '--max-grad-norm', '0', '--steps', '1', '--batch-size', '3', '--seed', String(trainSeed), '--out', run, '--quiet'])).toBe(0);

    // DIR/adapter/: PEFT's sequence-classification adapter
    const cfg = JSON.parse(readFileSync(join(run, 'adapter', 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    expect(cfg).toMatchObject({ peft_type: 'LORA', task_type: 'SEQ_CLS', modules_to_save: ['classifier', 'score'], r: 4, lora_alpha: 8 });
    const st = parseSafetensors(new Uint8Array(readFileSync(join(run, 'adapter', 'adapter_model.safetensors'))));
    const modules = loraModules(before.config, LORA);
    const C = isLlamaConfig(before.config) ? before.config.hiddenSize : before.config.nEmbd;
    const shapes: Array<[string, number[]]> = [...modules.flatMap((m): Array<[string, number[]]> => [[peftTensorName(m, 'A'), [4, m.in]], [peftTensorName(m, 'B'), [m.out, 4]]]), [PEFT_SCORE_NAME, [1, C]]];
    expect(new Map([...st.tensors].map(([k, v]) => [k, v.shape]))).toEqual(new Map(shapes));
    expect(PEFT_SCORE_NAME).toBe('base_model.model.score.weight');
    const after = (await loadPeftAdapter(readDir(join(run, 'adapter')), before.config)).adapters;
    expect([...after.keys()].sort()).toEqual(loraSpec(before.config, LORA).map((s) => s.name).sort());

    // the ids the model read, from `score` on the merged folder
    const ids = join(dir, `${preset}-${seed}-ids-${imported}.jsonl`);
    expect(await main(['score', '--model', join(run, 'model'), '--pairs', pairs, '--out', ids, '--quiet'])).toBe(0);
    const lines = jsonl<ScoreLine>(ids);
    const n = lines.length;
    const ref = scoreRef(before, seqsOf(lines), adapters0);
    const res = rewardModelLoss({ chosen: ref.rewards.slice(0, n), rejected: ref.rewards.slice(n) });
    const grads = ref.backward([...res.dChosen, ...res.dRejected]);
    let worst = 0;
    for (const s of loraSpec(before.config, LORA)) {
      const g = grads.get(s.name)!, w0 = adapters0.get(s.name)!, w1 = after.get(s.name)!;
      if (!imported && s.name.endsWith('lora_A.weight')) {
        // B = 0: A's gradient is exactly 0 and SGD leaves it bitwise as it was
        expect(g.every((x) => x === 0), s.name).toBe(true);
        expect(Array.from(w1), s.name).toEqual(Array.from(w0));
        continue;
      }
      const delta = Float64Array.from(w1, (x, i) => x - w0[i]);
      const big = g.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
      expect(big, `${s.name} has a gradient`).toBeGreaterThan(0);
      expectClose(delta, g.map((x) => -x), { rtol: 1e-3, atol: 1e-4 * big + 2.4e-7, what: `${preset} Δ${s.name} seed=${seed}` });
      for (let i = 0; i < g.length; i++) if (Math.abs(g[i]) > 1e-2 * big) worst = Math.max(worst, Math.abs(delta[i] + g[i]) / Math.abs(g[i]));
    }
    console.log(`${preset} ${_what} seed=${seed}: worst relative error of an adapter or score head update ${worst.toExponential(2)}`);

    // the base never changed: DIR/model/ is exactly the start merged with the trained adapters
    // (bitwise: the same merge of the same f32 tensors), and what no adapter touches is the start's
    const merged = await load(join(run, 'model'), preset);
    expect(merged.config).toEqual(before.config);
    const expected = mergeLora(before.config, LORA, before.params, after);
    for (const [name, w] of expected) expect(Buffer.from(merged.params.get(name)!.buffer).equals(Buffer.from(w.buffer)), name).toBe(true);
    const adapted = new Set(modules.map((m) => m.weight));
    for (const [name, w] of before.params) if (!adapted.has(name) && name !== 'score.weight') expect(Array.from(merged.params.get(name)!), name).toEqual(Array.from(w));
    expect(Array.from(merged.params.get('score.weight')!)).toEqual(Array.from(after.get('score.weight')!));

    // `score` on the merged folder = the LoRA model's scores: on the GPU (base + adapters) and in float64
    const gm = createModel(gpu, { config: before.config }, { lora: LORA });
    gm.upload(before.params);
    gm.lora!.upload(after);
    const runners = new RunnerPool(gm);
    const pairIds = lines.map((l, index) => ({ promptIds: l.prompt_ids, chosenIds: l.chosen_ids, rejectedIds: l.rejected_ids, index }));
    const live = await pairRewards(gm, runners, pairIds, n);
    runners.destroy();
    gm.destroy();
    const scored = [...lines.map((l) => l.chosen_reward), ...lines.map((l) => l.rejected_reward)];
    // a score is an f32 sum whose terms reach the size of the largest score (here up to ~15), so a
    // score near 0 by cancellation carries that rounding: atol scales with the set's largest |score|
    // (seed 12 gave 0.00105 with |err| 1.2e-6 next to scores of 5.4; ulp(5.4) = 4.8e-7)
    const atol = 2e-6 * (1 + scored.reduce((m, x) => Math.max(m, Math.abs(x)), 0));
    expectClose(scored, [...live.chosen, ...live.rejected], { rtol: 1e-4, atol, what: `${preset} merged vs LoRA scores seed=${seed}` });
    expectClose(scored, scoreRef(before, seqsOf(lines), after).rewards, { rtol: 1e-4, atol, what: `${preset} merged vs float64 LoRA scores seed=${seed}` });
  });
});

describe('SFT → reward model → PPO, all with LoRA, through the CLI', () => {
  it('PPO reads the merged reward model: one update, objective/kl = 0 at step 1, scores the reward model\'s', async () => {
    const rng = new Rng(11);
    const pairs = pairsFile(rng, 'chain.jsonl', 4);
    const out = (x: string) => join(dir, `chain-${x}`);
    expect(await main(['init', '--preset', 'tiny', '--seed', '5', '--out', out('init')])).toBe(0);
    const once = ['--pairs', pairs, '--steps', '1', '--batch-size', '2', '--lora-r', '4', '--quiet'];
    expect(await main(['train', '--model', out('init'), '--method', 'sft', ...once, '--out', out('sft')])).toBe(0);
    expect(await main(['train', '--model', out('sft/model'), '--method', 'reward', ...once, '--out', out('rm')])).toBe(0);
    const rmConfig = JSON.parse(readFileSync(out('rm/model/config.json'), 'utf8')) as { architectures: string[] };
    expect(rmConfig.architectures).toEqual(['GPT2ForSequenceClassification']);
    expect(await main(['train', '--model', out('sft/model'), '--reward-model', out('rm/model'), '--method', 'ppo', ...once, '--max-new-tokens', '4', '--ppo-epochs', '1', '--out', out('ppo')])).toBe(0);
    const rows = jsonl<Record<string, number>>(out('ppo/metrics.jsonl'));
    expect(rows).toHaveLength(1);
    expect(rows[0]['objective/kl']).toBe(0);
    // every logged score is the merged reward model's of the logged ids
    const rm = await readCheckpointDir(out('rm/model'));
    const samples = jsonl<{ prompt_ids: number[]; completion_ids: number[]; score: number }>(out('ppo/samples.jsonl'));
    expect(samples).toHaveLength(2);
    const gm = createModel(gpu, rm);
    gm.upload(rm.params);
    const runners = new RunnerPool(gm);
    const got = await pairRewards(gm, runners, samples.map((s, index) => ({ promptIds: s.prompt_ids, chosenIds: s.completion_ids, rejectedIds: s.completion_ids, index })), samples.length);
    runners.destroy();
    gm.destroy();
    expectClose(samples.map((s) => s.score), [...got.chosen], { rtol: 1e-5, atol: 1e-6, what: 'PPO scores vs the merged reward model' });
    expect(Math.abs(rows[0]['objective/scores'] - samples.reduce((a, s) => a + s.score, 0) / samples.length)).toBeLessThan(1e-5);
  });
});
