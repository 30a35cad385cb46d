// A buffer arena: named, aligned views carved out of GPUBuffers (docs/design.md). Parameters,
// their gradients and both Adam moments are arenas built from one size table and one layout, so
// an optimizer step is one pass over each buffer's contiguous memory and zeroing is one
// clearBuffer per buffer.
//
// Split arenas. One buffer may hold at most min(maxBufferSize, maxStorageBufferBindingSize)
// bytes (the optimizer binds a whole buffer; 128 MiB on many adapters), so a packed arena larger
// than that spans several buffers: tensors are placed in order, each inside one buffer, and a
// new buffer starts where the next tensor would not fit. A tensor larger than one buffer may be
// split by rows (`split`: the embedding / LM head [V, C], whose kernels work on row ranges) into
// parts that each fit; every other tensor must fit one buffer, and the error says which does not.
// A model small enough for one buffer gets exactly the single-buffer layout it always had.
import { readF32 } from './readback';

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

/** Rows [row0, row0 + rows) of a matrix (first dimension), held in `view`. */
export interface RowPart {
  view: View;
  row0: number;
  rows: number;
}

/** A matrix as one view, or as row parts in row order (a tensor split across buffers). */
export type Rows = View | readonly RowPart[];

/** A part of an arena tensor: its rows, its buffer, and its arena element index. */
export interface ArenaPart extends RowPart {
  /** Index of the buffer that holds it. */
  chunk: number;
  /**
   * The arena element index of its first element: its offset in the single-buffer layout of the
   * same tensors, whatever the split (bf16 moments seed their stochastic rounding with it, so a
   * run draws the same bits on a device with other limits).
   */
  index: number;
}

export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function isView(w: Rows): w is View {
  return (w as View).buffer !== undefined;
}

/** `w` as row parts: a plain view is one part of all its whole rows of `rowLength` elements. */
export function rowParts(w: Rows, rowLength: number): readonly RowPart[] {
  return isView(w) ? [{ view: w, row0: 0, rows: Math.floor(w.length / rowLength) }] : w;
}

/** One placed tensor or row part of a layout. */
export interface ArenaSlot {
  name: string;
  /** Rows of the tensor's first dimension held here (a whole tensor: 0 and shape[0]). */
  row0: number;
  rows: number;
  /** Buffer index and byte offset inside it (a multiple of the alignment). */
  chunk: number;
  offset: number;
  /** Elements. */
  length: number;
  /** Arena element index of its first element (offset in the single-buffer layout): ArenaPart.index. */
  index: number;
}

export interface ArenaLayout {
  /** Element offset of each tensor in the single-buffer layout (its arena element index), in spec order. */
  offsets: Map<string, number>;
  /** Where each tensor lies: one slot, or several row parts when it was split. */
  slots: Map<string, ArenaSlot[]>;
  /** Bytes of each buffer, each a multiple of the alignment and at most maxBytes. */
  buffers: number[];
  /** Total bytes including alignment padding. */
  bytes: number;
  specs: readonly TensorSpec[];
}

export interface ArenaLayoutOptions {
  /** Most bytes one buffer may hold (default: no limit, one buffer). */
  maxBytes?: number;
  /** Tensors that may be split by rows when larger than one buffer (the embedding / LM head). */
  split?: readonly string[];
  /** Rows per part are rounded down to a multiple of this when at least this many fit (the LM head's chunk). */
  rowMultiple?: number;
  /** What sets maxBytes, for error messages (e.g. "this device's maxStorageBufferBindingSize 134217728"). */
  limitNote?: string;
}

/**
 * Offsets of every tensor, each aligned to `align` bytes, in buffers of at most `maxBytes`; pure,
 * so tests, memory estimates and exporters share it.
 */
