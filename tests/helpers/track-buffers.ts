// Records the GPU buffers a device creates (uniforms aside: the context's pool keeps those) and
// which are destroyed, so a test can check that cancelled or released work left none behind.
export function trackBuffers(device: GPUDevice): { made(): number; alive(): string[]; restore(): void } {
  const records: { label: string; destroyed: boolean }[] = [];
  const own = Object.getOwnPropertyDescriptor(device, 'createBuffer');
  const create = device.createBuffer.bind(device);
  const patched = device as unknown as { createBuffer: GPUDevice['createBuffer'] };
  patched.createBuffer = (desc: GPUBufferDescriptor) => {
    const buffer = create(desc);
    const rec = { label: desc.label ?? '', destroyed: false };
    if (!rec.label.startsWith('uniform:')) records.push(rec);
    const destroy = buffer.destroy.bind(buffer);
    (buffer as unknown as { destroy(): void }).destroy = () => {
      rec.destroyed = true;
      destroy();
    };
    return buffer;
  };
  return {
    made: () => records.length,
    alive: () => records.filter((r) => !r.destroyed).map((r) => r.label),
    restore: () => {
      if (own) Object.defineProperty(device, 'createBuffer', own);
      else delete (device as unknown as { createBuffer?: unknown }).createBuffer;
    },
  };
}
