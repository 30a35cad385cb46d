// GPT-2 on the GPU: parameters in one arena (gradients and Adam moments in arenas of the same
// layout), activations in a per-(B,T) arena, forward and backward recorded into a StepEncoder.
// Dimensions: B batch, T time, C channels, NH heads, V vocab, L layers; BT = B·T rows.
import type { GpuContext } from '../engine/gpu';
import { Arena, type TensorSpec, type View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { readF32 } from '../engine/readback';
import { encodeSequenceSums, readSequenceStats, writeCoefficients, type SequenceStats } from './sequence-stats';
import { gptDecays, paramSpec, validateConfig, type GPTConfig } from './config';
import { sequenceConfig, type ModelRunner, type SequenceConfig, type TrainableModel } from './family';
import type { HostBatch } from './batch';
import { encoderForward, encoderBackward, prepareEncoderBackward, type EncoderBuckets } from '../kernels/encoder';
import { layernormForward, layernormBackward } from '../kernels/layernorm';
import { matmulForward, matmulBackward } from '../kernels/matmul';
import { attentionForward, attentionBackward, attentionRowStatsSize, MAX_HEAD_SIZE } from '../kernels/attention';
import { geluForward, geluBackward } from '../kernels/gelu';
import { residualForward } from '../kernels/residual';
import { logprobForward, logprobBackward, lmHeadScratchSize } from '../kernels/logprob';
import { packF16, unpackF16, f16Words } from '../kernels/convert';

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
  readonly params: Arena;
  /** paramSpec(config): the layout of the parameter, gradient and moment arenas. */
  readonly spec: TensorSpec[];
  readonly seq: SequenceConfig;
  private gradArena: Arena | null = null;

  constructor(readonly gpu: GpuContext, readonly config: GPTConfig) {
    validateConfig(config);
    checkEngineConfig(config);
    this.spec = paramSpec(config);
    this.seq = sequenceConfig(config);
    this.params = new Arena(gpu.device, 'params', this.spec);
  }

  get grads(): Arena {
    if (!this.gradArena) this.gradArena = new Arena(this.gpu.device, 'grads', this.spec);
    return this.gradArena;
  }

  /** Hugging Face's rule: every weight but biases and LayerNorm gains. */
  decays(name: string): boolean {
    return gptDecays(name);
  }

  createRunner(B: number, T: number, activationsDtype: ActivationsDtype = 'f32'): GptRunner {
    return new GptRunner(this, B, T, activationsDtype);
  }

  p(name: string): View {
    return this.params.get(name);
  }

  upload(weights: Map<string, Float32Array>): void {
    for (const spec of this.spec) {
      const w = weights.get(spec.name);
      const view = this.params.get(spec.name);
      if (!w) throw new Error(`missing tensor "${spec.name}" [${spec.shape.join(', ')}]`);
      if (w.length !== view.length) throw new Error(`tensor "${spec.name}" has ${w.length} values, expected [${spec.shape.join(', ')}] = ${view.length}`);
      this.gpu.device.queue.writeBuffer(view.buffer, view.offset, w.buffer, w.byteOffset, w.byteLength);
    }
  }

  /** All parameters back on the host (for export and checkpoints, not per step). */
  async download(arena: Arena = this.params): Promise<Map<string, Float32Array>> {
    const all = await readF32(this.gpu.device, arena.whole());
    const out = new Map<string, Float32Array>();
    for (const spec of this.spec) {
      const v = arena.get(spec.name);
      out.set(spec.name, all.slice(v.offset / 4, v.offset / 4 + v.length));
    }
    return out;
  }

  destroy(): void {
    this.params.destroy();
    this.gradArena?.destroy();
  }
}

