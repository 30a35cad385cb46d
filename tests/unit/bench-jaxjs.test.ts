// The bench's second peer, jax-js, outside the GPU: the case flags that choose peers, the version
// the report names, and the report's table with both peers (ratios from run 5 of docs/perf.md).
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseStepCase, stepCaseText } from '../../src/bench/cases';
import { benchMarkdown, DEFAULT_CASES, LARGE_CASES, LARGE_MATMUL, type BenchReport } from '../../src/bench/run';
import { JAXJS_VERSION } from '../../src/bench/peer-jaxjs';

describe('bench cases choose the peers', () => {
  it(':notfjs and :nojaxjs leave out one peer, :nopeer both; Llama-family cases run neither', () => {
    expect(parseStepCase('gpt2:1x128:notfjs')).toEqual({ preset: 'gpt2', B: 1, T: 128, reduced: false, peer: false, jaxjs: true });
    expect(parseStepCase('builtin:4x64:nojaxjs')).toEqual({ preset: 'builtin', B: 4, T: 64, reduced: false, peer: true, jaxjs: false });
    expect(parseStepCase('builtin:4x64')).toEqual({ preset: 'builtin', B: 4, T: 64, reduced: false, peer: true });
    expect(parseStepCase('builtin:4x64:nopeer')).toEqual({ preset: 'builtin', B: 4, T: 64, reduced: false, peer: false });
    expect(parseStepCase('llama-tiny:4x32:notfjs')).toEqual({ preset: 'llama-tiny', B: 4, T: 32, reduced: false, peer: false });
    expect(() => parseStepCase('tiny:2x8:nojax')).toThrow(/expected PRESET:BxT\[:reduced\]\[:nopeer\|:notfjs\|:nojaxjs\]/);
  });

  it('stepCaseText reads back as the same case', () => {
    for (const text of ['gpt2:1x128:notfjs', 'builtin:4x64:nojaxjs', 'tiny:4x32', 'gpt2:1x8:reduced:nopeer', 'llama-tiny:4x32:nopeer']) {
      expect(stepCaseText(parseStepCase(text))).toBe(text);
    }
    for (const c of [...DEFAULT_CASES, ...LARGE_CASES]) expect(parseStepCase(stepCaseText(c))).toMatchObject({ preset: c.preset, B: c.B, T: c.T, peer: c.peer });
  });

  it('--large holds the shapes of real models: 2048×2048×768, SmolLM2-135M\'s LM head and its step', () => {
    expect(LARGE_MATMUL).toContainEqual([2048, 2048, 768]);
    expect(LARGE_MATMUL).toContainEqual([128, 49152, 576]);
    expect(LARGE_CASES).toContainEqual(expect.objectContaining({ preset: 'gpt2', B: 1, T: 128 }));
    // the SmolLM2-135M-shaped step, full length, ours only (the peers implement GPT-2 only)
    const smol = LARGE_CASES.find((c) => c.preset === 'smollm2-135m');
    expect(smol).toMatchObject({ B: 1, T: 128, reduced: false, peer: false, reps: 1 });
    expect(smol!.jaxjs ?? smol!.peer).toBe(false);
    expect(stepCaseText(smol!)).toBe('smollm2-135m:1x128:nopeer');
  });
});

describe('jax-js peer', () => {
  it('names the installed @jax-js/jax version (the package exports none)', () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'node_modules', '@jax-js', 'jax', 'package.json'), 'utf8')) as { version: string };
    expect(JAXJS_VERSION).toBe(pkg.version);
  });

  it('the report shows both peers per row and per matmul shape', () => {
    const step = {
      preset: 'builtin', family: 'gpt2', B: 4, T: 64, tokens: 256, reduced: false, params: 1, ms: 582.2, tokens_per_s: 439.69, phases_ms: { forward: 108.15, readback: 0.63, backward: 383.36, optimizer: 68.31 }, peak_gpu_bytes: 4.9 * 2 ** 20, kernels: null, check: { logp_seq0: -179.3 },
      peer: { ms: 8796.3, tokens_per_s: 29.1, phases_ms: {}, gpu_bytes: 0 }, ratio: 15.108, peer_skipped: null,
      jaxjs: { ms: 1324.6, tokens_per_s: 193.27, first_step_ms: 4732.1 }, ratio_jaxjs: 2.275, jaxjs_skipped: null,
    };
    const llama = { ...step, preset: 'llama-tiny', family: 'llama', peer: null, ratio: null, peer_skipped: 'the TF.js peer implements GPT-2 only', jaxjs: null, ratio_jaxjs: null, jaxjs_skipped: 'the jax-js peer implements GPT-2 only' };
    const report = {
      date: '2026-11-29T00:00:00Z', machine: { platform: 'linux x64', runtime: 'node v20' }, adapter: { description: 'SwiftShader', architecture: '', vendor: 'google', isFallbackAdapter: false },
      ceiling_gflops: 4.6, matmul: [{ M: 512, N: 512, K: 512, plan: 'subgroup', ms: 58.8, gflops: 4.566, peer_ms: 817.7, peer_gflops: 0.3283, ratio: 13.91, jaxjs_ms: 149.2, jaxjs_gflops: 1.799, ratio_jaxjs: 2.538 }],
      matmul_fraction_of_ceiling: 0.99, memory: [], train_step: [step, llama],
      peer: { name: 'TensorFlow.js WebGPU backend', version: '4.22.0', adapter: {} }, jaxjs: { name: 'jax-js WebGPU backend', version: JAXJS_VERSION, adapter: {} },
      ratios: { train_step_vs_peer: { builtin: 15.108 }, matmul_vs_peer: 13.91, matmul_vs_peer_min: 13.91, train_step_vs_jaxjs: { builtin: 2.275 }, matmul_vs_jaxjs: 2.538, matmul_vs_jaxjs_min: 2.538 },
    } as unknown as BenchReport;
    const md = benchMarkdown(report);
    expect(md).toContain(`Peers: TensorFlow.js WebGPU backend 4.22.0; jax-js WebGPU backend ${JAXJS_VERSION}.`);
    expect(md).toContain('| TF.js ms/step | vs TF.js | jax-js ms/step | vs jax-js |');
    expect(md).toContain('| builtin | 4 × 64 | 582.2 | 439.69 | 108.15 / 0.63 / 383.36 / 68.31 | 4.9 MiB | 8796.3 | 15.108× | 1324.6 | 2.275× |');
    expect(md).toContain('| llama-tiny | 4 × 64 | 582.2 | 439.69 | 108.15 / 0.63 / 383.36 / 68.31 | 4.9 MiB | not run (GPT-2 only) | – | not run (GPT-2 only) | – |');
    expect(md).toContain('run ours only: the TF.js peer implements GPT-2 only, and so does the jax-js peer.');
    expect(md).toContain("jax-js's first step (tracing, kernel generation and compilation, then the step; not in the medians): builtin 4 × 64 4732.1 ms.");
    expect(md).toContain('| 512×512×512 | 4.566 | 0.3283 | 13.91× | 1.799 | 2.538× |');
  });
});
