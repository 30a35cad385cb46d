// Generation on the GPU for both families (docs/design.md, "Generation on the GPU"): a batch of
// prompts is prefilled in one pass, every layer's keys and values are kept in a cache on the GPU,
// then each decode step runs one token per sequence through the model against that cache, the LM
// head at that one position, and samples on the GPU (src/kernels/decode-sample.ts: temperature,
// top-k, top-p, seeded; or greedy). Only the chosen ids and their log-probs come back, once at the
// end, plus one u32 per sequence every few steps to see whether all have stopped.
// Dimensions: B sequences, Tp prefill length (the longest prompt the runner takes), N tokens
// generated at most, S = Tp + N − 1 cache slots, C channels, V vocabulary, NH / NKV query and
// key/value heads, HS head size, QC = NH·HS, KC = NKV·HS, W = QC + 2·KC, L layers, R = B·Tp rows.
//
// Layout. Prompts are left-aligned at slot 0 and right-padded, as training batches are: slot =
// position, so a sequence's positions (GPT-2's wpe rows, RoPE angles) are exactly those the
// training forward gives the same tokens, the prefill reuses the training kernels (causal
// attention with per-sequence lengths), and sequence b's token at step s lands in slot
// len_b + s − 1 of its own cache row. Left padding (transformers' choice) would need position ids
// offset per row and a padding mask in every attention; here a row only ever attends to slots it
// wrote. The cost is that rows write different slots in a step, which the kernels read from the
// lengths buffer.
// Step state. ctl[0] = s, the column being generated, lives on the GPU and the sampler's
// successor kernel increments it, so every decode step is the same commands: recorded once per
// call (src/engine/replay.ts) and replayed.
// Projections go through `project` below, with the training forward's parts (src/model/gpt.ts,
// llama.ts): a weight of a 16-bit frozen base (LoRA runs, src/model/packed-base.ts) goes to the
// packed matmul (widened in registers), an f32 one to decodeProduct; then the projection's LoRA
// adapter, when it has one and the adapters are on, adds s·(x Aᵀ) Bᵀ (LoraAdapters.forward: the
// training kernels, u = s·x Aᵀ into the runner's `lora_u` scratch). Both read the model's own
// buffers — the live adapters and the base, never a copy — and the adapters' on/off switch is read
// when a call records its commands (adapters off: the base model, GRPO/RLOO/PPO's reference).
import type { GpuContext } from '../engine/gpu';
import { Arena, numel, type TensorSpec, type View } from '../engine/arena';
import { StepEncoder } from '../engine/encoder';
import { RecordingEncoder, type Tape } from '../engine/replay';
import { readF32, readManyF32, readU32 } from '../engine/readback';
import { GptModel } from './gpt';
import { LlamaModel } from './llama';
import { llamaBiases } from './llama-config';
import { isLlamaConfig, sequenceConfig, type ModelConfig } from './family';
import { encoderForward } from '../kernels/encoder';
import { layernormForward } from '../kernels/layernorm';
import { rmsnormForward } from '../kernels/rmsnorm';
import { attentionForward, attentionRowStatsSize } from '../kernels/attention';
import { ropeForwardInPlace, qkvRopeRows } from '../kernels/rope';
import { swigluForward } from '../kernels/swiglu';
import { geluForward } from '../kernels/gelu';
import { residualForward } from '../kernels/residual';
import { decodeAdvance, decodeAttention, decodeEmbed, decodeGather, decodeKvStore, decodePlace, decodeProduct, decodeRope } from '../kernels/decode';
import { checkGpuSampling, MAX_STOP_IDS, sampleRows, samplerCtl, type GpuSampling } from '../kernels/decode-sample';
import { checkRowParts } from '../kernels/check';
import { isPacked, matmulPackedB, type Weight } from '../kernels/matmul-packed';
import type { LoraColumns } from '../kernels/lora';
import { isStacked, loraModules, type LoraConfig } from './lora';

export type DecodeModel = GptModel | LlamaModel;

