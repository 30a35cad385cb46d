// Per-adapter kernel choices (docs/perf.md). A CPU adapter (SwiftShader, llvmpipe, WARP) runs a
// workgroup as one thread over 4-wide SIMD lanes and suspends it at every barrier, and keeps
// workgroup arrays in memory: there, reductions use 4 invocations per row instead of 64–256 and
// matmuls keep their tiles in registers (src/kernels/matmul.ts). GPUs keep the wide forms.
import type { AdapterSummary } from '../engine/gpu';

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
