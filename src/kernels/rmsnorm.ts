// Launchers for shaders/rmsnorm.wgsl (Llama-family RMSNorm). Dimensions: N rows (B·T), C channels.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { STRIDED_MAX_GROUPS } from './grid';
import { isCpuAdapter, rowWorkgroup } from './plan';
import { checkDims, checkView } from './check';

/** One workgroup per row, striding when N exceeds STRIDED_MAX_GROUPS. */
function rowGroups(N: number): number {
  return Math.min(N, STRIDED_MAX_GROUPS);
}

/** Rows per workgroup of the `_rows` forms (RW in the shader). */
const RW = 4;

/** CPU adapters with C % 4 = 0: an invocation per row in vec4s, no barriers (docs/perf.md §16). */
function rowsForm(enc: StepEncoder, C: number): boolean {
  return C % 4 === 0 && isCpuAdapter(enc.gpu.adapter);
}

/** out (N,C) = inp·rstd·weight; rstd (N) = 1/√(mean(inp²) + eps), saved for the backward. */
export function rmsnormForward(enc: StepEncoder, out: View, rstd: View, inp: View, weight: View, N: number, C: number, eps: number): void {
  checkDims('rmsnormForward', { N, C });
  checkView('rmsnormForward', out, N * C);
  checkView('rmsnormForward', rstd, N);
  checkView('rmsnormForward', inp, N * C);
  checkView('rmsnormForward', weight, C);
  if (!(eps > 0)) throw new Error(`rmsnormForward: eps must be > 0, got ${eps}`);
  if (rowsForm(enc, C)) enc.dispatch({ shader: 'rmsnorm', entryPoint: 'rmsnorm_forward_rows' }, [out, rstd, inp, weight], params(N, C, { f: eps }, 0), [rowGroups(Math.ceil(N / RW))]);
  else enc.dispatch({ shader: 'rmsnorm', entryPoint: 'rmsnorm_forward', constants: { WG: rowWorkgroup(enc.gpu.adapter, 256) } }, [out, rstd, inp, weight], params(N, C, { f: eps }, 0), [rowGroups(N)]);
}

export interface RmsnormBackwardOptions {
  /**
   * Add into dinp instead of writing it: for an input that is the residual stream, whose
   * gradient every branch adds into (layernormBackward always adds). Default false: dinp =.
   */
  accumulate?: boolean;
}

/**
 * dinp (N,C) = ∂/∂inp of Σ out·dout (written, or added with `accumulate`); dweight (C) +=
 * Σ_n dout·inp·rstd (a parameter gradient: always accumulates; null for a frozen weight). Two
 * dispatches so each invocation owns what it writes.
 */
export function rmsnormBackward(enc: StepEncoder, dinp: View, dweight: View | null, dout: View, inp: View, weight: View, rstd: View, N: number, C: number, opts: RmsnormBackwardOptions = {}): void {
  checkDims('rmsnormBackward', { N, C });
  checkView('rmsnormBackward', dinp, N * C);
  if (dweight) checkView('rmsnormBackward', dweight, C);
  checkView('rmsnormBackward', dout, N * C);
  checkView('rmsnormBackward', inp, N * C);
  checkView('rmsnormBackward', weight, C);
  checkView('rmsnormBackward', rstd, N);
  const u = params(N, C, 0, 0);
  if (rowsForm(enc, C)) {
    enc.dispatch({ shader: 'rmsnorm', entryPoint: 'rmsnorm_backward_rows', constants: { ACCUMULATE: opts.accumulate ?? false } }, [dinp, dout, inp, weight, rstd], u, [rowGroups(Math.ceil(N / RW))]);
    if (dweight) enc.dispatch({ shader: 'rmsnorm', entryPoint: 'rmsnorm_backward_params4' }, [dweight, dout, inp, rstd], u, [Math.ceil(C / 4 / RW)]); // null: frozen (LoRA's base)
    return;
  }
  const constants = { WG: rowWorkgroup(enc.gpu.adapter, 256), ACCUMULATE: opts.accumulate ?? false };
  enc.dispatch({ shader: 'rmsnorm', entryPoint: 'rmsnorm_backward', constants }, [dinp, dout, inp, weight, rstd], u, [rowGroups(N)]);
  if (dweight) enc.dispatch({ shader: 'rmsnorm', entryPoint: 'rmsnorm_backward_params' }, [dweight, dout, inp, rstd], u, [Math.ceil(C / 16)]); // null: frozen (LoRA's base)
}
