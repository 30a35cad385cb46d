// Records a whole step into one command buffer: dispatches share a compute pass (WebGPU
// orders dispatches and makes their writes visible to later ones), clears and copies
// close the pass. Nothing is submitted until submit(), so a step is one queue submission.
import type { GpuContext } from './gpu';
import type { KernelSpec } from './pipelines';
import type { View } from './arena';

export class StepEncoder {
  readonly encoder: GPUCommandEncoder;
  protected pass: GPUComputePassEncoder | null = null;
  dispatches = 0;

  constructor(readonly gpu: GpuContext, label = 'step') {
    this.encoder = gpu.device.createCommandEncoder({ label });
  }

  /** The open compute pass (a profiler subclass opens one per dispatch with timestamp writes). */
  protected computePass(): GPUComputePassEncoder {
    if (!this.pass) this.pass = this.encoder.beginComputePass({ label: 'compute' });
    return this.pass;
  }

  protected endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /**
   * Dispatch a kernel. `bindings` are the storage views in @binding order (outputs, then
   * inputs — docs/design.md); the uniform Params, when given, takes the next binding index.
   */
  dispatch(spec: KernelSpec, bindings: View[], uniform: Uint32Array | null, workgroups: [number, number?, number?], label?: string): void {
    const { device, pipelines, uniforms } = this.gpu;
    const pipeline = pipelines.get(spec);
    const entries: GPUBindGroupEntry[] = bindings.map((v, i) => ({ binding: i, resource: { buffer: v.buffer, offset: v.offset, size: Math.max(4, v.size) } }));
    if (uniform) entries.push({ binding: bindings.length, resource: { buffer: uniforms.get(uniform, spec.shader) } });
    const bindGroup = device.createBindGroup({ label: label ?? `${spec.shader}:${spec.entryPoint}`, layout: pipeline.getBindGroupLayout(0), entries });
    const [x, y = 1, z = 1] = workgroups;
    const max = device.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) throw new Error(`${spec.entryPoint}: dispatch (${x}, ${y}, ${z}) exceeds maxComputeWorkgroupsPerDimension ${max}`);
    if (x === 0 || y === 0 || z === 0) return;
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
  }

  clear(view: View): void {
    this.endPass();
    this.encoder.clearBuffer(view.buffer, view.offset, Math.ceil(view.size / 4) * 4);
  }

  copy(dst: View, src: View, bytes = Math.min(dst.size, src.size)): void {
    this.endPass();
    this.encoder.copyBufferToBuffer(src.buffer, src.offset, dst.buffer, dst.offset, bytes);
  }

  finish(): GPUCommandBuffer {
    this.endPass();
    return this.encoder.finish();
  }

  submit(): void {
    this.gpu.device.queue.submit([this.finish()]);
  }
}
