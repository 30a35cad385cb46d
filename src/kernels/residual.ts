// Launchers for shaders/residual.wgsl: elementwise over n floats (vec4 forms when n % 4 = 0).
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { strideGroups, vec4Chunks, vec4Per } from './grid';

function check(name: string, v: View, n: number): void {
  if (v.length < n) throw new Error(`${name}: ${v.name} holds ${v.length} elements, needs ${n}`);
}

/** out (n) = inp1 (n) + inp2 (n). */
export function residualForward(enc: StepEncoder, out: View, inp1: View, inp2: View, n: number): void {
  check('residualForward', out, n);
  check('residualForward', inp1, n);
  check('residualForward', inp2, n);
  if (n % 4 === 0) {
    const PER = vec4Per(enc.gpu.adapter);
    enc.dispatch({ shader: 'residual', entryPoint: 'residual_forward4', constants: { PER } }, [out, inp1, inp2], params(n, 0, 0, 0), [vec4Chunks(n / 4, PER)]);
  } else enc.dispatch({ shader: 'residual', entryPoint: 'residual_forward' }, [out, inp1, inp2], params(n, 0, 0, 0), [strideGroups(n)]);
}

/** dst (n) += src (n): the residual stream's gradient gathers each branch's dinp. */
export function accumulate(enc: StepEncoder, dst: View, src: View, n: number): void {
  check('accumulate', dst, n);
  check('accumulate', src, n);
  if (n % 4 === 0) {
    const PER = vec4Per(enc.gpu.adapter);
    enc.dispatch({ shader: 'residual', entryPoint: 'accumulate4', constants: { PER } }, [dst, src], params(n, 0, 0, 0), [vec4Chunks(n / 4, PER)]);
  } else enc.dispatch({ shader: 'residual', entryPoint: 'accumulate' }, [dst, src], params(n, 0, 0, 0), [strideGroups(n)]);
}
