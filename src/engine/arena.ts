// A buffer arena: one GPUBuffer carved into named, aligned views (docs/design.md). Parameters,
// their gradients and both Adam moments are four arenas built from one size table, so
// an optimizer step is one pass over contiguous memory and zeroing is one clearBuffer.

export interface TensorSpec {
  name: string;
  shape: readonly number[];
}

/** A typed window into a GPUBuffer, usable directly as a bind-group resource. */
export interface View {
  buffer: GPUBuffer;
  /** Byte offset; a multiple of the storage-offset alignment. */
  offset: number;
  /** Byte size of the tensor (not padded). */
  size: number;
  /** Number of f32/u32 elements. */
  length: number;
  name: string;
  shape: readonly number[];
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export interface ArenaLayout {
  /** Element offset (in 4-byte words) of each tensor, in spec order. */
  offsets: Map<string, number>;
  /** Total bytes including alignment padding. */
  bytes: number;
  specs: readonly TensorSpec[];
}

/** Offsets of every tensor, each aligned to `align` bytes; pure, so tests and exporters share it. */
export function layoutArena(specs: readonly TensorSpec[], align = 256): ArenaLayout {
  const offsets = new Map<string, number>();
  let bytes = 0;
  for (const s of specs) {
    if (offsets.has(s.name)) throw new Error(`arena: duplicate tensor name "${s.name}"`);
    for (const d of s.shape) {
      if (!Number.isInteger(d) || d <= 0) throw new Error(`arena: tensor "${s.name}" has invalid shape [${s.shape.join(', ')}]`);
    }
    bytes = alignUp(bytes, align);
    offsets.set(s.name, bytes / 4);
    bytes += numel(s.shape) * 4;
  }
  return { offsets, bytes: Math.max(alignUp(bytes, align), align), specs };
}

export class Arena {
  /** The one buffer of a packed arena; null for a `separate` arena. */
  readonly buffer: GPUBuffer | null;
  readonly layout: ArenaLayout;
  private views = new Map<string, View>();

  /**
   * `separate`: one GPUBuffer per tensor instead of one packed buffer. WebGPU checks buffer
   * usage per buffer, not per range: a dispatch may not bind one buffer both read-only and
   * writable, so tensors that a kernel reads and writes together (activations) must live in
   * different buffers. Parameters, gradients and Adam moments stay packed (docs/design.md).
   */
  constructor(device: GPUDevice, readonly label: string, specs: readonly TensorSpec[], opts: { separate?: boolean; extraUsage?: number } = {}) {
    const align = device.limits.minStorageBufferOffsetAlignment;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | (opts.extraUsage ?? 0);
    this.layout = layoutArena(specs, align);
    if (opts.separate) {
      this.buffer = null;
      for (const s of specs) {
        const length = numel(s.shape);
        const size = alignUp(Math.max(4, length * 4), 16);
        if (size > device.limits.maxBufferSize) throw new Error(`tensor "${label}.${s.name}" needs ${size} bytes, more than this device's maxBufferSize ${device.limits.maxBufferSize}`);
        const buffer = device.createBuffer({ label: `${label}.${s.name}`, size, usage });
        this.views.set(s.name, { buffer, offset: 0, size: length * 4, length, name: `${label}.${s.name}`, shape: s.shape });
      }
      return;
    }
    if (this.layout.bytes > device.limits.maxBufferSize) {
      throw new Error(`arena "${label}" needs ${this.layout.bytes} bytes, more than this device's maxBufferSize ${device.limits.maxBufferSize}`);
    }
    this.buffer = device.createBuffer({ label: `arena:${label}`, size: this.layout.bytes, usage });
    for (const s of specs) {
      const length = numel(s.shape);
      this.views.set(s.name, {
        buffer: this.buffer,
        offset: this.layout.offsets.get(s.name)! * 4,
        size: length * 4,
        length,
        name: `${label}.${s.name}`,
        shape: s.shape,
      });
    }
  }

  get(name: string): View {
    const v = this.views.get(name);
    if (!v) throw new Error(`arena "${this.label}": no tensor named "${name}" (have: ${[...this.views.keys()].slice(0, 8).join(', ')}...)`);
    return v;
  }

  has(name: string): boolean {
    return this.views.has(name);
  }

  names(): string[] {
    return [...this.views.keys()];
  }

  /** Total bytes held on the GPU. */
  get bytes(): number {
    return this.buffer ? this.layout.bytes : [...this.views.values()].reduce((n, v) => n + v.buffer.size, 0);
  }

  /** The whole packed arena as one view (optimizer passes, clears, downloads). */
  whole(): View {
    if (!this.buffer) throw new Error(`arena "${this.label}" is separate: it has no single view`);
    return { buffer: this.buffer, offset: 0, size: this.layout.bytes, length: this.layout.bytes / 4, name: this.buffer.label, shape: [this.layout.bytes / 4] };
  }

  destroy(): void {
    if (this.buffer) this.buffer.destroy();
    else for (const v of this.views.values()) v.buffer.destroy();
  }
}

/** A standalone buffer wrapped as a View (for activations, scratch and tests). */
export function createView(device: GPUDevice, name: string, shape: readonly number[], data?: Float32Array | Uint32Array | Int32Array): View {
  const length = numel(shape);
  const size = Math.max(4, length * 4);
  const buffer = device.createBuffer({
    label: name,
    size: alignUp(size, 4),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  if (data) {
    if (data.length !== length) throw new Error(`createView ${name}: data has ${data.length} elements, shape [${shape.join(', ')}] needs ${length}`);
    device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  }
  return { buffer, offset: 0, size: length * 4, length, name, shape };
}
