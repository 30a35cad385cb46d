// The Llama family (LlamaForCausalLM, Qwen2ForCausalLM, Mistral) on the GPU, with GptModel's
// and GptRunner's API: parameters in one arena laid out by llamaParamSpec (Hugging Face names;
// gradients and Adam moments in arenas of the same layout), activations in a per-(B,T) arena,
// forward and backward recorded into a StepEncoder. The float64 specification is
// src/reference/llama.ts.
// Dimensions: B batch, T time, C hidden_size, I intermediate_size, NH query heads, NKV
// key/value heads, HS head_dim, QC = NH·HS, KC = NKV·HS, W = QC + 2·KC, V vocab, L layers,
// BT = B·T rows. nn.Linear weights are (out, in).
// Per layer: x += o_proj(attn(rope(q), rope(k), v)), q|k|v = one projection of rms1(x) into the
//            packed (BT, W) layout attention reads; x += down_proj(silu(gate)·up), gate|up = one
//            projection of rms2(x) into the (BT, 2I) layout swiglu reads.
//
// Fused projections. q_proj, k_proj and v_proj (and gate_proj, up_proj) stay separate tensors
// with their Hugging Face names, so upload, download, the optimizer's decay rule and snapshots
// see Hugging Face's model. They run as one matmul on their rows stacked: W·C weights whose
// rows are q_proj's, then k_proj's, then v_proj's. When the arena already holds them back to
// back (llamaParamSpec order, sizes that keep the 256-byte alignment: no q/k/v biases between
// them, C a multiple of 64 as in every released model) the matmul reads the arena directly;
// otherwise (Qwen2's biases sit between the weights, or odd tiny shapes) the tensors are copied
// into one model-wide scratch before the matmul, and in the backward the gradients are copied in,
// accumulated there and copied back. Copies cost one read and write of the weights, small next to
// the matmul; three separate matmuls would instead need a strided copy kernel to build the
// packed q|k|v rows the attention and RoPE kernels read (the matmul writes whole rows only).
import { arenaBufferBytes, type GpuContext } from '../engine/gpu';
import { alignUp, Arena, layoutArena, numel, type ArenaLayoutOptions, type TensorSpec, type View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { encodeSequenceSums, RunnerTail } from './sequence-stats';
import { llamaBiases, llamaDecays, llamaParamSpec, validateLlamaConfig, type LlamaFamilyConfig } from './llama-config';
import { sequenceConfig, type ActivationOptions, type ModelOptions, type ModelRunner, type SequenceConfig, type TrainableModel } from './family';
import type { HostBatch } from './batch';
import { LM_CHUNK, type ActivationsDtype } from './gpt';
import { encoderForward, encoderBackward, prepareEncoderBackward, type EncoderBuckets } from '../kernels/encoder';
import { rmsnormForward, rmsnormBackward } from '../kernels/rmsnorm';
import { linearForward, linearBackward } from '../kernels/matmul';
import { attentionForward, attentionBackward, attentionRowStatsSize, MAX_HEAD_SIZE } from '../kernels/attention';
import { ropeForwardInPlace, ropeBackwardInPlace, qkvRopeRows } from '../kernels/rope';
import { swigluForward, swigluBackward } from '../kernels/swiglu';
import { residualForward } from '../kernels/residual';
import { logprobForward, logprobBackward, lmHeadScratchSize } from '../kernels/logprob';
import { packF16, unpackF16, f16Words } from '../kernels/convert';
import { ScoreHead } from './score-head';
import type { Weight } from '../kernels/matmul-packed';
import type { LoraColumns } from '../kernels/lora';
import { downloadBase, frozenBase, type LoraAdapters } from './lora-adapters';
import type { PackedBase } from './packed-base';
import { loraLayerActivations, loraScratchActivations } from './lora';

/** The LM head's chunk for this vocabulary: LM_CHUNK, or the vocabulary rounded up to 64 if smaller. */
function lmChunk(c: LlamaFamilyConfig): number {
  return Math.min(LM_CHUNK, Math.ceil(c.vocabSize / 64) * 64);
}

/** What the WebGPU kernels add to a valid config: the attention kernels hold a row's head in vec4s. */
export function checkLlamaEngineConfig(c: LlamaFamilyConfig): void {
  const hs = c.headDim;
  if (hs % 4 !== 0 || hs > MAX_HEAD_SIZE) {
    throw new Error(`config: head_dim = ${hs} must be a multiple of 4 and at most ${MAX_HEAD_SIZE} to train on WebGPU (SmolLM2 and Qwen2.5 use 64 and 128)`);
  }
}

/** The stacked projections of one layer: which tensors, in row order. */
type Group = 'qkv_w' | 'qkv_b' | 'gate_up_w';

function groupNames(l: number, g: Group): string[] {
  const p = `model.layers.${l}`;
  if (g === 'gate_up_w') return [`${p}.mlp.gate_proj.weight`, `${p}.mlp.up_proj.weight`];
  const kind = g === 'qkv_w' ? 'weight' : 'bias';
  return ['q_proj', 'k_proj', 'v_proj'].map((proj) => `${p}.self_attn.${proj}.${kind}`);
}

function groupLength(c: LlamaFamilyConfig, g: Group): number {
  const W = (c.numAttentionHeads + 2 * c.numKeyValueHeads) * c.headDim;
  if (g === 'qkv_w') return W * c.hiddenSize;
  if (g === 'qkv_b') return W;
  return 2 * c.intermediateSize * c.hiddenSize;
}

/** `views` as one view when they lie back to back in one buffer, else null. */
function spanning(views: View[], name: string): View | null {
  let end = views[0].offset;
  for (const v of views) {
    if (v.buffer !== views[0].buffer || v.offset !== end) return null;
    end += v.size;
  }
  const length = (end - views[0].offset) / 4;
  return { buffer: views[0].buffer, offset: views[0].offset, size: end - views[0].offset, length, name, shape: [length] };
}

export class LlamaModel implements TrainableModel {
  /** The parameters (with a 16-bit base, all but the packed linear weights). */
  readonly params: Arena;
  /** llamaParamSpec(config): the layout of the parameter, gradient and moment arenas. */
  readonly spec: TensorSpec[];
  readonly seq: SequenceConfig;
  /** LoRA adapters (src/model/lora-adapters.ts); with them the base parameters are frozen. Null: full fine-tuning. */
  readonly lora: LoraAdapters | null;
  /** The linear weights as bf16 / f16 (a LoRA run's base dtype, src/model/packed-base.ts); null: every weight f32 in `params`. */
  readonly packed: PackedBase | null;
  private gradArena: Arena | null = null;
  /** Stacking scratch for the groups whose tensors are not back to back in the arena (null: none). */
  private packArena: Arena | null;

  constructor(readonly gpu: GpuContext, readonly config: LlamaFamilyConfig, opts: ModelOptions = {}) {
    validateLlamaConfig(config);
    checkLlamaEngineConfig(config);
    this.spec = llamaParamSpec(config);
    this.seq = sequenceConfig(config);
    const base = frozenBase(gpu, config, this.spec, opts);
    this.lora = base.lora;
    this.packed = base.packed;
    if (this.packed && (config.hiddenSize % 2 !== 0 || config.intermediateSize % 2 !== 0)) throw new Error('a 16-bit base stacks whole words: hidden_size and intermediate_size must be even');
    this.params = new Arena(gpu.device, 'params', base.f32, { maxBytes: arenaBufferBytes(gpu), ...llamaSplit(config) });
    const groups: Group[] = ['qkv_w', 'gate_up_w'];
    if (llamaBiases(config).qkv) groups.push('qkv_b');
    const scattered = groups.filter((g) => {
      for (let l = 0; l < config.numHiddenLayers; l++) if (!spanning(groupNames(l, g).map((n) => this.arenaOf(g).get(n)), g)) return true;
      return false;
    });
    this.packArena = scattered.length ? new Arena(gpu.device, 'llama.pack', scattered.map((g) => ({ name: g, shape: [groupLength(config, g)] })), { separate: true }) : null;
  }

  /** The arena holding a group's parameters: the packed base for the weights of a 16-bit base, else the parameters. */
  private arenaOf(g: Group): Arena {
    return this.packed && g !== 'qkv_b' ? this.packed.arena : this.params;
  }

  get grads(): Arena {
    if (this.lora) throw new Error('the base parameters are frozen (LoRA): the adapters have the gradients (lora.grads)');
    if (!this.gradArena) this.gradArena = this.params.twin('grads');
    return this.gradArena;
  }

  p(name: string): View {
    return this.params.get(name);
  }

  /** A linear weight as the matmul launchers take it: f32, or packed bf16 / f16 (a LoRA run's frozen base). */
  w(name: string): Weight {
    return this.packed?.has(name) ? this.packed.weight(name) : this.params.get(name);
  }

  /** Layer l's stacked weight group (q|k|v or gate|up rows) for a matmul: stackIn over whichever arena holds it, packed or not. */
  stackWeight(enc: StepEncoder, l: number, g: 'qkv_w' | 'gate_up_w'): Weight {
    const view = this.stackIn(enc, this.arenaOf(g), l, g);
    if (!this.packed) return view;
    return { words: view, dtype: this.packed.dtype, length: groupLength(this.config, g), name: `${this.packed.arena.label}.${l}.${g}` };
  }

  /** Weight decay on the Linear and Embedding weights only (llamaDecays). */
  decays(name: string): boolean {
    return llamaDecays(name);
  }

  /** A runner for B sequences of T tokens; 'f16' keeps each layer's qkv and gate_up as packed f16; checkpoint: activation checkpointing. */
  createRunner(B: number, T: number, activationsDtype: ActivationsDtype = 'f32', checkpoint = false): LlamaRunner {
    return new LlamaRunner(this, B, T, activationsDtype, checkpoint);
  }

  /** The LM head (V,C): lm_head.weight, or the token embedding when tied. */
  get headName(): string {
    return this.config.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  }

  /** Which stacked groups go through the scratch (for tests and memory estimates). */
  get packedGroups(): string[] {
    return this.packArena ? this.packArena.names() : [];
  }

  /** GPU bytes of the stacking scratch (0 when every group is read in place): llamaStackScratchBytes. */
  get stackScratchBytes(): number {
    return this.packArena?.bytes ?? 0;
  }

  /**
   * Layer l's group of `arena` (params or grads) as one view for a kernel: the arena's memory when
   * the tensors are back to back, else their copy in the scratch.
   */
  stackIn(enc: StepEncoder, arena: Arena, l: number, g: Group): View {
    const views = groupNames(l, g).map((n) => arena.get(n));
    const direct = spanning(views, `${arena.label}.${l}.${g}`);
    if (direct) return direct;
    const scratch = this.packArena!.get(g);
    let off = 0;
    for (const v of views) {
      enc.copy({ ...scratch, offset: scratch.offset + off, size: v.size }, v, v.size);
      off += v.size;
    }
    return scratch;
  }

  /** After a kernel accumulated into stackIn's view of `arena`: copy the scratch back, if it was used. */
  stackOut(enc: StepEncoder, arena: Arena, l: number, g: Group): void {
    const views = groupNames(l, g).map((n) => arena.get(n));
    if (spanning(views, g)) return;
    const scratch = this.packArena!.get(g);
    let off = 0;
    for (const v of views) {
      enc.copy(v, { ...scratch, offset: scratch.offset + off, size: v.size }, v.size);
      off += v.size;
    }
  }

  upload(weights: Map<string, Float32Array>): void {
    for (const spec of this.spec) {
      const w = weights.get(spec.name);
      if (!w) throw new Error(`missing tensor "${spec.name}" [${spec.shape.join(', ')}]`);
      if (this.packed?.has(spec.name)) this.packed.write(spec.name, w);
      else this.params.write(spec.name, w);
    }
  }

  /**
   * All parameters (or another arena of their layout) back on the host, by Hugging Face name;
   * split tensors reassembled, packed weights widened.
   */
  async download(arena: Arena = this.params): Promise<Map<string, Float32Array>> {
    return arena === this.params ? downloadBase(this.spec, this.params, this.packed) : arena.readAll();
  }

  destroy(): void {
    this.params.destroy();
    this.gradArena?.destroy();
    this.packArena?.destroy();
    this.packed?.destroy();
    this.lora?.destroy();
  }
}

/**
 * The tensors that may be split by rows when larger than one arena buffer: the embedding and the
 * untied LM head (their kernels take row parts); parts hold whole LM-head chunks where they can.
 */
function llamaSplit(c: LlamaFamilyConfig): ArenaLayoutOptions {
  return { split: ['model.embed_tokens.weight', 'lm_head.weight'], rowMultiple: lmChunk(c) };
}

function llamaActivationSpec(c: LlamaFamilyConfig, B: number, T: number, scratch: number, dtype: ActivationsDtype, opts: ActivationOptions = {}): TensorSpec[] {
  const { hiddenSize: C, intermediateSize: I, numHiddenLayers: L, numAttentionHeads: NH, numKeyValueHeads: NKV, headDim: HS } = c;
  const BT = B * T;
  const QC = NH * HS;
  const W = (NH + 2 * NKV) * HS;
  const stats = attentionRowStatsSize(B, T, NH);
  const f16 = dtype === 'f16';
  const s: TensorSpec[] = [{ name: 'encoded', shape: [BT, C] }];
  // Kept per layer: the residual stream, the RMSNorm rstd, q|k|v after RoPE, the attention output
  // and its row statistics, gate|up. The RMSNorm outputs and silu(gate)·up are recomputed in the
  // backward (one cheap kernel each); the projections' outputs go into shared scratch.
  // With f16 activations q|k|v (before RoPE: see LlamaRunner.keep) and gate|up are kept as
  // `qkv_f16` / `gate_up_f16`: u32 words, two values each. They are the widest kept tensors:
  // W + 2I of the W + QC + 2C + 2I floats kept per token and layer (SmolLM2-135M: 4032 of 5760,
  // Qwen2.5-0.5B: 10880 of 13568). The SwiGLU output is not kept at all (recomputed into the
  // shared `h`). atty stays f32: the attention backward's row term Σ dO·O needs the O the softmax
  // produced, not a rounded one; the residuals carry the stream every layer adds to.
  // LoRA adds u = s·x Aᵀ (BT, r) per adapted projection (`lora.<key>`). Activation checkpointing
  // keeps only each layer's output (the next one's input) and one layer's worth of the rest
  // (`ck.`), recomputed layer by layer in the backward.
  const layer = (at: string, l: number | null): TensorSpec[] => [
    { name: `${at}rms1_rstd`, shape: [BT] },
    f16 ? { name: `${at}qkv_f16`, shape: [f16Words(BT * W)] } : { name: `${at}qkv`, shape: [BT, W] },
    { name: `${at}atty`, shape: [BT, QC] },
    { name: `${at}att_lse`, shape: [stats] },
    { name: `${at}residual2`, shape: [BT, C] },
    { name: `${at}rms2_rstd`, shape: [BT] },
    f16 ? { name: `${at}gate_up_f16`, shape: [f16Words(BT * 2 * I)] } : { name: `${at}gate_up`, shape: [BT, 2 * I] },
    ...(opts.lora ? llamaLoraLayers(c, opts.lora, at, l, BT) : []),
  ];
  for (let l = 0; l < L; l++) s.push(...(opts.checkpoint ? [] : layer(`${l}.`, l)), { name: `${l}.residual3`, shape: [BT, C] });
  if (opts.checkpoint && L > 0) s.push(...layer('ck.', null));
  if (opts.lora) s.push(...loraScratchActivations(c, opts.lora, BT));
  // f16: the q|k|v (W) or gate|up (2I) of the layer being computed, in f32; never both live at once.
  if (f16) s.push({ name: 'unpacked', shape: [BT, Math.max(W, 2 * I)] });
  s.push(
    // shared by every layer: written and read within one layer's forward or backward
    { name: 'ln', shape: [BT, C] },
    { name: 'ln_rstd', shape: [BT] },
    { name: 'proj', shape: [BT, C] },
    { name: 'h', shape: [BT, I] },
    { name: 'lnf', shape: [BT, C] },
    { name: 'lnf_rstd', shape: [BT] },
    { name: 'logp', shape: [BT] },
    { name: 'lse', shape: [BT] },
    { name: 'mean_logit', shape: [BT] },
    { name: 'entropy', shape: [BT] },
    { name: 'correct', shape: [BT] },
    { name: 'lm_scratch', shape: [scratch] },
    // backward: the residual stream's gradient accumulates in dresidual; the rest are written.
    { name: 'dresidual', shape: [BT, C] },
    { name: 'dln', shape: [BT, C] },
    { name: 'datty', shape: [BT, QC] },
    { name: 'dqkv', shape: [BT, W] },
    { name: 'att_delta', shape: [stats] },
    { name: 'dh', shape: [BT, I] },
    { name: 'dgate_up', shape: [BT, 2 * I] },
    // batch inputs
    { name: 'tokens', shape: [BT] },
    { name: 'targets', shape: [BT] },
    { name: 'lengths', shape: [B] },
    { name: 'completion_mask', shape: [BT] },
    { name: 'nll_mask', shape: [BT] },
    { name: 'coef', shape: [BT] },
    // per-sequence sums, read back each step: S, NLL sum, mean-logit sum, entropy sum, correct count (B each)
    { name: 'seq_logp', shape: [B] },
    { name: 'seq_nll', shape: [B] },
    { name: 'seq_logit', shape: [B] },
    { name: 'seq_entropy', shape: [B] },
    { name: 'seq_correct', shape: [B] },
  );
  return s;
}

/** Bytes of a LlamaRunner's activation arena for B sequences of T tokens (what memory estimates count). */
export function llamaActivationBytes(c: LlamaFamilyConfig, B: number, T: number, dtype: ActivationsDtype = 'f32', opts: ActivationOptions = {}): number {
  // a reward model's runner: one element of head scratch (its score head replaces the LM head)
  return 4 * llamaActivationSpec(c, B, T, c.scoreHead ? 1 : lmHeadScratchSize(B * T, lmChunk(c)), dtype, opts).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** The adapters' u tensors of layer l (null: the shared `ck.` set, which serves every layer: their union). */
function llamaLoraLayers(c: LlamaFamilyConfig, lora: NonNullable<ActivationOptions['lora']>, at: string, l: number | null, BT: number): TensorSpec[] {
  if (l !== null) return loraLayerActivations(c, lora, l, at, BT);
  const all = new Map<string, TensorSpec>();
  for (let k = 0; k < c.numHiddenLayers; k++) for (const t of loraLayerActivations(c, lora, k, at, BT)) all.set(t.name, t);
  return [...all.values()];
}

/**
 * Bytes of LlamaModel's stacking scratch for a parameter arena aligned to `align` bytes (256 on
 * SwiftShader and most GPUs): one buffer per group whose tensors are not back to back in some
 * layer (Qwen2's q/k/v biases sit between the weights; odd tiny shapes break the alignment).
 * Memory estimates add it to the state; LlamaModel.stackScratchBytes is what was allocated.
 * maxBytes: the most one arena buffer holds (arenaBufferBytes); a group whose tensors land in two
 * buffers goes through the scratch too.
 */
export function llamaStackScratchBytes(c: LlamaFamilyConfig, align = 256, maxBytes?: number): number {
  const spec = llamaParamSpec(c);
  const { offsets, slots } = layoutArena(spec, align, { maxBytes, ...llamaSplit(c) });
  const words = new Map(spec.map((s) => [s.name, numel(s.shape)]));
  const groups: Group[] = ['qkv_w', 'gate_up_w'];
  if (llamaBiases(c).qkv) groups.push('qkv_b');
  let bytes = 0;
  for (const g of groups) {
    let scattered = false;
    for (let l = 0; l < c.numHiddenLayers && !scattered; l++) {
      const names = groupNames(l, g);
      let end = offsets.get(names[0])!;
      const chunk = slots.get(names[0])![0].chunk;
      for (const n of names) {
        if (offsets.get(n) !== end || slots.get(n)![0].chunk !== chunk) scattered = true;
        end += words.get(n)!;
      }
    }
    if (scattered) bytes += alignUp(Math.max(4, groupLength(c, g) * 4), 16); // Arena's `separate` buffer size
  }
  return bytes;
}

/** Activations and batch buffers for one (B, T) shape; forward and backward record into an encoder. */
export class LlamaRunner extends RunnerTail implements ModelRunner {
  readonly acts: Arena;
  readonly BT: number;
  private chunk: number;
  private buckets: EncoderBuckets | null = null;
  batch: HostBatch | null = null;
  /** A reward model's score head (config.scoreHead), which replaces the LM head; null for the causal LM. */
  readonly score: ScoreHead | null;

  /** activationsDtype 'f16' keeps each layer's qkv and gate_up as packed f16 (GptRunner's habit: math in f32). */
  /** checkpoint: activation checkpointing (GptRunner's: each layer recomputed from its kept input in the backward, bitwise the stored path). */
  constructor(readonly model: LlamaModel, readonly B: number, readonly T: number, readonly activationsDtype: ActivationsDtype = 'f32', readonly checkpoint = false) {
    super();
    const c = model.config;
    if (T > c.maxPositionEmbeddings) throw new Error(`sequence length ${T} exceeds the model's max_position_embeddings ${c.maxPositionEmbeddings}`);
    if (activationsDtype !== 'f32' && activationsDtype !== 'f16') throw new Error(`activationsDtype must be f32 or f16, got ${String(activationsDtype)}`);
    this.BT = B * T;
    this.chunk = lmChunk(c);
    this.score = c.scoreHead ? new ScoreHead(model.gpu, B, T, c.hiddenSize, c.padTokenId, `acts[${B}x${T}]`) : null;
    // a reward model runs no LM head: no logits scratch
    this.acts = new Arena(model.gpu.device, `acts[${B}x${T}]`, llamaActivationSpec(c, B, T, this.score ? 1 : lmHeadScratchSize(this.BT, this.chunk), activationsDtype, { lora: model.lora?.lora, checkpoint }), { separate: true });
  }

  /**
   * Layer l's qkv ('qkv', BT×W) or gate_up ('gate_up', BT×2I) as f32 for a kernel to write: the
   * kept tensor, or with f16 activations the shared scratch (then `keep` stores it).
   */
  private f32Act(l: number, what: 'qkv' | 'gate_up'): View {
    return this.activationsDtype === 'f16' ? this.a('unpacked') : this.a(this.kept(l, what));
  }

  /** The name of layer l's kept tensor `what`: per layer, or with activation checkpointing the shared `ck.` one. */
  private kept(l: number, what: string): string {
    return this.checkpoint ? `ck.${what}` : `${l}.${what}`;
  }

  /** LoRA: after the base projection `module` of layer l wrote y (or its `cols`) from x, add its adapter's update. */
  private adapt(enc: StepEncoder, l: number, module: string, y: View, x: View, cols?: LoraColumns): void {
    this.model.lora?.adapt(enc, module, y, x, this.BT, (n) => this.a(n), (n) => this.kept(l, n), cols);
  }

  /** LoRA: after the base projection's backward wrote dx from dy (or its `cols`), the adapter's gradients and its part of dx. */
  private adaptBack(enc: StepEncoder, l: number, module: string, dx: View, dy: View, x: View, cols?: LoraColumns): void {
    this.model.lora?.adaptBack(enc, module, dx, dy, x, this.BT, (n) => this.a(n), (n) => this.kept(l, n), cols);
  }

  /** The column slices of the stacked q|k|v (W wide) and gate|up (2I wide) outputs, by projection. */
  private slices(): Record<string, LoraColumns> {
    const { QC, W, I } = this.dims();
    const KC = (W - QC) / 2;
    return {
      'self_attn.q_proj': { col0: 0, ld: W },
      'self_attn.k_proj': { col0: QC, ld: W },
      'self_attn.v_proj': { col0: QC + KC, ld: W },
      'mlp.gate_proj': { col0: 0, ld: 2 * I },
      'mlp.up_proj': { col0: I, ld: 2 * I },
    };
  }

  /**
   * f16 activations: pack the scratch into layer l's storage, then unpack it back, so the rest of
   * the forward reads the rounded values — as GptRunner.keep, for the same reason: the backward
   * sees only the rounded values, so the forward computes with them too, and the backward is
   * exactly the gradient of the model with the q|k|v and gate|up projections' outputs rounded to
   * f16 (the rounding's derivative taken as 1).
   * q and k are kept before RoPE (the f32 path keeps them after), and the backward rotates the
   * unpacked values again (same kernel, same inputs: bitwise the forward's values). Rounding at
   * the matmul outputs puts every rounding point where f32 agrees with float64 to a few ulp;
   * after RoPE, whose f32 angles t·inv_freq differ from exact ones by up to ~t·(ln θ + 3)·2⁻²⁴
   * relative (src/kernels/rope.ts), a few percent of the values would round to the other f16
   * neighbour than the exact model's, and the GPU would compute a measurably different rounded
   * model (log-probs off by ~1e-3 instead of f32 error). Cost: one more in-place RoPE of q and k
   * per layer in the backward.
   */
  private keep(enc: StepEncoder, l: number, what: 'qkv' | 'gate_up', n: number): void {
    if (this.activationsDtype === 'f32') return;
    packF16(enc, this.a(this.kept(l, `${what}_f16`)), this.a('unpacked'), n);
    unpackF16(enc, this.a('unpacked'), this.a(this.kept(l, `${what}_f16`)), n);
  }

  /** Layer l's qkv or gate_up as f32 for the backward: the kept tensor, or unpacked into the scratch. */
  private restore(enc: StepEncoder, l: number, what: 'qkv' | 'gate_up', n: number): View {
    if (this.activationsDtype === 'f32') return this.a(this.kept(l, what));
    unpackF16(enc, this.a('unpacked'), this.a(this.kept(l, `${what}_f16`)), n);
    return this.a('unpacked');
  }

  a(name: string): View {
    return this.acts.get(name);
  }

  /** GPU bytes held: the activation arena and, after a backward, the batch's token buckets. */
  get bytes(): number {
    const b = this.buckets;
    return this.acts.bytes + (this.score?.bytes ?? 0) + (b ? b.ids.buffer.size + b.offsets.buffer.size + b.positions.buffer.size : 0);
  }

  /** Upload a batch whose shape matches this runner (B sequences, padded to T). */
  setBatch(batch: HostBatch): void {
    if (batch.B !== this.B || batch.T !== this.T) throw new Error(`batch is ${batch.B}×${batch.T}, runner is ${this.B}×${this.T}`);
    const q = this.model.gpu.device.queue;
    const put = (name: string, data: Uint32Array | Float32Array) => {
      const v = this.a(name);
      q.writeBuffer(v.buffer, v.offset, data.buffer, data.byteOffset, data.byteLength);
    };
    put('tokens', batch.tokens);
    put('targets', batch.targets);
    put('lengths', batch.lengths);
    put('completion_mask', batch.completionMask);
    put('nll_mask', batch.nllMask);
    this.score?.setBatch(batch);
    this.buckets?.destroy();
    this.buckets = null;
    this.batch = batch;
  }

  private dims() {
    const c = this.model.config;
    const { numAttentionHeads: NH, numKeyValueHeads: NKV, headDim: HS } = c;
    return { C: c.hiddenSize, I: c.intermediateSize, L: c.numHiddenLayers, V: c.vocabSize, NH, NKV, HS, QC: NH * HS, W: (NH + 2 * NKV) * HS, eps: c.rmsNormEps, theta: c.ropeTheta, bias: llamaBiases(c) };
  }

  forward(enc: StepEncoder): void {
    const { model, B, T, BT } = this;
    const { C, L, V, eps } = this.dims();
    const p = (n: string) => model.p(n);
    const a = (n: string) => this.a(n);
    encoderForward(enc, a('encoded'), a('tokens'), model.params.rows('model.embed_tokens.weight'), null, B, T, C);
    let residual = a('encoded');
    for (let l = 0; l < L; l++) {
      this.forwardLayer(enc, l, residual);
      residual = a(`${l}.residual3`);
    }
    rmsnormForward(enc, a('lnf'), a('lnf_rstd'), residual, p('model.norm.weight'), BT, C, eps);
    if (this.score) {
      // reward model: one score per sequence instead of the LM head's log-probs (readRewards)
      // LoRA: the adapters' trained copy of the head (modules_to_save) while they are on
      this.score.forward(enc, a('lnf'), model.lora?.scoreWeight ?? p('score.weight'));
      return;
    }
    logprobForward(enc, a('logp'), a('lse'), a('mean_logit'), a('entropy'), a('correct'), a('lnf'), model.params.rows(model.headName), a('targets'), a('lm_scratch'), BT, C, V, this.chunk);
    encodeSequenceSums(enc, a, B, T);
  }

  protected get device(): GPUDevice {
    return this.model.gpu.device;
  }

  /** Parameter gradients += d(Σ coef·logp)/dθ (a reward model: d(Σ dReward·reward)/dθ) for the batch of the last forward. */
  backward(enc: StepEncoder): void {
    const { model, B, T, BT } = this;
    const { C, L, V } = this.dims();
    if (!this.batch) throw new Error('backward: no batch');
    const p = (n: string) => model.p(n);
    // LoRA: the base is frozen, so no base-parameter gradient is computed (gb: null)
    const frozen = model.lora !== null;
    const gb = (n: string): View | null => (frozen ? null : model.grads.get(n));
    const a = (n: string) => this.a(n);
    if (!frozen && !this.buckets) this.buckets = prepareEncoderBackward(model.gpu, this.batch.tokens, B, T, V);
    // LoRA: the score head trains in full beside the adapters (its copy's gradient is the adapters')
    if (this.score) this.score.backward(enc, a('dln'), frozen ? model.lora!.scoreGrad : gb('score.weight'), a('lnf'), model.lora?.scoreWeight ?? p('score.weight'));
    else logprobBackward(enc, a('dln'), frozen ? null : model.grads.rows(model.headName), a('coef'), a('lnf'), model.params.rows(model.headName), a('targets'), a('lse'), a('lm_scratch'), BT, C, V, this.chunk);
    enc.clear(a('dresidual'));
    const lastResidual = L > 0 ? a(`${L - 1}.residual3`) : a('encoded');
    rmsnormBackward(enc, a('dresidual'), gb('model.norm.weight'), a('dln'), lastResidual, p('model.norm.weight'), a('lnf_rstd'), BT, C, { accumulate: true });
    for (let l = L - 1; l >= 0; l--) {
      const residual = l === 0 ? a('encoded') : a(`${l - 1}.residual3`);
      // activation checkpointing: the layer's kept tensors again, from its input (bitwise the forward's)
      if (this.checkpoint) this.forwardLayer(enc, l, residual);
      this.backwardLayer(enc, l, residual, gb);
    }
    if (!frozen) encoderBackward(enc, model.grads.rows('model.embed_tokens.weight'), null, a('dresidual'), this.buckets!, B, T, C);
  }

  /** Layer l from its input `residual` (the previous layer's residual3, or encoded) to `${l}.residual3`. */
  private forwardLayer(enc: StepEncoder, l: number, residual: View): void {
    const { model, B, T, BT } = this;
    const { C, I, NH, NKV, HS, QC, W, eps, theta, bias } = this.dims();
    const p = (n: string) => model.p(n);
    const a = (n: string) => this.a(n);
    const k = (n: string) => this.a(this.kept(l, n));
    const rows = qkvRopeRows(NH, NKV, HS);
    const cols = this.slices();
    const h = `model.layers.${l}`;
    rmsnormForward(enc, a('ln'), k('rms1_rstd'), residual, p(`${h}.input_layernorm.weight`), BT, C, eps);
    const qkv = this.f32Act(l, 'qkv');
    const wqkv = model.stackWeight(enc, l, 'qkv_w');
    // with biases, both stacks may need the scratch: different scratch tensors, so both stay valid
    const bqkv = bias.qkv ? model.stackIn(enc, model.params, l, 'qkv_b') : null;
    linearForward(enc, qkv, a('ln'), wqkv, bqkv, BT, C, W);
    for (const key of ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj']) this.adapt(enc, l, `${h}.${key}`, qkv, a('ln'), cols[key]);
    this.keep(enc, l, 'qkv', BT * W); // f16: rounded before RoPE (see keep)
    ropeForwardInPlace(enc, qkv, B, T, NH, HS, theta, rows.q);
    ropeForwardInPlace(enc, qkv, B, T, NKV, HS, theta, rows.k);
    attentionForward(enc, k('atty'), k('att_lse'), qkv, a('lengths'), B, T, NH, NKV, HS);
    linearForward(enc, a('proj'), k('atty'), model.w(`${h}.self_attn.o_proj.weight`), bias.o ? p(`${h}.self_attn.o_proj.bias`) : null, BT, QC, C);
    this.adapt(enc, l, `${h}.self_attn.o_proj`, a('proj'), k('atty'));
    residualForward(enc, k('residual2'), residual, a('proj'), BT * C);
    rmsnormForward(enc, a('ln'), k('rms2_rstd'), k('residual2'), p(`${h}.post_attention_layernorm.weight`), BT, C, eps);
    const gateUp = this.f32Act(l, 'gate_up');
    linearForward(enc, gateUp, a('ln'), model.stackWeight(enc, l, 'gate_up_w'), null, BT, C, 2 * I);
    for (const key of ['mlp.gate_proj', 'mlp.up_proj']) this.adapt(enc, l, `${h}.${key}`, gateUp, a('ln'), cols[key]);
    this.keep(enc, l, 'gate_up', BT * 2 * I);
    swigluForward(enc, a('h'), gateUp, BT, I);
    linearForward(enc, a('proj'), a('h'), model.w(`${h}.mlp.down_proj.weight`), null, BT, I, C);
    this.adapt(enc, l, `${h}.mlp.down_proj`, a('proj'), a('h'));
    residualForward(enc, a(`${l}.residual3`), k('residual2'), a('proj'), BT * C);
  }

  /**
   * Layer l's backward: dresidual holds d(residual3) and becomes d(its input `residual`); base
   * parameter gradients through gb (null: frozen), adapter gradients through adaptBack.
   */
  private backwardLayer(enc: StepEncoder, l: number, residual: View, gb: (n: string) => View | null): void {
    const { model, B, T, BT } = this;
    const { C, I, NH, NKV, HS, QC, W, eps, theta, bias } = this.dims();
    const p = (n: string) => model.p(n);
    const a = (n: string) => this.a(n);
    const k = (n: string) => this.a(this.kept(l, n));
    const rows = qkvRopeRows(NH, NKV, HS);
    const cols = this.slices();
    const h = `model.layers.${l}`;
    // residual3 = residual2 + down(h): dresidual holds d(residual3) = d(down).
    const gateUp = this.restore(enc, l, 'gate_up', BT * 2 * I);
    swigluForward(enc, a('h'), gateUp, BT, I); // recomputed, not kept
    linearBackward(enc, a('dh'), gb(`${h}.mlp.down_proj.weight`), null, a('dresidual'), a('h'), model.w(`${h}.mlp.down_proj.weight`), BT, I, C);
    this.adaptBack(enc, l, `${h}.mlp.down_proj`, a('dh'), a('dresidual'), a('h'));
    swigluBackward(enc, a('dgate_up'), a('dh'), gateUp, BT, I);
    // rms2 recomputed (same kernel, same inputs: bitwise the forward's values)
    rmsnormForward(enc, a('ln'), a('ln_rstd'), k('residual2'), p(`${h}.post_attention_layernorm.weight`), BT, C, eps);
    this.stackedBackward(enc, l, 'gate_up_w', null, a('dgate_up'), 2 * I);
    for (const key of ['mlp.gate_proj', 'mlp.up_proj']) this.adaptBack(enc, l, `${h}.${key}`, a('dln'), a('dgate_up'), a('ln'), cols[key]);
    rmsnormBackward(enc, a('dresidual'), gb(`${h}.post_attention_layernorm.weight`), a('dln'), k('residual2'), p(`${h}.post_attention_layernorm.weight`), k('rms2_rstd'), BT, C, { accumulate: true });
    // residual2 = residual + o_proj(atty): dresidual now holds d(residual2) = d(o_proj).
    linearBackward(enc, a('datty'), gb(`${h}.self_attn.o_proj.weight`), bias.o ? gb(`${h}.self_attn.o_proj.bias`) : null, a('dresidual'), k('atty'), model.w(`${h}.self_attn.o_proj.weight`), BT, QC, C);
    this.adaptBack(enc, l, `${h}.self_attn.o_proj`, a('datty'), a('dresidual'), k('atty'));
    const qkv = this.restore(enc, l, 'qkv', BT * W);
    if (this.activationsDtype === 'f16') {
      // kept before RoPE: rotate again, bitwise the forward's q and k
      ropeForwardInPlace(enc, qkv, B, T, NH, HS, theta, rows.q);
      ropeForwardInPlace(enc, qkv, B, T, NKV, HS, theta, rows.k);
    }
    attentionBackward(enc, a('dqkv'), a('att_delta'), a('datty'), k('atty'), qkv, k('att_lse'), a('lengths'), B, T, NH, NKV, HS);
    // gradients with respect to q and k before RoPE: the transpose rotation
    ropeBackwardInPlace(enc, a('dqkv'), B, T, NH, HS, theta, rows.q);
    ropeBackwardInPlace(enc, a('dqkv'), B, T, NKV, HS, theta, rows.k);
    rmsnormForward(enc, a('ln'), a('ln_rstd'), residual, p(`${h}.input_layernorm.weight`), BT, C, eps);
    this.stackedBackward(enc, l, 'qkv_w', bias.qkv ? 'qkv_b' : null, a('dqkv'), W);
    for (const key of ['self_attn.q_proj', 'self_attn.k_proj', 'self_attn.v_proj']) this.adaptBack(enc, l, `${h}.${key}`, a('dln'), a('dqkv'), a('ln'), cols[key]);
    rmsnormBackward(enc, a('dresidual'), gb(`${h}.input_layernorm.weight`), a('dln'), residual, p(`${h}.input_layernorm.weight`), k('rms1_rstd'), BT, C, { accumulate: true });
  }

  /**
   * A stacked projection of `ln` (BT,C) into dout's (BT,OC) rows: dln = dout · W (written), then
   * the stacked weight's (and bias's) gradients accumulate — none with a frozen base (LoRA).
   * Weight first: the scratch copy of the weights is read by the dinp product before the
   * gradients take its place.
   */
  private stackedBackward(enc: StepEncoder, l: number, wg: 'qkv_w' | 'gate_up_w', bg: Group | null, dout: View, OC: number): void {
    const { model, BT } = this;
    const C = model.config.hiddenSize;
    const a = (n: string) => this.a(n);
    const w = model.stackWeight(enc, l, wg);
    linearBackward(enc, a('dln'), null, null, dout, a('ln'), w, BT, C, OC);
    if (model.lora) return;
    const grads = model.grads;
    // the gradients: the arena's own memory, or their copy in the same scratch (the weights' copy is done with)
    const dw = model.stackIn(enc, grads, l, wg);
    const db = bg ? model.stackIn(enc, grads, l, bg) : null;
    linearBackward(enc, null, dw, db, dout, a('ln'), w, BT, C, OC);
    model.stackOut(enc, grads, l, wg);
    if (bg) model.stackOut(enc, grads, l, bg);
  }

  destroy(): void {
    this.acts.destroy();
    this.score?.destroy();
    this.buckets?.destroy();
  }
}
