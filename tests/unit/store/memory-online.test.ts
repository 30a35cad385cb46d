// The page's per-run memory estimate depends on the card (src/store/memory.ts runMemoryEstimate):
// pair methods as before; a reward model with its score head; GRPO/RLOO and PPO with what they
// hold besides the policy (the reference copy, none with LoRA; the DecodeRunner for the update's
// sequences; the reward model; PPO's trained value model); and the fit advice sums the cards' own
// estimates. tests/gpu/memory-online.test.ts ties the figures to what the trainers allocate.
import { describe, it, expect } from 'vitest';
import { comparisonMemory, fitAdvice } from '../../../src/store/fit';
import { memoryEstimate, onlineParts, runMemoryEstimate } from '../../../src/store/memory';
import { DEFAULT_SETTINGS } from '../../../src/store/settings';
import { presetConfig } from '../../../src/model/config';
import { llamaPresetConfig } from '../../../src/model/llama-config';
import { decodeConfigBytes } from '../../../src/model/decode';
import { modelActivationBytes, modelParamCount, modelScratchBytes } from '../../../src/model/family';
import { rewardConfig } from '../../../src/model/reward';
import { resolveLengths } from '../../../src/data/tokenize';
import type { TrainSettings } from '../../../src/worker/protocol';

const gpt2 = presetConfig('builtin');
const smol = llamaPresetConfig('smollm2-135m');
const s: TrainSettings = { ...DEFAULT_SETTINGS, batchSize: 4, gradAccum: 1, optimizer: 'adamw', momentsDtype: 'f32', activationsDtype: 'f32' };
const opts = { lora: null, baseDtype: 'f32' as const, checkpoint: false };
const GRPO = { method: 'grpo' as const, numGenerations: 4, maxNewTokens: 32 };
const PPO = { method: 'ppo' as const, maxNewTokens: 32, numMiniBatches: 2 };

