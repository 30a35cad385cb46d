// The page's "will it fit" advice (src/store/fit.ts): totals from the engine's size tables, steps
// cumulative and cheapest first, stopping at the first that fits.
import { describe, it, expect } from 'vitest';
import { comparisonMemory, fitAdvice, mergedPatch } from '../../../src/store/fit';
import { memoryEstimate } from '../../../src/store/memory';
import { DEFAULT_SETTINGS } from '../../../src/store/settings';
import { llamaPresetConfig } from '../../../src/model/llama-config';
import { presetConfig } from '../../../src/model/config';

const GB = 1024 ** 3;
const smol = llamaPresetConfig('smollm2-135m');

describe('fit advice', () => {
  it('the built-in model at the default settings fits without advice', () => {
    const c = presetConfig('builtin');
    const a = fitAdvice(c, c.nPositions, DEFAULT_SETTINGS, 2, 4 * GB);
    expect(a).toMatchObject({ fits: true, steps: [] });
    expect(a.total).toBe(2 * memoryEstimate(c, DEFAULT_SETTINGS.batchSize, c.nPositions, 'adamw').perRun);
  });

  it('SmolLM2-135M, two runs of DPO at 8 × 1024: LoRA over a bf16 base with checkpointing first, then what still saves, then a shorter max length', () => {
    const s = { ...DEFAULT_SETTINGS, batchSize: 8, gradAccum: 1 };
    const a = fitAdvice(smol, smol.maxPositionEmbeddings, s, 2, 1 * GB);
    expect(comparisonMemory(smol, smol.maxPositionEmbeddings, s, 2).seqLen).toBe(1024);
    expect(a.fits).toBe(false);
    // f16 activations save nothing once only one layer's activations are kept: not offered
    expect(a.steps.map((st) => st.label)).toEqual(['LoRA r=8 (bf16 base, activation checkpointing)', 'bf16 AdamW moments', 'micro-batches of one pair', 'max length 512']);
    // (checkpointing is already on by default at this size: the patch leaves it to the default)
    expect(a.steps[0].patch).toEqual({ lora: { r: 8, alpha: 8 }, baseDtype: 'bf16' });
    expect(a.reachable).toBe(true);
    // cumulative and decreasing; the last one is what the merged settings need, under budget
    for (let i = 1; i < a.steps.length; i++) expect(a.steps[i].total).toBeLessThan(a.steps[i - 1].total);
    const merged = { ...s, ...mergedPatch(a.steps) };
    expect(merged).toMatchObject({ lora: { r: 8, alpha: 8 }, baseDtype: 'bf16', momentsDtype: 'bf16', batchSize: 1, gradAccum: 8, maxLength: 512 });
    expect(comparisonMemory(smol, smol.maxPositionEmbeddings, merged, 2).total).toBe(a.steps.at(-1)!.total);
    expect(a.steps.at(-1)!.total).toBeLessThanOrEqual(1 * GB);
    expect(a.steps.at(-2)!.total).toBeGreaterThan(1 * GB);
    // LoRA takes away what no other step reduces: gradients and moments of every parameter, half the base
    expect(a.total - a.steps[0].total).toBeGreaterThan(0.9 * (4 + 8) * 134_515_008);
    // comparisonMemory counts what the settings choose: the estimate with the same options
    const opts = { lora: { r: 8, alpha: 8 }, baseDtype: 'bf16' as const, checkpoint: true };
    expect(a.steps[0].total).toBe(2 * memoryEstimate(smol, 8, 1024, 'adamw', 'f32', 'f32', opts).perRun);
  });

  it('a model under 100M parameters: precision, micro-batches and checkpointing before LoRA', () => {
    const c = llamaPresetConfig('llama-tiny');
    const s = { ...DEFAULT_SETTINGS, batchSize: 64 };
    const a = fitAdvice(c, c.maxPositionEmbeddings, s, 2, 1);
    expect(a.reachable).toBe(false);
    const labels = a.steps.map((st) => st.label);
    expect(labels.slice(0, 3)).toEqual(['bf16 AdamW moments', 'f16 activations', 'micro-batches of one pair']);
    expect(labels.indexOf('activation checkpointing')).toBeLessThan(labels.indexOf('LoRA r=8 (bf16 base, activation checkpointing)'));
    // LoRA on top of checkpointing patches only what is still missing
    expect(a.steps.find((st) => st.label.startsWith('LoRA'))!.patch).toEqual({ lora: { r: 8, alpha: 8 }, baseDtype: 'bf16' });
  });

  it('says when nothing offered is enough', () => {
    const c = llamaPresetConfig('qwen2.5-0.5b');
    const a = fitAdvice(c, c.maxPositionEmbeddings, DEFAULT_SETTINGS, 3, 1 * GB);
    expect(a.reachable).toBe(false);
    expect(a.steps.at(-1)!.label).toBe('max length 128');
  });
});
