// Uniform `Params` buffers, pooled by content. A training step dispatches the same kernels
// with the same dimensions every step, so each distinct Params value gets one small buffer
// that is written once and reused: no per-dispatch writes, and many dispatches can share
// one command buffer without overwriting each other's parameters.

export class UniformPool {
  private buffers = new Map<string, GPUBuffer>();

  constructor(private device: GPUDevice) {}

  /** `words` is the Params struct as 32-bit words (u32/i32/f32 views of one ArrayBuffer). */
  get(words: Uint32Array, label = 'params'): GPUBuffer {
    const key = Array.from(words).join(',');
    let buf = this.buffers.get(key);
    if (!buf) {
      const size = Math.max(16, Math.ceil(words.byteLength / 16) * 16);
      buf = this.device.createBuffer({ label: `uniform:${label}[${key}]`, size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
      this.device.queue.writeBuffer(buf, 0, words.buffer, words.byteOffset, words.byteLength);
      this.buffers.set(key, buf);
    }
    return buf;
  }

  get size(): number {
    return this.buffers.size;
  }

  destroy(): void {
    for (const b of this.buffers.values()) b.destroy();
    this.buffers.clear();
  }
}

/** Pack a Params struct: integers as u32, numbers marked `f` as f32 bit patterns. */
export function params(...fields: Array<number | { f: number }>): Uint32Array {
  const out = new Uint32Array(fields.length);
  const f32 = new Float32Array(out.buffer);
  fields.forEach((v, i) => {
    if (typeof v === 'number') {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new Error(`params: field ${i} = ${v} is not a u32`);
      out[i] = v;
    } else {
      f32[i] = v.f;
    }
  });
  return out;
}
