// GPU memory a run needs, from the engine's own size tables: parameters, gradients and (AdamW)
// two moments in four arenas of paramSpec's size, plus one activation arena per batch shape
// (src/model/gpt.ts activationSpec: 2·B sequences of T tokens, chosen and rejected).
import { paramCount, type GPTConfig } from '../model/config';
import { LM_CHUNK } from '../model/gpt';
import { lmHeadScratchSize } from '../kernels/logprob';
import { attentionScratchSize } from '../kernels/attention';

export interface MemoryEstimate {
  /** Weights, gradients and optimizer moments. */
  state: number;
  /** Activations of one batch shape. */
  activations: number;
  perRun: number;
}

export function memoryEstimate(c: GPTConfig, batchSize: number, seqLen: number, optimizer: 'adamw' | 'sgd'): MemoryEstimate {
  const P = paramCount(c);
  const state = 4 * P * (optimizer === 'adamw' ? 4 : 2);
  const B = 2 * batchSize;
  const T = Math.min(seqLen, c.nPositions);
  const BT = B * T;
  const { nEmbd: C, nHead: NH, nLayer: L, vocabSize: V } = c;
  const chunk = Math.min(LM_CHUNK, Math.ceil(V / 64) * 64);
  const perLayer = BT * (18 * C + 4) + B * NH * T * T;
  const floats = BT * C + L * perLayer + BT * (C + 5) + lmHeadScratchSize(BT, chunk) + BT * 14 * C + attentionScratchSize(B, T, NH) + BT * 5 + 3 * B;
  const activations = 4 * floats;
  return { state, activations, perRun: state + activations };
}
