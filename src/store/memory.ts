// GPU memory a run needs, from the engine's own size tables, for either model family:
// parameters, gradients and (AdamW) two moments in four arenas of the family's parameter table
// (the moments at 2 bytes per value when stored as bf16), the Llama family's model-wide stacking
// scratch, plus one activation arena per batch shape (2·B sequences of T tokens, chosen and
// rejected: src/model/gpt.ts activationSpec or src/model/llama.ts llamaActivationSpec, their
// kept projections at 2 bytes per value when kept as f16). tests/gpu/memory-plan.test.ts ties
// these figures to the bytes the bench's memory plan actually allocates.
import type { MomentsDtype } from '../train/config';
import type { ActivationsDtype } from '../model/gpt';
import { modelActivationBytes, modelParamCount, modelScratchBytes, sequenceConfig, type ModelConfig } from '../model/family';

export interface MemoryEstimate {
  /** Weights, gradients and optimizer moments (and any model-wide scratch). */
  state: number;
  /** Activations of one batch shape. */
  activations: number;
  perRun: number;
}

export function memoryEstimate(c: ModelConfig, batchSize: number, seqLen: number, optimizer: 'adamw' | 'sgd', momentsDtype: MomentsDtype = 'f32', activationsDtype: ActivationsDtype = 'f32'): MemoryEstimate {
  const P = modelParamCount(c);
  const moments = optimizer === 'adamw' ? 2 * P * (momentsDtype === 'bf16' ? 2 : 4) : 0;
  const state = 4 * P * 2 + moments + modelScratchBytes(c);
  const activations = modelActivationBytes(c, 2 * batchSize, Math.min(seqLen, sequenceConfig(c).nPositions), activationsDtype);
  return { state, activations, perRun: state + activations };
}
