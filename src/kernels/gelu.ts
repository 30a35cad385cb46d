// Launchers for shaders/gelu.wgsl (GPT-2 gelu_new), elementwise over n floats.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { strideGroups } from './grid';

function check(name: string, v: View, n: number): void {
  if (v.length < n) throw new Error(`${name}: ${v.name} holds ${v.length} elements, needs ${n}`);
}

/** out (n) = gelu_new(inp (n)). */
export function geluForward(enc: StepEncoder, out: View, inp: View, n: number): void {
  check('geluForward', out, n);
  check('geluForward', inp, n);
  enc.dispatch({ shader: 'gelu', entryPoint: 'gelu_forward' }, [out, inp], params(n, 0, 0, 0), [strideGroups(n)]);
}

/** dinp (n) = gelu_new'(inp) · dout — written (=), not accumulated. */
export function geluBackward(enc: StepEncoder, dinp: View, inp: View, dout: View, n: number): void {
  check('geluBackward', dinp, n);
  check('geluBackward', inp, n);
  check('geluBackward', dout, n);
  enc.dispatch({ shader: 'gelu', entryPoint: 'gelu_backward' }, [dinp, inp, dout], params(n, 0, 0, 0), [strideGroups(n)]);
}
