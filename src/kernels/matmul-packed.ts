// Launcher for shaders/matmul_packed.wgsl: products whose B operand is a frozen weight stored as
// bf16 or f16, two values per u32 word, widened to f32 in registers (the base weights of a LoRA
// run with --base-dtype bf16|f16, docs/design.md). src/kernels/matmul.ts sends a PackedWeight
// here from matmulForward/matmulBackward/linearForward/linearBackward, so the model code calls
// the same launchers whatever the weights' storage.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { checkView } from './check';

/** 16-bit storage of a frozen weight. */
export type PackedDtype = 'bf16' | 'f16';

/** A weight of `length` values stored two per u32 word in `words` (element 2w in the low half of word w). */
export interface PackedWeight {
  readonly words: View;
  readonly dtype: PackedDtype;
  /** Values held (words.length ≥ ⌈length / 2⌉). */
  readonly length: number;
  readonly name: string;
}

/** A weight as the matmul launchers take it: f32 in a View, or packed 16-bit. */
export type Weight = View | PackedWeight;

export function isPacked(w: Weight): w is PackedWeight {
  return (w as PackedWeight).words !== undefined;
}

/** u32 words of a packed weight of n values. */
export function packedWords(n: number): number {
  return Math.ceil(n / 2);
}

/** Throws unless weight `w` (either storage) holds at least n values. */
export function checkWeight(kernel: string, w: Weight, n: number): void {
  if (!isPacked(w)) return checkView(kernel, w, n);
  if (w.length < n) throw new Error(`${kernel}: ${w.name} holds ${w.length} values, needs ${n}`);
  checkView(kernel, w.words, packedWords(n), 'words');
}

/** Outputs per workgroup side (8×8 invocations × 4×4 each), as matmul_blocked. */
const BLOCK_TILE = 32;

/**
 * C (M,N) = A (M,K) · op(B) [+ bias (N)] [+= C] with B packed: TRANS_B: B stored (N,K), else (K,N).
 * A vec4 form where the shape allows (NN: K, N % 4 = 0; NT: K % 4 = 0), else the any-shape kernel.
 */
export function matmulPackedB(enc: StepEncoder, c: View, a: View, b: PackedWeight, bias: View | null, M: number, N: number, K: number, flags: { TRANS_B?: boolean; ACCUMULATE?: boolean } = {}): void {
  const transB = flags.TRANS_B ?? false;
  const constants = { ACCUMULATE: flags.ACCUMULATE ?? false, HAS_BIAS: bias !== null, B_F16: b.dtype === 'f16' };
  let entryPoint = 'matmul_packed';
  if (!transB && K % 4 === 0 && N % 4 === 0) entryPoint = 'matmul_packed_nn4';
  else if (transB && K % 4 === 0) entryPoint = 'matmul_packed_nt4';
  const used = entryPoint === 'matmul_packed' ? { ...constants, TRANS_B: transB } : constants;
  // an unused bias binding still needs a buffer: `a` is bound there and never read
  enc.dispatch({ shader: 'matmul_packed', entryPoint, constants: used }, [c, a, b.words, bias ?? a], params(M, N, K, 0), [Math.ceil(N / BLOCK_TILE), Math.ceil(M / BLOCK_TILE)]);
}
