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

  it('SmolLM2-135M, two runs of DPO at 8 × 1024: bf16 moments, f16 activations, micro-batches, then a shorter max length', () => {
    const s = { ...DEFAULT_SETTINGS, batchSize: 8, gradAccum: 1 };
    const a = fitAdvice(smol, smol.maxPositionEmbeddings, s, 2, 5 * GB);
    expect(comparisonMemory(smol, smol.maxPositionEmbeddings, s, 2).seqLen).toBe(1024);
    expect(a.fits).toBe(false);
    expect(a.steps.map((st) => st.label)).toEqual(['bf16 AdamW moments', 'f16 activations', 'micro-batches of one pair', 'max length 512']);
    expect(a.reachable).toBe(true);
    // cumulative and decreasing; the last one is what the merged settings need, under budget
    for (let i = 1; i < a.steps.length; i++) expect(a.steps[i].total).toBeLessThan(a.steps[i - 1].total);
    const merged = { ...s, ...mergedPatch(a.steps) };
    expect(merged).toMatchObject({ momentsDtype: 'bf16', activationsDtype: 'f16', batchSize: 1, gradAccum: 8, maxLength: 512 });
    expect(comparisonMemory(smol, smol.maxPositionEmbeddings, merged, 2).total).toBe(a.steps.at(-1)!.total);
    expect(a.steps.at(-1)!.total).toBeLessThanOrEqual(5 * GB);
    expect(a.steps.at(-2)!.total).toBeGreaterThan(5 * GB);
  });

  it('says when nothing offered is enough', () => {
    const c = llamaPresetConfig('qwen2.5-0.5b');
    const a = fitAdvice(c, c.maxPositionEmbeddings, DEFAULT_SETTINGS, 3, 1 * GB);
    expect(a.reachable).toBe(false);
    expect(a.steps.at(-1)!.label).toBe('max length 128');
  });
});
