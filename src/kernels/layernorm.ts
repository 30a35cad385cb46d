// Launchers for shaders/layernorm.wgsl. Dimensions: N rows (B·T), C channels.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { MAX_GROUPS } from './grid';
import { rowWorkgroup } from './plan';

function check(name: string, v: View, n: number): void {
  if (v.length < n) throw new Error(`${name}: ${v.name} holds ${v.length} elements, needs ${n}`);
}

/** One workgroup per row, striding when N exceeds MAX_GROUPS. */
function rowGroups(N: number): number {
  return Math.min(N, MAX_GROUPS);
}

/** out (N,C) = (inp − mean)·rstd·weight + bias; mean (N) and rstd (N) saved for backward. */
export function layernormForward(enc: StepEncoder, out: View, mean: View, rstd: View, inp: View, weight: View, bias: View, N: number, C: number, eps: number): void {
  check('layernormForward', out, N * C);
  check('layernormForward', mean, N);
  check('layernormForward', rstd, N);
  check('layernormForward', inp, N * C);
  check('layernormForward', weight, C);
  check('layernormForward', bias, C);
  if (!(eps > 0)) throw new Error(`layernormForward: eps must be > 0, got ${eps}`);
  enc.dispatch({ shader: 'layernorm', entryPoint: 'layernorm_forward', constants: { WG: rowWorkgroup(enc.gpu.adapter, 256) } }, [out, mean, rstd, inp, weight, bias], params(N, C, { f: eps }, 0), [rowGroups(N)]);
}

/**
 * dinp (N,C) += ∂/∂inp (the residual stream accumulates); dweight (C) += Σ_n dout·norm;
 * dbias (C) += Σ_n dout. Two dispatches so each invocation owns what it writes.
 */
export function layernormBackward(enc: StepEncoder, dinp: View, dweight: View, dbias: View, dout: View, inp: View, weight: View, mean: View, rstd: View, N: number, C: number): void {
  check('layernormBackward', dinp, N * C);
  check('layernormBackward', dweight, C);
  check('layernormBackward', dbias, C);
  check('layernormBackward', dout, N * C);
  check('layernormBackward', inp, N * C);
  check('layernormBackward', weight, C);
  check('layernormBackward', mean, N);
  check('layernormBackward', rstd, N);
  const u = params(N, C, 0, 0);
  enc.dispatch({ shader: 'layernorm', entryPoint: 'layernorm_backward', constants: { WG: rowWorkgroup(enc.gpu.adapter, 256) } }, [dinp, dout, inp, weight, mean, rstd], u, [rowGroups(N)]);
  enc.dispatch({ shader: 'layernorm', entryPoint: 'layernorm_backward_params' }, [dweight, dbias, dout, inp, mean, rstd], u, [Math.ceil(C / 16)]);
}
