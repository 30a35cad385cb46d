// Launchers for shaders/rope.wgsl: rotary position embedding (Llama family, rotate_half
// convention), position ids 0..T−1 per sequence. Dimensions: B batch, T time, NH heads (pass the
// key/value head count NKV for k), HS head size (even, ≤ ROPE_MAX_HEAD_SIZE).
// A (B,T,NH,HS) tensor may be a slice of a wider buffer (RopeRows): that is how q and k are
// rotated inside the packed (B,T,(NH+2·NKV)·HS) output of a fused q/k/v projection (qkvRopeRows).
//
// Precision. inv_freq is computed in f32 exactly as Hugging Face does (ropeInvFreq), and the
// angle t·inv_freq is one f32 product, so the kernel follows transformers' float32 RoPE to a few
// ulp at any position below ~1e5. Against the float64 reference (src/reference/rope.ts, exact
// θ^(−2i/HS)) the f32 rounding of the exponent 2i/HS, of the power, of the reciprocal and of the
// product shifts each angle by up to t·inv_freq·(ln θ + 3)·2⁻²⁴ rad, so an output pair of norm
// ‖x‖ may differ from the reference by up to ‖x‖·t·(ln θ + 3)·2⁻²⁴ (a bound: 3e-3·‖x‖ at
// t = 4096, θ = 1e4; typical errors are several times smaller). A comparison with the float64
// reference at positions up to t therefore needs atol of that size on top of the flat 1e-5.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { strideGroups } from './grid';
import { checkDims, checkView } from './check';

/** Largest head size: inv_freq travels in the uniform Params (array<vec4f, 32> in the shader). */
export const ROPE_MAX_HEAD_SIZE = 256;

/**
 * Where the rows of a (B,T,NH,HS) tensor lie in a view, in f32 elements: row r = b·T + t starts
 * at `offset + r·rowStride`, and its NH heads of HS follow contiguously.
 */
export interface RopeRows {
  offset: number;
  rowStride: number;
}

/** A contiguous (B,T,NH,HS) tensor. */
export function ropeRows(NH: number, HS: number): RopeRows {
  return { offset: 0, rowStride: NH * HS };
}

/** q, k and v inside a packed (B,T,(NH+2·NKV)·HS) buffer, in that order (q_proj, k_proj, v_proj outputs side by side). */
export function qkvRopeRows(NH: number, NKV: number, HS: number): { q: RopeRows; k: RopeRows; v: RopeRows } {
  const rowStride = (NH + 2 * NKV) * HS;
  return { q: { offset: 0, rowStride }, k: { offset: NH * HS, rowStride }, v: { offset: (NH + NKV) * HS, rowStride } };
}

/**
 * inv_freq (HS/2) in float32, as transformers computes it:
 * 1.0 / (base ** (torch.arange(0, HS, 2).float() / HS)), every operation rounded to f32.
 */
export function ropeInvFreq(HS: number, theta: number): Float32Array {
  const f = Math.fround;
  const base = f(theta);
  return Float32Array.from({ length: HS / 2 }, (_, i) => f(1 / f(Math.pow(base, f((2 * i) / HS)))));
}

function checkRope(name: string, B: number, T: number, NH: number, HS: number, theta: number): void {
  checkDims(name, { B, T, NH, HS });
  if (HS % 2 !== 0 || HS > ROPE_MAX_HEAD_SIZE) throw new Error(`${name}: head size HS=${HS} must be even and at most ${ROPE_MAX_HEAD_SIZE}`);
  if (!(theta > 0) || !Number.isFinite(theta)) throw new Error(`${name}: theta=${theta} must be a finite number > 0`);
}

function checkRows(name: string, v: View, rows: RopeRows, B: number, T: number, NH: number, HS: number): void {
  const { offset, rowStride } = rows;
  if (!Number.isInteger(offset) || offset < 0) throw new Error(`${name}: ${v.name} row offset ${offset} must be a non-negative integer`);
  if (!Number.isInteger(rowStride) || rowStride < NH * HS) throw new Error(`${name}: ${v.name} row stride ${rowStride} must be an integer ≥ NH·HS = ${NH * HS}`);
  checkView(name, v, offset + (B * T - 1) * rowStride + NH * HS);
}

