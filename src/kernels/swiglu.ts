// Launchers for shaders/swiglu.wgsl: the SwiGLU product of the Llama-family MLP, between a fused
// gate/up projection and down_proj. Dimensions: N rows (B·T), I intermediate size.
// gate_up (N, 2I): each row holds gate (I) then up (I), the output of one projection whose
// weight (2I, C) stacks gate_proj.weight over up_proj.weight (nn.Linear layout), so a single
// matmul produces both and a single matmul backward consumes dgate_up.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { strideGroups } from './grid';
import { checkDims, checkView } from './check';

/** h (N,I) = silu(gate)·up, gate and up the two halves of each gate_up (N,2I) row. */
export function swigluForward(enc: StepEncoder, h: View, gateUp: View, N: number, I: number): void {
  checkDims('swigluForward', { N, I });
  checkView('swigluForward', h, N * I);
  checkView('swigluForward', gateUp, N * 2 * I);
  enc.dispatch({ shader: 'swiglu', entryPoint: 'swiglu_forward' }, [h, gateUp], params(N, I, 0, 0), [strideGroups(N * I)]);
}

/**
 * dgateUp (N,2I) = [dgate, dup] per row (written, not accumulated): dgate = dh·up·σ(g)·(1 +
 * g·(1 − σ(g))), dup = dh·silu(g), from dh (N,I) and the forward's gate_up (N,2I).
 */
export function swigluBackward(enc: StepEncoder, dgateUp: View, dh: View, gateUp: View, N: number, I: number): void {
  checkDims('swigluBackward', { N, I });
  checkView('swigluBackward', dgateUp, N * 2 * I);
  checkView('swigluBackward', dh, N * I);
  checkView('swigluBackward', gateUp, N * 2 * I);
  enc.dispatch({ shader: 'swiglu', entryPoint: 'swiglu_backward' }, [dgateUp, dh, gateUp], params(N, I, 0, 0), [strideGroups(N * I)]);
}