export interface GenerateOptions {
  /** Tokens to generate at most per sequence (≥ 1, ≤ the runner's N). */
  maxNewTokens: number;
  /** 0 = greedy (the first argmax); otherwise > 0. TRL's GRPO default is 1, PPO's 0.7. */
  temperature: number;
  /** 0 (default) = off. */
  topK?: number;
  /** 1 (default) = off. */
  topP?: number;
  /** The sampling stream's seed (u32): mulberry32 as src/util/rng.ts's Rng. Default 0. */
  seed?: number;
  /**
   * Draws of the stream already used (default 0): step s of sequence b uses draw drawOffset +
   * s·B + b, as sampleRollouts does with `new Rng(seed)` advanced drawOffset times.
   */
  drawOffset?: number;
  /** Ids that end a sequence (kept as its last token). Default: the model's eos id(s). [] = never stop early. */
  stopIds?: readonly number[];
  /** Written after a sequence stopped (responses' padding). Default: the model's eos id. */
  padId?: number;
  /** Every step's (B,V) logits come back (tests). */
  captureLogits?: boolean;
  /**
   * The most steps between reads of the stopped flags (default 8): the loop ends once every sequence
   * stopped. Reads come after steps 2, 4, 8, … then every checkEvery: a short answer (an arithmetic
   * result and end-of-text) costs 2 steps, not 8, and a long one a read per checkEvery steps.
   */
  checkEvery?: number;
}

export interface GpuRollouts {
  /** Per sequence, the generated ids, up to and including the stop id when it stopped. */
  generated: number[][];
  /**
   * Per generated token, log softmax(logits / temperature)[token] (temperature 1 when greedy): the
   * log-prob TRL's trainers compute for the policy, the old policy and the reference.
   */
  logprobs: number[][];
  /**
   * Per generated token, its log-probability under the distribution it was drawn from (after top-k
   * and top-p; 0 when greedy): src/train/rl/sampling.ts sampleToken's / sampleRollouts' logprob.
   */
  warpedLogprobs: number[][];
  /** (B,T) the generated ids right-padded with padId, T = the longest (transformers' output). */
  responses: Int32Array;
  T: number;
  /** Whether each sequence ended at a stop id. */
  stopped: boolean[];
  /** Draws of the stream this call accounts for (T·B, as sampleRollouts consumes): the next call's drawOffset adds it. */
  draws: number;
  /** Decode steps run on the GPU (≥ T: stopping is checked after steps 2, 4, 8, … then every checkEvery). */
  stepsRun: number;
  /** With captureLogits: step s's logits (B,V), s < stepsRun. */
  logits?: Float32Array[];
}

interface Dims {
  llama: boolean;
  C: number;
  V: number;
  L: number;
  NH: number;
  NKV: number;
  HS: number;
  QC: number;
  W: number;
  /** Width of the MLP's first projection: 4C (GPT-2) or 2I (gate|up). */
  FF: number;
  /** Width of its activation: 4C or I. */
  FA: number;
  P: number;
}

function dims(config: ModelConfig): Dims {
  if (isLlamaConfig(config)) {
    const c = config;
    const HS = c.headDim;
    return { llama: true, C: c.hiddenSize, V: c.vocabSize, L: c.numHiddenLayers, NH: c.numAttentionHeads, NKV: c.numKeyValueHeads, HS, QC: c.numAttentionHeads * HS, W: (c.numAttentionHeads + 2 * c.numKeyValueHeads) * HS, FF: 2 * c.intermediateSize, FA: c.intermediateSize, P: c.maxPositionEmbeddings };
  }
  const c = config;
  const HS = c.nEmbd / c.nHead;
  return { llama: false, C: c.nEmbd, V: c.vocabSize, L: c.nLayer, NH: c.nHead, NKV: c.nHead, HS, QC: c.nEmbd, W: 3 * c.nEmbd, FF: 4 * c.nEmbd, FA: 4 * c.nEmbd, P: c.nPositions };
}

/** The model's eos id(s): what generation stops at by default. */
export function defaultStopIds(model: DecodeModel): number[] {
  const eos = model.config.eosTokenId;
  if (eos === null) return [];
  return Array.isArray(eos) ? [...eos] : [eos];
}

/**
 * LoRA scratch for R rows: lora_u (R, r) = s·x Aᵀ of the projection being adapted, and lora_delta
 * (R, widest stacked projection) when one is a slice of a stacked output (the Llama family's
 * q|k|v, gate|up). None without adapters.
 */
