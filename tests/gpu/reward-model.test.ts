// The reward model end to end on WebGPU through the CLI (issue 16): `init --reward-head` writes a
// *ForSequenceClassification folder that loads back unchanged; `score` matches the float64 reward
// model (src/reference/score.ts) within 1e-4 on the ids it reports, read at the last non-padding
// token; one full-batch SGD update of `train --method reward` (lr 1, no clipping) moves every
// weight, score head and trunk, by minus the float64 gradient of TRL's reward loss, from a
// causal-LM folder (head drawn from --seed) and from a reward folder; its metrics carry TRL's
// RewardTrainer names (eval_ rows too) and the step-1 values of the float64 loss. GPT-2 tiny
// (tied trunk), qwen-tiny (untied: its LM head is dropped) and llama-tiny.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { readCheckpointDir } from '../../src/model/checkpoint-node';
import { readLlamaCheckpointDir } from '../../src/model/llama-checkpoint-node';
import { saveModelCheckpoint } from '../../src/model/family-checkpoint';
import { isLlamaConfig, sequenceConfig, type ModelConfig } from '../../src/model/family';
import { llamaRefConfig } from '../../src/model/llama-config';
import { rewardPadId, toRewardModel } from '../../src/model/reward';
import { parseSafetensors } from '../../src/model/safetensors';
import { gpt2ScoreRef, llamaScoreRef, scoreIndexRef, type ScoreRefResult } from '../../src/reference/score';
import { rewardModelLoss } from '../../src/train/rl/reward-model';
import { REWARD_METRICS } from '../../src/train/objectives';
import { expectClose, freshSeed } from '../helpers/close';
import { Rng } from '../../src/util/rng';

const dir = mkdtempSync(join(tmpdir(), 'prefplay-reward-'));
const PRESETS = ['tiny', 'qwen-tiny', 'llama-tiny'] as const;
const llamaPreset = (p: string) => p !== 'tiny';

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

async function load(folder: string, preset: string): Promise<{ config: ModelConfig; params: Map<string, Float32Array> }> {
  return llamaPreset(preset) ? readLlamaCheckpointDir(folder) : readCheckpointDir(folder);
}

async function init(preset: string, seed: number, reward: boolean): Promise<string> {
  const out = join(dir, `${preset}-${seed}${reward ? '-rm' : ''}`);
  expect(await main(['init', '--preset', preset, '--seed', String(seed), ...(reward ? ['--reward-head'] : []), '--out', out])).toBe(0);
  return out;
}

interface ScoreLine {
  index: number;
  prompt_ids: number[];
  chosen_ids: number[];
  rejected_ids: number[];
  chosen_reward: number;
  rejected_reward: number;
}

function jsonl<T>(file: string): T[] {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as T);
}

function scoreRef(m: { config: ModelConfig; params: Map<string, Float32Array> }, seqs: number[][]): ScoreRefResult {
  const pad = m.config.padTokenId ?? null;
  return isLlamaConfig(m.config) ? llamaScoreRef(m.params, llamaRefConfig(m.config), seqs, pad) : gpt2ScoreRef(m.params, m.config, seqs, pad);
}

const seqsOf = (lines: ScoreLine[]) => [...lines.map((l) => [...l.prompt_ids, ...l.chosen_ids]), ...lines.map((l) => [...l.prompt_ids, ...l.rejected_ids])];

