// The one way data comes back from the GPU: copy into a MAP_READ staging buffer and map it.
// Call it for small things (per-sequence sums, scalars) once per step, or in tests. Large views
// (a checkpoint's parameters or moments: 0.5 GB at GPT-2 small) come back through one staging
// buffer of at most READBACK_CHUNK bytes, reused piece by piece, so a save adds at most that
// much GPU memory to a run sized to fit its budget.
import type { View } from './arena';

/** Largest staging buffer a readback creates (bytes, a multiple of 4). */
export const READBACK_CHUNK = 32 * 2 ** 20;

export async function readback(device: GPUDevice, view: View, chunk = READBACK_CHUNK): Promise<ArrayBuffer> {
  if (chunk <= 0 || chunk % 4) throw new Error(`readback: chunk ${chunk} must be a positive multiple of 4`);
  const bytes = Math.ceil(view.size / 4) * 4;
  const stagingSize = Math.max(4, Math.min(bytes, chunk));
  const staging = device.createBuffer({ label: `readback:${view.name}`, size: stagingSize, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const out = new Uint8Array(bytes);
  try {
    for (let at = 0; at < bytes; at += stagingSize) {
      const n = Math.min(stagingSize, bytes - at);
      const enc = device.createCommandEncoder({ label: `readback:${view.name}@${at}` });
      enc.copyBufferToBuffer(view.buffer, view.offset + at, staging, 0, n);
      device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ, 0, n);
      out.set(new Uint8Array(staging.getMappedRange(0, n)), at);
      staging.unmap();
    }
  } finally {
    staging.destroy();
  }
  return out.buffer.slice(0, view.size);
}

export async function readF32(device: GPUDevice, view: View, chunk?: number): Promise<Float32Array> {
  return new Float32Array(await readback(device, view, chunk));
}

export async function readU32(device: GPUDevice, view: View, chunk?: number): Promise<Uint32Array> {
  return new Uint32Array(await readback(device, view, chunk));
}

/** Several small views in one copy and one map (a step's per-sequence sums): one round trip, not one each. */
export async function readManyF32(device: GPUDevice, views: readonly View[]): Promise<Float32Array[]> {
  const starts: number[] = [];
  let bytes = 0;
  for (const v of views) {
    starts.push(bytes);
    bytes += Math.ceil(v.size / 4) * 4;
  }
  if (bytes > READBACK_CHUNK) throw new Error(`readManyF32: ${bytes} bytes; read large views one by one`);
  const staging = device.createBuffer({ label: `readback:${views.map((v) => v.name).join('+')}`, size: Math.max(4, bytes), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const enc = device.createCommandEncoder({ label: 'readback:many' });
    views.forEach((v, i) => enc.copyBufferToBuffer(v.buffer, v.offset, staging, starts[i], Math.ceil(v.size / 4) * 4));
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ, 0, Math.max(4, bytes));
    const all = staging.getMappedRange(0, Math.max(4, bytes)).slice(0);
    staging.unmap();
    return views.map((v, i) => new Float32Array(all, starts[i], v.size / 4));
  } finally {
    staging.destroy();
  }
}
