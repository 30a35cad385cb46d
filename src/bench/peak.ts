// The adapter's measured arithmetic ceiling (GFLOP/s of register-only FMAs, shaders/peak.wgsl),
// the yardstick for "matmul ≥ 50 % of the ceiling" (docs/perf.md).
import type { GpuContext } from '../engine/gpu';
import { createView, type View } from '../engine/arena';
import { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';

const WG = 64;

/** Flops of one peakFma dispatch: 8 vec4 chains · 4 lanes · 2 flops per round. */
export function peakFlops(n: number, iters: number): number {
  return n * iters * 64;
}

/** out (n) = Σ over 8 chains and 4 lanes of `iters` rounds of x ← x·m + a (see shaders/peak.wgsl). */
export function peakFma(enc: StepEncoder, out: View, n: number, iters: number, m: number, a: number): void {
  if (out.length < n) throw new Error(`peakFma: ${out.name} holds ${out.length} elements, needs ${n}`);
  enc.dispatch({ shader: 'peak', entryPoint: 'peak_fma' }, [out], params(n, iters, { f: m }, { f: a }), [Math.ceil(n / WG)]);
}

/** Median GFLOP/s of `reps` timed dispatches (after a warm-up) of n invocations × iters rounds. */
export async function measurePeak(gpu: GpuContext, n = 16384, iters = 512, reps = 3): Promise<number> {
  const out = createView(gpu.device, 'bench.peak', [n]);
  const rates: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    const enc = new StepEncoder(gpu, 'peak');
    peakFma(enc, out, n, iters, 0.5, 0.25);
    enc.submit();
    await gpu.device.queue.onSubmittedWorkDone();
    if (r > 0) rates.push(peakFlops(n, iters) / ((performance.now() - t0) * 1e6));
  }
  out.buffer.destroy();
  rates.sort((x, y) => x - y);
  return rates[rates.length >> 1];
}
