// The bench's training step (src/bench/run.ts stepCase) on a Llama-family preset: one reduced
// llama-tiny case runs ours only — the TF.js peer implements GPT-2 only — and reports the model's
// size and the bytes its step holds. Tiny shapes: SwiftShader is slow. No timing is asserted.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import type { GpuContext } from '../../src/engine/gpu';
import { stepCase } from '../../src/bench/run';
import { parseStepCase } from '../../src/bench/cases';
import { llamaParamCount, llamaPresetConfig } from '../../src/model/llama-config';
import { llamaActivationBytes } from '../../src/model/llama';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

describe('bench training step, Llama family', () => {
  it('llama-tiny:1x8:reduced runs ours only and accounts for its GPU bytes', async () => {
    const lines: string[] = [];
    const c = parseStepCase('llama-tiny:1x8:reduced');
    const r = await stepCase(gpu, null, c, { reps: 3, profile: true, log: (l) => lines.push(l) });
    const config = llamaPresetConfig('llama-tiny');
    expect(r).toMatchObject({ preset: 'llama-tiny', family: 'llama', B: 1, T: 8, tokens: 8, reduced: true, peer: null, ratio: null, kernels: null });
    expect(r.peer_skipped).toBe('the TF.js peer implements GPT-2 only');
    expect(r.params).toBe(llamaParamCount(config));
    expect(r.ms).toBeGreaterThan(0);
    expect(lines.filter((l) => /step \d\/1/.test(l))).toHaveLength(1); // a reduced case times one step
    // params, grads, both f32 moments, activations, a few small buffers (no stacking scratch for llama-tiny)
    const low = 16 * llamaParamCount(config) + llamaActivationBytes(config, 1, 8);
    expect(r.peak_gpu_bytes).toBeGreaterThanOrEqual(low);
    expect(r.peak_gpu_bytes).toBeLessThan(low + 64 * 1024);
  });
});
