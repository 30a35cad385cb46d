import { describe, it, expect } from 'vitest';
import { layoutArena } from '../../src/engine/arena';
import { kernelKey } from '../../src/engine/pipelines';
import { params } from '../../src/engine/uniforms';

describe('arena layout', () => {
  it('aligns every tensor and sizes the whole', () => {
    const l = layoutArena([{ name: 'a', shape: [3] }, { name: 'b', shape: [2, 100] }, { name: 'c', shape: [1] }], 256);
    expect(l.offsets.get('a')).toBe(0);
    expect(l.offsets.get('b')).toBe(64); // 256 bytes
    expect(l.offsets.get('c')).toBe(64 + 256); // b is 800 bytes -> next 1024-byte boundary
    expect(l.bytes).toBe(1536); // c ends at 1284 bytes, padded to the alignment
  });

  it('names the tensor with a bad shape or a duplicate name', () => {
    expect(() => layoutArena([{ name: 'w', shape: [0, 3] }])).toThrow(/"w".*\[0, 3\]/);
    expect(() => layoutArena([{ name: 'w', shape: [1] }, { name: 'w', shape: [2] }])).toThrow(/duplicate.*"w"/);
  });
});

describe('pipeline keys and params', () => {
  it('keys by shader, entry and sorted constants', () => {
    expect(kernelKey({ shader: 'matmul', entryPoint: 'matmul', constants: { TRANS_B: true, TRANS_A: false } })).toBe('matmul:matmul{TRANS_A=0,TRANS_B=1}');
    expect(kernelKey({ shader: 'x', entryPoint: 'y' })).toBe('x:y');
  });

  it('packs u32 and f32 fields and rejects non-integers', () => {
    const p = params(3, { f: 0.5 });
    expect(p[0]).toBe(3);
    expect(new Float32Array(p.buffer)[1]).toBe(0.5);
    expect(() => params(1.5)).toThrow(/field 0/);
  });
});
