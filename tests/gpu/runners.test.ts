// RunnerPool: activation arenas per batch shape, the newest few kept, older ones only while small.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import type { GpuContext } from '../../src/engine/gpu';
import { GptModel, activationBytes } from '../../src/model/gpt';
import { presetConfig } from '../../src/model/config';
import { RunnerPool } from '../../src/train/runners';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

describe('RunnerPool', () => {
  const config = presetConfig('tiny');

  it('reuses a shape, keeps at most `keep` shapes, newest first', () => {
    const model = new GptModel(gpu, config);
    const pool = new RunnerPool(model, 2);
    const a = pool.get(2, 8);
    expect(pool.get(2, 8)).toBe(a);
    const b = pool.get(2, 16);
    expect(pool.bytes).toBe(a.acts.bytes + b.acts.bytes);
    pool.get(4, 8); // evicts (2, 8), the least recently used
    expect(pool.bytes).toBe(b.acts.bytes + pool.get(4, 8).acts.bytes);
    expect(pool.get(2, 8)).not.toBe(a);
    pool.destroy();
    model.destroy();
  });

  it('drops older shapes once they hold more than the spare budget', () => {
    const model = new GptModel(gpu, config);
    const small = activationBytes(config, 2, 8);
    const pool = new RunnerPool(model, 3, small + 1024); // room for one small arena beside the newest
    const first = pool.get(2, 8);
    const big = pool.get(2, 64);
    expect(pool.bytes).toBe(first.acts.bytes + big.acts.bytes); // (2, 8) fits the spare budget
    const other = pool.get(2, 48); // (2, 64) is now over budget as a spare: only (2, 48) stays
    expect(pool.bytes).toBe(other.acts.bytes);
    pool.destroy();
    model.destroy();
  });
});