function activationSpec(c: GPTConfig, B: number, T: number, scratch: number, dtype: ActivationsDtype): TensorSpec[] {
  const { nEmbd: C, nHead: NH, nLayer: L } = c;
  const BT = B * T;
  const f16 = dtype === 'f16';
  const s: TensorSpec[] = [{ name: 'encoded', shape: [BT, C] }];
  // Kept per layer: what the backward cannot cheaply recompute. LayerNorm outputs and GELU are
  // recomputed in the backward from the kept residuals / fch (one cheap kernel each), and the
  // projections are consumed by the residual adds at once: those live in shared scratch below.
  // With f16 activations qkv and fch are kept as `qkv_f16` / `fch_f16`: u32 words, two values each.
  for (let l = 0; l < L; l++) {
    s.push(
      { name: `${l}.ln1_mean`, shape: [BT] },
      { name: `${l}.ln1_rstd`, shape: [BT] },
      f16 ? { name: `${l}.qkv_f16`, shape: [f16Words(BT * 3 * C)] } : { name: `${l}.qkv`, shape: [BT, 3 * C] },
      { name: `${l}.atty`, shape: [BT, C] },
      { name: `${l}.att_lse`, shape: [attentionRowStatsSize(B, T, NH)] },
      { name: `${l}.residual2`, shape: [BT, C] },
      { name: `${l}.ln2_mean`, shape: [BT] },
      { name: `${l}.ln2_rstd`, shape: [BT] },
      f16 ? { name: `${l}.fch_f16`, shape: [f16Words(BT * 4 * C)] } : { name: `${l}.fch`, shape: [BT, 4 * C] },
      { name: `${l}.residual3`, shape: [BT, C] },
    );
  }
  // f16: the qkv (3C) or fch (4C) of the layer being computed, in f32; never both live at once.
  if (f16) s.push({ name: 'unpacked', shape: [BT, 4 * C] });
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
export function activationBytes(c: GPTConfig, B: number, T: number, dtype: ActivationsDtype = 'f32'): number {
  return 4 * activationSpec(c, B, T, lmHeadScratchSize(B * T, lmChunk(c)), dtype).reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
}

export type { SequenceStats } from './sequence-stats';

/** Activations and batch buffers for one (B, T) shape; forward and backward record into an encoder. */
export class GptRunner implements ModelRunner {
  readonly acts: Arena;
  readonly BT: number;
  private chunk: number;
  private buckets: EncoderBuckets | null = null;
  batch: HostBatch | null = null;

  constructor(readonly model: GptModel, readonly B: number, readonly T: number, readonly activationsDtype: ActivationsDtype = 'f32') {
    const c = model.config;
    if (T > c.nPositions) throw new Error(`sequence length ${T} exceeds the model's n_positions ${c.nPositions}`);
    if (activationsDtype !== 'f32' && activationsDtype !== 'f16') throw new Error(`activationsDtype must be f32 or f16, got ${String(activationsDtype)}`);
    this.BT = B * T;
    this.chunk = lmChunk(c);
    this.acts = new Arena(model.gpu.device, `acts[${B}x${T}]`, activationSpec(c, B, T, lmHeadScratchSize(this.BT, this.chunk), activationsDtype), { separate: true });
  }

  /**
   * Layer l's qkv ('qkv', BT×3C) or fch ('fch', BT×4C) as f32 for a kernel to write: the kept
   * tensor, or with f16 activations the shared scratch (then `keep` stores it).
   */
  private f32Act(l: number, what: 'qkv' | 'fch'): View {
    return this.activationsDtype === 'f16' ? this.a('unpacked') : this.a(`${l}.${what}`);
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
    packF16(enc, this.a(`${l}.${what}_f16`), this.a('unpacked'), n);
    unpackF16(enc, this.a('unpacked'), this.a(`${l}.${what}_f16`), n);
  }

  /** Layer l's qkv or fch as f32 for the backward: the kept tensor, or unpacked into the scratch. */
  private restore(enc: StepEncoder, l: number, what: 'qkv' | 'fch', n: number): View {
    if (this.activationsDtype === 'f32') return this.a(`${l}.${what}`);
    unpackF16(enc, this.a('unpacked'), this.a(`${l}.${what}_f16`), n);
    return this.a('unpacked');
  }

  a(name: string): View {
    return this.acts.get(name);
  }

  /** GPU bytes held: the activation arena and, after a backward, the batch's token buckets. */
  get bytes(): number {
    const b = this.buckets;
    return this.acts.bytes + (b ? b.ids.buffer.size + b.offsets.buffer.size + b.positions.buffer.size : 0);
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
    this.buckets?.destroy();
    this.buckets = null;
    this.batch = batch;
  }

  forward(enc: StepEncoder): void {
    const { model, B, T, BT } = this;
    const { nEmbd: C, nHead: NH, nLayer: L, vocabSize: V, layerNormEpsilon: eps } = model.config;
    const p = (n: string) => model.p(n);
    const a = (n: string) => this.a(n);
    encoderForward(enc, a('encoded'), a('tokens'), p('wte.weight'), p('wpe.weight'), B, T, C);
    let residual = a('encoded');
    for (let l = 0; l < L; l++) {
      const h = `h.${l}`;
      layernormForward(enc, a('ln'), a(`${l}.ln1_mean`), a(`${l}.ln1_rstd`), residual, p(`${h}.ln_1.weight`), p(`${h}.ln_1.bias`), BT, C, eps);
      const qkv = this.f32Act(l, 'qkv');
      matmulForward(enc, qkv, a('ln'), p(`${h}.attn.c_attn.weight`), p(`${h}.attn.c_attn.bias`), BT, C, 3 * C);
      this.keep(enc, l, 'qkv', BT * 3 * C);
      attentionForward(enc, a(`${l}.atty`), a(`${l}.att_lse`), qkv, a('lengths'), B, T, NH, NH, C / NH); // GPT-2: NKV = NH
      matmulForward(enc, a('proj'), a(`${l}.atty`), p(`${h}.attn.c_proj.weight`), p(`${h}.attn.c_proj.bias`), BT, C, C);
      residualForward(enc, a(`${l}.residual2`), residual, a('proj'), BT * C);
      layernormForward(enc, a('ln'), a(`${l}.ln2_mean`), a(`${l}.ln2_rstd`), a(`${l}.residual2`), p(`${h}.ln_2.weight`), p(`${h}.ln_2.bias`), BT, C, eps);
      const fch = this.f32Act(l, 'fch');
      matmulForward(enc, fch, a('ln'), p(`${h}.mlp.c_fc.weight`), p(`${h}.mlp.c_fc.bias`), BT, C, 4 * C);
      this.keep(enc, l, 'fch', BT * 4 * C);
      geluForward(enc, a('fch_gelu'), fch, BT * 4 * C);
      matmulForward(enc, a('proj'), a('fch_gelu'), p(`${h}.mlp.c_proj.weight`), p(`${h}.mlp.c_proj.bias`), BT, 4 * C, C);
      residualForward(enc, a(`${l}.residual3`), a(`${l}.residual2`), a('proj'), BT * C);
      residual = a(`${l}.residual3`);
    }
    layernormForward(enc, a('lnf'), a('lnf_mean'), a('lnf_rstd'), residual, p('ln_f.weight'), p('ln_f.bias'), BT, C, eps);
    logprobForward(enc, a('logp'), a('lse'), a('mean_logit'), a('entropy'), a('correct'), a('lnf'), p('wte.weight'), a('targets'), a('lm_scratch'), BT, C, V, this.chunk);
    encodeSequenceSums(enc, a, B, T);
  }

  /** Per-sequence sums of the last forward (one small readback). */
  async readStats(): Promise<SequenceStats> {
    return readSequenceStats(this.model.gpu.device, (n) => this.a(n));
  }

  /** Per-position log-probs of the last forward, (B,T) with 0 where there is no target. */
  async readTokenLogps(): Promise<Float32Array> {
    return readF32(this.model.gpu.device, this.a('logp'));
  }

  /** Upload per-position coefficients dL/dlogp (B,T). */
  setCoefficients(coef: Float32Array): void {
    writeCoefficients(this.model.gpu.device, this.a('coef'), coef, this.BT);
  }

  /** Parameter gradients += d(Σ coef·logp)/dθ for the batch of the last forward. */
  backward(enc: StepEncoder): void {
    const { model, B, T, BT } = this;
    const { nEmbd: C, nHead: NH, nLayer: L, vocabSize: V, layerNormEpsilon: eps } = model.config;
    if (!this.batch) throw new Error('backward: no batch');
    const p = (n: string) => model.p(n);
    const g = (n: string) => model.grads.get(n);
    const a = (n: string) => this.a(n);
    if (!this.buckets) this.buckets = prepareEncoderBackward(model.gpu, this.batch.tokens, B, T, V);
    logprobBackward(enc, a('dln'), g('wte.weight'), a('coef'), a('lnf'), p('wte.weight'), a('targets'), a('lse'), a('lm_scratch'), BT, C, V, this.chunk);
    enc.clear(a('dresidual'));
    const lastResidual = L > 0 ? a(`${L - 1}.residual3`) : a('encoded');
    layernormBackward(enc, a('dresidual'), g('ln_f.weight'), g('ln_f.bias'), a('dln'), lastResidual, p('ln_f.weight'), a('lnf_mean'), a('lnf_rstd'), BT, C);
    for (let l = L - 1; l >= 0; l--) {
      const h = `h.${l}`;
      const residual = l === 0 ? a('encoded') : a(`${l - 1}.residual3`);
      // residual3 = residual2 + fcproj: dresidual holds d(residual3) = d(fcproj).
      const fch = this.restore(enc, l, 'fch', BT * 4 * C);
      geluForward(enc, a('fch_gelu'), fch, BT * 4 * C); // recomputed, not kept
      matmulBackward(enc, a('dfch_gelu'), g(`${h}.mlp.c_proj.weight`), g(`${h}.mlp.c_proj.bias`), a('dresidual'), a('fch_gelu'), p(`${h}.mlp.c_proj.weight`), BT, 4 * C, C);
      geluBackward(enc, a('dfch'), fch, a('dfch_gelu'), BT * 4 * C);
      // ln2 recomputed (same kernel, same inputs: bitwise the forward's values)
      layernormForward(enc, a('ln'), a('ln_mean'), a('ln_rstd'), a(`${l}.residual2`), p(`${h}.ln_2.weight`), p(`${h}.ln_2.bias`), BT, C, eps);
      matmulBackward(enc, a('dln'), g(`${h}.mlp.c_fc.weight`), g(`${h}.mlp.c_fc.bias`), a('dfch'), a('ln'), p(`${h}.mlp.c_fc.weight`), BT, C, 4 * C);
      layernormBackward(enc, a('dresidual'), g(`${h}.ln_2.weight`), g(`${h}.ln_2.bias`), a('dln'), a(`${l}.residual2`), p(`${h}.ln_2.weight`), a(`${l}.ln2_mean`), a(`${l}.ln2_rstd`), BT, C);
      // residual2 = residual + attproj: dresidual now holds d(residual2) = d(attproj).
      matmulBackward(enc, a('datty'), g(`${h}.attn.c_proj.weight`), g(`${h}.attn.c_proj.bias`), a('dresidual'), a(`${l}.atty`), p(`${h}.attn.c_proj.weight`), BT, C, C);
      const qkv = this.restore(enc, l, 'qkv', BT * 3 * C);
      attentionBackward(enc, a('dqkv'), a('att_delta'), a('datty'), a(`${l}.atty`), qkv, a(`${l}.att_lse`), a('lengths'), B, T, NH, NH, C / NH);
      layernormForward(enc, a('ln'), a('ln_mean'), a('ln_rstd'), residual, p(`${h}.ln_1.weight`), p(`${h}.ln_1.bias`), BT, C, eps);
      matmulBackward(enc, a('dln'), g(`${h}.attn.c_attn.weight`), g(`${h}.attn.c_attn.bias`), a('dqkv'), a('ln'), p(`${h}.attn.c_attn.weight`), BT, C, 3 * C);
      layernormBackward(enc, a('dresidual'), g(`${h}.ln_1.weight`), g(`${h}.ln_1.bias`), a('dln'), residual, p(`${h}.ln_1.weight`), a(`${l}.ln1_mean`), a(`${l}.ln1_rstd`), BT, C);
    }
    encoderBackward(enc, g('wte.weight'), g('wpe.weight'), a('dresidual'), this.buckets, B, T, C);
  }

  destroy(): void {
    this.acts.destroy();
    this.buckets?.destroy();
  }
}

