// Launchers for shaders/matmul.wgsl (Conv1D layout, y = x·W + b; and nn.Linear layout,
// y = x·Wᵀ + b with W stored (OC,IC): linearForward / linearBackward).
// Dimensions: R rows (B·T), IC input channels, OC output channels.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';

import type { AdapterSummary } from '../engine/gpu';
import { isCpuAdapter } from './plan';
import { checkView } from './check';
import { checkWeight, isPacked, matmulPackedB, type Weight } from './matmul-packed';

const TILE = 64;
/** Outputs per workgroup side of the register-blocked kernels (8×8 invocations × 4×4 each). */
const BLOCK_TILE = 32;
/** Workgroup tile of shaders/matmul_subgroup.wgsl: ROWS rows × (4 lanes × 4) columns. */
const SG_ROWS = 32;
const SG_COLS = 16;

/**
 * Which kernel shape computes products on an adapter: `tiled` stages 64×64 tiles through
 * workgroup memory (GPUs); `blocked` keeps a 4×4 block per invocation in registers with no
 * barriers (CPU adapters such as SwiftShader, where barriers and workgroup memory are slow);
 * `subgroup` (CPU adapters with the `subgroups` feature) gives each lane of a 4-lane subgroup
 * a 32×4 block of the same 32 rows, loading each A value once and broadcasting it
 * (shaders/matmul_subgroup.wgsl), and falls back to `blocked` for unaligned shapes.
 */
export type MatmulPlan = 'tiled' | 'blocked' | 'subgroup';

export function matmulPlanFor(adapter: AdapterSummary): MatmulPlan {
  if (!isCpuAdapter(adapter)) return 'tiled';
  // the shader's 4-invocation workgroup must be one whole subgroup: lanes 0–3 broadcast to each other
  return adapter.features.includes('subgroups') && adapter.subgroupMinSize >= 4 ? 'subgroup' : 'blocked';
}


export interface MatmulFlags {
  TRANS_A?: boolean;
  TRANS_B?: boolean;
  ACCUMULATE?: boolean;
  /** Kernel shape; defaults to matmulPlanFor(the encoder's adapter). */
  plan?: MatmulPlan;
}

/** The register-blocked entry point for a layout and shape: a vec4 form when the shape is aligned. */
function blockedEntry(M: number, N: number, K: number, transA: boolean, transB: boolean): string {
  if (!transA && !transB && K % 4 === 0 && N % 4 === 0) return 'matmul_blocked_nn4';
  if (!transA && transB && K % 4 === 0) return 'matmul_blocked_nt4';
  if (transA && !transB && M % 4 === 0 && N % 4 === 0) return 'matmul_blocked_tn4';
  return 'matmul_blocked';
}

/**
 * The subgroup-shared entry point for a layout and shape, or null when it does not apply. Every
 * lane computes all SG_ROWS rows of its strip, so a short M wastes work (M = 8 tokens: 4×); past
 * 1.5× the register-blocked kernel, about half as fast but without that waste, wins.
 */
function subgroupEntry(M: number, N: number, K: number, transA: boolean, transB: boolean): string | null {
  if (K % 4 !== 0 || Math.ceil(M / SG_ROWS) * SG_ROWS > 1.5 * M) return null;
  if (!transA && !transB && N % 4 === 0) return 'matmul_sg_nn';
  if (!transA && transB) return N % 4 === 0 ? 'matmul_sg_nt4' : 'matmul_sg_nt'; // nt4: vec4 stores
  if (transA && !transB && M % 4 === 0 && N % 4 === 0) return 'matmul_sg_tn';
  return null;
}

/**
 * The generic product C (M,N) = op(A) (M,K) · op(B) (K,N) [+ bias (N)] [+= C].
 * TRANS_A: A stored (K,M); TRANS_B: B stored (N,K); ACCUMULATE: add into C.
 */
export function matmulTiled(enc: StepEncoder, c: View, a: View, b: View, bias: View | null, M: number, N: number, K: number, flags: MatmulFlags): void {
  const { plan = matmulPlanFor(enc.gpu.adapter), ...rest } = flags;
  const constants = { TRANS_A: false, TRANS_B: false, ACCUMULATE: false, ...rest, HAS_BIAS: bias !== null };
  // An unused bias binding still needs a buffer; `a` is bound there and never read.
  const bindings = [c, a, b, bias ?? a];
  if (plan === 'tiled') {
    enc.dispatch({ shader: 'matmul', entryPoint: 'matmul', constants }, bindings, params(M, N, K, 0), [Math.ceil(N / TILE), Math.ceil(M / TILE)]);
    return;
  }
  // 'subgroup' needs the device feature (a GPU context without it, or a forced plan, falls back)
  const sg = plan === 'subgroup' && enc.gpu.features.has('subgroups') ? subgroupEntry(M, N, K, constants.TRANS_A, constants.TRANS_B) : null;
  if (sg) {
    enc.dispatch({ shader: 'matmul_subgroup', entryPoint: sg, constants: { ACCUMULATE: constants.ACCUMULATE, HAS_BIAS: constants.HAS_BIAS } }, bindings, params(M, N, K, 0), [Math.ceil(N / SG_COLS), Math.ceil(M / SG_ROWS)]);
    return;
  }
  const entryPoint = blockedEntry(M, N, K, constants.TRANS_A, constants.TRANS_B);
  // the vec4 kernels do not branch on the layout flags: keep them out of the pipeline key
  const used = entryPoint === 'matmul_blocked' ? constants : { ACCUMULATE: constants.ACCUMULATE, HAS_BIAS: constants.HAS_BIAS };
  enc.dispatch({ shader: 'matmul', entryPoint, constants: used }, bindings, params(M, N, K, 0), [Math.ceil(N / BLOCK_TILE), Math.ceil(M / BLOCK_TILE)]);
}

