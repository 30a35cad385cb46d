// The fit advice with an imported PEFT adapter (src/store/fit.ts fitAdvice's `imported`): turning
// LoRA on continues the adapter, so the step names it and its estimate counts the adapter's rank,
// while the patch is the form's (DEFAULT_LORA, as the LoRA checkbox: effectiveLora swaps it).
import { describe, it, expect } from 'vitest';
import { comparisonMemory, fitAdvice } from '../../../src/store/fit';
import { DEFAULT_LORA, DEFAULT_SETTINGS } from '../../../src/store/settings';
import { llamaPresetConfig } from '../../../src/model/llama-config';

const GB = 1024 ** 3;
const smol = llamaPresetConfig('smollm2-135m');

describe('fit advice with an imported adapter', () => {
  it("offers LoRA continuing the adapter (its r), estimated with the adapter's config", () => {
    const s = { ...DEFAULT_SETTINGS, batchSize: 8, gradAccum: 1 };
    const adapter = { r: 64, alpha: 128, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] };
    const plain = fitAdvice(smol, smol.maxPositionEmbeddings, s, 2, 1 * GB);
    const a = fitAdvice(smol, smol.maxPositionEmbeddings, s, 2, 1 * GB, adapter);
    expect(a.steps[0].label).toBe('LoRA continuing the imported adapter (r=64, bf16 base, activation checkpointing)');
    expect(a.steps[0].label).not.toContain(`r=${DEFAULT_LORA.r} `);
    // the form gets what its LoRA checkbox gives; the runs then use the adapter's config
    expect(a.steps[0].patch).toEqual(plain.steps[0].patch);
    expect(a.steps[0].total).toBe(comparisonMemory(smol, smol.maxPositionEmbeddings, { ...s, ...a.steps[0].patch, lora: adapter }, 2).total);
    // rank 64 on every projection holds more than rank 8 on the default targets
    expect(a.steps[0].total).toBeGreaterThan(plain.steps[0].total);
  });
});
