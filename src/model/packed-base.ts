// Frozen base weights in 16 bits (docs/design.md, "LoRA"): with --base-dtype bf16|f16 a LoRA run
// keeps every linear projection's weight as bf16 or f16, two values per u32 word, in its own
// arena; the matmul kernels read them and widen to f32 in registers (src/kernels/matmul-packed.ts).
// Embeddings, the LM head, norms and biases stay f32 in the model's parameter arena. Full
// fine-tuning keeps f32 master weights (the models refuse a 16-bit base without adapters).
// Packing rounds to nearest even once, on upload: exact when the checkpoint was already stored
// in that dtype (SmolLM2 and Qwen2.5 ship bf16), so the default base dtype of a LoRA run is the
// checkpoint's (src/cli/commands/train.ts).
import { Arena, numel, type TensorSpec } from '../engine/arena';
import { arenaBufferBytes, type GpuContext } from '../engine/gpu';
import { packBf16, unpackBf16 } from '../kernels/optimizer';
import { packedWords, type PackedDtype, type PackedWeight } from '../kernels/matmul-packed';
import { packF16, unpackF16 } from '../reference/f16';

/** values rounded to the 16-bit dtype (nearest even), two per word (element 2w low). */
export function packWeights(values: Float32Array, dtype: PackedDtype): Uint32Array {
  return dtype === 'bf16' ? packBf16(values) : packF16(values);
}

/** The first n values of packed words, widened exactly to f32. */
export function unpackWeights(words: Uint32Array, n: number, dtype: PackedDtype): Float32Array {
  return dtype === 'bf16' ? unpackBf16(words, n) : Float32Array.from(unpackF16(words, n));
}

/** values as the packed base stores them (rounded to the dtype), for references and tests. */
export function roundWeights(values: Float32Array, dtype: PackedDtype): Float32Array {
  return unpackWeights(packWeights(values, dtype), values.length, dtype);
}

export class PackedBase {
  /** One tensor of packedWords(n) u32 words per weight. */
  readonly arena: Arena;
  private sizes: Map<string, number>;

  constructor(private readonly gpu: GpuContext, readonly dtype: PackedDtype, specs: readonly TensorSpec[]) {
    this.sizes = new Map(specs.map((s) => [s.name, numel(s.shape)]));
    this.arena = new Arena(gpu.device, `params.${dtype}`, specs.map((s) => ({ name: s.name, shape: [packedWords(numel(s.shape))] })), { maxBytes: arenaBufferBytes(gpu) });
  }

  has(name: string): boolean {
    return this.sizes.has(name);
  }

  names(): string[] {
    return [...this.sizes.keys()];
  }

  /** A weight as the matmul launchers take it. */
  weight(name: string): PackedWeight {
    const n = this.sizes.get(name);
    if (n === undefined) throw new Error(`no packed base weight "${name}"`);
    return { words: this.arena.get(name), dtype: this.dtype, length: n, name: `${this.arena.label}.${name}` };
  }

  /** Uploads f32 values, rounded to the dtype (nearest even). */
  write(name: string, values: Float32Array): void {
    const n = this.sizes.get(name);
    if (n === undefined) throw new Error(`no packed base weight "${name}"`);
    if (values.length !== n) throw new Error(`tensor "${name}" has ${values.length} values, expected ${n}`);
    const words = packWeights(values, this.dtype);
    const v = this.arena.get(name);
    this.gpu.device.queue.writeBuffer(v.buffer, v.offset, words.buffer, words.byteOffset, words.byteLength);
  }

  /** Every weight widened to f32, by name. */
  async readAll(): Promise<Map<string, Float32Array>> {
    const words = await this.arena.readAll(); // f32 views of the words: reinterpret, do not convert
    const out = new Map<string, Float32Array>();
    for (const [name, w] of words) out.set(name, unpackWeights(new Uint32Array(w.buffer, w.byteOffset, w.length), this.sizes.get(name)!, this.dtype));
    return out;
  }

  get bytes(): number {
    return this.arena.bytes;
  }

  destroy(): void {
    this.arena.destroy();
  }
}