describe('runMemoryEstimate', () => {
  it('a pair method is the pair estimate at the max length; a reward model counts its score head', () => {
    const T = resolveLengths(gpt2.nPositions).maxLength;
    const dpo = runMemoryEstimate(gpt2, s, { method: 'dpo' }, opts);
    expect(dpo).toEqual({ ...memoryEstimate(gpt2, 4, T, 'adamw', 'f32', 'f32', opts), online: null });
    const rm = runMemoryEstimate(gpt2, s, { method: 'reward' }, opts);
    expect(rm.perRun).toBe(memoryEstimate(rewardConfig(gpt2), 4, T, 'adamw', 'f32', 'f32', opts).perRun);
    expect(rm.perRun).not.toBe(dpo.perRun);
  });

  it('GRPO: the policy at batch × G / gradAccum sequences, a reference copy, the decoder for batch × G sequences', () => {
    const { maxPromptLength: Tp } = resolveLengths(gpt2.nPositions);
    const T = Math.ceil((Tp + 32) / 8) * 8;
    const est = runMemoryEstimate(gpt2, { ...s, gradAccum: 2 }, GRPO, opts);
    const P = modelParamCount(gpt2);
    // policy: weights, gradients and two f32 moments, activations of 4·4/2 = 8 sequences of T tokens
    expect(est.state).toBe(16 * P);
    expect(est.activations).toBe(modelActivationBytes(gpt2, 8, T));
    expect(est.online).toEqual({ reference: 4 * P + modelActivationBytes(gpt2, 8, T), generation: decodeConfigBytes(gpt2, null, 16, Tp, 32), rewardModel: 0, valueModel: 0 });
    expect(est.perRun).toBe(est.state + est.activations + est.online!.reference + est.online!.generation);
    // G drives the generation cache
    expect(runMemoryEstimate(gpt2, s, { ...GRPO, numGenerations: 8 }, opts).online!.generation).toBeGreaterThan(est.online!.generation);
    // a reward model among the rewards adds a frozen copy of it and its runner (all batch × G rows at once)
    const rc = rewardConfig(gpt2);
    const withRm = runMemoryEstimate(gpt2, { ...s, gradAccum: 2 }, { ...GRPO, reward: 'reward-model' }, opts);
    expect(withRm.online!.rewardModel).toBe(4 * modelParamCount(rc) + modelActivationBytes(rc, 16, T));
  });

  it('GRPO with LoRA: no reference copy (the base with the adapters off is the reference)', () => {
    const lora = { r: 8, alpha: 16 };
    const full = runMemoryEstimate(smol, s, GRPO, { ...opts, checkpoint: true });
    const est = runMemoryEstimate(smol, s, GRPO, { lora, baseDtype: 'bf16', checkpoint: true });
    expect(full.online!.reference).toBeGreaterThan(4 * modelParamCount(smol));
    expect(est.online!.reference).toBe(0);
    // the decoder holds the adapters' scratch: more than without them
    expect(est.online!.generation).toBeGreaterThan(full.online!.generation);
    // no reference copy (4 bytes a parameter), no gradients and moments of the base (12), half the base
    expect(full.perRun - est.perRun).toBeGreaterThan(16 * modelParamCount(smol));
  });

  it('PPO: a trained value model and a frozen reward model, forwards of batch / mini-batches / gradAccum responses', () => {
    const { maxPromptLength: Tp } = resolveLengths(smol.maxPositionEmbeddings);
    const T = Math.ceil((Tp + 32) / 8) * 8;
    const est = runMemoryEstimate(smol, s, PPO, opts);
    const rc = rewardConfig(smol);
    const Prc = modelParamCount(rc);
    expect(est.activations).toBe(modelActivationBytes(smol, 2, T));
    expect(est.online!.valueModel).toBe(16 * Prc + modelScratchBytes(rc) + modelActivationBytes(rc, 2, T));
    expect(est.online!.rewardModel).toBe(4 * Prc + modelScratchBytes(rc) + modelActivationBytes(rc, 2, T));
    expect(est.online!.generation).toBe(decodeConfigBytes(smol, null, 4, Tp, 32));
    // with LoRA the value model stays a fully trained f32 copy (TRL's peft path adapts the policy only)
    const lora = runMemoryEstimate(smol, s, PPO, { lora: { r: 8, alpha: 16 }, baseDtype: 'bf16', checkpoint: false });
    expect(lora.online!.valueModel).toBe(est.online!.valueModel);
    expect(lora.online!.reference).toBe(0);
    expect(onlineParts(est.online!, (n) => `${n}`)).toMatch(/^reference copy \d+, generation cache \d+, reward model \d+, value model \d+$/);
  });

  it('a prompt longer than n_positions − N leaves room for the new tokens', () => {
    const c = { ...gpt2, nPositions: 64 };
    const est = runMemoryEstimate(c, { ...s, maxLength: 64, maxPromptLength: 60 }, { ...GRPO, maxNewTokens: 16 }, opts);
    expect(est.online!.generation).toBe(decodeConfigBytes(c, null, 16, 48, 16));
    expect(est.activations).toBe(modelActivationBytes(c, 16, 64));
  });
});

describe('the comparison sums its cards’ estimates', () => {
  it('DPO + PPO: each run its own figure; the micro-batch step is not offered with an online run', () => {
    const m = comparisonMemory(smol, smol.maxPositionEmbeddings, s, [{ method: 'dpo' }, PPO]);
    const dpo = runMemoryEstimate(smol, s, { method: 'dpo' }, { lora: null, baseDtype: 'f32', checkpoint: true });
    const ppo = runMemoryEstimate(smol, s, PPO, { lora: null, baseDtype: 'f32', checkpoint: true });
    expect(m.perRuns).toEqual([dpo.perRun, ppo.perRun]);
    expect(m.total).toBe(dpo.perRun + ppo.perRun);
    expect(ppo.perRun).toBeGreaterThan(2 * dpo.perRun);
    // a count of runs: that many pair-method runs, as before
    expect(comparisonMemory(smol, smol.maxPositionEmbeddings, s, 2).total).toBe(2 * dpo.perRun);
    const a = fitAdvice(smol, smol.maxPositionEmbeddings, { ...s, lora: null }, [{ method: 'dpo' }, PPO], 1024 ** 3);
    expect(a.fits).toBe(false);
    expect(a.perRuns).toEqual(m.perRuns);
    expect(a.steps.map((st) => st.label)).not.toContain('micro-batches of one pair');
    expect(fitAdvice(smol, smol.maxPositionEmbeddings, { ...s, lora: null }, [{ method: 'dpo' }, { method: 'orpo' }], 1024 ** 3).steps.map((st) => st.label)).toContain('micro-batches of one pair');
  });
});
