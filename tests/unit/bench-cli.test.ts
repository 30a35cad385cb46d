// The bench command's --case parser: valid cases, and a clear error naming the bad part.
import { describe, it, expect } from 'vitest';
import { parseCase } from '../../src/cli/commands/bench';
import { parseStepCase } from '../../src/bench/cases';
import { benchMarkdown, stepRatios, type BenchReport } from '../../src/bench/run';
import { median, gflops } from '../../src/bench/stats';

describe('bench --case', () => {
  it('parses preset, batch, length and flags', () => {
    expect(parseCase('builtin:8x128')).toEqual({ preset: 'builtin', B: 8, T: 128, reduced: false, peer: true });
    expect(parseCase('gpt2:1x8:reduced:nopeer')).toEqual({ preset: 'gpt2', B: 1, T: 8, reduced: true, peer: false, reps: 1 });
  });

  it('takes Llama-family presets, which run without the peer (it implements GPT-2 only)', () => {
    expect(parseCase('llama-tiny:4x32')).toEqual({ preset: 'llama-tiny', B: 4, T: 32, reduced: false, peer: false });
    expect(parseCase('qwen-tiny:4x32:nopeer')).toEqual({ preset: 'qwen-tiny', B: 4, T: 32, reduced: false, peer: false });
    expect(parseCase('smollm2-135m:1x8:reduced')).toEqual({ preset: 'smollm2-135m', B: 1, T: 8, reduced: true, peer: false, reps: 1 });
    expect(parseCase('qwen2.5-0.5b:2x16:reduced')).toMatchObject({ preset: 'qwen2.5-0.5b', B: 2, T: 16, peer: false });
    expect(() => parseCase('llama-huge:1x8')).toThrow(/unknown preset "llama-huge" \(presets: tiny, builtin, gpt2, llama-tiny, qwen-tiny, smollm2-135m, qwen2\.5-0\.5b\)/);
    expect(parseStepCase('llama-tiny:1x8:reduced')).toEqual(parseCase('llama-tiny:1x8:reduced'));
  });

  it('rejects malformed cases and unknown presets with the reason', () => {
    expect(() => parseCase('builtin-8x128')).toThrow(/expected PRESET:BxT/);
    expect(() => parseCase('huge:1x8')).toThrow(/unknown preset "huge"/);
    expect(() => parseCase('tiny:0x8')).toThrow(/B must be ≥ 1/);
    expect(() => parseCase('tiny:2x8:fast')).toThrow(/expected PRESET:BxT/);
  });
});

