// Launchers for shaders/optimizer.wgsl over n elements of an arena (or a sub-range of one).
// Step-varying hyperparameters live in a small storage view `hp` written each step with
// queue.writeBuffer: the UniformPool caches by content, so a new learning rate every step
// would leave a buffer behind every step.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params as uniformWords } from '../engine/uniforms';
import { bf16Bits, type OptimizerHp } from '../reference/optimizer';
import { rowWorkgroup } from './plan';
import { vec4Chunks, vec4Per } from './grid';
import { checkView } from './check';

export type { OptimizerHp } from '../reference/optimizer';

/** Elements of the `hp` view (Hp struct in the shader, padded to 64 bytes). */
export const OPTIMIZER_HP_SIZE = 16;

const WG = 256;
/** Elementwise kernels grid-stride: 4096·256 ≈ 1M invocations, more work loops (n up to 2³² − 1). */
const OPTIMIZER_MAX_GROUPS = 4096;
/** Stage-1 workgroups of the norm: fixed for a given n, so the sum order is deterministic. */
const NORM_GROUPS = 1024;


function checkN(name: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff) throw new Error(`${name}: n = ${n} must be a positive 32-bit integer`);
}

/** Workgroups of the grid-stride elementwise kernels for n elements. */
export function optimizerGroups(n: number): number {
  return Math.min(OPTIMIZER_MAX_GROUPS, Math.ceil(n / WG));
}

/** Elements of the `partials` scratch gradNormSquared needs for n gradients. */
export function gradNormPartialsSize(n: number): number {
  return Math.min(NORM_GROUPS, Math.ceil(n / WG));
}

function finiteAtLeast(field: string, x: number, lo: number): void {
  if (!Number.isFinite(x) || x < lo) throw new Error(`optimizer hp: ${field} = ${x} must be a finite number ≥ ${lo}`);
}

/**
 * The Hp struct as f32 words. Bias corrections and step size are computed here in float64
 * (as torch does in Python) and rounded once. Word 10 holds the step as a u32 (its bits, not
 * a float): adamw_step_bf16 hashes it into its rounding bits.
 */
export function packOptimizerHp(h: OptimizerHp): Float32Array {
  finiteAtLeast('lr', h.lr, 0);
  for (const k of ['beta1', 'beta2'] as const) {
    if (!(h[k] >= 0 && h[k] < 1)) throw new Error(`optimizer hp: ${k} = ${h[k]} must be in [0, 1)`);
  }
  finiteAtLeast('eps', h.eps, 0);
  finiteAtLeast('weightDecay', h.weightDecay, 0);
  finiteAtLeast('maxGradNorm', h.maxGradNorm, 0);
  if (!Number.isInteger(h.step) || h.step < 1) throw new Error(`optimizer hp: step = ${h.step} must be an integer ≥ 1 (the count after this update)`);
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  const out = new Float32Array(OPTIMIZER_HP_SIZE);
  out.set([h.lr, h.beta1, 1 - h.beta1, h.beta2, 1 - h.beta2, h.eps, 1 - h.lr * h.weightDecay, h.lr / bc1, Math.sqrt(bc2), h.maxGradNorm]);
  new Uint32Array(out.buffer)[10] = h.step >>> 0;
  return out;
}

/** Write this step's hyperparameters into hp (OPTIMIZER_HP_SIZE elements); ordered before later submits. */
export function writeOptimizerHp(device: GPUDevice, hp: View, h: OptimizerHp): void {
  checkView('writeOptimizerHp', hp, OPTIMIZER_HP_SIZE);
  const words = packOptimizerHp(h);
  device.queue.writeBuffer(hp.buffer, hp.offset, words.buffer, words.byteOffset, words.byteLength);
}

/**
 * grads (n) -> out (1) = Σ grads², through partials (gradNormPartialsSize(n)). Deterministic.
 * out and partials may share a buffer; grads must be in another.
 */
export function gradNormSquared(enc: StepEncoder, out: View, partials: View, grads: View, n: number): void {
  gradNormPartials(enc, partials, grads, n);
  gradNormFinish(enc, out, partials, gradNormPartialsSize(n));
}

/**
 * Stage 1 of gradNormSquared: grads (n) -> partials (gradNormPartialsSize(n)). An arena of several
 * buffers runs it once per buffer into disjoint (aligned) ranges of one partials view, then
 * gradNormFinish once over the whole range: one norm over every buffer (unused slots stay 0).
 */
export function gradNormPartials(enc: StepEncoder, partials: View, grads: View, n: number): void {
  checkN('gradNormPartials', n);
  checkView('gradNormPartials', grads, n);
  const G = gradNormPartialsSize(n);
  checkView('gradNormPartials', partials, G);
  const constants = { RWG: rowWorkgroup(enc.gpu.adapter, WG) };
  enc.dispatch({ shader: 'optimizer', entryPoint: 'grad_norm_partials', constants }, [partials, grads], uniformWords(n, 0, 0, 0), [G]);
}

/** Stage 2 of gradNormSquared: out (1) = Σ partials (G). */
export function gradNormFinish(enc: StepEncoder, out: View, partials: View, G: number): void {
  checkN('gradNormFinish', G);
  checkView('gradNormFinish', out, 1);
  checkView('gradNormFinish', partials, G);
  const constants = { RWG: rowWorkgroup(enc.gpu.adapter, WG) };
  enc.dispatch({ shader: 'optimizer', entryPoint: 'grad_norm_finish', constants }, [out, partials], uniformWords(G, 0, 0, 0), [1]);
}

