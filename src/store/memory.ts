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
// Online runs (GRPO, RLOO, PPO: runMemoryEstimate) hold more than the policy and one batch's
// activations: the reference copy of the starting weights and its activation arena (none with
// LoRA: the base with the adapters off is the reference, on the policy's own runner), the
// DecodeRunner's key/value cache and scratch for the update's sequences (src/model/decode.ts
// decodeConfigBytes), a reward model when one scores (frozen: weights and a runner), and PPO's
// value model (trained: weights, gradients, moments and a runner). tests/gpu/memory-online.test.ts
// ties these to what the trainers allocate.
import type { MomentsDtype } from '../train/config';
import type { ActivationsDtype } from '../model/gpt';
import { defaultCheckpointActivations, modelActivationBytes, modelParamCount, modelScratchBytes, sequenceConfig, type ModelConfig } from '../model/family';
import { decodeConfigBytes } from '../model/decode';
import { rewardConfig } from '../model/reward';
import { resolveLengths } from '../data/tokenize';
import { createObjective, type ObjectiveSpec } from '../train/objectives';
import { REWARD_MODEL_REWARD } from '../train/objectives/online';
import { batchLength } from '../train/pairs';
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
  // what trains: every parameter, or the adapters (a reward model's: and its score head, loraParamCount)
  const trained = lora ? loraParamCount(c, lora) : P;
  const moments = optimizer === 'adamw' ? 2 * trained * (momentsDtype === 'bf16' ? 2 : 4) : 0;
  // 16-bit base: the linear projections' weights at 2 bytes (two values per u32 word)
  const packed = lora && opts.baseDtype && opts.baseDtype !== 'f32' ? linearModules(c).reduce((n, m) => n + m.in * m.out, 0) : 0;
  const base = 4 * (P - packed) + 2 * packed;
  const state = base + (lora ? 8 * trained : 4 * P) + moments + modelScratchBytes(c);
  const activations = modelActivationBytes(c, 2 * batchSize, Math.min(seqLen, sequenceConfig(c).nPositions), activationsDtype, { lora, checkpoint: opts.checkpoint });
  return { state, activations, perRun: state + activations };
}

/** What an online run holds besides the policy's state and activations (bytes; 0 when it holds none). */
export interface OnlineMemory {
  /** The reference: a copy of the starting weights and its activation arena (0 with LoRA: the base is the reference). */
  reference: number;
  /** The DecodeRunner: the key/value cache, the prefill's activations, logits and sampled ids. */
  generation: number;
  /** A reward model that scores the completions: its weights and runner (frozen). */
  rewardModel: number;
  /** PPO's value model: weights, gradients, optimizer moments and runner (trained). */
  valueModel: number;
}

/** A run's estimate: the policy's (MemoryEstimate), and for an online run what else it holds; perRun counts all of it. */
export interface RunMemoryEstimate extends MemoryEstimate {
  online: OnlineMemory | null;
}

/** The settings a run's estimate reads (the page's TrainSettings has them all). */
export interface RunMemorySettings {
  batchSize: number;
  gradAccum: number;
  optimizer: 'adamw' | 'sgd';
  momentsDtype?: MomentsDtype;
  activationsDtype?: ActivationsDtype;
  maxLength?: number | null;
  maxPromptLength?: number | null;
}

/** Weights, gradients and moments of a fully trained model of config c (no LoRA), and its model-wide scratch. */
function trainedState(c: ModelConfig, optimizer: 'adamw' | 'sgd', momentsDtype: MomentsDtype): number {
  const P = modelParamCount(c);
  return 8 * P + (optimizer === 'adamw' ? 2 * P * (momentsDtype === 'bf16' ? 2 : 4) : 0) + modelScratchBytes(c);
}

/** A frozen f32 copy of a model of config c: its weights and model-wide scratch. */
function frozenCopy(c: ModelConfig): number {
  return 4 * modelParamCount(c) + modelScratchBytes(c);
}

