// The memory estimate (src/store/memory.ts) with LoRA, a 16-bit base and activation
// checkpointing: what each choice saves for SmolLM2-135M DPO at 512 tokens, and the 1.5 GB
// target of the bench's LoRA memory plan (tests/gpu/memory-plan.test.ts ties the estimate to
// allocated bytes on the tiny presets).
import { describe, it, expect } from 'vitest';
import { memoryEstimate, memorySavings, runMemoryEstimate } from '../../src/store/memory';
import { rewardConfig } from '../../src/model/reward';
import { modelActivationBytes, modelParamCount, modelPresetConfig, defaultCheckpointActivations } from '../../src/model/family';
import { loraParamCount } from '../../src/model/lora';

const smol = modelPresetConfig('smollm2-135m');
const lora = { r: 8, alpha: 16 };

describe('memory estimate with LoRA', () => {
  it('the base is held once (no gradients, no moments); the adapters get the four arenas', () => {
    const P = modelParamCount(smol);
    const A = loraParamCount(smol, lora);
    expect(A).toBe(30 * 8 * (576 + 576 + 576 + 192 + 576 + 192 + 576 + 576 + 576 + 1536 + 576 + 1536 + 1536 + 576));
    const full = memoryEstimate(smol, 1, 512, 'adamw');
    const est = memoryEstimate(smol, 1, 512, 'adamw', 'f32', 'f32', { lora });
    expect(full.state - est.state).toBe(4 * P + 8 * P - 16 * A);
  });

  it('a Reward model card with LoRA trains the adapters and the score head [1, C] (PEFT modules_to_save): four arenas each, the trunk held once', () => {
    const rm = rewardConfig(smol);
    const P = modelParamCount(rm);
    const T = loraParamCount(rm, lora);
    expect(T).toBe(loraParamCount(smol, lora) + 576);
    const s = { batchSize: 1, gradAccum: 1, optimizer: 'adamw' as const, maxLength: 512 };
    const full = runMemoryEstimate(smol, s, { method: 'reward' });
    const est = runMemoryEstimate(smol, s, { method: 'reward' }, { lora });
    expect(full.state - est.state).toBe(4 * P + 8 * P - 16 * T);
  });

  it('SmolLM2-135M DPO, one pair × 512 per micro-batch: 2.92 GB full, 0.53 GB with LoRA r = 8, a bf16 base and checkpointing', () => {
    expect(defaultCheckpointActivations(smol)).toBe(true);
    const opts = { lora, baseDtype: 'bf16' as const, checkpoint: true };
    const est = memoryEstimate(smol, 1, 512, 'adamw', 'f32', 'f32', opts);
    expect(est.perRun).toBeLessThan(1.5e9);
    expect(est.perRun).toBe(525_911_344); // what the bench's plan allocates, less 48 bytes of alignment
    const saved = memorySavings(smol, 1, 512, 'adamw', 'f32', 'f32', opts);
    // the bf16 base: every linear projection's weight from 4 to 2 bytes
    expect(saved.baseDtype).toBe(2 * 30 * (576 * 576 * 2 + 576 * 192 * 2 + 576 * 1536 * 3));
    expect(saved.checkpoint).toBe(modelActivationBytes(smol, 2, 512, 'f32', { lora }) - modelActivationBytes(smol, 2, 512, 'f32', { lora, checkpoint: true }));
    expect(saved.lora).toBeGreaterThan(1.5e9);
    expect(memorySavings(smol, 1, 512, 'adamw')).toEqual({ lora: 0, baseDtype: 0, checkpoint: 0 });
  });

  it('activation checkpointing keeps each layer input plus one layer: far less than every layer', () => {
    const stored = modelActivationBytes(smol, 2, 512);
    const ck = modelActivationBytes(smol, 2, 512, 'f32', { checkpoint: true });
    expect(ck).toBeLessThan(0.25 * stored);
    // the difference is 29 layers' worth of the per-layer kept tensors besides residual3
    const oneLayer = modelActivationBytes(smol, 2, 512, 'f32', {}) - modelActivationBytes({ ...smol, numHiddenLayers: 29 }, 2, 512, 'f32', {});
    expect(stored - ck).toBe(29 * (oneLayer - 4 * 1024 * 576));
  });
});
