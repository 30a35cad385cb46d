// `npm run bench`: matmul GFLOP/s against the adapter's FMA ceiling and the peers, per-kernel
// shares of a training step (timestamp queries), and training-step ms and tokens/s for each
// preset, ours and the peers' — TensorFlow.js (src/bench/peer-tfjs.ts) and jax-js
// (src/bench/peer-jaxjs.ts) — measured alternately in one process on one adapter.
// Presets of either family (GPT-2, Llama); the peers implement GPT-2 only, so a Llama-family
// case runs ours only and its report row says why.
import type * as TF from '@tensorflow/tfjs-core';
import type { GpuContext } from '../engine/gpu';
import { isLlamaConfig, modelPresetConfig, modelType, sequenceConfig } from '../model/family';
import { Rng } from '../util/rng';
import { benchBatch, benchCoefficients, benchModelWeights } from './workload';
import { EngineStep } from './train-step';
import { TfjsGpt, peerBytes } from './peer-tfjs';
import { JaxGpt, type LoadedJaxPeer } from './peer-jaxjs';
import { benchMatmul, type MatmulResult } from './matmul-bench';
import { benchF16, f16Markdown } from './f16-bench';
import { measurePeak } from './peak';
import { kernelShares } from './profile';
import { emptyPhases, median, phaseMedians, round } from './stats';
import { memoryPlan, type MemoryPlanOptions, type MemoryPlanResult } from './memory-plan';

export interface StepCase {
  preset: string;
  B: number;
  T: number;
  /** Smaller than a real step (batch or length cut to fit the time budget); said in the table. */
  reduced: boolean;
  /** Run the TF.js peer on this case too. */
  peer: boolean;
  /** Run the jax-js peer on this case too (default: as `peer`). */
  jaxjs?: boolean;
  /** Timed repetitions for this case (default: the run's reps); a reduced case also skips the kernel profile. */
  reps?: number;
}

export interface BenchOptions {
  cases: StepCase[];
  matmulShapes: Array<[number, number, number]>;
  reps: number;
  profile: boolean;
  /** Memory plans to allocate (docs/perf.md: GPT-2 small and SmolLM2-135M, DPO 8 × 512); empty skips them. */
  memory: MemoryPlanOptions[];
  log: (line: string) => void;
  /** The jax-js peer (absent or null: not run). */
  jax?: LoadedJaxPeer | null;
}

export interface PeerInfo {
  tf: typeof TF;
  name: string;
  version: string;
  adapter: { vendor: string; architecture: string; description: string };
}

export const DEFAULT_CASES: StepCase[] = [
  { preset: 'tiny', B: 4, T: 32, reduced: false, peer: true },
  { preset: 'builtin', B: 4, T: 64, reduced: false, peer: true },
  { preset: 'llama-tiny', B: 4, T: 32, reduced: false, peer: false },
  { preset: 'gpt2', B: 1, T: 8, reduced: true, peer: false, reps: 1 },
];

/** `peer_skipped` for a Llama-family case (the others: 'not asked for this case', 'no peer loaded'). */
const PEER_GPT2_ONLY = 'the TF.js peer implements GPT-2 only';
/** `jaxjs_skipped` for a Llama-family case. */
const JAX_GPT2_ONLY = 'the jax-js peer implements GPT-2 only';

/**
 * `--large` (docs/perf.md "Larger shapes"): shapes of real models, opt-in because on a software
 * adapter they take minutes — GPT-2 small's MLP at 2048 tokens (2048×3072×768 would be the c_fc;
 * 2048×2048×768 is the square-ish one the issue names), its c_attn at 512 tokens, and the LM head
 * of SmolLM2-135M (V = 49,152, C = 576) at 128 tokens.
 */
export const LARGE_MATMUL: Array<[number, number, number]> = [
  [512, 2304, 768], // GPT-2 small c_attn at 512 tokens
  [2048, 2048, 768],
  [128, 49152, 576], // SmolLM2-135M LM head at 128 tokens
];

/**
 * `--large`'s training steps, one timed step each: GPT-2 small at 1 × 128, ours and jax-js — not
 * TF.js: on SwiftShader its first step of this model did not end within 24 minutes (docs/perf.md);
 * name `--case gpt2:1x128` for all three (scripts/device-bench.sh does, on a GPU) — and the
 * SmolLM2-135M-shaped step at 1 × 128 (random weights), ours only: the peers implement GPT-2 only.
 */
