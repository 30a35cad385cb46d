// The GPU context for kernel tests: real Dawn WebGPU in Node. No adapter is a failure,
// never a skip.
import { nodeGpu } from '../../src/engine/node';
import type { GpuContext } from '../../src/engine/gpu';

let ctx: Promise<GpuContext> | null = null;

export function testGpu(): Promise<GpuContext> {
  if (!ctx) ctx = nodeGpu('prefplay-test');
  return ctx;
}