/**
 * The product of an f32 A with a weight B of either storage: f32 (matmulTiled) or packed 16-bit,
 * widened in registers (matmulPackedB: frozen base weights, src/kernels/matmul-packed.ts).
 */
function weightProduct(enc: StepEncoder, c: View, a: View, b: Weight, bias: View | null, M: number, N: number, K: number, flags: MatmulFlags): void {
  if (isPacked(b)) matmulPackedB(enc, c, a, b, bias, M, N, K, { TRANS_B: flags.TRANS_B, ACCUMULATE: flags.ACCUMULATE });
  else matmulTiled(enc, c, a, b, bias, M, N, K, flags);
}

/** out (R,OC) = inp (R,IC) · weight (IC,OC) + bias (OC); the weight f32 or packed (Weight). */
export function matmulForward(enc: StepEncoder, out: View, inp: View, weight: Weight, bias: View | null, R: number, IC: number, OC: number, plan?: MatmulPlan): void {
  checkView('matmulForward', out, R * OC);
  checkView('matmulForward', inp, R * IC);
  checkWeight('matmulForward', weight, IC * OC);
  if (bias) checkView('matmulForward', bias, OC);
  weightProduct(enc, out, inp, weight, bias, R, OC, IC, { plan });
}

/**
 * dinp (R,IC) = dout · weightᵀ (written); dweight (IC,OC) += inpᵀ · dout; dbias (OC) += Σ_r dout.
 * Each output has its own dispatch so every invocation owns what it writes (no atomics). A null
 * dweight/dbias is skipped (a frozen weight: LoRA's base), and only a frozen weight may be packed.
 */
export function matmulBackward(enc: StepEncoder, dinp: View | null, dweight: View | null, dbias: View | null, dout: View, inp: View, weight: Weight, R: number, IC: number, OC: number, plan?: MatmulPlan): void {
  checkView('matmulBackward', dout, R * OC);
  if (dinp) {
    checkView('matmulBackward', dinp, R * IC);
    checkWeight('matmulBackward', weight, IC * OC);
    weightProduct(enc, dinp, dout, weight, null, R, IC, OC, { TRANS_B: true, plan });
  }
  if (dweight) {
    checkView('matmulBackward', dweight, IC * OC);
    matmulTiled(enc, dweight, inp, dout, null, IC, OC, R, { TRANS_A: true, ACCUMULATE: true, plan });
  }
  if (dbias) biasBackward('matmulBackward', enc, dbias, dout, R, OC);
}

/** dbias (OC) += Σ_r dout (R,OC). */
function biasBackward(kernel: string, enc: StepEncoder, dbias: View, dout: View, R: number, OC: number): void {
  checkView(kernel, dbias, OC);
  // CPU adapters: an invocation per 4 columns, no barrier (bitwise the same sums)
  if (OC % 4 === 0 && isCpuAdapter(enc.gpu.adapter)) enc.dispatch({ shader: 'matmul', entryPoint: 'matmul_backward_bias4' }, [dbias, dout], params(R, OC, 0, 0), [Math.ceil(OC / 16)]);
  else enc.dispatch({ shader: 'matmul', entryPoint: 'matmul_backward_bias' }, [dbias, dout], params(R, OC, 0, 0), [Math.ceil(OC / 64)]);
}

/** nn.Linear layout: out (R,OC) = inp (R,IC) · weightᵀ + bias (OC), weight stored (OC,IC), f32 or packed. */
export function linearForward(enc: StepEncoder, out: View, inp: View, weight: Weight, bias: View | null, R: number, IC: number, OC: number, plan?: MatmulPlan): void {
  checkView('linearForward', out, R * OC);
  checkView('linearForward', inp, R * IC);
  checkWeight('linearForward', weight, OC * IC);
  if (bias) checkView('linearForward', bias, OC);
  weightProduct(enc, out, inp, weight, bias, R, OC, IC, { TRANS_B: true, plan });
}

/**
 * nn.Linear layout, weight (OC,IC): dinp (R,IC) = dout · weight (written); dweight (OC,IC) +=
 * doutᵀ · inp; dbias (OC) += Σ_r dout. Each is skipped when null; one dispatch per output, as
 * matmulBackward.
 */
export function linearBackward(enc: StepEncoder, dinp: View | null, dweight: View | null, dbias: View | null, dout: View, inp: View, weight: Weight, R: number, IC: number, OC: number, plan?: MatmulPlan): void {
  checkView('linearBackward', dout, R * OC);
  if (dinp) {
    checkView('linearBackward', dinp, R * IC);
    checkWeight('linearBackward', weight, OC * IC);
    weightProduct(enc, dinp, dout, weight, null, R, IC, OC, { plan });
  }
  if (dweight) {
    checkView('linearBackward', dweight, OC * IC);
    checkView('linearBackward', inp, R * IC);
    matmulTiled(enc, dweight, dout, inp, null, OC, IC, R, { TRANS_A: true, ACCUMULATE: true, plan });
  }
  if (dbias) biasBackward('linearBackward', enc, dbias, dout, R, OC);
}