export const LARGE_CASES: StepCase[] = [
  { preset: 'gpt2', B: 1, T: 128, reduced: false, peer: false, jaxjs: true, reps: 1 },
  { preset: 'smollm2-135m', B: 1, T: 128, reduced: false, peer: false, reps: 1 },
];

export const DEFAULT_MATMUL: Array<[number, number, number]> = [
  [256, 384, 128], // builtin c_attn at B·T = 256
  [256, 128, 512], // builtin mlp c_proj
  [512, 512, 512],
];

export async function stepCase(gpu: GpuContext, peer: PeerInfo | null, c: StepCase, o: Pick<BenchOptions, 'reps' | 'profile' | 'log' | 'jax'>) {
  const config = modelPresetConfig(c.preset);
  const maxT = sequenceConfig(config).nPositions;
  if (c.T > maxT) throw new Error(`bench: T=${c.T} exceeds ${c.preset}'s ${isLlamaConfig(config) ? 'max_position_embeddings' : 'n_positions'} ${maxT}`);
  const weights = benchModelWeights(config, 1);
  const batch = benchBatch(config, c.B, c.T, 2);
  const tokens = c.B * c.T;
  const ours = new EngineStep(gpu, config, weights, batch, 3);
  const peerSkipped = isLlamaConfig(config) ? PEER_GPT2_ONLY : !c.peer ? 'not asked for this case' : !peer ? 'no peer loaded' : null;
  const theirs = peer && !peerSkipped && !isLlamaConfig(config) ? new TfjsGpt(peer.tf, config, weights, c.B, c.T) : null;
  const jaxSkipped = isLlamaConfig(config) ? JAX_GPT2_ONLY : !(c.jaxjs ?? c.peer) ? 'not asked for this case' : !o.jax ? 'no peer loaded' : null;
  const jaxs = o.jax && !jaxSkipped && !isLlamaConfig(config) ? new JaxGpt(o.jax.jax, config, weights, c.B, c.T) : null;
  const rng = new Rng(4);
  const timeIt = async (f: () => Promise<unknown>) => {
    const t0 = performance.now();
    await f();
    return performance.now() - t0;
  };
  o.log(`  ${c.preset} ${c.B}×${c.T}: warm-up`);
  let t0 = performance.now();
  const logpSeq0 = await ours.run(); // at the starting weights: scripts/torch_step.py prints the same number
  o.log(`  ${c.preset} ours first step: ${(performance.now() - t0).toFixed(0)} ms`);
  if (theirs) {
    t0 = performance.now();
    await theirs.step(batch, benchCoefficients(batch, rng));
    o.log(`  ${c.preset} tfjs first step: ${(performance.now() - t0).toFixed(0)} ms`);
  }
  if (jaxs) {
    await jaxs.step(batch, benchCoefficients(batch, rng)); // traces and compiles the jit program
    o.log(`  ${c.preset} jax-js first step (trace + compile + run): ${jaxs.firstStepMs!.toFixed(0)} ms`);
  }
  const ms: number[] = [], peerMs: number[] = [], jaxMs: number[] = [];
  const reps = c.reps ?? o.reps;
  for (let r = 0; r < reps; r++) {
    ms.push(await timeIt(() => ours.run()));
    if (theirs) peerMs.push(await timeIt(() => theirs.step(batch, benchCoefficients(batch, rng))));
    if (jaxs) jaxMs.push(await timeIt(() => jaxs.step(batch, benchCoefficients(batch, rng))));
    o.log(`  ${c.preset} step ${r + 1}/${reps}: ours ${ms[r].toFixed(0)} ms${theirs ? `, tfjs ${peerMs[r].toFixed(0)} ms` : ''}${jaxs ? `, jax-js ${jaxMs[r].toFixed(0)} ms` : ''}`);
  }
  const phases = emptyPhases();
  await ours.run(phases);
  const peerPhases = emptyPhases();
  if (theirs) await theirs.step(batch, benchCoefficients(batch, rng), peerPhases);
  let kernels = null;
  if (o.profile && !c.reduced && gpu.features.has('timestamp-query')) {
    const prof = await ours.profile();
    const gpuMs = (xs: Array<{ ms: number }>) => round(xs.reduce((s, x) => s + Math.max(0, x.ms), 0), 2);
    kernels = { gpu_ms: { forward: gpuMs(prof.forward), backward: gpuMs(prof.backward), optimizer: gpuMs(prof.optimizer) }, shares: kernelShares([...prof.forward, ...prof.backward, ...prof.optimizer]) };
  }
  const med = median(ms);
  const result = {
    preset: c.preset,
    family: modelType(config),
    B: c.B,
    T: c.T,
    tokens,
    reduced: c.reduced,
    params: ours.model.spec.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0),
    ms: round(med, 1),
    tokens_per_s: round((tokens * 1000) / med, 2),
    phases_ms: phaseMedians(phases),
    peak_gpu_bytes: ours.bytes,
    kernels,
    /** Sequence 0's completion log-prob sum at the starting weights (the first forward): `logp_seq0` of scripts/torch_step.py for the same case. */
    check: { logp_seq0: round(logpSeq0, 5) },
    peer: theirs
      ? { ms: round(median(peerMs), 1), tokens_per_s: round((tokens * 1000) / median(peerMs), 2), phases_ms: phaseMedians(peerPhases), gpu_bytes: peerBytes(peer!.tf) }
      : null,
    ratio: theirs ? round(median(peerMs) / med, 3) : null,
    /** Why the peer did not run this case (null when it did). */
    peer_skipped: theirs ? null : peerSkipped,
    /** The jax-js peer: median ms of the jitted step (forward, backward, clip, Adam, loss read back); its first, compiling step apart. */
    jaxjs: jaxs ? { ms: round(median(jaxMs), 1), tokens_per_s: round((tokens * 1000) / median(jaxMs), 2), first_step_ms: round(jaxs.firstStepMs ?? NaN, 1) } : null,
    ratio_jaxjs: jaxs ? round(median(jaxMs) / med, 3) : null,
    /** Why the jax-js peer did not run this case (null when it did). */
    jaxjs_skipped: jaxs ? null : jaxSkipped,
  };
  ours.destroy();
  theirs?.destroy();
  jaxs?.destroy();
  return result;
}

