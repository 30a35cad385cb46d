// Launchers for shaders/convert.wgsl: f32 ↔ f16 packed two per u32 word (element 2w in the
// low half of word w), elementwise over n values. Activations kept as f16 (GptRunner's
// activationsDtype 'f16') are stored this way and computed on in f32.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { strideGroups } from './grid';
import { checkView } from './check';

/** u32 words holding n packed f16 values. */
export function f16Words(n: number): number {
  return Math.ceil(n / 2);
}

function checkN(name: string, n: number): void {
  // (n + 1) / 2 words are computed in u32: n = 2³² − 1 would wrap
  if (!Number.isInteger(n) || n <= 0 || n > 0xfffffffe) throw new Error(`${name}: n = ${n} must be a positive integer below 2³² − 1`);
}


/** packed (ceil(n/2) u32 words) = inp (n f32) rounded to f16. */
export function packF16(enc: StepEncoder, packed: View, inp: View, n: number): void {
  checkN('packF16', n);
  checkView('packF16', packed, f16Words(n), 'words');
  checkView('packF16', inp, n, 'elements');
  enc.dispatch({ shader: 'convert', entryPoint: 'pack_f16' }, [packed, inp], params(n, 0, 0, 0), [strideGroups(f16Words(n))]);
}

/** out (n f32) = the f16 values in packed (ceil(n/2) words); exact (every f16 is an f32). */
export function unpackF16(enc: StepEncoder, out: View, packed: View, n: number): void {
  checkN('unpackF16', n);
  checkView('unpackF16', out, n, 'elements');
  checkView('unpackF16', packed, f16Words(n), 'words');
  enc.dispatch({ shader: 'convert', entryPoint: 'unpack_f16' }, [out, packed], params(n, 0, 0, 0), [strideGroups(f16Words(n))]);
}
