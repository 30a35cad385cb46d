// Dispatch sizes for grid-stride kernels: an elementwise kernel over n elements runs
// ceil(n / WG) workgroups, capped at STRIDED_MAX_GROUPS; each invocation then strides by
// (workgroups · WG), so any n fits under maxComputeWorkgroupsPerDimension (65535).
import type { AdapterSummary } from '../engine/gpu';
import { isCpuAdapter } from './plan';

/** Invocations per workgroup of the elementwise kernels (matches @workgroup_size in WGSL). */
export const ELEMENTWISE_WG = 256;

/** 1024 workgroups of 256 ≈ one wave of resident threads on a large GPU (H100: 132 SMs × 2048); more work loops. */
export const STRIDED_MAX_GROUPS = 1024;

/** Workgroups for `items` items handled `perGroup` at a time, capped; 0 when there is nothing to do. */
export function strideGroups(items: number, perGroup = ELEMENTWISE_WG): number {
  return Math.min(STRIDED_MAX_GROUPS, Math.ceil(items / perGroup));
}

/** Invocations per workgroup of the vec4 elementwise forms (`WG4` in their shaders). */
export const VEC4_WG = 64;

/**
 * vec4s per invocation of the vec4 elementwise forms (their `PER` override): a CPU adapter pays a
 * large fixed cost per invocation (SwiftShader: 16 per invocation ran GELU 4× faster than one
 * scalar per invocation, docs/perf.md §15), a GPU wants many small invocations.
 */
export function vec4Per(adapter: AdapterSummary): number {
  return isCpuAdapter(adapter) ? 16 : 1;
}

/** Workgroups of a vec4 elementwise form over n4 vec4s, `per` per invocation; capped like strideGroups (the kernels grid-stride). */
export function vec4Chunks(n4: number, per: number): number {
  return Math.min(STRIDED_MAX_GROUPS, Math.ceil(n4 / (VEC4_WG * per)));
}
