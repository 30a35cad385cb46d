// Launchers for shaders/gelu.wgsl (GPT-2 gelu_new), elementwise over n floats: the vec4 forms
// when n is a multiple of 4 (every model's 4C), else the scalar ones.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { strideGroups, vec4Chunks, vec4Per } from './grid';
import { checkView } from './check';


/** out (n) = gelu_new(inp (n)). */
export function geluForward(enc: StepEncoder, out: View, inp: View, n: number): void {
  checkView('geluForward', out, n);
  checkView('geluForward', inp, n);
  if (n % 4 === 0) {
    const PER = vec4Per(enc.gpu.adapter);
    enc.dispatch({ shader: 'gelu', entryPoint: 'gelu_forward4', constants: { PER } }, [out, inp], params(n, 0, 0, 0), [vec4Chunks(n / 4, PER)]);
  } else enc.dispatch({ shader: 'gelu', entryPoint: 'gelu_forward' }, [out, inp], params(n, 0, 0, 0), [strideGroups(n)]);
}

/** dinp (n) = gelu_new'(inp) · dout — written (=), not accumulated. */
export function geluBackward(enc: StepEncoder, dinp: View, inp: View, dout: View, n: number): void {
  checkView('geluBackward', dinp, n);
  checkView('geluBackward', inp, n);
  checkView('geluBackward', dout, n);
  if (n % 4 === 0) {
    const PER = vec4Per(enc.gpu.adapter);
    enc.dispatch({ shader: 'gelu', entryPoint: 'gelu_backward4', constants: { PER } }, [dinp, inp, dout], params(n, 0, 0, 0), [vec4Chunks(n / 4, PER)]);
  } else enc.dispatch({ shader: 'gelu', entryPoint: 'gelu_backward' }, [dinp, inp, dout], params(n, 0, 0, 0), [strideGroups(n)]);
}