export function layoutArena(specs: readonly TensorSpec[], align = 256, opts: ArenaLayoutOptions = {}): ArenaLayout {
  const cap = opts.maxBytes === undefined ? Infinity : Math.floor(opts.maxBytes / align) * align;
  const note = opts.limitNote ?? `the ${opts.maxBytes} bytes one buffer may hold`;
  if (!(cap >= align)) throw new Error(`arena: a buffer of at most ${opts.maxBytes} bytes cannot hold one ${align}-byte aligned tensor`);
  const split = new Set(opts.split ?? []);
  const offsets = new Map<string, number>();
  const slots = new Map<string, ArenaSlot[]>();
  const buffers: number[] = [];
  let used = 0;
  const place = (bytes: number): { chunk: number; offset: number } => {
    let offset = alignUp(used, align);
    if (buffers.length === 0 || offset + bytes > cap) {
      buffers.push(0);
      offset = 0;
    }
    used = offset + bytes;
    buffers[buffers.length - 1] = used;
    return { chunk: buffers.length - 1, offset };
  };
  let flat = 0; // bytes of the single-buffer layout so far
  for (const s of specs) {
    if (slots.has(s.name)) throw new Error(`arena: duplicate tensor name "${s.name}"`);
    for (const d of s.shape) {
      if (!Number.isInteger(d) || d <= 0) throw new Error(`arena: tensor "${s.name}" has invalid shape [${s.shape.join(', ')}]`);
    }
    const n = numel(s.shape);
    flat = alignUp(flat, align);
    const base = flat / 4;
    flat += n * 4;
    const list: ArenaSlot[] = [];
    if (n * 4 <= cap) {
      list.push({ name: s.name, row0: 0, rows: s.shape[0], ...place(n * 4), length: n, index: base });
    } else if (split.has(s.name) && s.shape.length >= 1) {
      const R = s.shape[0];
      const row = n / R;
      let fit = Math.floor(cap / (row * 4));
      if (fit < 1) throw new Error(`arena: one row of tensor "${s.name}" [${s.shape.join(', ')}] needs ${row * 4} bytes, more than ${note}`);
      const m = opts.rowMultiple ?? 1;
      if (fit >= m) fit -= fit % m;
      for (let r0 = 0; r0 < R; r0 += fit) {
        const rows = Math.min(fit, R - r0);
        list.push({ name: s.name, row0: r0, rows, ...place(rows * row * 4), length: rows * row, index: base + r0 * row });
      }
    } else {
      const how = split.size ? ` (only ${[...split].join(', ')} may be split by rows)` : '';
      throw new Error(`arena: tensor "${s.name}" [${s.shape.join(', ')}] needs ${n * 4} bytes, more than ${note}${how}`);
    }
    slots.set(s.name, list);
    offsets.set(s.name, base);
  }
  if (buffers.length === 0) buffers.push(0);
  for (let k = 0; k < buffers.length; k++) buffers[k] = Math.max(alignUp(buffers[k], align), align);
  return { offsets, slots, buffers, bytes: buffers.reduce((a, b) => a + b, 0), specs };
}

export interface ArenaOptions extends ArenaLayoutOptions {
  /** One GPUBuffer per tensor (activations): see the constructor. */
  separate?: boolean;
  extraUsage?: number;
}

/** The bytes one arena buffer may hold on this device: min(maxBufferSize, maxStorageBufferBindingSize). */
export function deviceBufferCap(device: GPUDevice): number {
  return Math.min(device.limits.maxBufferSize, device.limits.maxStorageBufferBindingSize);
}

function capNote(device: GPUDevice, maxBytes: number): string {
  const l = device.limits;
  const dev = `maxBufferSize ${l.maxBufferSize}, maxStorageBufferBindingSize ${l.maxStorageBufferBindingSize}`;
  return maxBytes < deviceBufferCap(device) ? `the ${maxBytes} bytes one arena buffer may hold here (capped below this device's ${dev})` : `one storage binding on this device (${dev})`;
}

export class Arena {
  /** The one buffer of a packed arena that fits one buffer; null for a `separate` or multi-buffer arena. */
  readonly buffer: GPUBuffer | null;
  readonly layout: ArenaLayout;
  private views = new Map<string, View>();
  private parted = new Map<string, ArenaPart[]>();
  private chunkBuffers: GPUBuffer[] = [];
  private allocation: Promise<Error | null>;
  private specIndex: Map<string, number>;

