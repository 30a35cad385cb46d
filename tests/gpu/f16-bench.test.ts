// The bench's f16 section (src/bench/f16-bench.ts): on an adapter without `shader-f16` it says
// so and runs nothing; run with the emulated variant (as a device with the feature runs the
// native one) its float64 self-check passes, reports every case, and times the f16 matmul at
// the shapes whose operands come in quads, next to the f32 rows; the markdown names the result.
import { describe, it, expect, beforeAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import type { GpuContext } from '../../src/engine/gpu';
import { benchF16, f16Markdown } from '../../src/bench/f16-bench';
import type { MatmulResult } from '../../src/bench/matmul-bench';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});

describe('bench f16 section', () => {
  it('reports "shader-f16: not available" without the feature and runs nothing', async () => {
    const r = await benchF16({ ...gpu, features: new Set([...gpu.features].filter((f) => f !== 'shader-f16')) }, [[8, 8, 8]], [], 1, () => {});
    expect(r).toEqual({ status: 'shader-f16: not available', variant: null, selfcheck_ok: null, selfcheck: [], matmul: [] });
    expect(f16Markdown(r).join('\n')).toContain('shader-f16: not available');
  });

  it('self-checks against float64 and times the f16 matmul (emulated variant)', async () => {
    const f32 = [{ M: 32, N: 48, K: 16, gflops: 2 }] as MatmulResult[];
    const r = await benchF16(gpu, [[32, 48, 16], [8, 6, 8]], f32, 1, () => {}, 'emulated');
    expect(r.status).toMatch(/^emulated/);
    expect(r.selfcheck.map((c) => c.name)).toHaveLength(4);
    for (const c of r.selfcheck) {
      expect(c.worst_ratio, c.name).toBeLessThanOrEqual(1);
      expect(c.vs_emulated_identical, c.name).toBe(1); // the same kernel twice
    }
    expect(r.selfcheck_ok).toBe(true);
    // 8×6×8 has N = 6: not in quads, not timed
    expect(r.matmul.map((m) => [m.M, m.N, m.K])).toEqual([[32, 48, 16]]);
    expect(r.matmul[0].gflops).toBeGreaterThan(0);
    expect(r.matmul[0].vs_f32).toBeCloseTo(r.matmul[0].gflops / 2, 2);
    expect(f16Markdown(r).join('\n')).toMatch(/self-check against float64 passed[\s\S]*\| 32×48×16 \|/);
  });
});
