// GPU memory a run needs, from the engine's own size tables, for either model family:
// parameters, gradients and (AdamW) two moments in four arenas of the family's parameter table
// (the moments at 2 bytes per value when stored as bf16), the Llama family's model-wide stacking
// scratch, plus one activation arena per batch shape (2·B sequences of T tokens, chosen and
// rejected: src/model/gpt.ts activationSpec or src/model/llama.ts llamaActivationSpec, their
// kept projections at 2 bytes per value when kept as f16). tests/gpu/memory-plan.test.ts ties
// these figures to the bytes the bench's memory plan actually allocates.
// With LoRA (src/model/lora.ts) the base parameters are held once — no gradients, no moments;
// every linear projection's weight at 2 bytes with a bf16/f16 base — and the adapters get the
// four arenas instead; activation checkpointing keeps one layer's activations besides every
// layer's input (the activation specs say exactly what).
import type { MomentsDtype } from '../train/config';
import type { ActivationsDtype } from '../model/gpt';
import { modelActivationBytes, modelParamCount, modelScratchBytes, sequenceConfig, type ModelConfig } from '../model/family';
import { linearModules, loraParamCount, type BaseDtype, type LoraConfig } from '../model/lora';

export interface MemoryEstimate {
  /** Weights, gradients and optimizer moments (and any model-wide scratch). */
  state: number;
  /** Activations of one batch shape. */
  activations: number;
  perRun: number;
}

/** The memory choices beside the optimizer and the activation dtype (all off: full fine-tuning, every layer's activations kept). */
export interface MemoryOptions {
  /** LoRA adapters: only they train. */
  lora?: LoraConfig | null;
  /** A LoRA run's frozen base storage. */
  baseDtype?: BaseDtype;
  /** Activation checkpointing. */
  checkpoint?: boolean;
}

export function memoryEstimate(c: ModelConfig, batchSize: number, seqLen: number, optimizer: 'adamw' | 'sgd', momentsDtype: MomentsDtype = 'f32', activationsDtype: ActivationsDtype = 'f32', opts: MemoryOptions = {}): MemoryEstimate {
  const P = modelParamCount(c);
  const lora = opts.lora ?? null;
  // what trains: every parameter, or the adapters
  const trained = lora ? loraParamCount(c, lora) : P;
  const moments = optimizer === 'adamw' ? 2 * trained * (momentsDtype === 'bf16' ? 2 : 4) : 0;
  // 16-bit base: the linear projections' weights at 2 bytes (two values per u32 word)
  const packed = lora && opts.baseDtype && opts.baseDtype !== 'f32' ? linearModules(c).reduce((n, m) => n + m.in * m.out, 0) : 0;
  const base = 4 * (P - packed) + 2 * packed;
  const state = base + (lora ? 8 * trained : 4 * P) + moments + modelScratchBytes(c);
  const activations = modelActivationBytes(c, 2 * batchSize, Math.min(seqLen, sequenceConfig(c).nPositions), activationsDtype, { lora, checkpoint: opts.checkpoint });
  return { state, activations, perRun: state + activations };
}

/** What each memory choice saves against the same run without it (bytes; 0 when the choice is off). */
export interface MemorySavings {
  lora: number;
  baseDtype: number;
  checkpoint: number;
}

/** The savings the page's estimate shows next to each choice: each taken out alone, the rest kept. */
export function memorySavings(c: ModelConfig, batchSize: number, seqLen: number, optimizer: 'adamw' | 'sgd', momentsDtype: MomentsDtype = 'f32', activationsDtype: ActivationsDtype = 'f32', opts: MemoryOptions = {}): MemorySavings {
  const est = (o: MemoryOptions) => memoryEstimate(c, batchSize, seqLen, optimizer, momentsDtype, activationsDtype, o).perRun;
  const now = est(opts);
  return {
    lora: opts.lora ? est({ ...opts, lora: null, baseDtype: undefined }) - now : 0,
    baseDtype: opts.lora && opts.baseDtype && opts.baseDtype !== 'f32' ? est({ ...opts, baseDtype: 'f32' }) - now : 0,
    checkpoint: opts.checkpoint ? est({ ...opts, checkpoint: false }) - now : 0,
  };
}