  /**
   * `separate`: one GPUBuffer per tensor instead of packed buffers. WebGPU checks buffer usage
   * per buffer, not per range: a dispatch may not bind one buffer both read-only and writable,
   * so tensors that a kernel reads and writes together (activations) must live in different
   * buffers. Parameters, gradients and Adam moments stay packed (docs/design.md), in as few
   * buffers as `maxBytes` (default: this device's buffer and binding limits) allows.
   */
  constructor(private device: GPUDevice, readonly label: string, readonly specs: readonly TensorSpec[], readonly opts: ArenaOptions = {}) {
    const align = device.limits.minStorageBufferOffsetAlignment;
    const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | (opts.extraUsage ?? 0);
    const maxBytes = Math.min(opts.maxBytes ?? Infinity, deviceBufferCap(device));
    this.specIndex = new Map(specs.map((s, i) => [s.name, i]));
    // packed arenas (parameters, gradients, moments) catch their own out-of-memory error, for
    // allocated(); activation arenas leave it to the caller's scope (the worker pauses its runs)
    const scoped = !opts.separate;
    if (scoped) device.pushErrorScope('out-of-memory');
    let bytes = 0;
    try {
      if (opts.separate) {
        this.layout = layoutArena(specs, align);
        this.buffer = null;
        for (const s of specs) {
          const length = numel(s.shape);
          const size = alignUp(Math.max(4, length * 4), 16);
          if (size > device.limits.maxBufferSize) throw new Error(`tensor "${label}.${s.name}" needs ${size} bytes, more than this device's maxBufferSize ${device.limits.maxBufferSize}`);
          const buffer = device.createBuffer({ label: `${label}.${s.name}`, size, usage });
          const view = { buffer, offset: 0, size: length * 4, length, name: `${label}.${s.name}`, shape: s.shape };
          this.views.set(s.name, view);
          this.parted.set(s.name, [{ view, row0: 0, rows: s.shape[0], chunk: -1, index: 0 }]);
        }
        return;
      }
      this.layout = layoutArena(specs, align, { ...opts, maxBytes, limitNote: opts.limitNote ?? capNote(device, maxBytes) });
      const n = this.layout.buffers.length;
      this.chunkBuffers = this.layout.buffers.map((size, k) => device.createBuffer({ label: n === 1 ? `arena:${label}` : `arena:${label}#${k}`, size, usage }));
      bytes = this.layout.bytes;
      this.buffer = n === 1 ? this.chunkBuffers[0] : null;
      for (const s of specs) {
        const slots = this.layout.slots.get(s.name)!;
        const parts = slots.map((p): ArenaPart => {
          const shape = slots.length === 1 ? s.shape : [p.rows, ...s.shape.slice(1)];
          const name = slots.length === 1 ? `${label}.${s.name}` : `${label}.${s.name}[${p.row0}:${p.row0 + p.rows}]`;
          return { view: { buffer: this.chunkBuffers[p.chunk], offset: p.offset, size: p.length * 4, length: p.length, name, shape }, row0: p.row0, rows: p.rows, chunk: p.chunk, index: p.index };
        });
        this.parted.set(s.name, parts);
        if (parts.length === 1) this.views.set(s.name, parts[0].view);
      }
    } finally {
      this.allocation = !scoped
        ? Promise.resolve(null)
        : device.popErrorScope().then(
            (e) => {
              if (!e) return null;
              const err = new Error(`arena "${label}": the device could not allocate ${bytes.toLocaleString('en-US')} bytes (out of memory: ${e.message}). WebGPU does not say how much memory a GPU has; use a smaller model, bf16 moments, f16 activations, shorter sequences or smaller micro-batches`);
              console.error(err.message); // seen even where nobody awaits allocated(), as an uncaptured error would be
              return err;
            },
            () => null,
          );
    }
  }

  /**
   * Resolves once the buffers of a packed arena exist; rejects with a message naming the arena and
   * its bytes when the device ran out of memory (a `separate` arena always resolves: its errors
   * reach the caller's error scope).
   */
  async allocated(): Promise<void> {
    const e = await this.allocation;
    if (e) throw e;
  }

