// The page's memory estimate of an online run (src/store/memory.ts runMemoryEstimate) against
// what the trainers allocate (their gpuBytes: every arena of the policy, its optimizer and
// runners, the reference copy and its runners, the DecodeRunner, the reward model and PPO's value
// model), as tests/gpu/memory-plan.test.ts ties the pair-method estimate to the bench's memory
// plan. Prompts of Tp = 10 tokens and N = 6 new tokens: every forward's T is 16 however early a
// completion stops (batchLength rounds the longest row, ≥ 11 tokens, up to 16), so the shapes
// the trainers meet are the estimate's.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { randomParams } from '../helpers/random-model';
import type { GpuContext } from '../../src/engine/gpu';
import { presetConfig, type GPTConfig } from '../../src/model/config';
import { createModel } from '../../src/model/family';
import { loraInit, type LoraConfig } from '../../src/model/lora';
import { toRewardModel } from '../../src/model/reward';
import { memoryEstimate, runMemoryEstimate } from '../../src/store/memory';
import { TRAIN_DEFAULTS, type TrainConfig } from '../../src/train/config';
import type { ObjectiveSpec } from '../../src/train/objectives';
import { OnlineTrainer } from '../../src/train/online-trainer';
import { PpoTrainer } from '../../src/train/ppo-trainer';
import type { PromptIds } from '../../src/train/prompts';
import type { RewardModelWeights } from '../../src/train/reward-source';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

const V = 16;
const EOS = 15;
const GPT: GPTConfig = { ...presetConfig('tiny'), vocabSize: V, nPositions: 32, bosTokenId: EOS, eosTokenId: EOS };
const TP = 10;
const N = 6;
const text = (ids: readonly number[]) => ids.join(' ');
/** Alignment of each arena's tensors and buffers, and each runner's token buckets: what the estimate leaves out. */
const SLACK = 64 * 1024;

function prompts(rng: Rng, n: number): PromptIds[] {
  return Array.from({ length: n }, (_, i) => ({ promptIds: Array.from({ length: TP }, () => rng.int(EOS)), index: i, line: i + 1 }));
}

function rewardModel(rng: Rng): RewardModelWeights {
  const rm = toRewardModel({ config: GPT, params: randomParams(GPT, rng, { scale: 0.3, biasScale: 0.1, lnSpread: 0.1 }) }, 1);
  return { name: 'rm', config: rm.config, params: rm.params };
}

interface Case {
  name: string;
  objective: ObjectiveSpec;
  batchSize: number;
  gradAccum: number;
  lora: LoraConfig | null;
}

const CASES: Case[] = [
  { name: 'GRPO, G = 2, rewarded by a reward model, 2 micro-batches', objective: { method: 'grpo', numGenerations: 2, maxNewTokens: N, reward: 'reward-model' }, batchSize: 2, gradAccum: 2, lora: null },
  { name: 'GRPO with LoRA r = 4 (no reference copy: the base is the reference)', objective: { method: 'grpo', numGenerations: 2, maxNewTokens: N, reward: 'reward-model' }, batchSize: 2, gradAccum: 1, lora: { r: 4, alpha: 8 } },
  { name: 'PPO, 2 mini-batches (reward model, value model)', objective: { method: 'ppo', maxNewTokens: N, numPpoEpochs: 1, numMiniBatches: 2 }, batchSize: 4, gradAccum: 1, lora: null },
];

describe('online memory estimate', () => {
  it.each(CASES)('$name: the estimate is what the trainer allocates', async (c) => {
    const rng = new Rng(11);
    const cfg: TrainConfig = { ...TRAIN_DEFAULTS, objective: c.objective, steps: 1, batchSize: c.batchSize, gradAccum: c.gradAccum, lr: 1e-3, seed: 3, momentsDtype: 'f32', activationsDtype: 'f32', checkpointActivations: false };
    const model = createModel(gpu, { config: GPT }, { lora: c.lora ?? undefined });
    model.upload(randomParams(GPT, rng, { scale: 0.3, biasScale: 0.1, lnSpread: 0.1 }));
    if (model.lora && c.lora) model.lora.upload(loraInit(GPT, c.lora, 3));
    const rm = rewardModel(rng);
    const train = prompts(rng, c.batchSize);
    const trainer = c.objective.method === 'ppo' ? new PpoTrainer(model, train, [], cfg, { text, rewardModel: rm }) : new OnlineTrainer(model, train, [], cfg, { text, rewardModel: rm });
    try {
      await trainer.allocated();
      await trainer.prepare();
      await trainer.trainStep();
      const est = runMemoryEstimate(GPT, cfg, c.objective, { lora: c.lora, baseDtype: 'f32', checkpoint: false }, TP);
      const allocated = trainer.gpuBytes;
      console.log(`${c.name}: estimate ${est.perRun} B, allocated ${allocated} B (+${allocated - est.perRun})`);
      expect(allocated).toBeGreaterThanOrEqual(est.perRun);
      expect(allocated - est.perRun).toBeLessThan(SLACK);
      // an online run holds more than a pair-method run of the same batch
      expect(est.online).not.toBeNull();
      expect(est.online!.generation).toBeGreaterThan(0);
      expect(est.online!.rewardModel).toBeGreaterThan(0);
      expect(est.online!.reference > 0).toBe(c.lora === null);
      expect(est.online!.valueModel > 0).toBe(c.objective.method === 'ppo');
      expect(est.perRun).toBeGreaterThan(memoryEstimate(GPT, c.batchSize, TP + N, 'adamw', 'f32', 'f32', { lora: c.lora }).perRun);
    } finally {
      trainer.destroy();
      model.destroy();
    }
  });
});
