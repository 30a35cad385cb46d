// LoRA adapters on the GPU (docs/design.md, "LoRA"): the adapters' own small parameter arena,
// its gradient twin, and the switch that turns them off. With adapters the base parameters are
// frozen: only this arena gets gradients and optimizer state (OptimizerState takes it as its
// target, src/train/optimizer-state.ts), and the runners skip every base-parameter gradient.
// The runners (src/model/gpt.ts, src/model/llama.ts) call `forward`/`backward` right after each
// targeted projection; the math is src/kernels/lora.ts.
// A reward model's adapters also hold the trainable copy of its score head (PEFT's modules_to_save
// for SEQ_CLS, src/model/lora.ts loraSavedModules): `scoreWeight` is what the runners' score head
// reads and `scoreGrad` where its gradient accumulates, so the optimizer, the snapshots and the
// PEFT export see it with the adapters.
// Dimensions: R rows (B·T), r rank.
import type { GpuContext } from '../engine/gpu';
import { arenaBufferBytes } from '../engine/gpu';
import { Arena, type TensorSpec, type View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { loraBackward, loraForward, type LoraColumns } from '../kernels/lora';
import type { GPTConfig } from './config';
import type { LlamaFamilyConfig } from './llama-config';
import { SCORE_WEIGHT } from './score-config';
import { BASE_DTYPES, loraInit, loraModules, loraNames, loraScale, loraSpec, packedBaseNames, type LinearModule, type LoraConfig } from './lora';
import { PackedBase } from './packed-base';
import type { PackedDtype } from '../kernels/matmul-packed';
import type { ModelOptions } from './family';

export class LoraAdapters {
  /** A and B of every targeted projection (PEFT shapes; names `${module}.lora_A.weight`), then a reward model's `score.weight` copy. */
  readonly params: Arena;
  readonly spec: TensorSpec[];
  readonly modules: LinearModule[];
  readonly r: number;
  /** alpha / r. */
  readonly scale: number;
  /**
   * Off: the runners compute the base model (the reference model of DPO/KTO, as TRL's PEFT path
   * with model.disable_adapter()). Read when a forward is recorded.
   */
  enabled = true;
  private gradArena: Arena | null = null;
  private byWeight: Map<string, LinearModule>;

  constructor(readonly gpu: GpuContext, readonly config: GPTConfig | LlamaFamilyConfig, readonly lora: LoraConfig) {
    this.modules = loraModules(config, lora);
    this.spec = loraSpec(config, lora);
    this.r = lora.r;
    this.scale = loraScale(lora);
    this.byWeight = new Map(this.modules.map((m) => [m.module, m]));
    this.params = new Arena(gpu.device, 'lora', this.spec, { maxBytes: arenaBufferBytes(gpu) });
    // PEFT's init (B = 0; a score head copy of zeros until the run uploads the base's): a run
    // uploads its own seeded draw or imported adapters
    const zeros = new Map(this.spec.filter((s) => !s.name.includes('.lora_')).map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]));
    this.upload(loraInit(config, lora, 0, zeros));
  }

  /** Whether the adapters hold a trainable score head (a reward model's modules_to_save). */
  get trainsScore(): boolean {
    return this.params.has(SCORE_WEIGHT);
  }

  /**
   * The score head the runners read: the trained copy while the adapters are on, null when they
   * are off or the model has none (then the base's frozen original, as PEFT's ModulesToSaveWrapper
   * falls back to original_module with the adapters disabled).
   */
  get scoreWeight(): View | null {
    return this.enabled && this.trainsScore ? this.params.get(SCORE_WEIGHT) : null;
  }

  /** The trained score head copy's gradient (accumulated by the runners' backward); null without one. */
  get scoreGrad(): View | null {
    return this.trainsScore ? this.grads.get(SCORE_WEIGHT) : null;
  }

  /** The adapters' gradients (same layout), allocated on first use. */
  get grads(): Arena {
    if (!this.gradArena) this.gradArena = this.params.twin('lora.grads');
    return this.gradArena;
  }

  /** Weight decay applies to every adapter weight (Hugging Face's rule: every weight but biases and norms). */
  decays(_name: string): boolean {
    return true;
  }

  /** The adapter of projection `module` (e.g. `h.0.attn.c_attn`), or undefined when it has none. */
  of(module: string): LinearModule | undefined {
    return this.byWeight.get(module);
  }

  /**
   * After the base projection of `module` wrote y (its output, or the `cols` slice of a stacked
   * output): y += s·(x Aᵀ) Bᵀ and u = s·x Aᵀ. Nothing when the projection has no adapter or the
   * adapters are off.
   */
  /**
   * The runners' glue (GptRunner, LlamaRunner): forward/backward of layer activations named as
   * both name them — u in the layer's kept `lora.<key>`, the shared scratch `lora_delta` and
   * `lora_du`. `act` reads an activation by name, `kept(name)` is the name of layer l's kept copy.
   */
  adapt(enc: StepEncoder, module: string, y: View, x: View, R: number, act: (name: string) => View, kept: (name: string) => string, cols?: LoraColumns): void {
    const m = this.of(module);
    if (m) this.forward(enc, module, y, () => act(kept(`lora.${m.key}`)), () => act('lora_delta'), x, R, cols);
  }

  adaptBack(enc: StepEncoder, module: string, dx: View, dy: View, x: View, R: number, act: (name: string) => View, kept: (name: string) => string, cols?: LoraColumns): void {
    const m = this.of(module);
    if (m) this.backward(enc, module, dx, dy, x, () => act(kept(`lora.${m.key}`)), () => act('lora_du'), () => act('lora_delta'), R, cols);
  }

  forward(enc: StepEncoder, module: string, y: View, u: () => View, delta: () => View, x: View, R: number, cols?: LoraColumns): void {
    const m = this.enabled ? this.of(module) : undefined;
    if (!m) return;
    const n = loraNames(m);
    const stacked = cols !== undefined && cols.ld !== m.out;
    loraForward(enc, y, u(), stacked ? delta() : null, x, this.params.get(n.A), this.params.get(n.B), R, m.in, m.out, this.r, this.scale, cols);
  }

  /**
   * The adapter's backward after the base projection's wrote dx: dA, dB accumulate; dx += its
   * part. `du` and `delta` are scratch.
   */
  backward(enc: StepEncoder, module: string, dx: View, dy: View, x: View, u: () => View, du: () => View, delta: () => View, R: number, cols?: LoraColumns): void {
    const m = this.of(module);
    if (!m) return;
    const n = loraNames(m);
    const stacked = cols !== undefined && cols.ld !== m.out;
    const g = this.grads;
    loraBackward(enc, dx, g.get(n.A), g.get(n.B), du(), stacked ? delta() : null, dy, x, u(), this.params.get(n.A), this.params.get(n.B), R, m.in, m.out, this.r, this.scale, cols);
  }

  upload(weights: ReadonlyMap<string, Float32Array>): void {
    for (const s of this.spec) {
      const w = weights.get(s.name);
      if (!w) throw new Error(`missing adapter tensor "${s.name}" [${s.shape.join(', ')}]`);
      this.params.write(s.name, w);
    }
  }

  /** The adapters (or their gradients) back on the host by name. */
  download(arena: Arena = this.params): Promise<Map<string, Float32Array>> {
    return arena.readAll();
  }

  get bytes(): number {
    return this.params.bytes + (this.gradArena?.bytes ?? 0);
  }

  destroy(): void {
    this.params.destroy();
    this.gradArena?.destroy();
  }
}

