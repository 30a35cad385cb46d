// GPT-2 on the GPU: parameters in one arena (gradients and Adam moments in arenas of the same
// layout; several buffers when it exceeds one binding, wte then split by rows if it must be),
// activations in a per-(B,T) arena, forward and backward recorded into a StepEncoder.
// Dimensions: B batch, T time, C channels, NH heads, V vocab, L layers; BT = B·T rows.
import { arenaBufferBytes, type GpuContext } from '../engine/gpu';
import { Arena, type TensorSpec, type View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { encodeSequenceSums, RunnerTail } from './sequence-stats';
import { gptDecays, paramSpec, validateConfig, type GPTConfig } from './config';
import { sequenceConfig, type ActivationOptions, type ModelOptions, type ModelRunner, type SequenceConfig, type TrainableModel } from './family';
import type { HostBatch } from './batch';
import { encoderForward, encoderBackward, prepareEncoderBackward, type EncoderBuckets } from '../kernels/encoder';
import { layernormForward, layernormBackward } from '../kernels/layernorm';
import { matmulForward, matmulBackward } from '../kernels/matmul';
import { attentionForward, attentionBackward, attentionRowStatsSize, MAX_HEAD_SIZE } from '../kernels/attention';
import { geluForward, geluBackward } from '../kernels/gelu';
import { residualForward } from '../kernels/residual';
import { logprobForward, logprobBackward, lmHeadScratchSize } from '../kernels/logprob';
import { packF16, unpackF16, f16Words } from '../kernels/convert';
import { matmulF16 } from '../kernels/matmul-f16';
import { attentionF16Forward } from '../kernels/attention-f16';
import { arithmeticPlan, type ArithmeticDtype } from '../kernels/plan';
import { ScoreHead } from './score-head';
import type { Weight } from '../kernels/matmul-packed';
import type { LoraColumns } from '../kernels/lora';
import { downloadBase, frozenBase, type LoraAdapters } from './lora-adapters';
import type { PackedBase } from './packed-base';
import { loraLayerActivations, loraScratchActivations } from './lora';

/**
 * Storage of the per-layer qkv and fch activations (7C of the 10C floats kept per token and
 * layer): f32, or f16 packed two per u32 word (half their bytes; the math stays f32, through one
 * shared f32 scratch).
 */
export type ActivationsDtype = 'f32' | 'f16';

/** Vocabulary rows per LM-head chunk: bounds the logits scratch to BT × LM_CHUNK floats. */
export const LM_CHUNK = 4096;

/** The LM head's chunk for this vocabulary: LM_CHUNK, or the vocabulary rounded up to 64 if smaller. */
function lmChunk(c: GPTConfig): number {
  return Math.min(LM_CHUNK, Math.ceil(c.vocabSize / 64) * 64);
}

/** What the WebGPU kernels add to a valid config: the attention kernels hold a row's head in vec4s. */
export function checkEngineConfig(c: GPTConfig): void {
  const hs = c.nEmbd / c.nHead;
  if (hs % 4 !== 0 || hs > MAX_HEAD_SIZE) {
    throw new Error(`config: head size n_embd/n_head = ${hs} must be a multiple of 4 and at most ${MAX_HEAD_SIZE} to train on WebGPU (every GPT-2 size has 64)`);
  }
}

export class GptModel implements TrainableModel {
  /** The parameters (with a 16-bit base, all but the packed linear weights). */
  readonly params: Arena;
  /** paramSpec(config): the layout of the parameter, gradient and moment arenas. */
  readonly spec: TensorSpec[];
  readonly seq: SequenceConfig;
  /** LoRA adapters (src/model/lora-adapters.ts); with them the base parameters are frozen. Null: full fine-tuning. */
  readonly lora: LoraAdapters | null;
  /** The linear weights as bf16 / f16 (a LoRA run's base dtype, src/model/packed-base.ts); null: every weight f32 in `params`. */
  readonly packed: PackedBase | null;
  private gradArena: Arena | null = null;
  /** f16 arithmetic: f16 copies of the linear weights (f16LinearWeights), made on a runner's first need. */
  private f16Arena: Arena | null = null;

  constructor(readonly gpu: GpuContext, readonly config: GPTConfig, opts: ModelOptions = {}) {
    validateConfig(config);
    checkEngineConfig(config);
    this.spec = paramSpec(config);
    this.seq = sequenceConfig(config);
    const base = frozenBase(gpu, config, this.spec, opts);
    this.lora = base.lora;
    this.packed = base.packed;
    // wte may be split by rows when larger than one buffer (its kernels take row parts); parts
    // hold whole LM-head chunks where they can
    this.params = new Arena(gpu.device, 'params', base.f32, { maxBytes: arenaBufferBytes(gpu), split: ['wte.weight'], rowMultiple: lmChunk(config) });
  }

  get grads(): Arena {
    if (this.lora) throw new Error('the base parameters are frozen (LoRA): the adapters have the gradients (lora.grads)');
    if (!this.gradArena) this.gradArena = this.params.twin('grads');
    return this.gradArena;
  }

  /** Hugging Face's rule: every weight but biases and LayerNorm gains. */
  decays(name: string): boolean {
    return gptDecays(name);
  }

  createRunner(B: number, T: number, activationsDtype: ActivationsDtype = 'f32', checkpoint = false, arithmeticDtype: ArithmeticDtype = 'f32'): GptRunner {
    return new GptRunner(this, B, T, activationsDtype, checkpoint, arithmeticDtype);
  }

  /** The weights of the linear layers (c_attn, attn.c_proj, c_fc, mlp.c_proj of every block): what f16 arithmetic reads as f16. */
  linearWeightNames(): string[] {
    const names: string[] = [];
    for (let l = 0; l < this.config.nLayer; l++) for (const m of ['attn.c_attn', 'attn.c_proj', 'mlp.c_fc', 'mlp.c_proj']) names.push(`h.${l}.${m}.weight`);
    return names;
  }

  /**
   * f16 arithmetic: the linear weights rounded to f16 (packed two per u32 word, the layout
   * matmulF16 reads), recorded into `enc` from the f32 master weights — one conversion dispatch
   * per weight. GptRunner.forward records it at the start of every forward, so the copies always
   * match the weights that forward reads: after an optimizer step, an upload, or a swap to the
   * reference weights, whichever wrote them (the cost: 4 bytes read and 2 written per weight and
   * forward, small beside the forward's products). Returns the copies' arena, by weight name.
   */
  f16LinearWeights(enc: StepEncoder): Arena {
    if (this.packed) throw new Error('f16 arithmetic reads f16 copies of the f32 linear weights; this model keeps them packed (a LoRA base)');
    const names = this.linearWeightNames();
    const n = (name: string) => this.spec.find((t) => t.name === name)!.shape.reduce((a, b) => a * b, 1);
    this.f16Arena ??= new Arena(this.gpu.device, 'weights_f16', names.map((name) => ({ name, shape: [f16Words(n(name))] })));
    for (const name of names) packF16(enc, this.f16Arena.get(name), this.params.get(name), n(name));
    return this.f16Arena;
  }

  p(name: string): View {
    return this.params.get(name);
  }

  /** A linear weight as the matmul launchers take it: f32, or packed bf16 / f16 (a LoRA run's frozen base). */
  w(name: string): Weight {
    return this.packed?.has(name) ? this.packed.weight(name) : this.params.get(name);
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
   * All parameters back on the host by Hugging Face name, split tensors reassembled and packed
   * weights widened (for export and checkpoints, not per step); or another arena of the same layout.
   */
  async download(arena: Arena = this.params): Promise<Map<string, Float32Array>> {
    return arena === this.params ? downloadBase(this.spec, this.params, this.packed) : arena.readAll();
  }

  destroy(): void {
    this.params.destroy();
    this.gradArena?.destroy();
    this.packed?.destroy();
    this.lora?.destroy();
    this.f16Arena?.destroy();
  }
}

function activationSpec(c: GPTConfig, B: number, T: number, scratch: number, dtype: ActivationsDtype, opts: ActivationOptions = {}): TensorSpec[] {
  const { nEmbd: C, nHead: NH, nLayer: L } = c;
  const BT = B * T;
  const f16 = dtype === 'f16';
  const s: TensorSpec[] = [{ name: 'encoded', shape: [BT, C] }];
  // Kept per layer: what the backward cannot cheaply recompute. LayerNorm outputs and GELU are
  // recomputed in the backward from the kept residuals / fch (one cheap kernel each), and the
  // projections are consumed by the residual adds at once: those live in shared scratch below.
  // With f16 activations qkv and fch are kept as `qkv_f16` / `fch_f16`: u32 words, two values each.
  // LoRA adds u = s·x Aᵀ (BT, r) per adapted projection (`lora.<key>`).
  const layer = (at: string, l: number | null): TensorSpec[] => [
    { name: `${at}ln1_mean`, shape: [BT] },
    { name: `${at}ln1_rstd`, shape: [BT] },
    f16 ? { name: `${at}qkv_f16`, shape: [f16Words(BT * 3 * C)] } : { name: `${at}qkv`, shape: [BT, 3 * C] },
    { name: `${at}atty`, shape: [BT, C] },
    { name: `${at}att_lse`, shape: [attentionRowStatsSize(B, T, NH)] },
    { name: `${at}residual2`, shape: [BT, C] },
    { name: `${at}ln2_mean`, shape: [BT] },
    { name: `${at}ln2_rstd`, shape: [BT] },
    f16 ? { name: `${at}fch_f16`, shape: [f16Words(BT * 4 * C)] } : { name: `${at}fch`, shape: [BT, 4 * C] },
    ...(opts.lora ? loraLayers(c, opts.lora, at, l, BT) : []),
  ];
  // Activation checkpointing keeps only each layer's output (the next one's input) and one
  // layer's worth of the rest (`ck.`), recomputed layer by layer in the backward.
  for (let l = 0; l < L; l++) s.push(...(opts.checkpoint ? [] : layer(`${l}.`, l)), { name: `${l}.residual3`, shape: [BT, C] });
  if (opts.checkpoint && L > 0) s.push(...layer('ck.', null));
  if (opts.lora) s.push(...loraScratchActivations(c, opts.lora, BT));
  // f16: the qkv (3C) or fch (4C) of the layer being computed, in f32; never both live at once.
  if (f16) s.push({ name: 'unpacked', shape: [BT, 4 * C] });
  // f16 arithmetic: a linear layer's input x (at most 4C wide; also the rounded qkv before the
  // attention forward, with f32 activations) and output gradient dY (at most 4C), packed f16
  if (opts.arithmetic === 'f16') s.push({ name: 'op_x16', shape: [f16Words(BT * 4 * C)] }, { name: 'op_dy16', shape: [f16Words(BT * 4 * C)] });
  // shared by every layer: written and read within one layer's forward or backward
  s.push(
    { name: 'ln', shape: [BT, C] },
    { name: 'ln_mean', shape: [BT] },
    { name: 'ln_rstd', shape: [BT] },
    { name: 'proj', shape: [BT, C] },
    { name: 'fch_gelu', shape: [BT, 4 * C] },
  );
  s.push(
    { name: 'lnf', shape: [BT, C] },
    { name: 'lnf_mean', shape: [BT] },
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
    { name: 'datty', shape: [BT, C] },
    { name: 'dqkv', shape: [BT, 3 * C] },
    { name: 'att_delta', shape: [attentionRowStatsSize(B, T, NH)] },
    { name: 'dfch', shape: [BT, 4 * C] },
    { name: 'dfch_gelu', shape: [BT, 4 * C] },
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

/** Bytes of a GptRunner's activation arena for B sequences of T tokens (what memory estimates count). */
export function activationBytes(c: GPTConfig, B: number, T: number, dtype: ActivationsDtype = 'f32', opts: ActivationOptions = {}): number {
  // a reward model's runner: one element of head scratch (its score head replaces the LM head)
  return 4 * activationSpec(c, B, T, c.scoreHead ? 1 : lmHeadScratchSize(B * T, lmChunk(c)), dtype, opts).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

/** The adapters' u tensors of layer l (null: the shared `ck.` set, which serves every layer: their union). */
function loraLayers(c: GPTConfig, lora: NonNullable<ActivationOptions['lora']>, at: string, l: number | null, BT: number): TensorSpec[] {
  if (l !== null) return loraLayerActivations(c, lora, l, at, BT);
  const all = new Map<string, TensorSpec>();
  for (let k = 0; k < c.nLayer; k++) for (const t of loraLayerActivations(c, lora, k, at, BT)) all.set(t.name, t);
  return [...all.values()];
}

export type { SequenceStats } from './sequence-stats';

/** Activations and batch buffers for one (B, T) shape; forward and backward record into an encoder. */
export class GptRunner extends RunnerTail implements ModelRunner {
  readonly acts: Arena;
  readonly BT: number;
  private chunk: number;
  private buckets: EncoderBuckets | null = null;
  batch: HostBatch | null = null;
  /** A reward model's score head (config.scoreHead), which replaces the LM head; null for the causal LM. */
  readonly score: ScoreHead | null;

  /**
   * checkpoint: activation checkpointing — keep only each layer's input (the previous layer's
   * output) and recompute the layer in the backward from it: the same kernels on the same inputs,
   * so the gradients are bitwise those of the stored path, for one more forward per step.
   */
  /** The arithmetic of the products (arithmeticPlan): f16 needs `shader-f16` (or a test's forceF16Variant) and refuses LoRA. */
  readonly arithmeticDtype: ArithmeticDtype;

  constructor(readonly model: GptModel, readonly B: number, readonly T: number, readonly activationsDtype: ActivationsDtype = 'f32', readonly checkpoint = false, arithmeticDtype: ArithmeticDtype = 'f32') {
    super();
    const c = model.config;
    if (T > c.nPositions) throw new Error(`sequence length ${T} exceeds the model's n_positions ${c.nPositions}`);
    if (activationsDtype !== 'f32' && activationsDtype !== 'f16') throw new Error(`activationsDtype must be f32 or f16, got ${String(activationsDtype)}`);
    // throws F16UnavailableError on an adapter without shader-f16: never a silent fallback to f32
    this.arithmeticDtype = arithmeticPlan(model.gpu, arithmeticDtype);
    if (this.arithmeticDtype === 'f16' && (model.lora || model.packed)) throw new Error('arithmeticDtype f16: LoRA runs are not supported yet (their frozen base is read by the packed-weight matmuls); use f32 arithmetic or full fine-tuning');
    this.BT = B * T;
    this.chunk = lmChunk(c);
    this.score = c.scoreHead ? new ScoreHead(model.gpu, B, T, c.nEmbd, c.padTokenId ?? null, `acts[${B}x${T}]`) : null;
    // a reward model runs no LM head: no logits scratch
    this.acts = new Arena(model.gpu.device, `acts[${B}x${T}]`, activationSpec(c, B, T, this.score ? 1 : lmHeadScratchSize(this.BT, this.chunk), activationsDtype, { lora: model.lora?.lora, checkpoint, arithmetic: this.arithmeticDtype }), { separate: true });
  }

  /**
   * Layer l's qkv ('qkv', BT×3C) or fch ('fch', BT×4C) as f32 for a kernel to write: the kept
   * tensor, or with f16 activations the shared scratch (then `keep` stores it).
   */
  private f32Act(l: number, what: 'qkv' | 'fch'): View {
    return this.activationsDtype === 'f16' ? this.a('unpacked') : this.a(this.kept(l, what));
  }

  /** The name of layer l's kept tensor `what`: per layer, or with activation checkpointing the shared `ck.` one. */
  private kept(l: number, what: string): string {
    return this.checkpoint ? `ck.${what}` : `${l}.${what}`;
  }

  /**
   * f16 activations: pack the scratch into layer l's storage, then unpack it back, so the rest of
   * the forward reads the rounded values. The backward can only see the rounded values (it
   * unpacks them), so the forward must compute with them too: then the log-probs, and the
   * objective's coefficients made from them, belong to one function, f with qkv and fch rounded
   * to f16, and the backward is exactly its gradient (the rounding's derivative taken as 1,
   * straight-through). Computing the forward with the unrounded values and the backward with
   * the rounded ones would evaluate the Jacobians of a different point than the one scored:
   * a gradient of no function. The cost is one elementwise dispatch per tensor and layer.
   */
  private keep(enc: StepEncoder, l: number, what: 'qkv' | 'fch', n: number): void {
    if (this.activationsDtype === 'f32') return;
    packF16(enc, this.a(this.kept(l, `${what}_f16`)), this.a('unpacked'), n);
    unpackF16(enc, this.a('unpacked'), this.a(this.kept(l, `${what}_f16`)), n);
  }

  /** Layer l's qkv or fch as f32 for the backward: the kept tensor, or unpacked into the scratch. */
  private restore(enc: StepEncoder, l: number, what: 'qkv' | 'fch', n: number): View {
    if (this.activationsDtype === 'f32') return this.a(this.kept(l, what));
    unpackF16(enc, this.a('unpacked'), this.a(this.kept(l, `${what}_f16`)), n);
    return this.a('unpacked');
  }

  /** LoRA: after the base projection `module` of layer l wrote y from x, add its adapter's update (nothing without one, or with adapters off). */
  private adapt(enc: StepEncoder, l: number, module: string, y: View, x: View, cols?: LoraColumns): void {
    this.model.lora?.adapt(enc, module, y, x, this.BT, (n) => this.a(n), (n) => this.kept(l, n), cols);
  }

  /** LoRA: after the base projection's backward wrote dx from dy, the adapter's gradients and its part of dx. */
  private adaptBack(enc: StepEncoder, l: number, module: string, dx: View, dy: View, x: View, cols?: LoraColumns): void {
    this.model.lora?.adaptBack(enc, module, dx, dy, x, this.BT, (n) => this.a(n), (n) => this.kept(l, n), cols);
  }

  /** f16 arithmetic: the f16 copies of the linear weights, recorded at the start of each forward. */
  private w16: Arena | null = null;

  /** The f16 copy of linear weight `name` (f16 arithmetic), as this runner's last forward refreshed it. */
  private weight16(name: string): View {
    if (!this.w16) throw new Error('f16 arithmetic: no forward has refreshed the f16 weight copies yet (run forward before backward)');
    return this.w16.get(name);
  }

  /**
   * out (BT,OC) = x (BT,IC) · W (IC,OC) + bias, W the model's linear weight `name`. f16
   * arithmetic: x rounded to f16 (op_x16) times W's f16 copy, f32 accumulation
   * (src/kernels/matmul-f16.ts); the bias and the output stay f32.
   */
  private linear(enc: StepEncoder, out: View, x: View, name: string, bias: View, IC: number, OC: number): void {
    const { BT } = this;
    if (this.arithmeticDtype === 'f32') return matmulForward(enc, out, x, this.model.w(name), bias, BT, IC, OC);
    packF16(enc, this.a('op_x16'), x, BT * IC);
    matmulF16(enc, out, this.a('op_x16'), this.weight16(name), bias, BT, OC, IC);
  }

  /**
   * linear's backward: dx (BT,IC) = dY · Wᵀ (written), dW += xᵀ · dY, db += Σ dY (each skipped
   * when null). f16 arithmetic: dY and x rounded to f16, both products on f16 operands with f32
   * accumulation; db sums the f32 dY. With x and W rounded in the forward these are the gradients
   * of the rounded function (the roundings' derivative taken as 1), up to dY's own rounding.
   */
  private linearBack(enc: StepEncoder, dx: View | null, dW: View | null, db: View | null, dy: View, x: View, name: string, IC: number, OC: number): void {
    const { BT } = this;
    const W = this.model.w(name);
    if (this.arithmeticDtype === 'f32') return matmulBackward(enc, dx, dW, db, dy, x, W, BT, IC, OC);
    packF16(enc, this.a('op_dy16'), dy, BT * OC);
    // W stored (IC,OC) is Wᵀ stored (N,K) for N = IC, K = OC
    if (dx) matmulF16(enc, dx, this.a('op_dy16'), this.weight16(name), null, BT, IC, OC, { TRANS_B: true });
    if (dW) {
      // x stored (BT,IC) is xᵀ stored (K,M) for K = BT, M = IC
      packF16(enc, this.a('op_x16'), x, BT * IC);
      matmulF16(enc, dW, this.a('op_x16'), this.a('op_dy16'), null, IC, OC, BT, { TRANS_A: true, ACCUMULATE: true });
    }
    if (db) matmulBackward(enc, null, null, db, dy, x, W, BT, IC, OC);
  }

  /**
   * Layer l's attention forward from its qkv (f32, just written). f16 arithmetic: qkv rounded to
   * f16 — the kept f16 copy with f16 activations, else packed into op_x16 — and unpacked back into
   * the f32 tensor, so the f32 backward (which recomputes the probabilities from q, k and the
   * forward's lse) differentiates the function the f16 forward computed.
   */
  private attention(enc: StepEncoder, l: number, qkv: View): void {
    const { B, T, BT } = this;
    const { nEmbd: C, nHead: NH } = this.model.config;
    const k = (n: string) => this.a(this.kept(l, n));
    if (this.arithmeticDtype === 'f32') return attentionForward(enc, k('atty'), k('att_lse'), qkv, this.a('lengths'), B, T, NH, NH, C / NH); // GPT-2: NKV = NH
    let q16: View;
    if (this.activationsDtype === 'f16') q16 = k('qkv_f16'); // keep() rounded qkv already
    else {
      q16 = this.a('op_x16');
      packF16(enc, q16, qkv, BT * 3 * C);
      unpackF16(enc, qkv, q16, BT * 3 * C);
    }
    attentionF16Forward(enc, k('atty'), k('att_lse'), q16, this.a('lengths'), B, T, NH, NH, C / NH);
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

  forward(enc: StepEncoder): void {
    const { model, B, T, BT } = this;
    const { nEmbd: C, nLayer: L, vocabSize: V, layerNormEpsilon: eps } = model.config;
    const p = (n: string) => model.p(n);
    const a = (n: string) => this.a(n);
    if (this.arithmeticDtype === 'f16') this.w16 = model.f16LinearWeights(enc);
    encoderForward(enc, a('encoded'), a('tokens'), model.params.rows('wte.weight'), p('wpe.weight'), B, T, C);
    let residual = a('encoded');
    for (let l = 0; l < L; l++) {
      this.forwardLayer(enc, l, residual);
      residual = a(`${l}.residual3`);
    }
    layernormForward(enc, a('lnf'), a('lnf_mean'), a('lnf_rstd'), residual, p('ln_f.weight'), p('ln_f.bias'), BT, C, eps);
    if (this.score) {
      // reward model: one score per sequence instead of the LM head's log-probs (readRewards)
      // LoRA: the adapters' trained copy of the head (modules_to_save) while they are on
      this.score.forward(enc, a('lnf'), model.lora?.scoreWeight ?? p('score.weight'));
      return;
    }
    logprobForward(enc, a('logp'), a('lse'), a('mean_logit'), a('entropy'), a('correct'), a('lnf'), model.params.rows('wte.weight'), a('targets'), a('lm_scratch'), BT, C, V, this.chunk);
    encodeSequenceSums(enc, a, B, T);
  }

  protected get device(): GPUDevice {
    return this.model.gpu.device;
  }

  /** Parameter gradients += d(Σ coef·logp)/dθ (a reward model: d(Σ dReward·reward)/dθ) for the batch of the last forward. */
  backward(enc: StepEncoder): void {
    const { model, B, T, BT } = this;
    const { nEmbd: C, nLayer: L, vocabSize: V } = model.config;
    if (!this.batch) throw new Error('backward: no batch');
    const p = (n: string) => model.p(n);
    const g = (n: string) => model.grads.get(n);
    const a = (n: string) => this.a(n);
    // LoRA: the base is frozen, so no base-parameter gradient is computed (gb: null)
    const frozen = model.lora !== null;
    const gb = (n: string): View | null => (frozen ? null : model.grads.get(n));
    if (!frozen && !this.buckets) this.buckets = prepareEncoderBackward(model.gpu, this.batch.tokens, B, T, V);
    // LoRA: the score head trains in full beside the adapters (its copy's gradient is the adapters')
    if (this.score) this.score.backward(enc, a('dln'), frozen ? model.lora!.scoreGrad : gb('score.weight'), a('lnf'), model.lora?.scoreWeight ?? p('score.weight'));
    else logprobBackward(enc, a('dln'), frozen ? null : model.grads.rows('wte.weight'), a('coef'), a('lnf'), model.params.rows('wte.weight'), a('targets'), a('lse'), a('lm_scratch'), BT, C, V, this.chunk);
    enc.clear(a('dresidual'));
    const lastResidual = L > 0 ? a(`${L - 1}.residual3`) : a('encoded');
    layernormBackward(enc, a('dresidual'), gb('ln_f.weight'), gb('ln_f.bias'), a('dln'), lastResidual, p('ln_f.weight'), a('lnf_mean'), a('lnf_rstd'), BT, C);
    for (let l = L - 1; l >= 0; l--) {
      const residual = l === 0 ? a('encoded') : a(`${l - 1}.residual3`);
      // activation checkpointing: the layer's kept tensors again, from its input (bitwise the forward's)
      if (this.checkpoint) this.forwardLayer(enc, l, residual);
      this.backwardLayer(enc, l, residual, gb);
    }
    if (!frozen) encoderBackward(enc, model.grads.rows('wte.weight'), g('wpe.weight'), a('dresidual'), this.buckets!, B, T, C);
  }

  /** Layer l from its input `residual` (the previous layer's residual3, or encoded) to `${l}.residual3`. */
  private forwardLayer(enc: StepEncoder, l: number, residual: View): void {
    const { model, BT } = this;
    const { nEmbd: C, layerNormEpsilon: eps } = model.config;
    const p = (n: string) => model.p(n);
    const a = (n: string) => this.a(n);
    const k = (n: string) => this.a(this.kept(l, n));
    const h = `h.${l}`;
    layernormForward(enc, a('ln'), k('ln1_mean'), k('ln1_rstd'), residual, p(`${h}.ln_1.weight`), p(`${h}.ln_1.bias`), BT, C, eps);
    const qkv = this.f32Act(l, 'qkv');
    this.linear(enc, qkv, a('ln'), `${h}.attn.c_attn.weight`, p(`${h}.attn.c_attn.bias`), C, 3 * C);
    this.adapt(enc, l, `${h}.attn.c_attn`, qkv, a('ln'));
    this.keep(enc, l, 'qkv', BT * 3 * C);
    this.attention(enc, l, qkv);
    this.linear(enc, a('proj'), k('atty'), `${h}.attn.c_proj.weight`, p(`${h}.attn.c_proj.bias`), C, C);
    this.adapt(enc, l, `${h}.attn.c_proj`, a('proj'), k('atty'));
    residualForward(enc, k('residual2'), residual, a('proj'), BT * C);
    layernormForward(enc, a('ln'), k('ln2_mean'), k('ln2_rstd'), k('residual2'), p(`${h}.ln_2.weight`), p(`${h}.ln_2.bias`), BT, C, eps);
    const fch = this.f32Act(l, 'fch');
    this.linear(enc, fch, a('ln'), `${h}.mlp.c_fc.weight`, p(`${h}.mlp.c_fc.bias`), C, 4 * C);
    this.adapt(enc, l, `${h}.mlp.c_fc`, fch, a('ln'));
    this.keep(enc, l, 'fch', BT * 4 * C);
    geluForward(enc, a('fch_gelu'), fch, BT * 4 * C);
    this.linear(enc, a('proj'), a('fch_gelu'), `${h}.mlp.c_proj.weight`, p(`${h}.mlp.c_proj.bias`), 4 * C, C);
    this.adapt(enc, l, `${h}.mlp.c_proj`, a('proj'), a('fch_gelu'));
    residualForward(enc, a(`${l}.residual3`), k('residual2'), a('proj'), BT * C);
  }

  /**
   * Layer l's backward: dresidual holds d(residual3) and becomes d(its input `residual`); base
   * parameter gradients through gb (null: frozen), adapter gradients through adaptBack.
   */
  private backwardLayer(enc: StepEncoder, l: number, residual: View, gb: (n: string) => View | null): void {
    const { model, B, T, BT } = this;
    const { nEmbd: C, nHead: NH, layerNormEpsilon: eps } = model.config;
    const p = (n: string) => model.p(n);
    const a = (n: string) => this.a(n);
    const k = (n: string) => this.a(this.kept(l, n));
    const h = `h.${l}`;
    // residual3 = residual2 + fcproj: dresidual holds d(residual3) = d(fcproj).
    const fch = this.restore(enc, l, 'fch', BT * 4 * C);
    geluForward(enc, a('fch_gelu'), fch, BT * 4 * C); // recomputed, not kept
    this.linearBack(enc, a('dfch_gelu'), gb(`${h}.mlp.c_proj.weight`), gb(`${h}.mlp.c_proj.bias`), a('dresidual'), a('fch_gelu'), `${h}.mlp.c_proj.weight`, 4 * C, C);
    this.adaptBack(enc, l, `${h}.mlp.c_proj`, a('dfch_gelu'), a('dresidual'), a('fch_gelu'));
    geluBackward(enc, a('dfch'), fch, a('dfch_gelu'), BT * 4 * C);
    // ln2 recomputed (same kernel, same inputs: bitwise the forward's values)
    layernormForward(enc, a('ln'), a('ln_mean'), a('ln_rstd'), k('residual2'), p(`${h}.ln_2.weight`), p(`${h}.ln_2.bias`), BT, C, eps);
    this.linearBack(enc, a('dln'), gb(`${h}.mlp.c_fc.weight`), gb(`${h}.mlp.c_fc.bias`), a('dfch'), a('ln'), `${h}.mlp.c_fc.weight`, C, 4 * C);
    this.adaptBack(enc, l, `${h}.mlp.c_fc`, a('dln'), a('dfch'), a('ln'));
    layernormBackward(enc, a('dresidual'), gb(`${h}.ln_2.weight`), gb(`${h}.ln_2.bias`), a('dln'), k('residual2'), p(`${h}.ln_2.weight`), k('ln2_mean'), k('ln2_rstd'), BT, C);
    // residual2 = residual + attproj: dresidual now holds d(residual2) = d(attproj).
    this.linearBack(enc, a('datty'), gb(`${h}.attn.c_proj.weight`), gb(`${h}.attn.c_proj.bias`), a('dresidual'), k('atty'), `${h}.attn.c_proj.weight`, C, C);
    this.adaptBack(enc, l, `${h}.attn.c_proj`, a('datty'), a('dresidual'), k('atty'));
    const qkv = this.restore(enc, l, 'qkv', BT * 3 * C);
    attentionBackward(enc, a('dqkv'), a('att_delta'), a('datty'), k('atty'), qkv, k('att_lse'), a('lengths'), B, T, NH, NH, C / NH);
    layernormForward(enc, a('ln'), a('ln_mean'), a('ln_rstd'), residual, p(`${h}.ln_1.weight`), p(`${h}.ln_1.bias`), BT, C, eps);
    this.linearBack(enc, a('dln'), gb(`${h}.attn.c_attn.weight`), gb(`${h}.attn.c_attn.bias`), a('dqkv'), a('ln'), `${h}.attn.c_attn.weight`, C, 3 * C);
    this.adaptBack(enc, l, `${h}.attn.c_attn`, a('dln'), a('dqkv'), a('ln'));
    layernormBackward(enc, a('dresidual'), gb(`${h}.ln_1.weight`), gb(`${h}.ln_1.bias`), a('dln'), residual, p(`${h}.ln_1.weight`), k('ln1_mean'), k('ln1_rstd'), BT, C);
  }

  destroy(): void {
    this.acts.destroy();
    this.score?.destroy();
    this.buckets?.destroy();
  }
}

