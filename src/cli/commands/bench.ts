// `bench`: docs/perf.md — matmul GFLOP/s, per-kernel shares, training-step ms and tokens/s for each
// preset, and the same step in TensorFlow.js's WebGPU backend on the same adapter, as ratios.
import { writeFileSync } from 'node:fs';
import type { Command } from '../command';
import { intOption, UsageError } from '../command';
import { nodeGpu } from '../../engine/node';
import { benchMarkdown, DEFAULT_CASES, DEFAULT_MATMUL, runBench, type StepCase } from '../../bench/run';
import { loadTfjsWebgpuInNode } from '../../bench/peer-node';
import { DEFAULT_MEMORY_PLANS } from '../../bench/memory-plan';
import { parseStepCase } from '../../bench/cases';
import { modelPresetNames } from '../../model/family';

/** `preset:BxT`, optionally `:reduced` and/or `:nopeer`, e.g. `builtin:8x128`, `llama-tiny:4x32` (any model preset; Llama-family ones run without the peer). */
export function parseCase(text: string): StepCase {
  try {
    return parseStepCase(text);
  } catch (e) {
    throw new UsageError(`--${(e as Error).message}`, { cause: e });
  }
}

export const bench: Command = {
  name: 'bench',
  summary: 'Benchmark the engine on this adapter against TensorFlow.js\'s WebGPU backend: matmul GFLOP/s, per-kernel shares, training-step ms and tokens/s per preset, peak GPU memory.',
  options: {
    json: { type: 'string', valueName: 'FILE', description: 'Write the full report as JSON' },
    markdown: { type: 'string', valueName: 'FILE', description: 'Write the README table as markdown' },
    case: { type: 'string', multiple: true, valueName: 'PRESET:BxT', description: `Training-step case, repeatable; PRESET: ${modelPresetNames().join(', ')} (default: ${DEFAULT_CASES.map((c) => `${c.preset}:${c.B}x${c.T}${c.reduced ? ':reduced' : ''}${c.peer ? '' : ':nopeer'}`).join(' ')})` },
    reps: { type: 'string', valueName: 'N', description: 'Timed repetitions per measurement (medians are reported)', default: '3' },
    'no-peer': { type: 'boolean', description: 'Skip TensorFlow.js (no ratios)' },
    'no-profile': { type: 'boolean', description: 'Skip the per-kernel timestamp profile' },
    'no-memory-plan': { type: 'boolean', description: 'Skip the DPO 8 × 512 memory plans: GPT-2 small (bf16 moments) and SmolLM2-135M (f32 and bf16 moments); buffers allocated, not run' },
    'memory-run': { type: 'boolean', description: 'Also execute one micro-batch and the AdamW update of each memory plan (tens of minutes each on a software adapter)' },
  },
  details: [
    'Ours and the peer run alternately in one process on one adapter; ratios are ours ÷ peer speed (higher is better).',
    'On a software adapter (SwiftShader) absolute numbers mean little; ratios taken in one run do.',
    'The peer implements GPT-2 only: Llama-family cases (llama-tiny, qwen-tiny, smollm2-135m, qwen2.5-0.5b) run ours only.',
    'smollm2-135m and qwen2.5-0.5b are the real shapes with random weights: on a software adapter use :reduced (e.g. smollm2-135m:1x8:reduced).',
  ],
  async run(opts) {
    const reps = intOption(opts, 'reps', 3, 1);
    const cases = Array.isArray(opts.case) && opts.case.length ? opts.case.map(parseCase) : DEFAULT_CASES;
    const log = (line: string) => console.error(line);
    const gpu = await nodeGpu('prefplay-bench');
    const peer = opts['no-peer'] ? null : await loadTfjsWebgpuInNode();
    const memory = opts['no-memory-plan'] ? [] : DEFAULT_MEMORY_PLANS.map((m) => ({ ...m, run: !!opts['memory-run'] }));
    const report = await runBench(gpu, peer, { cases, matmulShapes: DEFAULT_MATMUL, reps, profile: !opts['no-profile'], memory, log });
    const md = benchMarkdown(report);
    if (typeof opts.json === 'string') writeFileSync(opts.json, JSON.stringify(report, null, 2) + '\n');
    if (typeof opts.markdown === 'string') writeFileSync(opts.markdown, md + '\n');
    console.log(md);
    console.log(`\nratios: ${JSON.stringify(report.ratios)}`);
    gpu.device.destroy();
    return 0;
  },
};