// Params: n, T, NH, half, in_off, in_stride, out_off, out_stride, sign, 3 pad, inv_freq[128].
function ropeParams(B: number, T: number, NH: number, HS: number, theta: number, inRows: RopeRows, outRows: RopeRows, sign: 1 | -1): Uint32Array {
  const words = new Uint32Array(12 + ROPE_MAX_HEAD_SIZE / 2);
  const f32 = new Float32Array(words.buffer);
  words.set([B * T * NH * (HS / 2), T, NH, HS / 2, inRows.offset, inRows.rowStride, outRows.offset, outRows.rowStride]);
  f32[8] = sign;
  f32.set(ropeInvFreq(HS, theta), 12);
  return words;
}

function rotate(name: string, enc: StepEncoder, out: View, inp: View, B: number, T: number, NH: number, HS: number, theta: number, outRows: RopeRows | undefined, inpRows: RopeRows | undefined, sign: 1 | -1): void {
  checkRope(name, B, T, NH, HS, theta);
  const o = outRows ?? ropeRows(NH, HS);
  const i = inpRows ?? ropeRows(NH, HS);
  checkRows(name, out, o, B, T, NH, HS);
  checkRows(name, inp, i, B, T, NH, HS);
  // WebGPU refuses one buffer bound both writable and read-only in a dispatch, even for disjoint ranges
  if (out.buffer === inp.buffer) throw new Error(`${name}: ${out.name} and ${inp.name} share a GPUBuffer; rotate in place with the *InPlace launcher or use separate buffers`);
  const pairs = B * T * NH * (HS / 2);
  enc.dispatch({ shader: 'rope', entryPoint: 'rope_rotate' }, [out, inp], ropeParams(B, T, NH, HS, theta, i, o, sign), [strideGroups(pairs)]);
}

function rotateInPlace(name: string, enc: StepEncoder, x: View, B: number, T: number, NH: number, HS: number, theta: number, rows: RopeRows | undefined, sign: 1 | -1): void {
  checkRope(name, B, T, NH, HS, theta);
  const r = rows ?? ropeRows(NH, HS);
  checkRows(name, x, r, B, T, NH, HS);
  const pairs = B * T * NH * (HS / 2);
  enc.dispatch({ shader: 'rope', entryPoint: 'rope_rotate_inplace' }, [x], ropeParams(B, T, NH, HS, theta, r, r, sign), [strideGroups(pairs)]);
}

/**
 * out (B,T,NH,HS) = inp rotated by position: pair (x_i, x_{i+HS/2}) of row t turned by
 * t·inv_freq[i] (written). out and inp must be different GPUBuffers; each may be a slice (RopeRows,
 * contiguous by default).
 */
export function ropeForward(enc: StepEncoder, out: View, inp: View, B: number, T: number, NH: number, HS: number, theta: number, outRows?: RopeRows, inpRows?: RopeRows): void {
  rotate('ropeForward', enc, out, inp, B, T, NH, HS, theta, outRows, inpRows, 1);
}

/** dinp (B,T,NH,HS) = dout rotated by −t·inv_freq[i] (the transpose rotation; written). */
export function ropeBackward(enc: StepEncoder, dinp: View, dout: View, B: number, T: number, NH: number, HS: number, theta: number, dinpRows?: RopeRows, doutRows?: RopeRows): void {
  rotate('ropeBackward', enc, dinp, dout, B, T, NH, HS, theta, dinpRows, doutRows, -1);
}

/** x (B,T,NH,HS) rotated in place, e.g. q or k inside a packed qkv buffer (qkvRopeRows). */
export function ropeForwardInPlace(enc: StepEncoder, x: View, B: number, T: number, NH: number, HS: number, theta: number, rows?: RopeRows): void {
  rotateInPlace('ropeForwardInPlace', enc, x, B, T, NH, HS, theta, rows, 1);
}

/** dx (B,T,NH,HS) rotated back in place: gradient with respect to the pre-rotation values. */
export function ropeBackwardInPlace(enc: StepEncoder, dx: View, B: number, T: number, NH: number, HS: number, theta: number, rows?: RopeRows): void {
  rotateInPlace('ropeBackwardInPlace', enc, dx, B, T, NH, HS, theta, rows, -1);
}
