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
import { defaultCheckpointActivations, modelActivationBytes, modelParamCount, modelScratchBytes, sequenceConfig, type ModelConfig } from '../model/family';
import { checkpointBaseDtype, linearModules, loraParamCount, loraProblem, type BaseDtype, type LoraConfig } from '../model/lora';

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

/**
 * The memory choices a run with the page's settings makes on model `c`: LoRA as set (left out when
 * its targets do not fit this model: the run would refuse it), the base dtype as set or the
 * checkpoint's own (a LoRA run's default, as the CLI's; `checkpointDtype` when the config does
 * not say, e.g. a Hub model's published dtype), activation checkpointing as set or the
 * model-size default (what the trainer does when a run does not say).
 */
export function settingsMemoryOptions(c: ModelConfig, s: { lora?: LoraConfig | null; baseDtype?: BaseDtype; checkpointActivations?: boolean }, checkpointDtype: BaseDtype = checkpointBaseDtype(c)): Required<MemoryOptions> {
  const lora = s.lora && !loraProblem(c, s.lora) ? s.lora : null;
  return { lora, baseDtype: lora ? (s.baseDtype ?? checkpointDtype) : 'f32', checkpoint: s.checkpointActivations ?? defaultCheckpointActivations(c) };
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

/** The savings in words, e.g. "LoRA saves 1.31 GB, bf16 base saves 212.4 MB, checkpointing saves 96.0 MB" ('' when every choice is off). */
export function savingsText(sv: MemorySavings, opts: MemoryOptions, bytes: (n: number) => string): string {
  const parts: string[] = [];
  if (sv.lora > 0) parts.push(`LoRA saves ${bytes(sv.lora)}`);
  if (sv.baseDtype > 0) parts.push(`${opts.baseDtype} base saves ${bytes(sv.baseDtype)}`);
  if (sv.checkpoint > 0) parts.push(`checkpointing saves ${bytes(sv.checkpoint)}`);
  return parts.join(', ');
}