  /** A tensor that lies in one buffer; a tensor split by rows has parts() instead. */
  get(name: string): View {
    const v = this.views.get(name);
    if (v) return v;
    const parts = this.parted.get(name);
    if (parts) throw new Error(`arena "${this.label}": tensor "${name}" is split by rows into ${parts.length} parts across buffers (it is larger than one buffer): use parts("${name}")`);
    throw new Error(`arena "${this.label}": no tensor named "${name}" (have: ${[...this.parted.keys()].slice(0, 8).join(', ')}...)`);
  }

  /** A tensor's row parts in row order: one part (its whole view) unless it was split. */
  parts(name: string): readonly ArenaPart[] {
    const p = this.parted.get(name);
    if (!p) this.get(name);
    return p!;
  }

  /** The tensor for a kernel that takes row parts: its view, or its parts when split. */
  rows(name: string): Rows {
    const p = this.parts(name);
    return p.length === 1 ? p[0].view : p;
  }

  has(name: string): boolean {
    return this.parted.has(name);
  }

  names(): string[] {
    return [...this.parted.keys()];
  }

  /** Total bytes held on the GPU. */
  get bytes(): number {
    return this.opts.separate ? [...this.views.values()].reduce((n, v) => n + v.buffer.size, 0) : this.layout.bytes;
  }

  /** Each buffer of a packed arena as one whole view (optimizer passes, clears, downloads). */
  chunks(): View[] {
    if (this.opts.separate) throw new Error(`arena "${this.label}" is separate: it has no packed buffers`);
    return this.chunkBuffers.map((buffer, k) => {
      const bytes = this.layout.buffers[k];
      return { buffer, offset: 0, size: bytes, length: bytes / 4, name: buffer.label, shape: [bytes / 4] };
    });
  }

  /** The whole packed arena as one view, when it is one buffer (else use chunks()). */
  whole(): View {
    if (!this.buffer) {
      throw new Error(this.opts.separate ? `arena "${this.label}" is separate: it has no single view` : `arena "${this.label}" spans ${this.chunkBuffers.length} buffers (larger than one binding): use chunks()`);
    }
    return this.chunks()[0];
  }

  /** An empty arena of the same tensors and layout (gradients and moments beside the parameters). */
  twin(label: string): Arena {
    return new Arena(this.device, label, this.specs, this.opts);
  }

  /** Writes a tensor's values (all rows, row-major) into its buffer, or its parts'. */
  write(name: string, values: Float32Array): void {
    const parts = this.parts(name);
    const spec = this.specs[this.specIndex.get(name)!];
    const n = numel(spec.shape);
    if (values.length !== n) throw new Error(`tensor "${name}" has ${values.length} values, expected [${spec.shape.join(', ')}] = ${n}`);
    const row = n / spec.shape[0];
    for (const p of parts) {
      const at = values.byteOffset + p.row0 * row * 4;
      this.device.queue.writeBuffer(p.view.buffer, p.view.offset, values.buffer, at, p.view.length * 4);
    }
  }

  /**
   * Every tensor back on the host by name, in spec order; split tensors reassembled. Buffers are
   * read one after another (each through readback's bounded staging buffer), so the host holds the
   * tensors plus one buffer's copy at a time.
   */
  async readAll(): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (this.opts.separate) {
      for (const s of this.specs) out.set(s.name, await readF32(this.device, this.get(s.name)));
      return out;
    }
    for (const s of this.specs) out.set(s.name, new Float32Array(numel(s.shape)));
    const chunks = this.chunks();
    for (let k = 0; k < chunks.length; k++) {
      const data = await readF32(this.device, chunks[k]);
      for (const s of this.specs) {
        const row = numel(s.shape) / s.shape[0];
        for (const p of this.parts(s.name)) {
          if (p.chunk === k) out.get(s.name)!.set(data.subarray(p.view.offset / 4, p.view.offset / 4 + p.view.length), p.row0 * row);
        }
      }
    }
    return out;
  }

  destroy(): void {
    for (const b of this.chunkBuffers) b.destroy();
    if (this.opts.separate) for (const v of this.views.values()) v.buffer.destroy();
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