export type StepResult = Awaited<ReturnType<typeof stepCase>>;

/**
 * A per-case ratio map (`ratios.train_step_vs_peer`, `ratios.train_step_vs_jaxjs`). Keyed by the
 * preset where only one case of it has this ratio — the keys the README and docs/perf.md quote,
 * e.g. `builtin` — and by `preset:BxT` for every case of a preset that several have it for
 * (scripts/device-bench.sh runs gpt2:1x128 and gpt2:8x512 in one bench: both stay), with `#2`,
 * `#3`… after a repeated identical case. Cases without it (null: that peer did not run) neither
 * appear nor count, so a key's meaning depends only on the cases this peer ran.
 */
export function stepRatios<S extends Pick<StepCase, 'preset' | 'B' | 'T'>>(steps: readonly S[], ratio: (s: S) => number | null): Record<string, number> {
  const ran = steps.flatMap((s) => {
    const r = ratio(s);
    return r === null ? [] : [{ s, r }];
  });
  const perPreset = new Map<string, number>();
  for (const { s } of ran) perPreset.set(s.preset, (perPreset.get(s.preset) ?? 0) + 1);
  const out: Record<string, number> = {};
  for (const { s, r } of ran) {
    const base = perPreset.get(s.preset) === 1 ? s.preset : `${s.preset}:${s.B}x${s.T}`;
    let key = base;
    for (let n = 2; Object.hasOwn(out, key); n++) key = `${base}#${n}`;
    out[key] = r;
  }
  return out;
}

