// `bench`: docs/perf.md — matmul GFLOP/s, per-kernel shares, training-step ms and tokens/s for each
// preset, and the same step in TensorFlow.js's and jax-js's WebGPU backends on the same adapter,
// as ratios.
import { writeFileSync } from 'node:fs';
import type { Command } from '../command';
import { intOption, UsageError } from '../command';
import { nodeGpu } from '../../engine/node';
import { benchMarkdown, DEFAULT_CASES, DEFAULT_MATMUL, LARGE_CASES, LARGE_MATMUL, runBench, type StepCase } from '../../bench/run';
import { loadJaxjsWebgpuInNode, loadTfjsWebgpuInNode } from '../../bench/peer-node';
import { DEFAULT_MEMORY_PLANS } from '../../bench/memory-plan';
import { parseMatmulShape, parseStepCase, stepCaseText } from '../../bench/cases';
import { modelPresetNames } from '../../model/family';
import { benchGeneration, DEFAULT_GENERATE_CASES, generateCaseText, generationMarkdown, parseGenerateCase } from '../../bench/generate-bench';

/** `preset:BxT`, optionally `:reduced`, `:nopeer`, `:notfjs`, `:nojaxjs`, e.g. `builtin:8x128`, `llama-tiny:4x32` (any model preset; Llama-family ones run without the peers). */
export function parseCase(text: string): StepCase {
  try {
    return parseStepCase(text);
  } catch (e) {
    throw new UsageError(`--${(e as Error).message}`, { cause: e });
  }
}

function parseShape(text: string): [number, number, number] {
  try {
    return parseMatmulShape(text);
  } catch (e) {
    throw new UsageError(`--matmul: ${(e as Error).message}`, { cause: e });
  }
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v : typeof v === 'string' ? [v] : []);

export const bench: Command = {
  name: 'bench',
  summary: 'Benchmark the engine on this adapter against TensorFlow.js\'s and jax-js\'s WebGPU backends: matmul GFLOP/s, per-kernel shares, training-step ms and tokens/s per preset, peak GPU memory.',
  options: {
    json: { type: 'string', valueName: 'FILE', description: 'Write the full report as JSON' },
    markdown: { type: 'string', valueName: 'FILE', description: 'Write the README table as markdown' },
    case: { type: 'string', multiple: true, valueName: 'PRESET:BxT', description: `Training-step case, repeatable; PRESET: ${modelPresetNames().join(', ')}; flags :reduced, :nopeer, :notfjs, :nojaxjs (default: ${DEFAULT_CASES.map(stepCaseText).join(' ')})` },
    matmul: { type: 'string', multiple: true, valueName: 'MxNxK', description: `Matmul shape, repeatable (default: ${DEFAULT_MATMUL.map((s) => s.join('x')).join(' ')})` },
    large: { type: 'boolean', description: `Add real models' shapes: matmuls ${LARGE_MATMUL.map((s) => s.join('x')).join(' ')} and the step ${LARGE_CASES.map(stepCaseText).join(' ')} (minutes on a software adapter)` },
    reps: { type: 'string', valueName: 'N', description: 'Timed repetitions per measurement (medians are reported)', default: '3' },
    'no-peer': { type: 'boolean', description: 'Skip both peers (no ratios)' },
    'no-tfjs': { type: 'boolean', description: 'Skip the TensorFlow.js peer' },
    'no-jaxjs': { type: 'boolean', description: 'Skip the jax-js peer' },
    'no-profile': { type: 'boolean', description: 'Skip the per-kernel timestamp profile' },
    'no-memory-plan': { type: 'boolean', description: 'Skip the DPO 8 × 512 memory plans (micro-batches of one pair): GPT-2 small (bf16 moments) and SmolLM2-135M (f32 and bf16 moments), without activation checkpointing, and SmolLM2-135M with LoRA r = 8, a bf16 base and checkpointing (f32 moments); buffers allocated, not run' },
    'memory-run': { type: 'boolean', description: 'Also execute one micro-batch and the AdamW update of each memory plan (tens of minutes each on a software adapter)' },
    'generate-case': { type: 'string', multiple: true, valueName: 'PRESET:BxPROMPT+NEW', description: `Generation case (key/value-cached decode, tokens/s), repeatable (default: ${DEFAULT_GENERATE_CASES.map(generateCaseText).join(' ')})` },
    'no-generate': { type: 'boolean', description: 'Skip the generation tokens/s cases' },
  },
  details: [
    'Ours and the peers run alternately in one process on one adapter; ratios are ours ÷ peer speed (higher is better).',
    'On a software adapter (SwiftShader) absolute numbers mean little; ratios taken in one run do.',
    'The peers implement GPT-2 only: Llama-family cases (llama-tiny, qwen-tiny, smollm2-135m, qwen2.5-0.5b) run ours only.',
    'smollm2-135m and qwen2.5-0.5b are the real shapes with random weights: on a software adapter use :reduced (e.g. smollm2-135m:1x8:reduced).',
  ],
  async run(opts) {
    const reps = intOption(opts, 'reps', 3, 1);
    const cases = [...(list(opts.case).length ? list(opts.case).map(parseCase) : DEFAULT_CASES), ...(opts.large ? LARGE_CASES : [])];
    const matmulShapes = [...(list(opts.matmul).length ? list(opts.matmul).map(parseShape) : DEFAULT_MATMUL), ...(opts.large ? LARGE_MATMUL : [])];
    const genCases = list(opts['generate-case']).map((t) => {
      try {
        return parseGenerateCase(t);
      } catch (e) {
        throw new UsageError(`--${(e as Error).message}`, { cause: e });
      }
    });
    const log = (line: string) => console.error(line);
    const gpu = await nodeGpu('prefplay-bench');
    const peer = opts['no-peer'] || opts['no-tfjs'] ? null : await loadTfjsWebgpuInNode();
    const jax = opts['no-peer'] || opts['no-jaxjs'] ? null : await loadJaxjsWebgpuInNode();
    const memory = opts['no-memory-plan'] ? [] : DEFAULT_MEMORY_PLANS.map((m) => ({ ...m, run: !!opts['memory-run'] }));
    const report = await runBench(gpu, peer, { cases, matmulShapes, reps, profile: !opts['no-profile'], memory, log, jax });
    const generation = opts['no-generate'] ? [] : await benchGeneration(gpu, genCases.length ? genCases : DEFAULT_GENERATE_CASES, reps, log);
    const md = benchMarkdown(report) + (generation.length ? `\n\n${generationMarkdown(generation)}` : '');
    if (typeof opts.json === 'string') writeFileSync(opts.json, JSON.stringify({ ...report, generation }, null, 2) + '\n');
    if (typeof opts.markdown === 'string') writeFileSync(opts.markdown, md + '\n');
    console.log(md);
    console.log(`\nratios: ${JSON.stringify(report.ratios)}`);
    gpu.device.destroy();
    return 0;
  },
};