function loraScratch(c: ModelConfig, lora: LoraConfig | null, R: number): TensorSpec[] {
  if (!lora) return [];
  const widest = loraModules(c, lora).reduce((w, m) => (isStacked(m) ? Math.max(w, m.out) : w), 0);
  const s: TensorSpec[] = [{ name: 'lora_u', shape: [R, lora.r] }];
  if (widest > 0) s.push({ name: 'lora_delta', shape: [R, widest] });
  return s;
}

/** The tensors of a DecodeRunner's arena (one GPU buffer each). */
function decodeSpec(c: ModelConfig, lora: LoraConfig | null, d: Dims, B: number, Tp: number, N: number, S: number, headPartRows: number): TensorSpec[] {
  const R = B * Tp;
  const s: TensorSpec[] = [
    { name: 'tokens_in', shape: [R] },
    { name: 'lengths', shape: [B] },
    { name: 'ctl', shape: [4] },
    { name: 'done', shape: [B] },
    { name: 'stop_ids', shape: [MAX_STOP_IDS] },
    { name: 'xa', shape: [R, d.C] },
    { name: 'xb', shape: [R, d.C] },
    { name: 'ln', shape: [R, d.C] },
    { name: 'ln_mean', shape: [R] },
    { name: 'ln_rstd', shape: [R] },
    { name: 'qkv', shape: [R, d.W] },
    { name: 'lse', shape: [attentionRowStatsSize(B, Tp, d.NH)] },
    { name: 'atty', shape: [R, d.QC] },
    { name: 'proj', shape: [R, d.C] },
    { name: 'fc', shape: [R, d.FF] },
    { name: 'act', shape: [R, d.FA] },
    { name: 'scores', shape: [B * d.NH * S] },
    { name: 'last', shape: [B, d.C] },
    { name: 'lnf', shape: [B, d.C] },
    { name: 'lnf_mean', shape: [B] },
    { name: 'lnf_rstd', shape: [B] },
    { name: 'logits', shape: [B, d.V] },
    { name: 'probs', shape: [B, d.V] },
    { name: 'out_tokens', shape: [B, N] },
    { name: 'out_logp', shape: [B, N] },
    { name: 'out_wlogp', shape: [B, N] },
  ];
  if (headPartRows > 0) s.push({ name: 'head_block', shape: [B, headPartRows] });
  s.push(...loraScratch(c, lora, R));
  for (let l = 0; l < d.L; l++) s.push({ name: `cache.${l}`, shape: [B * S * 2 * d.NKV * d.HS] });
  return s;
}

/** Bytes a DecodeRunner allocates (memory estimates): its arena, the key/value cache included. */
export function decodeBytes(model: DecodeModel, B: number, Tp: number, N: number): number {
  const parts = checkRowParts('decode', model.params.rows(headName(model)), dims(model.config).C).parts;
  return decodeConfigBytes(model.config, model.lora?.lora ?? null, B, Tp, N, parts.length > 1 ? Math.max(...parts.map((p) => p.rows)) : 0);
}

/**
 * decodeBytes from the configuration alone (the page's memory estimate, src/store/memory.ts):
 * a DecodeRunner of a model of config `c` with LoRA adapters `lora` (null: none).
 * `headPartRows`: the rows of the largest part of an LM head split across buffers (decodeBytes
 * reads them from the model's arena); 0, the default, for a head in one buffer (the page does not
 * know the device's buffer limits: a split head adds one (B, rows) block, at most the logits' size).
 */
export function decodeConfigBytes(c: ModelConfig, lora: LoraConfig | null, B: number, Tp: number, N: number, headPartRows = 0): number {
  const spec = decodeSpec(c, lora, dims(c), B, Tp, N, Tp + N - 1, headPartRows);
  return spec.reduce((n, t) => n + 4 * numel(t.shape), 0);
}

function headName(model: DecodeModel): string {
  return model instanceof LlamaModel ? model.headName : 'wte.weight';
}

function embedName(model: DecodeModel): string {
  return model instanceof LlamaModel ? 'model.embed_tokens.weight' : 'wte.weight';
}

/**
 * A batch shape for generation: B prompts of at most Tp tokens, at most N new tokens each. The
 * arena (activations for the prefill, the cache, logits and outputs) is allocated once; generate()
 * may be called any number of times (the weights are read at each call, so a trained policy
 * generates with its current weights). A LoRA model generates with its adapters as they are when
 * the call starts (model.lora.enabled false: the base model), over an f32 or 16-bit packed base.
 */
