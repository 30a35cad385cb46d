// Launchers for shaders/optimizer.wgsl over n elements of an arena (or a sub-range of one).
// Step-varying hyperparameters live in a small storage view `hp` written each step with
// queue.writeBuffer: the UniformPool caches by content, so a new learning rate every step
// would leave a buffer behind every step.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params as uniformWords } from '../engine/uniforms';
import type { OptimizerHp } from '../reference/optimizer';
import { rowWorkgroup } from './plan';

export type { OptimizerHp } from '../reference/optimizer';

/** Elements of the `hp` view (Hp struct in the shader, padded to 64 bytes). */
export const OPTIMIZER_HP_SIZE = 16;

const WG = 256;
/** Elementwise kernels grid-stride: 4096·256 ≈ 1M invocations, more work loops (n up to 2³² − 1). */
const MAX_GROUPS = 4096;
/** Stage-1 workgroups of the norm: fixed for a given n, so the sum order is deterministic. */
const NORM_GROUPS = 1024;

function check(name: string, v: View, n: number): void {
  if (v.length < n) throw new Error(`${name}: ${v.name} holds ${v.length} elements, needs ${n}`);
}

function checkN(name: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0 || n > 0xffffffff) throw new Error(`${name}: n = ${n} must be a positive 32-bit integer`);
}

/** Workgroups of the grid-stride elementwise kernels for n elements. */
export function optimizerGroups(n: number): number {
  return Math.min(MAX_GROUPS, Math.ceil(n / WG));
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
 * (as torch does in Python) and rounded once.
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
  return out;
}

/** Write this step's hyperparameters into hp (OPTIMIZER_HP_SIZE elements); ordered before later submits. */
export function writeOptimizerHp(device: GPUDevice, hp: View, h: OptimizerHp): void {
  check('writeOptimizerHp', hp, OPTIMIZER_HP_SIZE);
  const words = packOptimizerHp(h);
  device.queue.writeBuffer(hp.buffer, hp.offset, words.buffer, words.byteOffset, words.byteLength);
}

/**
 * grads (n) -> out (1) = Σ grads², through partials (gradNormPartialsSize(n)). Deterministic.
 * out and partials may share a buffer; grads must be in another.
 */
export function gradNormSquared(enc: StepEncoder, out: View, partials: View, grads: View, n: number): void {
  checkN('gradNormSquared', n);
  check('gradNormSquared', out, 1);
  check('gradNormSquared', grads, n);
  const G = gradNormPartialsSize(n);
  check('gradNormSquared', partials, G);
  const constants = { RWG: rowWorkgroup(enc.gpu.adapter, WG) };
  enc.dispatch({ shader: 'optimizer', entryPoint: 'grad_norm_partials', constants }, [partials, grads], uniformWords(n, 0, 0, 0), [G]);
  enc.dispatch({ shader: 'optimizer', entryPoint: 'grad_norm_finish', constants }, [out, partials], uniformWords(G, 0, 0, 0), [1]);
}

/** AdamW (torch.optim.AdamW) on params, m, v (n) with grads (n) clipped by normSq (1); hp from writeOptimizerHp. */
export function adamwStep(enc: StepEncoder, params: View, m: View, v: View, grads: View, normSq: View, hp: View, n: number): void {
  checkN('adamwStep', n);
  for (const x of [params, m, v, grads]) check('adamwStep', x, n);
  check('adamwStep', normSq, 1);
  check('adamwStep', hp, OPTIMIZER_HP_SIZE);
  enc.dispatch({ shader: 'optimizer', entryPoint: 'adamw_step' }, [params, m, v, grads, normSq, hp], uniformWords(n, 0, 0, 0), [optimizerGroups(n)]);
}

/** SGD without momentum or weight decay: params (n) -= lr·clip·grads (n). */
export function sgdStep(enc: StepEncoder, params: View, grads: View, normSq: View, hp: View, n: number): void {
  checkN('sgdStep', n);
  check('sgdStep', params, n);
  check('sgdStep', grads, n);
  check('sgdStep', normSq, 1);
  check('sgdStep', hp, OPTIMIZER_HP_SIZE);
  enc.dispatch({ shader: 'optimizer', entryPoint: 'sgd_step' }, [params, grads, normSq, hp], uniformWords(n, 0, 0, 0), [optimizerGroups(n)]);
}
