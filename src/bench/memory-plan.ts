// docs/perf.md's memory target: one GPT-2-small DPO update at batch 8 × 512 tokens within 2 GB;
// and the same update of SmolLM2-135M (a Llama-family model, random weights), which the README
// states without a target. What the trainer holds through a run: parameters, gradients, the
// AdamW moments, a Llama model's stacking scratch, and one activation arena for the micro-batch
// shape (RunnerPool keeps no second large one). The 8 pairs run as gradient-accumulation
// micro-batches of `microPairs` pairs — 2·microPairs sequences, chosen and rejected — so
// activations scale with the micro-batch, not the update's batch.
// The figure is the byte size of every buffer actually created on the adapter for that plan;
// with `run`, one micro-batch forward + backward and one AdamW update also execute on it.
import type { GpuContext } from '../engine/gpu';
import { StepEncoder } from '../engine/encoder';
import { LlamaModel } from '../model/llama';
import { createModel, modelPresetConfig, modelType, trainableOf } from '../model/family';
import type { BaseDtype, LoraConfig } from '../model/lora';
import { memoryEstimate } from '../store/memory';
import { OptimizerState } from '../train/optimizer-state';
import { TRAIN_DEFAULTS, type MomentsDtype } from '../train/config';
import { Rng } from '../util/rng';
import { benchBatch, benchCoefficients, benchModelWeights } from './workload';
import { round } from './stats';

export interface MemoryPlanOptions {
  preset: string;
  /** Pairs per update (the batch size a user asks for). */
  pairs: number;
  T: number;
  /** Pairs per micro-batch; pairs / microPairs micro-batches accumulate into one update. */
  microPairs: number;
  momentsDtype: MomentsDtype;
  /** Execute one micro-batch and the update too (slow on a software adapter). */
  run: boolean;
  /** A budget to check the total against (GPT-2 small's 2 GB); none: the total is only reported. */
  limitBytes?: number;
  /** LoRA: the adapters train, the base is frozen (held once, no gradients or moments). */
  lora?: LoraConfig;
  /** A LoRA run's base storage. */
  baseDtype?: BaseDtype;
  /** Activation checkpointing. */
  checkpoint?: boolean;
}

/** The budget docs/perf.md sets for GPT-2 small: 2 GB. */
export const MEMORY_LIMIT_BYTES = 2e9;

export const DEFAULT_MEMORY_PLAN: MemoryPlanOptions = { preset: 'gpt2', pairs: 8, T: 512, microPairs: 1, momentsDtype: 'bf16', run: false, limitBytes: MEMORY_LIMIT_BYTES };

/** SmolLM2-135M, DPO 8 pairs × 512 as micro-batches of one pair, with f32 and with bf16 moments (no budget: reported). */
export const SMOLLM2_MEMORY_PLANS: MemoryPlanOptions[] = (['f32', 'bf16'] as const).map((momentsDtype) => ({ preset: 'smollm2-135m', pairs: 8, T: 512, microPairs: 1, momentsDtype, run: false }));

/**
 * SmolLM2-135M DPO 8 pairs × 512 with LoRA r = 8 on every linear projection, as SmolLM2 ships
 * (bf16 base), activation checkpointing (its default at this size), f32 moments: within 1.5 GB.
 */
export const SMOLLM2_LORA_MEMORY_PLAN: MemoryPlanOptions = { preset: 'smollm2-135m', pairs: 8, T: 512, microPairs: 1, momentsDtype: 'f32', run: false, limitBytes: 1.5e9, lora: { r: 8, alpha: 16 }, baseDtype: 'bf16', checkpoint: true };

/** What `npm run bench` allocates unless --no-memory-plan: GPT-2 small's plan, SmolLM2-135M's two, then its LoRA plan. */
export const DEFAULT_MEMORY_PLANS: MemoryPlanOptions[] = [DEFAULT_MEMORY_PLAN, ...SMOLLM2_MEMORY_PLANS, SMOLLM2_LORA_MEMORY_PLAN];

