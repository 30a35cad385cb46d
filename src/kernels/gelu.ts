// Launchers for shaders/gelu.wgsl (GPT-2 gelu_new), elementwise over n floats.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { strideGroups } from './grid';
import { checkView } from './check';


/** out (n) = gelu_new(inp (n)). */
export function geluForward(enc: StepEncoder, out: View, inp: View, n: number): void {
  checkView('geluForward', out, n);
  checkView('geluForward', inp, n);
  enc.dispatch({ shader: 'gelu', entryPoint: 'gelu_forward' }, [out, inp], params(n, 0, 0, 0), [strideGroups(n)]);
}

/** dinp (n) = gelu_new'(inp) · dout — written (=), not accumulated. */
export function geluBackward(enc: StepEncoder, dinp: View, inp: View, dout: View, n: number): void {
  checkView('geluBackward', dinp, n);
  checkView('geluBackward', inp, n);
  checkView('geluBackward', dout, n);
  enc.dispatch({ shader: 'gelu', entryPoint: 'gelu_backward' }, [dinp, inp, dout], params(n, 0, 0, 0), [strideGroups(n)]);
}
