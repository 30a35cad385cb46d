// Launchers for shaders/matmul.wgsl (Conv1D layout, y = x·W + b).
// Dimensions: R rows (B·T), IC input channels, OC output channels.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';

const TILE = 64;

function check(name: string, v: View, n: number): void {
  if (v.length < n) throw new Error(`${name}: ${v.name} holds ${v.length} elements, needs ${n}`);
}

/**
 * The generic tiled product C (M,N) = op(A) (M,K) · op(B) (K,N) [+ bias (N)] [+= C].
 * TRANS_A: A stored (K,M); TRANS_B: B stored (N,K); ACCUMULATE: add into C.
 */
export function matmulTiled(enc: StepEncoder, c: View, a: View, b: View, bias: View | null, M: number, N: number, K: number, flags: { TRANS_A?: boolean; TRANS_B?: boolean; ACCUMULATE?: boolean }): void {
  const constants = { TRANS_A: false, TRANS_B: false, ACCUMULATE: false, ...flags, HAS_BIAS: bias !== null };
  // An unused bias binding still needs a buffer; `a` is bound there and never read.
  enc.dispatch({ shader: 'matmul', entryPoint: 'matmul', constants }, [c, a, b, bias ?? a], params(M, N, K, 0), [Math.ceil(N / TILE), Math.ceil(M / TILE)]);
}

/** out (R,OC) = inp (R,IC) · weight (IC,OC) + bias (OC). */
export function matmulForward(enc: StepEncoder, out: View, inp: View, weight: View, bias: View | null, R: number, IC: number, OC: number): void {
  check('matmulForward', out, R * OC);
  check('matmulForward', inp, R * IC);
  check('matmulForward', weight, IC * OC);
  if (bias) check('matmulForward', bias, OC);
  matmulTiled(enc, out, inp, weight, bias, R, OC, IC, {});
}

/**
 * dinp (R,IC) = dout · weightᵀ (written); dweight (IC,OC) += inpᵀ · dout; dbias (OC) += Σ_r dout.
 * Each output has its own dispatch so every invocation owns what it writes (no atomics).
 */
export function matmulBackward(enc: StepEncoder, dinp: View | null, dweight: View, dbias: View | null, dout: View, inp: View, weight: View, R: number, IC: number, OC: number): void {
  check('matmulBackward', dout, R * OC);
  check('matmulBackward', dweight, IC * OC);
  if (dinp) {
    check('matmulBackward', dinp, R * IC);
    matmulTiled(enc, dinp, dout, weight, null, R, IC, OC, { TRANS_B: true });
  }
  matmulTiled(enc, dweight, inp, dout, null, IC, OC, R, { TRANS_A: true, ACCUMULATE: true });
  if (dbias) {
    check('matmulBackward', dbias, OC);
    enc.dispatch({ shader: 'matmul', entryPoint: 'matmul_backward_bias' }, [dbias, dout], params(R, OC, 0, 0), [Math.ceil(OC / 64)]);
  }
}
