// safetensors (https://huggingface.co/docs/safetensors): 8-byte little-endian header length N,
// N bytes of JSON header {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?},
// then the byte buffer; offsets are relative to the buffer's start. Parsing validates every
// entry before any data is read; float tensors (F32, F16, BF16, F64) convert to Float32Array
// on demand, so a file may carry tensors of other dtypes that the caller ignores.

export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export interface SafeTensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  /** Absolute byte range in the file. */
  begin: number;
  end: number;
}

export interface SafeTensorsFile {
  bytes: Uint8Array;
  tensors: Map<string, SafeTensorInfo>;
  metadata: Record<string, string> | null;
}

function fail(msg: string): never {
  throw new Error(`safetensors: ${msg}`);
}

/** Parses and validates the header; tensor data stays in `bytes` until read. */
export function parseSafetensors(bytes: Uint8Array): SafeTensorsFile {
  if (bytes.length < 8) fail(`file is ${bytes.length} bytes, too short for the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // a u64: BigInt, so a huge length prints exactly (2⁶² is 4611686018427387904, not ...8000)
  const length = dv.getBigUint64(0, true);
  if (length > BigInt(MAX_HEADER_BYTES)) fail(`header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit (not a safetensors file?)`);
  const n = Number(length);
  if (n < 2) fail(`header length ${n} is too small for a JSON object`);
  if (8 + n > bytes.length) fail(`header length ${n} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header must be a JSON object');
  checkDuplicateKeys(text);
  const dataStart = 8 + n;
  const dataLength = bytes.length - dataStart;
  const tensors = new Map<string, SafeTensorInfo>();
  let metadata: Record<string, string> | null = null;
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail('__metadata__ must be an object of strings');
      for (const [k, v] of Object.entries(entry)) if (typeof v !== 'string') fail(`__metadata__.${k} must be a string, got ${JSON.stringify(v)}`);
      metadata = entry as Record<string, string>;
      continue;
    }
    tensors.set(name, validateEntry(name, entry, dataLength, dataStart));
  }
  // non-overlapping: sorted by start, each must begin at or after the previous end
  const sorted = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].begin < sorted[i - 1].end) fail(`tensor "${sorted[i].name}" overlaps tensor "${sorted[i - 1].name}"`);
  }
  return { bytes, tensors, metadata };
}

/**
 * JSON.parse keeps the last of two equal keys; a header with one is ambiguous (which tensor is
 * meant?), so it is refused, naming the key. `text` is valid JSON (already parsed): one pass
 * tracks, for every open object, the keys seen so far (decoded, so "a" and "\u0061" are equal).
 */
function checkDuplicateKeys(text: string): void {
  const stack: Array<{ keys: Set<string> | null; name: string | null; expectKey: boolean }> = [];
  let lastKey: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) {
      let j = i + 1;
      while (text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      const token = text.slice(i, j + 1);
      i = j;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(token) as string;
        if (top.keys.has(key)) {
          const shown = JSON.stringify(key).slice(0, 200);
          fail(stack.length === 1 ? `header has the key ${shown} twice (a duplicate tensor name)` : `header entry ${JSON.stringify(top.name).slice(0, 200)} has the key ${shown} twice`);
        }
        top.keys.add(key);
        top.expectKey = false;
        lastKey = key;
      }
    } else if (ch === 0x7b || ch === 0x5b) {
      // for messages, the top-level key (tensor name) this value sits under
      const name = stack.length === 0 ? null : stack.length === 1 ? lastKey : stack[stack.length - 1].name;
      stack.push(ch === 0x7b ? { keys: new Set(), name, expectKey: true } : { keys: null, name, expectKey: false });
    } else if (ch === 0x7d || ch === 0x5d) {
      stack.pop();
    } else if (ch === 0x2c) {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
}

function validateEntry(name: string, entry: unknown, dataLength: number, dataStart: number): SafeTensorInfo {
  const where = `tensor "${name}"`;
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(`${where}: entry must be an object with dtype, shape and data_offsets`);
  const { dtype, shape, data_offsets: offs } = entry as Record<string, unknown>;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) fail(`${where}: unknown dtype ${JSON.stringify(dtype)} (known: ${Object.keys(DTYPE_BYTES).join(', ')})`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`${where}: shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((o) => Number.isSafeInteger(o) && o >= 0)) fail(`${where}: data_offsets must be [begin, end] non-negative integers, got ${JSON.stringify(offs)}`);
  const [b, e] = offs as number[];
  if (e < b) fail(`${where}: data_offsets [${b}, ${e}] end before they begin`);
  if (e > dataLength) fail(`${where}: data_offsets [${b}, ${e}] run past the ${dataLength}-byte data buffer (truncated file?)`);
  const numel = (shape as number[]).reduce((a, d) => a * d, 1);
  const size = numel * DTYPE_BYTES[dtype];
  if (size !== e - b) fail(`${where}: shape [${shape.join(', ')}] of ${dtype} needs ${size} bytes but data_offsets [${b}, ${e}] hold ${e - b}`);
  return { name, dtype, shape: [...(shape as number[])], begin: dataStart + b, end: dataStart + e };
}

function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

/** A float tensor's values as float32 (F32 exactly; F16 and BF16 exactly; F64 rounded). */
export function readTensorF32(file: SafeTensorsFile, name: string): Float32Array {
  const t = file.tensors.get(name);
  if (!t) fail(`no tensor "${name}"`);
  const dv = new DataView(file.bytes.buffer, file.bytes.byteOffset + t.begin, t.end - t.begin);
  const n = (t.end - t.begin) / DTYPE_BYTES[t.dtype];
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      if (LITTLE_ENDIAN && (file.bytes.byteOffset + t.begin) % 4 === 0) out.set(new Float32Array(file.bytes.buffer, file.bytes.byteOffset + t.begin, n));
      else for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = f16ToF32(dv.getUint16(2 * i, true));
      break;
    case 'BF16': {
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = dv.getUint16(2 * i, true) << 16;
      break;
    }
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      break;
    default:
      fail(`tensor "${name}": dtype ${t.dtype} is not a floating-point type (supported: F32, F16, BF16, F64)`);
  }
  return out;
}

export interface TensorToWrite {
  name: string;
  shape: readonly number[];
  data: Float32Array;
}

/** F32 safetensors; the header is space-padded so the data starts 8-byte aligned. */
export function serializeSafetensors(tensors: readonly TensorToWrite[], metadata?: Record<string, string>): Uint8Array {
  // null prototype: tensor names such as "constructor" or "__proto__" are plain keys
  const header: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of tensors) {
    if (t.name === '__metadata__' || t.name in header) fail(`duplicate or reserved tensor name "${t.name}"`);
    const numel = t.shape.reduce((a, d) => a * d, 1);
    if (numel !== t.data.length) fail(`tensor "${t.name}": shape [${t.shape.join(', ')}] has ${numel} elements but the data has ${t.data.length}`);
    header[t.name] = { dtype: 'F32', shape: [...t.shape], data_offsets: [offset, offset + 4 * numel] };
    offset += 4 * numel;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, json.length, true);
  dv.setUint32(4, 0, true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const t of tensors) {
    // pos is 4-byte aligned: the data starts at a multiple of 8 and every tensor is whole f32s
    if (LITTLE_ENDIAN) new Float32Array(out.buffer, pos, t.data.length).set(t.data);
    else for (let i = 0; i < t.data.length; i++) dv.setFloat32(pos + 4 * i, t.data[i], true);
    pos += 4 * t.data.length;
  }
  return out;
}