/** AdamW (torch.optim.AdamW) on params, m, v (n) with grads (n) clipped by normSq (1); hp from writeOptimizerHp. The vec4 form when n % 4 = 0 (bitwise the same per element). */
export function adamwStep(enc: StepEncoder, params: View, m: View, v: View, grads: View, normSq: View, hp: View, n: number): void {
  checkN('adamwStep', n);
  for (const x of [params, m, v, grads]) checkView('adamwStep', x, n);
  checkView('adamwStep', normSq, 1);
  checkView('adamwStep', hp, OPTIMIZER_HP_SIZE);
  if (n % 4 === 0) {
    const PER = vec4Per(enc.gpu.adapter);
    enc.dispatch({ shader: 'optimizer', entryPoint: 'adamw_step4', constants: { PER } }, [params, m, v, grads, normSq, hp], uniformWords(n, 0, 0, 0), [vec4Chunks(n / 4, PER)]);
  } else enc.dispatch({ shader: 'optimizer', entryPoint: 'adamw_step' }, [params, m, v, grads, normSq, hp], uniformWords(n, 0, 0, 0), [optimizerGroups(n)]);
}

/** u32 words of bf16 moment storage for n elements: two per word. */
export function bf16Words(n: number): number {
  return Math.ceil(n / 2);
}

/**
 * x (n) -> bf16Words(n) words in adamw_step_bf16's layout (2k low, 2k+1 high), rounded to
 * nearest even. Used once per value (checkpoint restore, tests), so it keeps the lower error
 * of round-to-nearest; the kernel rounds stochastically because it rounds the same v every
 * step, where round-to-nearest's bias accumulates (v·0.999 rounds back to v).
 */
export function packBf16(x: Float32Array): Uint32Array {
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const out = new Uint32Array(bf16Words(x.length));
  for (let i = 0; i < x.length; i++) out[i >> 1] |= bf16Bits(bits[i]) << (16 * (i & 1));
  return out;
}

/** The first n bf16 values of words (packBf16's layout), widened to f32 exactly. */
export function unpackBf16(words: Uint32Array, n: number): Float32Array {
  if (words.length < bf16Words(n)) throw new Error(`unpackBf16: ${words.length} words hold fewer than ${n} values`);
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) out[i] = i & 1 ? words[i >> 1] & 0xffff0000 : words[i >> 1] << 16;
  return new Float32Array(out.buffer);
}

/**
 * A moment view bound from the storage-offset alignment at or below it, plus its first word
 * inside that binding: per-tensor ranges of a bf16 moment buffer sit at half their parameter
 * offsets (multiples of 128 bytes when parameters are 256-aligned), below WebGPU's binding
 * alignment.
 */
function alignedBinding(device: GPUDevice, v: View): { view: View; base: number } {
  if (v.offset % 4 !== 0) throw new Error(`adamwStepBf16: ${v.name} starts at byte ${v.offset}, not a whole u32 word`);
  const align = device.limits.minStorageBufferOffsetAlignment;
  const start = Math.floor(v.offset / align) * align;
  const lead = v.offset - start;
  return { view: { ...v, offset: start, size: v.size + lead, length: v.length + lead / 4 }, base: lead / 4 };
}

/**
 * AdamW as adamwStep with m and v stored as bf16, two elements per u32 word: params, grads (n),
 * m, v (bf16Words(n) words; element 2k in the low half of word k). The f32 math is adamwStep's;
 * new moments are rounded to bf16 stochastically (unbiased), with random bits hashed from
 * (indexBase + element, hp's step) — see bf16RoundingBits. indexBase: the range's first
 * element in the parameter arena, so per-tensor calls draw the bits one whole-arena call
 * would. An odd n leaves the last word's high half as is.
 */
export function adamwStepBf16(enc: StepEncoder, params: View, m: View, v: View, grads: View, normSq: View, hp: View, n: number, indexBase = 0): void {
  checkN('adamwStepBf16', n);
  if (!Number.isInteger(indexBase) || indexBase < 0 || indexBase > 0xffffffff) throw new Error(`adamwStepBf16: indexBase = ${indexBase} must be a 32-bit unsigned integer`);
  for (const x of [params, grads]) checkView('adamwStepBf16', x, n);
  for (const x of [m, v]) checkView('adamwStepBf16', x, bf16Words(n));
  checkView('adamwStepBf16', normSq, 1);
  checkView('adamwStepBf16', hp, OPTIMIZER_HP_SIZE);
  const d = enc.gpu.device;
  const M = alignedBinding(d, m), V = alignedBinding(d, v);
  if (M.view.buffer === V.view.buffer && M.view.offset < V.view.offset + V.view.size && V.view.offset < M.view.offset + M.view.size) {
    throw new Error(`adamwStepBf16: ${m.name} and ${v.name} overlap once aligned to ${d.limits.minStorageBufferOffsetAlignment} bytes: keep the moments in separate buffers`);
  }
  const groups = optimizerGroups(bf16Words(n));
  enc.dispatch({ shader: 'optimizer', entryPoint: 'adamw_step_bf16' }, [params, M.view, V.view, grads, normSq, hp], uniformWords(n, M.base, V.base, indexBase), [groups]);
}

/** SGD without momentum or weight decay: params (n) -= lr·clip·grads (n). */
export function sgdStep(enc: StepEncoder, params: View, grads: View, normSq: View, hp: View, n: number): void {
  checkN('sgdStep', n);
  checkView('sgdStep', params, n);
  checkView('sgdStep', grads, n);
  checkView('sgdStep', normSq, 1);
  checkView('sgdStep', hp, OPTIMIZER_HP_SIZE);
  enc.dispatch({ shader: 'optimizer', entryPoint: 'sgd_step' }, [params, grads, normSq, hp], uniformWords(n, 0, 0, 0), [optimizerGroups(n)]);
}
