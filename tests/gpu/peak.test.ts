// The benchmark's ceiling kernel (shaders/peak.wgsl) computes what it claims: its FMA chains
// against the same recurrence in float64, so the flops it is credited with were done.
import { describe, it, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { peakFma } from '../../src/bench/peak';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

function peakRef(n: number, iters: number, m: number, a: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    const s = (i % 16) * 0.0625;
    let total = 0;
    for (let c = 0; c < 8; c++) {
      let x = s + c * 0.125;
      for (let k = 0; k < iters; k++) x = x * m + a;
      total += 4 * x;
    }
    return total;
  });
}

describe('peak FMA kernel', () => {
  it('matches the float64 recurrence', async () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const m = Math.fround(rng.uniform(0.3, 0.9)), a = Math.fround(rng.uniform(-0.5, 0.5));
    const n = 70, iters = 37;
    const out = createView(gpu.device, 'peak.out', [n]);
    const enc = new StepEncoder(gpu);
    peakFma(enc, out, n, iters, m, a);
    enc.submit();
    expectClose(await readF32(gpu.device, out), peakRef(n, iters, m, a), { rtol: 1e-4, atol: 1e-5, what: `peak seed=${seed}` });
  });
});
