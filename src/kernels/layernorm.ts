// Launchers for shaders/layernorm.wgsl. Dimensions: N rows (B·T), C channels.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { STRIDED_MAX_GROUPS } from './grid';
import { isCpuAdapter, rowWorkgroup } from './plan';
import type { AdapterSummary } from '../engine/gpu';
import { checkView } from './check';


/** One workgroup per row, striding when N exceeds STRIDED_MAX_GROUPS. */
function rowGroups(N: number): number {
  return Math.min(N, STRIDED_MAX_GROUPS);
}

/** Rows per workgroup of the `_rows` forms (RW in the shader). */
const RW = 4;

/**
 * CPU adapters with C a multiple of 4 take the `_rows` forms: an invocation per row in vec4s, no
 * workgroup memory or barriers (SwiftShader runs a kernel with barriers as coroutines).
 */
function rowsForm(adapter: AdapterSummary, C: number): boolean {
  return C % 4 === 0 && isCpuAdapter(adapter);
}

/** out (N,C) = (inp − mean)·rstd·weight + bias; mean (N) and rstd (N) saved for backward. */
export function layernormForward(enc: StepEncoder, out: View, mean: View, rstd: View, inp: View, weight: View, bias: View, N: number, C: number, eps: number): void {
  checkView('layernormForward', out, N * C);
  checkView('layernormForward', mean, N);
  checkView('layernormForward', rstd, N);
  checkView('layernormForward', inp, N * C);
  checkView('layernormForward', weight, C);
  checkView('layernormForward', bias, C);
  if (!(eps > 0)) throw new Error(`layernormForward: eps must be > 0, got ${eps}`);
  if (rowsForm(enc.gpu.adapter, C)) enc.dispatch({ shader: 'layernorm', entryPoint: 'layernorm_forward_rows' }, [out, mean, rstd, inp, weight, bias], params(N, C, { f: eps }, 0), [rowGroups(Math.ceil(N / RW))]);
  else enc.dispatch({ shader: 'layernorm', entryPoint: 'layernorm_forward', constants: { WG: rowWorkgroup(enc.gpu.adapter, 256) } }, [out, mean, rstd, inp, weight, bias], params(N, C, { f: eps }, 0), [rowGroups(N)]);
}

/**
 * dinp (N,C) += ∂/∂inp (the residual stream accumulates); dweight (C) += Σ_n dout·norm;
 * dbias (C) += Σ_n dout. Two dispatches so each invocation owns what it writes; null dweight and
 * dbias (a frozen LayerNorm: LoRA's base) skip the second.
 */
export function layernormBackward(enc: StepEncoder, dinp: View, dweight: View | null, dbias: View | null, dout: View, inp: View, weight: View, mean: View, rstd: View, N: number, C: number): void {
  checkView('layernormBackward', dinp, N * C);
  if ((dweight === null) !== (dbias === null)) throw new Error('layernormBackward: dweight and dbias are both given or both null');
  if (dweight) checkView('layernormBackward', dweight, C);
  if (dbias) checkView('layernormBackward', dbias, C);
  checkView('layernormBackward', dout, N * C);
  checkView('layernormBackward', inp, N * C);
  checkView('layernormBackward', weight, C);
  checkView('layernormBackward', mean, N);
  checkView('layernormBackward', rstd, N);
  const u = params(N, C, 0, 0);
  if (rowsForm(enc.gpu.adapter, C)) {
    enc.dispatch({ shader: 'layernorm', entryPoint: 'layernorm_backward_rows' }, [dinp, dout, inp, weight, mean, rstd], u, [rowGroups(Math.ceil(N / RW))]);
    if (dweight && dbias) enc.dispatch({ shader: 'layernorm', entryPoint: 'layernorm_backward_params4' }, [dweight, dbias, dout, inp, mean, rstd], u, [Math.ceil(C / 4 / RW)]);
    return;
  }
  enc.dispatch({ shader: 'layernorm', entryPoint: 'layernorm_backward', constants: { WG: rowWorkgroup(enc.gpu.adapter, 256) } }, [dinp, dout, inp, weight, mean, rstd], u, [rowGroups(N)]);
  if (dweight && dbias) enc.dispatch({ shader: 'layernorm', entryPoint: 'layernorm_backward_params' }, [dweight, dbias, dout, inp, mean, rstd], u, [Math.ceil(C / 16)]);
}