describe.each(PRESETS)('%s reward model through the CLI', (preset) => {
  it('init --reward-head writes a *ForSequenceClassification folder that loads and saves back unchanged', async () => {
    const folder = await init(preset, 3, true);
    const json = JSON.parse(readFileSync(join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    expect(json.architectures).toEqual([llamaPreset(preset) ? (preset === 'qwen-tiny' ? 'Qwen2ForSequenceClassification' : 'LlamaForSequenceClassification') : 'GPT2ForSequenceClassification']);
    expect(json.num_labels).toBe(1);
    expect(json.pad_token_id).toBe(256); // end-of-text, as TRL's RewardTrainer pads
    const st = parseSafetensors(new Uint8Array(readFileSync(join(folder, 'model.safetensors'))));
    expect(st.tensors.get('score.weight')?.shape).toEqual([1, 32]); // [num_labels, n_embd / hidden_size]
    expect([...st.tensors.keys()].some((k) => k.includes('lm_head'))).toBe(false);
    const m = await load(folder, preset);
    expect(m.config.scoreHead).toBe(true);
    expect(m.config.padTokenId).toBe(256);
    // the trunk is the causal init of the same seed; the head is new
    const causal = await load(await init(preset, 3, false), preset);
    for (const [name, w] of causal.params) {
      if (name === 'lm_head.weight') continue;
      // Llama family: the padding row (pad_token_id) of the embedding starts at zero, as transformers initialises it
      if (name === 'model.embed_tokens.weight') expect(w.subarray(0, 256 * 32)).toEqual(m.params.get(name)!.subarray(0, 256 * 32));
      else expect(m.params.get(name), name).toEqual(w);
    }
    // save what was loaded: the same files
    const again = saveModelCheckpoint(m.config, m.params, 'byte');
    for (const f of ['config.json', 'model.safetensors']) expect(Buffer.from(again.get(f)!).equals(readFileSync(join(folder, f))), f).toBe(true);
  });

  it('score matches the float64 reward model within 1e-4 at the last non-padding token', async () => {
    const seed = freshSeed() % 1000;
    const folder = await init(preset, seed, true);
    const pairs = pairsFile(new Rng(seed), `${preset}-score.jsonl`, 5);
    const out = join(dir, `${preset}-score-out.jsonl`);
    expect(await main(['score', '--model', folder, '--pairs', pairs, '--out', out, '--batch-size', '3', '--quiet'])).toBe(0);
    const lines = jsonl<ScoreLine>(out);
    expect(lines.map((l) => l.index)).toEqual([0, 1, 2, 3, 4]);
    expect(Object.keys(lines[0])).toEqual(['index', 'prompt_ids', 'chosen_ids', 'rejected_ids', 'chosen_reward', 'rejected_reward']);
    const m = await load(folder, preset);
    const seqs = seqsOf(lines);
    const ref = scoreRef(m, seqs);
    // completions end with end-of-text = pad_token_id: the score is read at the token before it
    const eos = sequenceConfig(m.config).eosTokenId;
    seqs.forEach((s, k) => {
      expect(s[s.length - 1]).toBe(eos);
      expect(ref.index[k]).toBe(s.length - 2);
      expect(ref.index[k]).toBe(scoreIndexRef(s, rewardPadId(m.config)));
    });
    // atol scales with the largest |reward|: a reward near 0 by cancellation carries the rounding of the set's largest terms
    const rewards = [...lines.map((l) => l.chosen_reward), ...lines.map((l) => l.rejected_reward)];
    expectClose(rewards, ref.rewards, { rtol: 1e-4, atol: 2e-6 * (1 + rewards.reduce((m, x) => Math.max(m, Math.abs(x)), 0)), what: `${preset} rewards seed=${seed}` });
    // the rewards are not trivially equal
    expect(new Set(ref.rewards.map((r) => r.toFixed(6))).size).toBeGreaterThan(5);
  });

  it.each([
    ['a causal-LM folder (score head drawn from --seed)', false],
    ['a reward folder', true],
  ])('one full-batch SGD update (lr 1, no clipping) from %s moves every weight by minus the float64 gradient', async (_what, fromReward) => {
    const seed = freshSeed() % 1000;
    const rng = new Rng(seed);
    const folder = await init(preset, seed, fromReward);
    const pairs = pairsFile(rng, `${preset}-sgd.jsonl`, 3);
    const ids = join(dir, `${preset}-sgd-ids.jsonl`);
    const run = join(dir, `${preset}-sgd-run-${fromReward}`);
    const trainSeed = 1 + rng.int(1000);
    expect(await main(['train', '--model', folder, '--pairs', pairs, '--method', 'reward', '--optimizer', 'sgd', '--lr', '1', '--schedule', 'constant', '--max-grad-norm', '0', '--steps', '1', '--batch-size', '3', '--seed', String(trainSeed), '--out', run, '--quiet'])).toBe(0);
    const start = await load(folder, preset);
    const before = toRewardModel(start, trainSeed); // the head train drew (a reward folder: unchanged)
    const after = await load(join(run, 'model'), preset);
    expect(after.config).toEqual(before.config);
    // the ids the model read: `score` on the trained folder reports them
    expect(await main(['score', '--model', join(run, 'model'), '--pairs', pairs, '--out', ids, '--quiet'])).toBe(0);
    const lines = jsonl<ScoreLine>(ids);
    const n = lines.length;
    const ref = scoreRef(before, seqsOf(lines));
    const res = rewardModelLoss({ chosen: ref.rewards.slice(0, n), rejected: ref.rewards.slice(n) });
    const grads = ref.backward([...res.dChosen, ...res.dRejected]);
    expect([...grads.keys()].sort()).toEqual([...before.params.keys()].sort());
    for (const [name, g] of grads) {
      const p0 = before.params.get(name)!;
      const p1 = after.params.get(name)!;
      const delta = Float64Array.from(p1, (x, i) => x - p0[i]);
      const scale = g.reduce((mx, x) => Math.max(mx, Math.abs(x)), 0);
      // f32 parameters: the delta is exact only to one ulp of the weight (~1.2e-7·|w|, norm gains ~1)
      expectClose(delta, g.map((x) => -x), { rtol: 1e-3, atol: 1e-4 * scale + 2.4e-7, what: `${preset} Δ${name} seed=${seed}` });
    }
    expect(Math.max(...grads.get('score.weight')!.map(Math.abs))).toBeGreaterThan(1e-4);
    // step 1's metrics are the float64 loss's, under TRL's names
    const [row] = jsonl<Record<string, number>>(join(run, 'metrics.jsonl'));
    for (const k of ['loss', 'accuracy', 'margin', 'min_reward', 'mean_reward', 'max_reward'] as const) expect(row[k], k).toBeCloseTo(res.metrics[k], 4);
  });

  it("logs TRL RewardTrainer's metric names, eval_ rows included", async () => {
    const folder = await init(preset, 5, false);
    const pairs = pairsFile(new Rng(6), `${preset}-metrics.jsonl`, 6);
    const run = join(dir, `${preset}-metrics-run`);
    expect(await main(['train', '--model', folder, '--pairs', pairs, '--method', 'reward', '--center-rewards-coefficient', '0.01', '--steps', '2', '--batch-size', '2', '--eval-fraction', '0.34', '--eval-every', '1', '--out', run, '--quiet'])).toBe(0);
    const rows = jsonl<Record<string, number>>(join(run, 'metrics.jsonl'));
    const train = [...REWARD_METRICS, 'grad_norm', 'learning_rate', 'tokens_per_second', 'epoch', 'step'];
    const evalNames = [...REWARD_METRICS.map((k) => `eval_${k}`), 'epoch', 'step'];
    expect(rows).toHaveLength(4);
    rows.forEach((r, i) => {
      expect(Object.keys(r).sort()).toEqual([...(i % 2 ? evalNames : train)].sort());
      for (const v of Object.values(r)) expect(Number.isFinite(v)).toBe(true);
    });
    expect(rows[2].num_tokens).toBeGreaterThan(rows[0].num_tokens);
    const m = await load(join(run, 'model'), preset);
    expect(m.config.scoreHead).toBe(true);
  });
});

describe('reward model refusals', () => {
  it('score refuses a causal LM; an LM-head method refuses a reward model; --sample-every refuses --method reward', async () => {
    const causal = await init('tiny', 9, false);
    const reward = await init('tiny', 9, true);
    const pairs = pairsFile(new Rng(1), 'refuse.jsonl', 2);
    await expect(main(['score', '--model', causal, '--pairs', pairs, '--out', join(dir, 'x.jsonl')])).rejects.toThrow(/not a reward model/);
    await expect(main(['train', '--model', reward, '--pairs', pairs, '--method', 'dpo', '--steps', '1', '--out', join(dir, 'x')])).rejects.toThrow(/trains the LM head, and this model is a reward model/);
    await expect(main(['train', '--model', causal, '--pairs', pairs, '--method', 'reward', '--sample-every', '1', '--steps', '1', '--out', join(dir, 'y')])).rejects.toThrow(/--sample-every: --method reward trains a reward model/);
  });
});
