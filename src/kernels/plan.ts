// Per-adapter kernel choices (docs/perf.md). A CPU adapter (SwiftShader, llvmpipe, WARP) runs a
// workgroup as one thread over 4-wide SIMD lanes and suspends it at every barrier, and keeps
// workgroup arrays in memory: there, reductions use 4 invocations per row instead of 64–256 and
// matmuls keep their tiles in registers (src/kernels/matmul.ts). GPUs keep the wide forms.
import type { AdapterSummary } from '../engine/gpu';
import { f16VariantFor } from './f16-variant';

export type AdapterClass = 'cpu' | 'gpu';

let forced: AdapterClass | null = null;

/** Run the other class's kernel forms on this adapter (tests cover both; null restores detection). */
export function forceAdapterClass(c: AdapterClass | null): void {
  forced = c;
}

export function isCpuAdapter(adapter: AdapterSummary): boolean {
  if (forced) return forced === 'cpu';
  return adapter.isFallbackAdapter || /swiftshader|llvmpipe|lavapipe|warp/i.test(`${adapter.architecture} ${adapter.description} ${adapter.device}`);
}

/** SIMD width of SwiftShader's invocations: one group of lanes, so barriers cost nothing to wait for. */
export const CPU_ROW_WG = 4;

/** Invocations that share one row's reduction: `gpuWidth` on GPUs, CPU_ROW_WG on CPU adapters. */
export function rowWorkgroup(adapter: AdapterSummary, gpuWidth: number): number {
  return isCpuAdapter(adapter) ? CPU_ROW_WG : gpuWidth;
}

/**
 * Arithmetic of the products (docs/perf.md, "f16 arithmetic"): 'f32' everywhere; 'f16' reads the operands of
 * matmul and attention as IEEE half and accumulates in f32 (src/kernels/matmul-f16.ts,
 * attention-f16.ts), which needs the WebGPU feature `shader-f16`.
 */
export type ArithmeticDtype = 'f32' | 'f16';

/** Asked for f16 arithmetic on an adapter without `shader-f16`: an error, never a silent fallback. */
export class F16UnavailableError extends Error {
  constructor(adapter: AdapterSummary) {
    const name = adapter.description || adapter.architecture || adapter.vendor || 'this adapter';
    super(`f16 arithmetic needs the WebGPU feature 'shader-f16', which ${name} does not offer (features: ${adapter.features.join(', ') || 'none'}): use f32 arithmetic on this adapter`);
    this.name = 'F16UnavailableError';
  }
}

/**
 * The arithmetic a run gets: 'f16' only when it asked for it and the device was created with
 * `shader-f16` (src/engine/gpu.ts requests it whenever the adapter offers it); asking for f16
 * without the feature throws F16UnavailableError.
 */
export function arithmeticPlan(gpu: { adapter: AdapterSummary; features: ReadonlySet<string> }, requested: ArithmeticDtype): ArithmeticDtype {
  if (requested === 'f32') return 'f32';
  if (requested !== 'f16') throw new Error(`arithmetic dtype must be f32 or f16, got ${String(requested)}`);
  // f16VariantFor: the device's feature, or a test's forceF16Variant
  if (f16VariantFor(gpu.features) === null) throw new F16UnavailableError(gpu.adapter);
  return 'f16';
}
