// Dispatch sizes for grid-stride kernels: an elementwise kernel over n elements runs
// ceil(n / WG) workgroups, capped at STRIDED_MAX_GROUPS; each invocation then strides by
// (workgroups · WG), so any n fits under maxComputeWorkgroupsPerDimension (65535).

/** Invocations per workgroup of the elementwise kernels (matches @workgroup_size in WGSL). */
export const ELEMENTWISE_WG = 256;

/** 1024 workgroups of 256 ≈ one wave of resident threads on a large GPU (H100: 132 SMs × 2048); more work loops. */
export const STRIDED_MAX_GROUPS = 1024;

/** Workgroups for `items` items handled `perGroup` at a time, capped; 0 when there is nothing to do. */
export function strideGroups(items: number, perGroup = ELEMENTWISE_WG): number {
  return Math.min(STRIDED_MAX_GROUPS, Math.ceil(items / perGroup));
}
