// safetensors parsing and serialisation: round trips, dtype conversion, every validation
// error by name, and fuzzing (random and mutated bytes fail only with a clear Error).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseSafetensors, readTensorF32, serializeSafetensors, MAX_HEADER_BYTES } from '../../src/model/safetensors';

/** A safetensors file from a raw header object and data bytes (no validation). */
function rawFile(header: unknown, data: Uint8Array = new Uint8Array(0), headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function u16le(values: number[]): Uint8Array {
  const b = new Uint8Array(2 * values.length);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setUint16(2 * i, v, true));
  return b;
}

function expectCleanFailure(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(/^safetensors: /);
  }
}

describe('safetensors', () => {
  it('round-trips float32 tensors bit-exactly, with metadata and 8-byte aligned data', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }), fc.float({ noNaN: true })), { maxLength: 6 }),
        (specs) => {
          const tensors = specs.map(([shape, v], i) => {
            const n = shape.reduce((a, b) => a * b, 1);
            return { name: `t${i}.weight`, shape, data: Float32Array.from({ length: n }, (_, j) => v * (j + 1)) };
          });
          const bytes = serializeSafetensors(tensors, { format: 'pt' });
          const headerLen = new DataView(bytes.buffer).getUint32(0, true);
          expect((8 + headerLen) % 8).toBe(0);
          const f = parseSafetensors(bytes);
          expect(f.metadata).toEqual({ format: 'pt' });
          expect([...f.tensors.keys()]).toEqual(tensors.map((t) => t.name));
          for (const t of tensors) {
            expect(f.tensors.get(t.name)!.shape).toEqual(t.shape);
            expect(f.tensors.get(t.name)!.dtype).toBe('F32');
            expect(Array.from(readTensorF32(f, t.name))).toEqual(Array.from(t.data));
          }
        },
      ),
    );
  });

  it('tensor names that are Object.prototype keys are stored as plain names', () => {
    const bytes = serializeSafetensors([
      { name: 'constructor', shape: [1], data: new Float32Array([1]) },
      { name: '__proto__', shape: [1], data: new Float32Array([2]) },
    ]);
    const f = parseSafetensors(bytes);
    expect(readTensorF32(f, 'constructor')[0]).toBe(1);
    expect(readTensorF32(f, '__proto__')[0]).toBe(2);
  });

  it('converts F16, BF16 and F64 to float32', () => {
    // F16: 1, -2, 65504 (max), 2^-24 (smallest subnormal), 2^-14 (smallest normal), -0, +inf, 0.333251953125
    const f16 = u16le([0x3c00, 0xc000, 0x7bff, 0x0001, 0x0400, 0x8000, 0x7c00, 0x3555]);
    // BF16: 1, -3.140625, 2^-133 (subnormal), 3.3895313892515355e38 (max)
    const bf16 = u16le([0x3f80, 0xc049, 0x0001, 0x7f7f]);
    const f64 = new Uint8Array(16);
    new DataView(f64.buffer).setFloat64(0, 0.1, true);
    new DataView(f64.buffer).setFloat64(8, -1e300, true);
    const data = new Uint8Array(f16.length + bf16.length + f64.length);
    data.set(f16);
    data.set(bf16, 16);
    data.set(f64, 24);
    const f = parseSafetensors(rawFile({
      h: { dtype: 'F16', shape: [2, 4], data_offsets: [0, 16] },
      b: { dtype: 'BF16', shape: [4], data_offsets: [16, 24] },
      d: { dtype: 'F64', shape: [2], data_offsets: [24, 40] },
    }, data));
    const h = Array.from(readTensorF32(f, 'h'));
    expect(h.slice(0, 5)).toEqual([1, -2, 65504, 2 ** -24, 2 ** -14]);
    expect(Object.is(h[5], -0)).toBe(true);
    expect(h[6]).toBe(Infinity);
    expect(h[7]).toBe(0.333251953125);
    expect(Array.from(readTensorF32(f, 'b'))).toEqual([1, -3.140625, 2 ** -133, 3.3895313892515355e38]);
    expect(Array.from(readTensorF32(f, 'd'))).toEqual([Math.fround(0.1), -Infinity]);
  });

  it('reads F32 data at an unaligned offset', () => {
    const data = new Uint8Array(4 + 1 + 4);
    new DataView(data.buffer).setFloat32(5, 1.5, true);
    // header of odd length so the buffer itself is unaligned, and a tensor at offset 5
    const f = parseSafetensors(rawFile({ a: { dtype: 'U8', shape: [5], data_offsets: [0, 5] }, x: { dtype: 'F32', shape: [], data_offsets: [5, 9] } }, data, '{"a":{"dtype":"U8","shape":[5],"data_offsets":[0,5]},"x":{"dtype":"F32","shape":[],"data_offsets":[5,9]}}'));
    expect(Array.from(readTensorF32(f, 'x'))).toEqual([1.5]);
    expect(() => readTensorF32(f, 'a')).toThrow(/tensor "a": dtype U8 is not a floating-point type/);
    expect(() => readTensorF32(f, 'nope')).toThrow(/no tensor "nope"/);
  });

  it('names the problem for each kind of bad file', () => {
    const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
    const data8 = new Uint8Array(8);
    const cases: Array<[Uint8Array, RegExp]> = [
      [new Uint8Array(5), /too short/],
      [(() => { const b = new Uint8Array(16); new DataView(b.buffer).setUint32(4, 1, true); return b; })(), /exceeds the \d+-byte limit/],
      [(() => { const b = new Uint8Array(16); new DataView(b.buffer).setUint32(0, MAX_HEADER_BYTES + 1, true); return b; })(), /exceeds/],
      [(() => { const b = new Uint8Array(16); new DataView(b.buffer).setUint32(0, 100, true); return b; })(), /runs past the end .*truncated/],
      [rawFile(null, undefined, '{"a": '), /not valid JSON/],
      [rawFile([1, 2]), /must be a JSON object/],
      [rawFile(null, undefined, '{"a?": 1}').map((v) => (v === 0x3f ? 0xff : v)), /not valid UTF-8/],
      [rawFile({ w: { dtype: 'F17', shape: [2], data_offsets: [0, 8] } }, data8), /tensor "w": unknown dtype "F17"/],
      [rawFile({ w: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, data8), /tensor "w": shape must be an array of non-negative integers/],
      [rawFile({ w: { dtype: 'F32', shape: [2.5], data_offsets: [0, 8] } }, data8), /tensor "w": shape/],
      [rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [0] } }, data8), /tensor "w": data_offsets must be \[begin, end\]/],
      [rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, data8), /tensor "w": data_offsets \[8, 0\] end before/],
      [rawFile({ w: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, data8), /tensor "w": data_offsets \[4, 12\] run past the 8-byte data buffer/],
      [rawFile({ w: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, data8), /tensor "w": shape \[3\] of F32 needs 12 bytes but data_offsets \[0, 8\] hold 8/],
      [rawFile({ w: ok, v: { dtype: 'F16', shape: [2], data_offsets: [6, 10] } }, new Uint8Array(10)), /tensor "v" overlaps tensor "w"/],
      [rawFile({ w: 3 }), /tensor "w": entry must be an object/],
      [rawFile({ __metadata__: { format: 1 } }), /__metadata__.format must be a string/],
      [rawFile({ __metadata__: [] }), /__metadata__ must be an object/],
    ];
    for (const [bytes, re] of cases) expect(() => parseSafetensors(bytes), String(re)).toThrow(re);
  });

  it('accepts empty tensors, scalars, a header with only metadata, and gaps between tensors', () => {
    const f = parseSafetensors(rawFile({ __metadata__: { format: 'pt' }, e: { dtype: 'F32', shape: [0, 3], data_offsets: [0, 0] }, s: { dtype: 'F32', shape: [], data_offsets: [8, 12] } }, new Uint8Array(12)));
    expect(readTensorF32(f, 'e').length).toBe(0);
    expect(Array.from(readTensorF32(f, 's'))).toEqual([0]);
    expect(parseSafetensors(rawFile({ __metadata__: {} })).tensors.size).toBe(0);
  });

  it('rejects a serialisation whose data does not match its shape', () => {
    expect(() => serializeSafetensors([{ name: 'w', shape: [2, 2], data: new Float32Array(3) }])).toThrow(/tensor "w": shape \[2, 2\] has 4 elements but the data has 3/);
    expect(() => serializeSafetensors([{ name: 'w', shape: [1], data: new Float32Array(1) }, { name: 'w', shape: [1], data: new Float32Array(1) }])).toThrow(/duplicate/);
  });

  it('random bytes fail only with a clear safetensors Error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expectCleanFailure(() => {
          const f = parseSafetensors(bytes);
          for (const name of f.tensors.keys()) readTensorF32(f, name);
        });
      }),
      { numRuns: 2000 },
    );
  });

  it('random headers (valid JSON, arbitrary entries) fail only with a clear safetensors Error', () => {
    const entry = fc.record({
      dtype: fc.constantFrom('F32', 'F16', 'BF16', 'F64', 'U8', 'I64', 'X', 3),
      shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 5 }), { maxLength: 3 }), fc.jsonValue()),
      data_offsets: fc.oneof(fc.tuple(fc.integer({ min: -1, max: 40 }), fc.integer({ min: -1, max: 40 })), fc.jsonValue()),
    }, { requiredKeys: [] });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 4 }), fc.oneof(entry, fc.jsonValue())), fc.nat(40), (header, n) => {
        expectCleanFailure(() => {
          const f = parseSafetensors(rawFile(header, new Uint8Array(n)));
          for (const name of f.tensors.keys()) readTensorF32(f, name);
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated and truncated valid files fail only with a clear safetensors Error', () => {
    const valid = serializeSafetensors([
      { name: 'wte.weight', shape: [3, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      { name: 'ln_f.bias', shape: [2], data: Float32Array.from([0.5, -0.5]) },
    ], { format: 'pt' });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(valid.length - 1)),
        (edits, cut) => {
          const b = cut === null ? valid.slice() : valid.slice(0, cut);
          for (const [i, v] of edits) if (i < b.length) b[i] = v;
          expectCleanFailure(() => {
            const f = parseSafetensors(b);
            for (const name of f.tensors.keys()) readTensorF32(f, name);
          });
        },
      ),
      { numRuns: 3000 },
    );
  });
});