export class DecodeRunner {
  readonly acts: Arena;
  readonly S: number;
  private d: Dims;

  constructor(readonly model: DecodeModel, readonly B: number, readonly Tp: number, readonly N: number) {
    for (const [k, v] of Object.entries({ B, Tp, N })) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`DecodeRunner: ${k} = ${v} must be a positive integer`);
    }
    this.d = dims(model.config);
    this.S = Tp + N - 1;
    if (this.S > this.d.P) throw new Error(`DecodeRunner: prompts of ${Tp} tokens plus ${N} new need positions up to ${this.S}, more than the model's ${this.d.P}`);
    const parts = checkRowParts('DecodeRunner', model.params.rows(headName(model)), this.d.C).parts;
    this.acts = new Arena(model.gpu.device, `decode[${B}x${Tp}+${N}]`, decodeSpec(model.config, model.lora?.lora ?? null, this.d, B, Tp, N, this.S, parts.length > 1 ? Math.max(...parts.map((p) => p.rows)) : 0), { separate: true });
  }

  get gpu(): GpuContext {
    return this.model.gpu;
  }

  get bytes(): number {
    return this.acts.bytes;
  }

  private a(name: string): View {
    return this.acts.get(name);
  }

  private p(name: string): View {
    return this.model.params.get(name);
  }

  /**
   * out (R,OC) = inp · op(W) + b, W (OC,IC) nn.Linear (transB, the Llama family) or (IC,OC) Conv1D
   * (GPT-2); f32 or packed 16-bit. Then the LoRA adapter of each module in `adapted` (its output
   * columns of `out`; no columns: the whole row), as the training forward adds them.
   */
  private project(enc: StepEncoder, out: View, inp: View, w: Weight, b: View | null, R: number, IC: number, OC: number, transB: boolean, adapted: Array<[string, LoraColumns | undefined]>): void {
    if (isPacked(w)) matmulPackedB(enc, out, inp, w, b, R, OC, IC, { TRANS_B: transB });
    else decodeProduct(enc, out, inp, w, b, R, OC, IC, transB);
    const lora = this.model.lora;
    if (!lora) return;
    for (const [module, cols] of adapted) lora.forward(enc, module, out, () => this.a('lora_u'), () => this.a('lora_delta'), inp, R, cols);
  }

  /**
   * Every layer over R rows of xa (R = B·Tp for the prefill, B for a decode step); the result is
   * back in xa. `attend(l)` fills the cache and atty from qkv.
   */
  private layers(enc: StepEncoder, R: number, attend: (l: number) => void): void {
    const { model } = this;
    const { C, QC, W, FF, FA, L } = this.d;
    const KC = (W - QC) / 2;
    const a = (n: string) => this.a(n);
    const p = (n: string) => this.p(n);
    for (let l = 0; l < L; l++) {
      if (model instanceof LlamaModel) {
        const c = model.config;
        const h = `model.layers.${l}`;
        const bias = llamaBiases(c);
        rmsnormForward(enc, a('ln'), a('ln_rstd'), a('xa'), p(`${h}.input_layernorm.weight`), R, C, c.rmsNormEps);
        // the stacks as the training forward reads them (whichever arena holds them, packed or not)
        const wqkv = model.stackWeight(enc, l, 'qkv_w');
        const bqkv = bias.qkv ? model.stackIn(enc, model.params, l, 'qkv_b') : null;
        this.project(enc, a('qkv'), a('ln'), wqkv, bqkv, R, C, W, true, [
          [`${h}.self_attn.q_proj`, { col0: 0, ld: W }],
          [`${h}.self_attn.k_proj`, { col0: QC, ld: W }],
          [`${h}.self_attn.v_proj`, { col0: QC + KC, ld: W }],
        ]);
        attend(l);
        this.project(enc, a('proj'), a('atty'), model.w(`${h}.self_attn.o_proj.weight`), bias.o ? p(`${h}.self_attn.o_proj.bias`) : null, R, QC, C, true, [[`${h}.self_attn.o_proj`, undefined]]);
        residualForward(enc, a('xb'), a('xa'), a('proj'), R * C);
        rmsnormForward(enc, a('ln'), a('ln_rstd'), a('xb'), p(`${h}.post_attention_layernorm.weight`), R, C, c.rmsNormEps);
        this.project(enc, a('fc'), a('ln'), model.stackWeight(enc, l, 'gate_up_w'), null, R, C, FF, true, [
          [`${h}.mlp.gate_proj`, { col0: 0, ld: FF }],
          [`${h}.mlp.up_proj`, { col0: FA, ld: FF }],
        ]);
        swigluForward(enc, a('act'), a('fc'), R, FA);
        this.project(enc, a('proj'), a('act'), model.w(`${h}.mlp.down_proj.weight`), null, R, FA, C, true, [[`${h}.mlp.down_proj`, undefined]]);
      } else {
        const eps = model.config.layerNormEpsilon;
        const h = `h.${l}`;
        layernormForward(enc, a('ln'), a('ln_mean'), a('ln_rstd'), a('xa'), p(`${h}.ln_1.weight`), p(`${h}.ln_1.bias`), R, C, eps);
        this.project(enc, a('qkv'), a('ln'), model.w(`${h}.attn.c_attn.weight`), p(`${h}.attn.c_attn.bias`), R, C, W, false, [[`${h}.attn.c_attn`, undefined]]);
        attend(l);
        this.project(enc, a('proj'), a('atty'), model.w(`${h}.attn.c_proj.weight`), p(`${h}.attn.c_proj.bias`), R, C, C, false, [[`${h}.attn.c_proj`, undefined]]);
        residualForward(enc, a('xb'), a('xa'), a('proj'), R * C);
        layernormForward(enc, a('ln'), a('ln_mean'), a('ln_rstd'), a('xb'), p(`${h}.ln_2.weight`), p(`${h}.ln_2.bias`), R, C, eps);
        this.project(enc, a('fc'), a('ln'), model.w(`${h}.mlp.c_fc.weight`), p(`${h}.mlp.c_fc.bias`), R, C, FF, false, [[`${h}.mlp.c_fc`, undefined]]);
        geluForward(enc, a('act'), a('fc'), R * FF);
        this.project(enc, a('proj'), a('act'), model.w(`${h}.mlp.c_proj.weight`), p(`${h}.mlp.c_proj.bias`), R, FF, C, false, [[`${h}.mlp.c_proj`, undefined]]);
      }
      residualForward(enc, a('xa'), a('xb'), a('proj'), R * C);
    }
  }

  /** Prompts through every layer (the cache filled), then each prompt's last position into `last`. */
  private prefill(enc: StepEncoder): void {
    const { model, B, Tp, S } = this;
    const { C, NH, NKV, HS } = this.d;
    const a = (n: string) => this.a(n);
    const wte = model.params.rows(embedName(model));
    encoderForward(enc, a('xa'), a('tokens_in'), wte, model instanceof LlamaModel ? null : this.p('wpe.weight'), B, Tp, C);
    const rows = qkvRopeRows(NH, NKV, HS);
    this.layers(enc, B * Tp, (l) => {
      if (model instanceof LlamaModel) {
        ropeForwardInPlace(enc, a('qkv'), B, Tp, NH, HS, model.config.ropeTheta, rows.q);
        ropeForwardInPlace(enc, a('qkv'), B, Tp, NKV, HS, model.config.ropeTheta, rows.k);
      }
      decodeKvStore(enc, a(`cache.${l}`), a('qkv'), a('lengths'), a('ctl'), B, Tp, S, NH, NKV, HS, false);
      attentionForward(enc, a('atty'), a('lse'), a('qkv'), a('lengths'), B, Tp, NH, NKV, HS);
    });
    decodeGather(enc, a('last'), a('xa'), a('lengths'), B, Tp, C);
  }

  /** One token per sequence (column s − 1 of out_tokens) through every layer against the cache; the result in xa. */
  private decodeStep(enc: StepEncoder): void {
    const { model, B, N, S } = this;
    const { C, NH, NKV, HS } = this.d;
    const a = (n: string) => this.a(n);
    const wte = model.params.rows(embedName(model));
    decodeEmbed(enc, a('xa'), wte, model instanceof LlamaModel ? null : this.p('wpe.weight'), a('out_tokens'), a('lengths'), a('ctl'), B, C, N);
    this.layers(enc, B, (l) => {
      if (model instanceof LlamaModel) decodeRope(enc, a('qkv'), a('lengths'), a('ctl'), B, NH, NKV, HS, model.config.ropeTheta);
      decodeKvStore(enc, a(`cache.${l}`), a('qkv'), a('lengths'), a('ctl'), B, 1, S, NH, NKV, HS, true);
      decodeAttention(enc, a('atty'), a('scores'), a('qkv'), a(`cache.${l}`), a('lengths'), a('ctl'), B, S, NH, NKV, HS);
    });
  }

  /** The final norm of `hidden` (B,C), the LM head into logits (B,V), the sampler, ctl[0] += 1. */
  private headAndSample(enc: StepEncoder, hidden: View, o: GpuSampling): void {
    const { model, B, N } = this;
    const { C, V } = this.d;
    const a = (n: string) => this.a(n);
    if (model instanceof LlamaModel) {
      rmsnormForward(enc, a('lnf'), a('lnf_rstd'), hidden, this.p('model.norm.weight'), B, C, model.config.rmsNormEps);
    } else {
      layernormForward(enc, a('lnf'), a('lnf_mean'), a('lnf_rstd'), hidden, this.p('ln_f.weight'), this.p('ln_f.bias'), B, C, model.config.layerNormEpsilon);
    }
    const { parts } = checkRowParts('lm head', model.params.rows(headName(model)), C);
    if (parts.length === 1) {
      decodeProduct(enc, a('logits'), a('lnf'), parts[0].view, null, B, V, C, true);
    } else {
      for (const part of parts) {
        const rows = Math.min(part.rows, V - part.row0);
        if (rows <= 0) continue;
        decodeProduct(enc, a('head_block'), a('lnf'), part.view, null, B, rows, C, true);
        decodePlace(enc, a('logits'), a('head_block'), B, V, part.row0, rows);
      }
    }
    sampleRows(enc, a('out_tokens'), a('out_logp'), a('out_wlogp'), a('done'), a('probs'), a('logits'), a('stop_ids'), a('ctl'), B, V, N, o);
    decodeAdvance(enc, a('ctl'));
  }

  /**
   * Generates up to opts.maxNewTokens tokens after each of the B prompts (1 … Tp tokens each).
   * The same prompts, weights, options and seed give the same tokens; with the same logits, the
   * tokens are sampleRollouts' (src/train/rl/sampling.ts) for `new Rng(seed)` advanced drawOffset
   * times (greedy: greedyToken's).
   */
  async generate(prompts: readonly (readonly number[])[], opts: GenerateOptions): Promise<GpuRollouts> {
    const { model, B, Tp, N } = this;
    const { V } = this.d;
    const device = model.gpu.device;
    if (prompts.length !== B) throw new Error(`generate: ${prompts.length} prompts, the runner takes B = ${B}`);
    prompts.forEach((pr, b) => {
      if (pr.length < 1 || pr.length > Tp) throw new Error(`generate: prompt ${b} has ${pr.length} tokens, expected 1 … ${Tp}`);
      pr.forEach((id, t) => {
        if (!Number.isInteger(id) || id < 0 || id >= V) throw new Error(`generate: prompt ${b} token ${t} is ${id}, not an id in [0, ${V})`);
      });
    });
    const steps = opts.maxNewTokens;
    if (!Number.isInteger(steps) || steps < 1 || steps > N) throw new Error(`generate: maxNewTokens ${steps} must be an integer in [1, ${N}] (the runner's N)`);
    const stopIds = [...(opts.stopIds ?? defaultStopIds(model))];
    const pad = opts.padId ?? sequenceConfig(model.config).eosTokenId;
    const sampling: GpuSampling = { temperature: opts.temperature, topK: opts.topK, topP: opts.topP, stopIds, pad };
    checkGpuSampling(sampling);
    const ctl = samplerCtl(0, opts.seed ?? 0, opts.drawOffset ?? 0);
    const checkEvery = opts.checkEvery ?? 8;
    if (!Number.isInteger(checkEvery) || checkEvery < 1) throw new Error(`generate: checkEvery ${checkEvery} must be a positive integer`);

    const put = (name: string, data: Uint32Array) => device.queue.writeBuffer(this.a(name).buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    const tokensIn = new Uint32Array(B * Tp);
    prompts.forEach((pr, b) => tokensIn.set(pr, b * Tp));
    put('tokens_in', tokensIn);
    put('lengths', Uint32Array.from(prompts, (pr) => pr.length));
    put('ctl', ctl);
    put('done', new Uint32Array(B));
    put('stop_ids', Uint32Array.from({ length: MAX_STOP_IDS }, (_, i) => stopIds[i] ?? 0));

    const capture = opts.captureLogits ? device.createBuffer({ label: 'decode.captured_logits', size: steps * B * V * 4, usage: GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST }) : null;
    const logitsView = this.a('logits');
    const captureStep = (e: GPUCommandEncoder, s: number) => {
      if (capture) e.copyBufferToBuffer(logitsView.buffer, 0, capture, s * B * V * 4, B * V * 4);
    };
    try {
      const first = new StepEncoder(model.gpu, 'decode:prefill');
      this.prefill(first);
      this.headAndSample(first, this.a('last'), sampling);
      if (capture) first.copy({ ...logitsView, buffer: capture, offset: 0, name: 'decode.captured_logits' }, logitsView);
      first.submit();
      let tape: Tape | null = null;
      let s = 1;
      let chunk = 1;
      while (s < steps) {
        if (!tape) {
          const rec = new RecordingEncoder(model.gpu, 'decode:step');
          this.decodeStep(rec);
          this.headAndSample(rec, this.a('xa'), sampling);
          tape = rec.tape;
        }
        const upto = Math.min(steps, s + chunk);
        chunk = Math.min(checkEvery, chunk * 2);
        const e = device.createCommandEncoder({ label: `decode:steps ${s}…${upto - 1}` });
        for (; s < upto; s++) {
          tape.encodeInto(e);
          captureStep(e, s);
        }
        device.queue.submit([e.finish()]);
        if (s < steps && (await readU32(device, this.a('done'))).every((x) => x !== 0)) break;
      }
      const stepsRun = s;
      const [tok, lp, wlp] = await readManyF32(device, [this.a('out_tokens'), this.a('out_logp'), this.a('out_wlogp')]);
      const ids = new Uint32Array(tok.buffer, tok.byteOffset, tok.length);
      const stops = new Set(stopIds);
      const generated: number[][] = [];
      const logprobs: number[][] = [];
      const warpedLogprobs: number[][] = [];
      const stopped: boolean[] = [];
      for (let b = 0; b < B; b++) {
        let n = 0;
        let hit = false;
        while (n < stepsRun && !hit) hit = stops.has(ids[b * N + n++]);
        generated.push(Array.from(ids.subarray(b * N, b * N + n)));
        logprobs.push(Array.from(lp.subarray(b * N, b * N + n)));
        warpedLogprobs.push(Array.from(wlp.subarray(b * N, b * N + n)));
        stopped.push(hit);
      }
      const T = Math.max(1, ...generated.map((g) => g.length));
      const responses = new Int32Array(B * T).fill(pad);
      generated.forEach((g, b) => responses.set(g, b * T));
      const out: GpuRollouts = { generated, logprobs, warpedLogprobs, responses, T, stopped, draws: T * B, stepsRun };
      if (capture) {
        const all = await readF32(device, { buffer: capture, offset: 0, size: stepsRun * B * V * 4, length: stepsRun * B * V, name: 'decode.captured_logits', shape: [stepsRun, B, V] });
        out.logits = Array.from({ length: stepsRun }, (_, k) => all.slice(k * B * V, (k + 1) * B * V));
      }
      return out;
    } finally {
      capture?.destroy();
    }
  }

  destroy(): void {
    this.acts.destroy();
  }
}

/** One generation with a runner sized to these prompts, freed afterwards (RL rollouts reuse a DecodeRunner instead). */
export async function generateOnGpu(model: DecodeModel, prompts: readonly (readonly number[])[], opts: GenerateOptions): Promise<GpuRollouts> {
  const Tp = Math.max(...prompts.map((p) => p.length));
  const runner = new DecodeRunner(model, prompts.length, Tp, opts.maxNewTokens);
  try {
    return await runner.generate(prompts, opts);
  } finally {
    runner.destroy();
  }
}
