// The one way data comes back from the GPU: copy into a MAP_READ staging buffer and map it.
// Call it for small things (per-sequence sums, scalars) once per step, or in tests.
import type { View } from './arena';

export async function readback(device: GPUDevice, view: View): Promise<ArrayBuffer> {
  const bytes = Math.ceil(view.size / 4) * 4;
  const staging = device.createBuffer({ label: `readback:${view.name}`, size: Math.max(4, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder({ label: `readback:${view.name}` });
  enc.copyBufferToBuffer(view.buffer, view.offset, staging, 0, bytes);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, view.size);
  staging.unmap();
  staging.destroy();
  return out;
}

export async function readF32(device: GPUDevice, view: View): Promise<Float32Array> {
  return new Float32Array(await readback(device, view));
}

export async function readU32(device: GPUDevice, view: View): Promise<Uint32Array> {
  return new Uint32Array(await readback(device, view));
}
