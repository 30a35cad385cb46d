// Readback in pieces through one small staging buffer returns exactly what one big copy does.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import type { GpuContext } from '../../src/engine/gpu';
import { Arena } from '../../src/engine/arena';
import { readF32, readU32, readManyF32 } from '../../src/engine/readback';
import { Rng } from '../../src/util/rng';
import { freshSeed } from '../helpers/close';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

describe('readback', () => {
  it('chunked and whole reads agree on a view inside an arena (odd length, chunk not dividing it)', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const arena = new Arena(gpu.device, 'rb', [{ name: 'a', shape: [37] }, { name: 'b', shape: [1001] }]);
    const b = arena.get('b');
    const data = rng.floats(1001);
    gpu.device.queue.writeBuffer(b.buffer, b.offset, data.buffer, data.byteOffset, data.byteLength);
    expect(Array.from(await readF32(gpu.device, b, 4 * 97)), `seed=${seed}`).toEqual(Array.from(data));
    expect(Array.from(await readF32(gpu.device, b, 4))).toEqual(Array.from(data));
    expect(Array.from(await readF32(gpu.device, b))).toEqual(Array.from(data));
    expect((await readU32(gpu.device, b, 8)).length).toBe(1001);
    await expect(readF32(gpu.device, b, 6)).rejects.toThrow(/chunk 6 must be a positive multiple of 4/);
    arena.destroy();
  });

  it('readManyF32 returns each view as readF32 does, in one map', async () => {
    const rng = new Rng(freshSeed());
    const arena = new Arena(gpu.device, 'many', [{ name: 'a', shape: [3] }, { name: 'b', shape: [1] }, { name: 'c', shape: [5] }], { separate: true });
    const views = ['a', 'b', 'c'].map((n) => arena.get(n));
    for (const v of views) {
      const data = rng.floats(v.length);
      gpu.device.queue.writeBuffer(v.buffer, v.offset, data.buffer, data.byteOffset, data.byteLength);
    }
    const many = await readManyF32(gpu.device, views);
    for (const [i, v] of views.entries()) expect(Array.from(many[i])).toEqual(Array.from(await readF32(gpu.device, v)));
    arena.destroy();
  });
});
