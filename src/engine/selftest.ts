// A quick end-to-end check that the device computes correctly: a matmul with bias and its
// backward at an awkward shape on random inputs, against the float64 reference.
// Used by `doctor` and by the page's "Check GPU" button.
import type { GpuContext } from './gpu';
import { createView } from './arena';
import { StepEncoder } from './encoder';
import { readF32 } from './readback';
import { matmulForward, matmulBackward } from '../kernels/matmul';
import { matmulForwardRef, matmulBackwardRef } from '../reference/matmul';
import { compareClose } from '../reference/compare';
import { Rng } from '../util/rng';

export interface SelfTestResult {
  ok: boolean;
  shape: [number, number, number];
  /** Worst |gpu − ref| as a fraction of the tolerance 1e-5 + 1e-4·|ref| (≤ 1 passes). */
  forwardWorst: number;
  backwardWorst: number;
  ms: number;
  message: string;
}

export async function gpuSelfTest(gpu: GpuContext, seed = Date.now() >>> 0, shape: [number, number, number] = [67, 45, 83]): Promise<SelfTestResult> {
  const [R, IC, OC] = shape;
  const t0 = performance.now();
  const rng = new Rng(seed);
  const d = gpu.device;
  const inp = rng.floats(R * IC), w = rng.floats(IC * OC), b = rng.floats(OC), dout = rng.floats(R * OC);
  const views = {
    inp: createView(d, 'selftest.inp', [R, IC], inp),
    w: createView(d, 'selftest.w', [IC, OC], w),
    b: createView(d, 'selftest.b', [OC], b),
    out: createView(d, 'selftest.out', [R, OC]),
    dout: createView(d, 'selftest.dout', [R, OC], dout),
    dinp: createView(d, 'selftest.dinp', [R, IC]),
    dw: createView(d, 'selftest.dw', [IC, OC]),
    db: createView(d, 'selftest.db', [OC]),
  };
  const enc = new StepEncoder(gpu, 'selftest');
  matmulForward(enc, views.out, views.inp, views.w, views.b, R, IC, OC);
  matmulBackward(enc, views.dinp, views.dw, views.db, views.dout, views.inp, views.w, R, IC, OC);
  enc.submit();
  const fwd = compareClose(await readF32(d, views.out), matmulForwardRef(inp, w, b, R, IC, OC), 1e-4, 1e-5, 'forward');
  const ref = matmulBackwardRef(dout, inp, w, R, IC, OC);
  const bwd = [
    compareClose(await readF32(d, views.dinp), ref.dinp, 1e-4, 1e-5, 'dinp'),
    compareClose(await readF32(d, views.dw), ref.dweight, 1e-4, 1e-5, 'dweight'),
    compareClose(await readF32(d, views.db), ref.dbias, 1e-4, 1e-5, 'dbias'),
  ];
  for (const v of Object.values(views)) v.buffer.destroy();
  const ok = fwd.ok && bwd.every((r) => r.ok);
  const backwardWorst = Math.max(...bwd.map((r) => r.worstRatio));
  const ms = performance.now() - t0;
  const message = ok
    ? `matmul ${R}×${IC}·${IC}×${OC} forward and backward match float64 (worst error ${fwd.worstRatio.toFixed(3)} / ${backwardWorst.toFixed(3)} of tolerance) in ${ms.toFixed(0)} ms`
    : [fwd, ...bwd].filter((r) => !r.ok).map((r) => r.message).join('; ');
  return { ok, shape, forwardWorst: fwd.worstRatio, backwardWorst, ms, message };
}