describe('bench report', () => {
  const step = (preset: string, family: string, peer: boolean) => ({
    preset, family, B: 4, T: 32, tokens: 128, reduced: false, params: 1, ms: 100, tokens_per_s: 1280, phases_ms: { forward: 1, readback: 1, backward: 1, optimizer: 1 }, peak_gpu_bytes: 2 ** 20, kernels: null,
    peer: peer ? { ms: 1000, tokens_per_s: 128, phases_ms: {}, gpu_bytes: 0 } : null, ratio: peer ? 10 : null, peer_skipped: peer ? null : family === 'gpt2' ? 'not asked for this case' : 'the TF.js peer implements GPT-2 only',
  });
  const plan = (preset: string, limit: number | null) => ({
    preset, family: 'llama', pairs: 8, seq_len: 512, micro_batch_pairs: 1, grad_accum: 8, moments_dtype: 'bf16', bytes: { params: 5e8, grads: 5e8, optimizer: 5e8, scratch: 0, activations: 7e8 },
    total_bytes: 2.2e9, estimate_bytes: 2.2e9, limit_bytes: limit, within_limit: limit === null ? null : 2.2e9 <= limit, naive_estimate_bytes: 8e9, ran: null,
  });
  const report = {
    date: '2026-01-01T00:00:00Z', machine: { platform: 'linux x64', runtime: 'node v20' }, adapter: { description: 'SwiftShader', architecture: '', vendor: 'google', isFallbackAdapter: false },
    ceiling_gflops: 1, matmul: [], matmul_fraction_of_ceiling: null, peer: { name: 'tfjs', version: '4.22', adapter: {} },
    train_step: [step('tiny', 'gpt2', true), step('llama-tiny', 'llama', false), step('qwen-tiny', 'qwen2', false)],
    memory: [plan('gpt2', 2e9), plan('smollm2-135m', null)],
    ratios: { train_step_vs_peer: { tiny: 10 }, matmul_vs_peer: null, matmul_vs_peer_min: null },
  } as unknown as BenchReport;

  it('marks Llama-family rows as run without the GPT-2-only peer, and states budget-free memory plans', () => {
    const md = benchMarkdown(report);
    expect(md).toContain('| tiny | 4 × 32 | 100 | 1280 | 1 / 1 / 1 / 1 | 1.0 MiB | 1000 | 10× |');
    expect(md).toContain('| llama-tiny | 4 × 32 | 100 | 1280 | 1 / 1 / 1 / 1 | 1.0 MiB | not run (GPT-2 only) | – |');
    expect(md).toContain('Llama-family cases (llama-tiny (llama), qwen-tiny (qwen2)) run ours only: the TF.js peer implements GPT-2 only.');
    expect(md).toContain('Memory: a gpt2 DPO update of 8 pairs × 512 tokens as 8 micro-batches of 1 pair(s), bf16 AdamW moments, allocates 2.20 GB');
    expect(md).toContain('over the 2.00 GB budget;');
    expect(md).toMatch(/Memory: a smollm2-135m DPO update .* activations 0\.70 GB\): all in one micro-batch with f32 moments: 8\.00 GB\./);
  });
});

describe('bench ratios per case', () => {
  const c = (preset: string, B: number, T: number, ratio: number | null) => ({ preset, B, T, ratio });
  const byRatio = (s: { ratio: number | null }) => s.ratio;

  it('keys a preset that one case has by the preset alone (the keys the README quotes)', () => {
    expect(stepRatios([c('tiny', 4, 32, 2.97), c('builtin', 4, 64, 2.6)], byRatio)).toEqual({ tiny: 2.97, builtin: 2.6 });
  });

  it('keys every case of a repeated preset by preset:BxT, so two sizes of one preset both stay', () => {
    // scripts/device-bench.sh's second run: gpt2 at 1 × 128 and 8 × 512 in one bench
    expect(stepRatios([c('builtin', 4, 64, 3), c('gpt2', 1, 128, 1.5), c('gpt2', 8, 512, 2.5)], byRatio)).toEqual({ builtin: 3, 'gpt2:1x128': 1.5, 'gpt2:8x512': 2.5 });
    // an identical case repeated keeps each measurement
    expect(stepRatios([c('tiny', 2, 16, 1), c('tiny', 2, 16, 2), c('tiny', 2, 16, 3)], byRatio)).toEqual({ 'tiny:2x16': 1, 'tiny:2x16#2': 2, 'tiny:2x16#3': 3 });
  });

  it('leaves out cases the peer did not run, and they do not make a preset repeat', () => {
    // the default cases plus --large: gpt2 1 × 8 (reduced, no peers) and gpt2 1 × 128 (jax-js), llama ours only
    const steps = [c('builtin', 4, 64, 2.3), c('llama-tiny', 4, 32, null), c('gpt2', 1, 8, null), c('gpt2', 1, 128, 1.26), c('smollm2-135m', 1, 128, null)];
    expect(stepRatios(steps, byRatio)).toEqual({ builtin: 2.3, gpt2: 1.26 });
    expect(stepRatios(steps, () => null)).toEqual({});
  });
});

describe('bench statistics', () => {
  it('median of odd and even counts, GFLOP/s', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(Number.isNaN(median([]))).toBe(true);
    expect(gflops(2e9, 1000)).toBe(2);
  });
});
