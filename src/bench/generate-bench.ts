// Generation throughput (docs/perf.md): the key/value-cached decode of src/model/decode.ts on random
// weights of a preset, B prompts of a fixed length, a fixed number of new tokens (no stop id, so
// every run does the same work), sampled at temperature 1 with top-k 50 on the GPU. Reported:
// the prefill alone (one new token), the whole generation, and tokens per second overall and of
// the decode steps alone (the whole minus the prefill).
import type { GpuContext } from '../engine/gpu';
import { createModel, isLlamaConfig, modelPresetConfig, modelType, sequenceConfig } from '../model/family';
import { DecodeRunner, type DecodeModel } from '../model/decode';
import { Rng } from '../util/rng';
import { benchModelWeights } from './workload';
import { median, round } from './stats';

export interface GenerateCase {
  preset: string;
  /** Prompts per batch. */
  B: number;
  /** Tokens per prompt. */
  prompt: number;
  /** Tokens generated per prompt. */
  newTokens: number;
}

export const DEFAULT_GENERATE_CASES: GenerateCase[] = [
  { preset: 'builtin', B: 1, prompt: 16, newTokens: 64 },
  { preset: 'builtin', B: 16, prompt: 16, newTokens: 64 },
  { preset: 'llama-tiny', B: 16, prompt: 16, newTokens: 32 },
  { preset: 'gpt2', B: 1, prompt: 8, newTokens: 8 },
];

export function generateCaseText(c: GenerateCase): string {
  return `${c.preset}:${c.B}x${c.prompt}+${c.newTokens}`;
}

/** `preset:BxPROMPT+NEW`, e.g. `builtin:16x16+64`. */
export function parseGenerateCase(text: string): GenerateCase {
  const m = /^([\w.-]+):(\d+)x(\d+)\+(\d+)$/.exec(text);
  if (!m) throw new Error(`generate-case "${text}": expected PRESET:BxPROMPT+NEW (e.g. builtin:16x16+64)`);
  const c = { preset: m[1], B: Number(m[2]), prompt: Number(m[3]), newTokens: Number(m[4]) };
  if (c.B < 1 || c.prompt < 1 || c.newTokens < 1) throw new Error(`generate-case "${text}": B, PROMPT and NEW must be ≥ 1`);
  modelPresetConfig(c.preset); // an unknown preset throws, listing them
  return c;
}

export interface GenerateResult {
  preset: string;
  family: string;
  B: number;
  prompt: number;
  new_tokens: number;
  /** Median ms of a prefill plus one sampled token. */
  prefill_ms: number;
  /** Median ms of the whole generation (prefill and every decode step, ids and log-probs read back). */
  ms: number;
  ms_per_step: number;
  /** B·new_tokens over the whole. */
  tokens_per_s: number;
  /** B·(new_tokens − 1) over the whole minus the prefill: the decode steps' rate. */
  decode_tokens_per_s: number;
  /** GPU bytes of the runner (prefill activations, key/value cache, logits). */
  runner_bytes: number;
}

export async function generateCase(gpu: GpuContext, c: GenerateCase, reps: number, log: (line: string) => void): Promise<GenerateResult> {
  const config = modelPresetConfig(c.preset);
  const P = sequenceConfig(config).nPositions;
  if (c.prompt + c.newTokens - 1 > P) throw new Error(`bench: ${c.prompt} + ${c.newTokens} tokens exceed ${c.preset}'s ${P} positions`);
  const model = createModel(gpu, { config }) as DecodeModel;
  const runner = new DecodeRunner(model, c.B, c.prompt, c.newTokens);
  try {
    model.upload(benchModelWeights(config, 1));
    const rng = new Rng(5);
    const V = config.vocabSize;
    const prompts = Array.from({ length: c.B }, () => Array.from({ length: c.prompt }, () => rng.int(V)));
    const opts = { temperature: 1, topK: 50, seed: 1, stopIds: [] };
    const time = async (n: number) => {
      const t0 = performance.now();
      await runner.generate(prompts, { ...opts, maxNewTokens: n });
      return performance.now() - t0;
    };
    log(`  ${c.preset} ${c.B}×${c.prompt}+${c.newTokens}: warm-up`);
    await time(Math.min(2, c.newTokens));
    const pre: number[] = [];
    const all: number[] = [];
    for (let r = 0; r < reps; r++) {
      pre.push(await time(1));
      all.push(await time(c.newTokens));
      log(`  ${c.preset} generate ${r + 1}/${reps}: prefill ${pre[r].toFixed(0)} ms, all ${all[r].toFixed(0)} ms`);
    }
    const p = median(pre);
    const ms = median(all);
    const decodeMs = Math.max(ms - p, 1e-3);
    return {
      preset: c.preset,
      family: modelType(config),
      B: c.B,
      prompt: c.prompt,
      new_tokens: c.newTokens,
      prefill_ms: round(p, 1),
      ms: round(ms, 1),
      ms_per_step: round(c.newTokens > 1 ? decodeMs / (c.newTokens - 1) : p, 2),
      tokens_per_s: round((c.B * c.newTokens * 1000) / ms, 1),
      decode_tokens_per_s: c.newTokens > 1 ? round((c.B * (c.newTokens - 1) * 1000) / decodeMs, 1) : round((c.B * 1000) / p, 1),
      runner_bytes: runner.bytes,
    };
  } finally {
    runner.destroy();
    model.destroy();
  }
}

/** Every case in turn. */
export async function benchGeneration(gpu: GpuContext, cases: readonly GenerateCase[], reps: number, log: (line: string) => void): Promise<GenerateResult[]> {
  const out: GenerateResult[] = [];
  for (const c of cases) {
    log(`generation ${c.preset} (B=${c.B}, prompt ${c.prompt}, ${c.newTokens} new${isLlamaConfig(modelPresetConfig(c.preset)) ? ', Llama family' : ''})…`);
    out.push(await generateCase(gpu, c, reps, log));
  }
  return out;
}

/** The README's generation table. */
export function generationMarkdown(rs: readonly GenerateResult[]): string {
  const lines = [
    '| preset | prompts × prompt length + new | prefill ms | total ms | ms / decode step | tokens/s | decode tokens/s |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const r of rs) lines.push(`| ${r.preset} | ${r.B} × ${r.prompt} + ${r.new_tokens} | ${r.prefill_ms} | ${r.ms} | ${r.ms_per_step} | ${r.tokens_per_s} | ${r.decode_tokens_per_s} |`);
  return lines.join('\n');
}