/**
 * A model's frozen-base setup from its options (GptModel, LlamaModel): the adapters, the packed
 * 16-bit base weights (every linear projection's) and the specs that stay f32. Refuses a 16-bit
 * base without adapters (full fine-tuning keeps f32 master weights). A reward model's adapters
 * carry its score head (loraSavedModules); the head itself stays f32 in `params`.
 */
export function frozenBase(gpu: GpuContext, config: GPTConfig | LlamaFamilyConfig, spec: readonly TensorSpec[], opts: ModelOptions): { lora: LoraAdapters | null; packed: PackedBase | null; f32: TensorSpec[] } {
  const dtype = opts.baseDtype ?? 'f32';
  if (!BASE_DTYPES.includes(dtype)) throw new Error(`baseDtype must be ${BASE_DTYPES.join(', ')}, got ${String(dtype)}`);
  if (dtype !== 'f32' && !opts.lora) throw new Error(`a ${dtype} base needs LoRA adapters: full fine-tuning keeps f32 master weights`);
  const lora = opts.lora ? new LoraAdapters(gpu, config, opts.lora) : null;
  const names = dtype === 'f32' ? new Set<string>() : packedBaseNames(config);
  const packed = names.size ? new PackedBase(gpu, dtype as PackedDtype, spec.filter((s) => names.has(s.name))) : null;
  return { lora, packed, f32: spec.filter((s) => !names.has(s.name)) };
}

/** Every parameter by name in `spec` order: the f32 arena's tensors and the packed ones widened. */
export async function downloadBase(spec: readonly TensorSpec[], params: Arena, packed: PackedBase | null): Promise<Map<string, Float32Array>> {
  const f32 = await params.readAll();
  if (!packed) return f32;
  const wide = await packed.readAll();
  return new Map(spec.map((s) => [s.name, (f32.get(s.name) ?? wide.get(s.name))!]));
}