/**
 * What one run of `objective` needs on model `c` with settings `s` and memory choices `opts`
 * (settingsMemoryOptions). Pair, unpaired and reward-model runs: memoryEstimate at the batch's
 * shape (a reward model's with its score head). Online runs, as the trainers allocate
 * (src/train/online-trainer.ts, ppo-trainer.ts), with Tp = the prompt cap (the max prompt length,
 * at most n_positions − N) and N = max new tokens, every forward at T = Tp + N rounded up to 8:
 * - GRPO/RLOO: the decoder for batch × G sequences; the policy's (and the reference copy's)
 *   activations for batch × G / gradAccum sequences per micro-batch; a reward model (`reward-model`
 *   among the rewards) scores all batch × G at once.
 * - PPO: the decoder for `batch` responses; the policy, reference, value model and reward model
 *   forwards for batch / mini-batches / gradAccum responses; the value model is a trained copy of
 *   the reward model (f32, also with LoRA), the reward model a frozen one. The reward model's
 *   runner keeps f32 activations without checkpointing (its own pool), the value model's the
 *   policy's choices.
 * `promptTokens` overrides the prompt cap (tests: the data's longest prompt).
 */
export function runMemoryEstimate(c: ModelConfig, s: RunMemorySettings, objective: ObjectiveSpec, opts: MemoryOptions = {}, promptTokens?: number): RunMemoryEstimate {
  const momentsDtype = s.momentsDtype ?? 'f32';
  const actDtype = s.activationsDtype ?? 'f32';
  const nPositions = sequenceConfig(c).nPositions;
  const lengths = resolveLengths(nPositions, s.maxLength, s.maxPromptLength);
  const o = createObjective(objective);
  if (o.kind !== 'online' && o.kind !== 'ppo') {
    // a reward model trains the model with a score head in place of the LM head
    const est = memoryEstimate(o.kind === 'score' ? rewardConfig(c) : c, s.batchSize, lengths.maxLength, s.optimizer, momentsDtype, actDtype, opts);
    return { ...est, online: null };
  }
  const N = o.generation.maxNewTokens;
  const Tp = Math.max(1, Math.min(promptTokens ?? lengths.maxPromptLength, nPositions - N));
  const T = batchLength(Tp + N, nPositions);
  // sequences generated per update, and per forward (a micro-batch)
  const generated = o.kind === 'online' ? s.batchSize * o.generation.numGenerations : s.batchSize;
  const micro = Math.max(1, Math.ceil(o.kind === 'online' ? generated / s.gradAccum : s.batchSize / o.numMiniBatches / s.gradAccum));
  const lora = opts.lora ?? null;
  // the policy: its state as any run's, activations for one micro-batch of `micro` sequences (not chosen + rejected)
  const { state } = memoryEstimate(c, 1, T, s.optimizer, momentsDtype, actDtype, opts);
  const activations = modelActivationBytes(c, micro, T, actDtype, { lora, checkpoint: opts.checkpoint });
  const policy = { state, activations, perRun: state + activations };
  const reference = lora ? 0 : frozenCopy(c) + modelActivationBytes(c, micro, T, actDtype, { checkpoint: opts.checkpoint });
  const generation = decodeConfigBytes(c, lora, generated, Tp, N);
  const rc = rewardConfig(c);
  const scored = o.kind === 'ppo' || o.rewards.names.includes(REWARD_MODEL_REWARD);
  // the scorer reads `micro` rows per forward for PPO, all generated rows at once for GRPO/RLOO
  const rewardModel = scored ? frozenCopy(rc) + modelActivationBytes(rc, o.kind === 'ppo' ? micro : generated, T) : 0;
  const valueModel = o.kind === 'ppo' ? trainedState(rc, s.optimizer, momentsDtype) + modelActivationBytes(rc, micro, T, actDtype, { checkpoint: opts.checkpoint }) : 0;
  const online = { reference, generation, rewardModel, valueModel };
  return { ...policy, online, perRun: policy.perRun + reference + generation + rewardModel + valueModel };
}

/** An online run's extra holdings in words, e.g. "policy 1.2 MB, reference 1.0 MB, generation cache 96.0 KB, value model 3.1 MB" (the parts it has). */
export function onlineParts(o: OnlineMemory, bytes: (n: number) => string, policy?: number): string {
  const parts: Array<[string, number]> = [
    ['policy', policy ?? 0],
    ['reference copy', o.reference],
    ['generation cache', o.generation],
    ['reward model', o.rewardModel],
    ['value model', o.valueModel],
  ];
  return parts.filter(([, n]) => n > 0).map(([k, n]) => `${k} ${bytes(n)}`).join(', ');
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
