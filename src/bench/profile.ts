// Per-kernel GPU time of a recorded step through timestamp queries: a StepEncoder that
// opens one compute pass per dispatch with beginning/end timestamp writes, then resolves
// the query set. Used only for the benchmark's kernel shares (one pass per dispatch adds
// a little overhead; the timed steps use the ordinary one-pass StepEncoder).
import type { GpuContext } from '../engine/gpu';
import { StepEncoder } from '../engine/encoder';
import type { KernelSpec } from '../engine/pipelines';
import type { View } from '../engine/arena';

/** Timestamp pairs per query set (WebGPU caps a query set at 4096 queries). */
const MAX_DISPATCHES = 2048;

/** A readable kernel name: entry point plus the override flags that are on. */
export function kernelName(spec: KernelSpec): string {
  const on = Object.entries(spec.constants ?? {}).filter(([, v]) => v === true || (typeof v === 'number' && v !== 0)).map(([k, v]) => (v === true ? k : `${k}=${v}`));
  return on.length ? `${spec.entryPoint}[${on.join(',')}]` : spec.entryPoint;
}

export class ProfilingEncoder extends StepEncoder {
  readonly labels: string[] = [];
  private next = '';
  private querySet: GPUQuerySet;
  private resolve: GPUBuffer;

  constructor(gpu: GpuContext, label = 'profile') {
    super(gpu, label);
    if (!gpu.features.has('timestamp-query')) throw new Error('ProfilingEncoder: this device has no timestamp-query feature');
    this.querySet = gpu.device.createQuerySet({ label: `${label}:timestamps`, type: 'timestamp', count: 2 * MAX_DISPATCHES });
    this.resolve = gpu.device.createBuffer({ label: `${label}:resolve`, size: 16 * MAX_DISPATCHES, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  }

  override dispatch(spec: KernelSpec, bindings: View[], uniform: Uint32Array | null, workgroups: [number, number?, number?], label?: string): void {
    this.next = kernelName(spec);
    super.dispatch(spec, bindings, uniform, workgroups, label);
  }

  protected override computePass(): GPUComputePassEncoder {
    this.endPass();
    const i = this.labels.length;
    if (i >= MAX_DISPATCHES) throw new Error(`ProfilingEncoder: more than ${MAX_DISPATCHES} dispatches in one encoder`);
    this.labels.push(this.next);
    this.pass = this.encoder.beginComputePass({ label: this.next, timestampWrites: { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
    return this.pass;
  }

  /** Submit, wait, and return each dispatch's GPU milliseconds in order. */
  async submitAndTime(): Promise<Array<{ kernel: string; ms: number }>> {
    const n = this.labels.length;
    const d = this.gpu.device;
    this.endPass();
    const staging = d.createBuffer({ label: 'profile:staging', size: Math.max(16, 16 * n), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    if (n > 0) {
      this.encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolve, 0);
      this.encoder.copyBufferToBuffer(this.resolve, 0, staging, 0, 16 * n);
    }
    this.submit();
    await staging.mapAsync(GPUMapMode.READ);
    const ts = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    this.querySet.destroy();
    this.resolve.destroy();
    return this.labels.map((kernel, i) => ({ kernel, ms: Number(ts[2 * i + 1] - ts[2 * i]) / 1e6 }));
  }
}

/** Per-kernel totals of one or more timed encoders, largest first, with their share. */
export function kernelShares(entries: Array<{ kernel: string; ms: number }>): Array<{ kernel: string; ms: number; calls: number; share: number }> {
  const by = new Map<string, { ms: number; calls: number }>();
  let total = 0;
  for (const e of entries) {
    const ms = Math.max(0, e.ms);
    const k = by.get(e.kernel) ?? { ms: 0, calls: 0 };
    k.ms += ms;
    k.calls++;
    by.set(e.kernel, k);
    total += ms;
  }
  return [...by.entries()]
    .map(([kernel, v]) => ({ kernel, ms: Math.round(v.ms * 1000) / 1000, calls: v.calls, share: total > 0 ? Math.round((v.ms / total) * 10000) / 10000 : 0 }))
    .sort((a, b) => b.ms - a.ms);
}
