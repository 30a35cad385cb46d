// A recorded sequence of GPU commands, replayed into new command buffers. A generation's decode
// step binds the same views and uniforms every step (its step-varying state lives in GPU buffers:
// src/model/decode.ts), so the step is recorded once — pipelines and bind groups built once — and
// each step then costs only setPipeline / setBindGroup / dispatchWorkgroups calls on the host.
import { StepEncoder } from './encoder';
import type { GpuContext } from './gpu';
import type { KernelSpec } from './pipelines';
import type { View } from './arena';

type Op =
  | { kind: 'dispatch'; pipeline: GPUComputePipeline; bindGroup: GPUBindGroup; groups: [number, number, number] }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; bytes: number }
  | { kind: 'clear'; buffer: GPUBuffer; offset: number; size: number };

/** The commands a RecordingEncoder saw, in order. */
export class Tape {
  readonly ops: Op[] = [];

  /** Appends the recorded commands to `encoder` (one compute pass per run of dispatches). */
  encodeInto(encoder: GPUCommandEncoder): void {
    let pass: GPUComputePassEncoder | null = null;
    const end = () => {
      pass?.end();
      pass = null;
    };
    for (const op of this.ops) {
      if (op.kind === 'dispatch') {
        pass ??= encoder.beginComputePass({ label: 'replay' });
        pass.setPipeline(op.pipeline);
        pass.setBindGroup(0, op.bindGroup);
        pass.dispatchWorkgroups(...op.groups);
      } else if (op.kind === 'copy') {
        end();
        encoder.copyBufferToBuffer(op.src, op.srcOffset, op.dst, op.dstOffset, op.bytes);
      } else {
        end();
        encoder.clearBuffer(op.buffer, op.offset, op.size);
      }
    }
    end();
  }

  get dispatches(): number {
    return this.ops.filter((o) => o.kind === 'dispatch').length;
  }
}

/**
 * A StepEncoder that records instead of encoding: launchers call it as usual, and `tape` then
 * replays their commands any number of times. Nothing is submitted from it.
 */
export class RecordingEncoder extends StepEncoder {
  readonly tape = new Tape();

  constructor(gpu: GpuContext, label = 'record') {
    super(gpu, label);
  }

  override dispatch(spec: KernelSpec, bindings: View[], uniform: Uint32Array | null, workgroups: [number, number?, number?], label?: string): void {
    const { device, pipelines, uniforms } = this.gpu;
    const pipeline = pipelines.get(spec);
    const entries: GPUBindGroupEntry[] = bindings.map((v, i) => ({ binding: i, resource: { buffer: v.buffer, offset: v.offset, size: Math.max(4, v.size) } }));
    if (uniform) entries.push({ binding: bindings.length, resource: { buffer: uniforms.get(uniform, spec.shader) } });
    const bindGroup = device.createBindGroup({ label: label ?? `${spec.shader}:${spec.entryPoint}`, layout: pipeline.getBindGroupLayout(0), entries });
    const [x, y = 1, z = 1] = workgroups;
    const max = device.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) throw new Error(`${spec.entryPoint}: dispatch (${x}, ${y}, ${z}) exceeds maxComputeWorkgroupsPerDimension ${max}`);
    if (x === 0 || y === 0 || z === 0) return;
    this.tape.ops.push({ kind: 'dispatch', pipeline, bindGroup, groups: [x, y, z] });
    this.dispatches++;
  }

  override clear(view: View): void {
    this.tape.ops.push({ kind: 'clear', buffer: view.buffer, offset: view.offset, size: Math.ceil(view.size / 4) * 4 });
  }

  override copy(dst: View, src: View, bytes = Math.min(dst.size, src.size)): void {
    this.tape.ops.push({ kind: 'copy', src: src.buffer, srcOffset: src.offset, dst: dst.buffer, dstOffset: dst.offset, bytes });
  }

  override finish(): GPUCommandBuffer {
    throw new Error('RecordingEncoder records only: replay its tape with Tape.encodeInto');
  }
}
