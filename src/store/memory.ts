// GPU memory a run needs, from the engine's own size tables: parameters, gradients and (AdamW)
// two moments in four arenas of paramSpec's size (the moments at 2 bytes per value when stored
// as bf16), plus one activation arena per batch shape (src/model/gpt.ts activationSpec: 2·B
// sequences of T tokens, chosen and rejected; its qkv and fch at 2 bytes per value when kept as f16).
import { paramCount, type GPTConfig } from '../model/config';
import type { MomentsDtype } from '../train/config';
import { activationBytes, type ActivationsDtype } from '../model/gpt';

export interface MemoryEstimate {
  /** Weights, gradients and optimizer moments. */
  state: number;
  /** Activations of one batch shape. */
  activations: number;
  perRun: number;
}

export function memoryEstimate(c: GPTConfig, batchSize: number, seqLen: number, optimizer: 'adamw' | 'sgd', momentsDtype: MomentsDtype = 'f32', activationsDtype: ActivationsDtype = 'f32'): MemoryEstimate {
  const P = paramCount(c);
  const moments = optimizer === 'adamw' ? 2 * P * (momentsDtype === 'bf16' ? 2 : 4) : 0;
  const state = 4 * P * 2 + moments;
  const activations = activationBytes(c, 2 * batchSize, Math.min(seqLen, c.nPositions), activationsDtype);
  return { state, activations, perRun: state + activations };
}