export async function runBench(gpu: GpuContext & { via?: string }, peer: PeerInfo | null, o: BenchOptions) {
  o.log(`adapter: ${gpu.adapter.description || gpu.adapter.architecture} (${gpu.adapter.vendor})`);
  o.log('matmul ceiling (register-only FMAs)…');
  const ceiling = await measurePeak(gpu);
  const matmul: MatmulResult[] = [];
  for (const [M, N, K] of o.matmulShapes) {
    o.log(`matmul ${M}×${N}×${K}…`);
    matmul.push(await benchMatmul(gpu, peer?.tf ?? null, M, N, K, o.reps, o.jax?.jax ?? null));
  }
  // f16 kernels: self-check and timing where the adapter has shader-f16, else 'not available'
  const f16 = await benchF16(gpu, o.matmulShapes, matmul, o.reps, o.log);
  const train_step: StepResult[] = [];
  for (const c of o.cases) {
    o.log(`training step ${c.preset} (B=${c.B}, T=${c.T}${c.reduced ? ', reduced' : ''})…`);
    train_step.push(await stepCase(gpu, peer, c, o));
  }
  const memory: MemoryPlanResult[] = [];
  for (const m of o.memory) {
    o.log(`memory plan ${m.preset} DPO ${m.pairs} pairs × ${m.T} (micro-batches of ${m.microPairs}, ${m.momentsDtype} moments${m.run ? ', one micro-batch executed' : ''})…`);
    memory.push(await memoryPlan(gpu, m));
  }
  const geomean = (xs: number[]) => (xs.length ? round(Math.exp(xs.reduce((s, r) => s + Math.log(r), 0) / xs.length), 3) : null);
  const ratios = matmul.map((m) => m.ratio).filter((r): r is number => r !== null);
  const jaxRatios = matmul.map((m) => m.ratio_jaxjs).filter((r): r is number => r !== null);
  const largest = matmul.reduce((a, b) => (a.M * a.N * a.K >= b.M * b.N * b.K ? a : b), matmul[0]);
  return {
    date: new Date().toISOString(),
    machine: { platform: typeof process !== 'undefined' ? `${process.platform} ${process.arch}` : 'browser', runtime: typeof process !== 'undefined' ? `node ${process.version}` : 'browser' },
    adapter: { ...gpu.adapter, via: gpu.via ?? null },
    ceiling_gflops: round(ceiling, 4),
    matmul,
    matmul_fraction_of_ceiling: largest ? round(largest.gflops / ceiling, 3) : null,
    /** f16-operand kernels (src/bench/f16-bench.ts): `status` says whether the adapter has shader-f16. */
    f16,
    train_step,
    memory,
    /** The TF.js peer (`ratio`, `train_step_vs_peer`, `matmul_vs_peer` are against it). */
    peer: peer ? { name: peer.name, version: peer.version, adapter: peer.adapter } : null,
    /** The jax-js peer (`ratio_jaxjs`, `train_step_vs_jaxjs`, `matmul_vs_jaxjs`). */
    jaxjs: o.jax ? { name: o.jax.name, version: o.jax.version, adapter: o.jax.adapter } : null,
    ratios: {
      /** Ours ÷ TF.js step speed per case, keyed as `stepRatios` says (`builtin`, or `gpt2:1x128` when a preset repeats). */
      train_step_vs_peer: stepRatios(train_step, (s) => s.ratio),
      /** Geometric mean over the shapes of ours ÷ peer GFLOP/s. */
      matmul_vs_peer: geomean(ratios),
      matmul_vs_peer_min: ratios.length ? Math.min(...ratios) : null,
      /** Ours ÷ jax-js step speed per case, keyed as for the TF.js ratio. */
      train_step_vs_jaxjs: stepRatios(train_step, (s) => s.ratio_jaxjs),
      matmul_vs_jaxjs: geomean(jaxRatios),
      matmul_vs_jaxjs_min: jaxRatios.length ? Math.min(...jaxRatios) : null,
    },
  };
}

export type BenchReport = Awaited<ReturnType<typeof runBench>>;