export async function memoryPlan(gpu: GpuContext, o: MemoryPlanOptions) {
  const config = modelPresetConfig(o.preset);
  if (o.pairs % o.microPairs !== 0) throw new Error(`memory plan: ${o.pairs} pairs do not split into micro-batches of ${o.microPairs}`);
  const B = 2 * o.microPairs;
  const model = createModel(gpu, { config }, { lora: o.lora, baseDtype: o.baseDtype });
  // what trains: every parameter, or with LoRA the adapters
  const target = trainableOf(model);
  const grads = target.grads;
  const opt = new OptimizerState(target, { ...TRAIN_DEFAULTS, optimizer: 'adamw', momentsDtype: o.momentsDtype });
  const runner = model.createRunner(B, o.T, 'f32', o.checkpoint ?? false);
  let ran: { forward_ms: number; backward_ms: number; optimizer_ms: number } | null = null;
  try {
    if (o.run) {
      model.upload(benchModelWeights(config, 1));
      const batch = benchBatch(config, B, o.T, 2);
      runner.setBatch(batch);
      const d = gpu.device;
      let t0 = performance.now();
      let enc = new StepEncoder(gpu, 'plan:forward');
      runner.forward(enc);
      enc.submit();
      await runner.readStats();
      const forward_ms = performance.now() - t0;
      t0 = performance.now();
      runner.setCoefficients(benchCoefficients(batch, new Rng(3)));
      enc = new StepEncoder(gpu, 'plan:backward');
      enc.clear(grads.whole());
      runner.backward(enc);
      enc.submit();
      await d.queue.onSubmittedWorkDone();
      const backward_ms = performance.now() - t0;
      t0 = performance.now();
      await opt.gradNorm();
      opt.apply(1e-5, 1);
      await d.queue.onSubmittedWorkDone();
      ran = { forward_ms: round(forward_ms, 0), backward_ms: round(backward_ms, 0), optimizer_ms: round(performance.now() - t0, 0) };
    }
    // scratch: the Llama family's stacking scratch for fused projections (0 for GPT-2 and whenever every group is read in place)
    // params: the base (a 16-bit base's packed weights too) and any adapters
    const bytes = { params: model.params.bytes + (model.packed?.bytes ?? 0) + (model.lora?.params.bytes ?? 0), grads: grads.bytes, optimizer: opt.bytes, scratch: model instanceof LlamaModel ? model.stackScratchBytes : 0, activations: runner.bytes };
    const total = bytes.params + bytes.grads + bytes.optimizer + bytes.scratch + bytes.activations;
    const limit = o.limitBytes ?? null;
    return {
      preset: o.preset,
      family: modelType(config),
      pairs: o.pairs,
      seq_len: o.T,
      micro_batch_pairs: o.microPairs,
      grad_accum: o.pairs / o.microPairs,
      moments_dtype: o.momentsDtype,
      lora: o.lora ?? null,
      base_dtype: o.lora ? (o.baseDtype ?? 'f32') : null,
      checkpoint_activations: o.checkpoint ?? false,
      bytes,
      total_bytes: total,
      /** The page's estimate of the same plan (src/store/memory.ts), for comparison with what was allocated. */
      estimate_bytes: memoryEstimate(config, o.microPairs, o.T, 'adamw', o.momentsDtype, 'f32', { lora: o.lora, baseDtype: o.baseDtype, checkpoint: o.checkpoint }).perRun,
      limit_bytes: limit,
      within_limit: limit === null ? null : total <= limit,
      /** The same update without accumulation and with f32 moments (estimate, not allocated). */
      naive_estimate_bytes: memoryEstimate(config, o.pairs, o.T, 'adamw', 'f32').perRun,
      ran,
    };
  } finally {
    runner.destroy();
    opt.destroy();
    model.destroy();
  }
}

export type MemoryPlanResult = Awaited<ReturnType<typeof memoryPlan>>;