/** The README table: one row per preset (TF.js peer, then jax-js), then the matmul table. */
export function benchMarkdown(r: BenchReport): string {
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  const x = (ratio: number | null | undefined) => (ratio != null ? `${ratio}×` : '–');
  const jax = r.jaxjs ?? null;
  const lines = [
    `Adapter: ${r.adapter.description || r.adapter.architecture} (${r.adapter.vendor}${r.adapter.isFallbackAdapter ? ', software' : ''}), ${r.machine.runtime}, ${r.date.slice(0, 10)}. ` +
      `Peers: ${r.peer ? `${r.peer.name} ${r.peer.version}` : 'TF.js not run'}; ${jax ? `${jax.name} ${jax.version}` : 'jax-js not run'}. Speed-ups are ours ÷ peer speed.`,
    '',
    '| preset | batch × length | PrefPlay ms/step | tokens/s | fwd / readback / bwd / opt ms | peak GPU memory | TF.js ms/step | vs TF.js | jax-js ms/step | vs jax-js |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of r.train_step) {
    const p = s.phases_ms;
    const peerCell = s.peer ? s.peer.ms : s.peer_skipped === PEER_GPT2_ONLY ? 'not run (GPT-2 only)' : 'not run';
    const jaxCell = s.jaxjs ? s.jaxjs.ms : s.jaxjs_skipped === JAX_GPT2_ONLY || s.peer_skipped === PEER_GPT2_ONLY ? 'not run (GPT-2 only)' : 'not run';
    lines.push(`| ${s.preset} | ${s.B} × ${s.T}${s.reduced ? ' (reduced)' : ''} | ${s.ms} | ${s.tokens_per_s} | ${p.forward ?? '–'} / ${p.readback ?? '–'} / ${p.backward ?? '–'} / ${p.optimizer ?? '–'} | ${mb(s.peak_gpu_bytes)} | ${peerCell} | ${x(s.ratio)} | ${jaxCell} | ${x(s.ratio_jaxjs)} |`);
  }
  const llama = r.train_step.filter((s) => s.peer_skipped === PEER_GPT2_ONLY).map((s) => `${s.preset} (${s.family})`);
  if (llama.length) lines.push('', `Llama-family cases (${llama.join(', ')}) run ours only: ${PEER_GPT2_ONLY}${jax ? ', and so does the jax-js peer' : ''}.`);
  const compiled = r.train_step.filter((s) => s.jaxjs).map((s) => `${s.preset} ${s.B} × ${s.T} ${s.jaxjs!.first_step_ms} ms`);
  if (compiled.length) lines.push('', `jax-js's first step (tracing, kernel generation and compilation, then the step; not in the medians): ${compiled.join(', ')}.`);
  lines.push('', '| matmul M×N×K | PrefPlay GFLOP/s | TF.js GFLOP/s | vs TF.js | jax-js GFLOP/s | vs jax-js |', '|---|---|---|---|---|---|');
  for (const m of r.matmul) lines.push(`| ${m.M}×${m.N}×${m.K} | ${m.gflops} | ${m.peer_gflops ?? '–'} | ${x(m.ratio)} | ${m.jaxjs_gflops ?? '–'} | ${x(m.ratio_jaxjs)} |`);
  lines.push('', `FMA ceiling ${r.ceiling_gflops} GFLOP/s; largest matmul at ${((r.matmul_fraction_of_ceiling ?? 0) * 100).toFixed(0)} % of it.`);
  if (r.f16) lines.push(...f16Markdown(r.f16));
  const gb = (b: number) => `${(b / 1e9).toFixed(2)} GB`;
  for (const m of r.memory) {
    const ran = m.ran ? ` One micro-batch ran: forward ${m.ran.forward_ms} ms, backward ${m.ran.backward_ms} ms, AdamW ${m.ran.optimizer_ms} ms.` : '';
    const scratch = m.bytes.scratch ? `, stacking scratch ${gb(m.bytes.scratch)}` : '';
    const budget = m.limit_bytes === null ? '' : ` ${m.within_limit ? 'within' : 'over'} the ${gb(m.limit_bytes)} budget;`;
    lines.push(
      '',
      `Memory: a ${m.preset} DPO update of ${m.pairs} pairs × ${m.seq_len} tokens as ${m.grad_accum} micro-batches of ${m.micro_batch_pairs} pair(s), ${m.moments_dtype} AdamW moments${m.lora ? `, LoRA r = ${m.lora.r} (${m.base_dtype} base${m.checkpoint_activations ? ', activation checkpointing' : ''})` : ''}, ` +
        `allocates ${gb(m.total_bytes)} (parameters ${gb(m.bytes.params)}, gradients ${gb(m.bytes.grads)}, moments ${gb(m.bytes.optimizer)}${scratch}, activations ${gb(m.bytes.activations)}):` +
        `${budget} all in one micro-batch with f32 moments: ${gb(m.naive_estimate_bytes)}.${ran}`,
    );
  }
  return lines.join('\n');
}
