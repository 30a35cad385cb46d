// The bench's f16 section (docs/perf.md, "f16 arithmetic"). On an adapter with `shader-f16`:
//  - a self-check of the native f16 kernels (src/kernels/matmul-f16.ts, attention-f16.ts) and of
//    the emulated ones on the same inputs against float64 on the f16-rounded inputs, within f32's
//    error bound (matmul: 2·(K + 2)·2⁻²⁴·Σ|terms|; attention: 1e-4 relative and absolute, the f32
//    kernel's), plus how far native and emulated differ (they do the same f32 arithmetic on the
//    same values, so 0 unless a compiler contracts differently) — so a device run records whether
//    the native kernels are right there, with no test runner in the pack (scripts/device-bench.sh);
//  - the f16 matmul's GFLOP/s at each bench shape (NN, operands already packed, as the f32 row
//    times its kernel alone), next to the f32 kernel's from the same run.
// Without the feature: `status: 'shader-f16: not available'` and nothing is run.
import type { GpuContext } from '../engine/gpu';
import { createView, type View } from '../engine/arena';
import { StepEncoder } from '../engine/encoder';
import { readF32 } from '../engine/readback';
import { matmulF16 } from '../kernels/matmul-f16';
import { attentionF16Forward } from '../kernels/attention-f16';
import { attentionQkvWidth, attentionRowStatsSize } from '../kernels/attention';
import { f16QuadWords, f16VariantFor, type F16Variant } from '../kernels/f16-variant';
import { packF16, toF16 } from '../reference/f16';
import { attentionGqaForwardRef } from '../reference/attention-gqa';
import { Rng } from '../util/rng';
import { gflops, median, round } from './stats';
import type { MatmulResult } from './matmul-bench';

export interface F16SelfCheckCase {
  name: string;
  /** Largest |kernel − float64| ÷ bound over the outputs (the report's variant, then the emulated one): ≤ 1 passes. */
  worst_ratio: number;
  emulated_worst_ratio: number;
  /** Largest |kernel − emulated|, and the share of outputs where they are the same f32. */
  vs_emulated_max_diff: number;
  vs_emulated_identical: number;
}

export interface F16MatmulRow {
  M: number;
  N: number;
  K: number;
  ms: number;
  gflops: number;
  /** The f32 kernel's GFLOP/s at this shape in the same run, and f16 ÷ f32. */
  f32_gflops: number | null;
  vs_f32: number | null;
}

export interface F16Report {
  /** 'emulated …' only when a test asks for the emulated variant (tests/gpu/f16-bench.test.ts). */
  status: 'shader-f16: not available' | 'shader-f16: native kernels checked and timed' | 'emulated kernels checked and timed (a test of this section)';
  variant: F16Variant | null;
  /** Every self-check case within its bound (null: not run). */
  selfcheck_ok: boolean | null;
  selfcheck: F16SelfCheckCase[];
  matmul: F16MatmulRow[];
}

const U32 = 2 ** -24;

function packedView(gpu: GpuContext, name: string, values: ArrayLike<number>): View {
  const words = new Uint32Array(f16QuadWords(values.length));
  words.set(packF16(values));
  return createView(gpu.device, name, [words.length], words);
}

/** n f16 values in [lo, hi), subnormals set to 0 (an implementation may flush them). */
function drawF16(rng: Rng, n: number, lo: number, hi: number): Float64Array {
  return Float64Array.from(rng.floats(n, lo, hi), (x) => {
    const r = toF16(x);
    return Math.abs(r) < 2 ** -14 ? 0 : r;
  });
}

function compare(kernel: Float32Array, emulated: Float32Array, want: Float64Array, bound: Float64Array): Omit<F16SelfCheckCase, 'name'> {
  let nw = 0, ew = 0, diff = 0, same = 0;
  for (let i = 0; i < want.length; i++) {
    nw = Math.max(nw, Number.isFinite(kernel[i]) ? Math.abs(kernel[i] - want[i]) / bound[i] : Infinity);
    ew = Math.max(ew, Number.isFinite(emulated[i]) ? Math.abs(emulated[i] - want[i]) / bound[i] : Infinity);
    diff = Math.max(diff, Math.abs(kernel[i] - emulated[i]));
    if (Object.is(kernel[i], emulated[i])) same++;
  }
  return { worst_ratio: round(nw, 4), emulated_worst_ratio: round(ew, 4), vs_emulated_max_diff: diff, vs_emulated_identical: round(same / Math.max(1, want.length), 4) };
}

/** One product C = op(A)·op(B) (+ bias) in `variant` and emulated against float64. */
async function checkProduct(gpu: GpuContext, variant: F16Variant, name: string, M: number, N: number, K: number, transA: boolean, transB: boolean, rng: Rng): Promise<F16SelfCheckCase> {
  const a = drawF16(rng, M * K, -1, 1), b = drawF16(rng, K * N, -1, 1), bias = rng.floats(N);
  const d = gpu.device;
  const va = packedView(gpu, 'check.a16', a), vb = packedView(gpu, 'check.b16', b), vbias = createView(d, 'check.bias', [N], bias);
  const out = [createView(d, 'check.c', [M * N]), createView(d, 'check.c.emulated', [M * N])];
  const enc = new StepEncoder(gpu, 'bench:f16-check');
  ([variant, 'emulated'] as const).forEach((v, i) => matmulF16(enc, out[i], va, vb, vbias, M, N, K, { TRANS_A: transA, TRANS_B: transB, variant: v }));
  enc.submit();
  const kernel = await readF32(d, out[0]), emulated = await readF32(d, out[1]);
  for (const v of [va, vb, vbias, ...out]) v.buffer.destroy();
  const want = new Float64Array(M * N), bound = new Float64Array(M * N);
  for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
    let s = bias[n], abs = Math.abs(bias[n]);
    for (let k = 0; k < K; k++) {
      const t = a[transA ? k * M + m : m * K + k] * b[transB ? n * K + k : k * N + n];
      s += t;
      abs += Math.abs(t);
    }
    want[m * N + n] = s;
    bound[m * N + n] = 2 * (K + 2) * U32 * abs + 1e-30;
  }
  return { name, ...compare(kernel, emulated, want, bound) };
}

async function checkAttention(gpu: GpuContext, variant: F16Variant, B: number, T: number, NH: number, NKV: number, HS: number, rng: Rng): Promise<F16SelfCheckCase> {
  const W = attentionQkvWidth(NH, NKV, HS), QW = NH * HS, KW = NKV * HS;
  const qkv = drawF16(rng, B * T * W, -2, 2);
  const lengths = Array.from({ length: B }, (_, b) => (b === 0 ? T : Math.max(1, T >> (b + 1))));
  const q = new Float64Array(B * T * QW), k = new Float64Array(B * T * KW), v = new Float64Array(B * T * KW);
  for (let r = 0; r < B * T; r++) {
    q.set(qkv.subarray(r * W, r * W + QW), r * QW);
    k.set(qkv.subarray(r * W + QW, r * W + QW + KW), r * KW);
    v.set(qkv.subarray(r * W + QW + KW, (r + 1) * W), r * KW);
  }
  const d = gpu.device;
  const rows = attentionRowStatsSize(B, T, NH);
  const vq = packedView(gpu, 'check.qkv16', qkv), vl = createView(d, 'check.lengths', [B], Uint32Array.from(lengths));
  const outs = [createView(d, 'check.out', [B * T * QW]), createView(d, 'check.out.emulated', [B * T * QW])];
  const lses = [createView(d, 'check.lse', [rows]), createView(d, 'check.lse.emulated', [rows])];
  const enc = new StepEncoder(gpu, 'bench:f16-check');
  ([variant, 'emulated'] as const).forEach((v, i) => attentionF16Forward(enc, outs[i], lses[i], vq, vl, B, T, NH, NKV, HS, v));
  enc.submit();
  // each variant's out then lse, as one vector
  const got = [0, 1].map(() => new Float32Array(B * T * QW + rows));
  for (let i = 0; i < 2; i++) {
    got[i].set(await readF32(d, outs[i]));
    got[i].set(await readF32(d, lses[i]), B * T * QW);
  }
  for (const x of [vq, vl, ...outs, ...lses]) x.buffer.destroy();
  const ref = attentionGqaForwardRef(q, k, v, lengths, B, T, NH, NKV, HS);
  const join = (x: ArrayLike<number>, y: ArrayLike<number>) => { const o = new Float64Array(x.length + y.length); o.set(x); o.set(y, x.length); return o; };
  const want = join(ref.out, ref.lse);
  const bound = want.map((w) => 1e-4 + 1e-4 * Math.abs(w));
  return { name: `attention forward B=${B} T=${T} NH=${NH} NKV=${NKV} HS=${HS} (out and lse)`, ...compare(got[0], got[1], want, bound) };
}

async function timeF16(gpu: GpuContext, variant: F16Variant, M: number, N: number, K: number, reps: number): Promise<number> {
  const rng = new Rng(M * 7919 + N * 31 + K);
  const d = gpu.device;
  const a = packedView(gpu, 'bench.a16', rng.floats(M * K)), b = packedView(gpu, 'bench.b16', rng.floats(K * N)), c = createView(d, 'bench.c', [M, N]);
  const once = async () => {
    const t0 = performance.now();
    const enc = new StepEncoder(gpu, 'bench:matmul-f16');
    matmulF16(enc, c, a, b, null, M, N, K, { variant });
    enc.submit();
    await d.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  await once(); // pipeline compilation
  const ms: number[] = [];
  for (let r = 0; r < reps; r++) ms.push(await once());
  for (const v of [a, b, c]) v.buffer.destroy();
  return median(ms);
}

/**
 * The f16 section of the bench report; `f32` the run's f32 matmul rows (for the f16 ÷ f32 column).
 * `variant` is the plan's (native with `shader-f16`, else null: not available); a test passes
 * 'emulated' to run this section on an adapter without the feature.
 */
export async function benchF16(gpu: GpuContext, shapes: ReadonlyArray<[number, number, number]>, f32: readonly MatmulResult[], reps: number, log: (line: string) => void, variant: F16Variant | null = f16VariantFor(gpu.features)): Promise<F16Report> {
  if (variant === null) return { status: 'shader-f16: not available', variant: null, selfcheck_ok: null, selfcheck: [], matmul: [] };
  log('f16 kernels: self-check against float64…');
  const rng = new Rng(0xf16);
  const [R, IC, OC] = [70, 68, 132];
  const selfcheck = [
    await checkProduct(gpu, variant, `forward NN ${R}×${OC}×${IC} + bias`, R, OC, IC, false, false, rng),
    await checkProduct(gpu, variant, `NT ${R}×${IC}×${OC} + bias`, R, IC, OC, false, true, rng),
    await checkProduct(gpu, variant, `TN ${IC}×${OC}×${R} + bias`, IC, OC, R, true, false, rng),
    await checkAttention(gpu, variant, 2, 67, 4, 2, 64, rng),
  ];
  const selfcheck_ok = selfcheck.every((c) => c.worst_ratio <= 1 && c.emulated_worst_ratio <= 1);
  const matmul: F16MatmulRow[] = [];
  for (const [M, N, K] of shapes) {
    if (K % 4 !== 0 || N % 4 !== 0) continue; // operands read in quads (src/kernels/matmul-f16.ts)
    log(`matmul f16 ${M}×${N}×${K}…`);
    const ms = await timeF16(gpu, variant, M, N, K, reps);
    const g = gflops(2 * M * N * K, ms);
    const f = f32.find((x) => x.M === M && x.N === N && x.K === K)?.gflops ?? null;
    matmul.push({ M, N, K, ms: round(ms, 2), gflops: round(g, 4), f32_gflops: f, vs_f32: f ? round(g / f, 3) : null });
  }
  const status = variant === 'native' ? 'shader-f16: native kernels checked and timed' : 'emulated kernels checked and timed (a test of this section)';
  return { status, variant, selfcheck_ok, selfcheck, matmul };
}

/** The report's f16 lines (markdown). */
export function f16Markdown(r: F16Report): string[] {
  if (r.status === 'shader-f16: not available') return ['', 'f16 kernels: shader-f16: not available on this adapter (nothing run).'];
  const lines = ['', `f16 kernels (${r.variant}, f16 operands, f32 accumulation): self-check against float64 ${r.selfcheck_ok ? 'passed' : 'FAILED'} — ` +
    r.selfcheck.map((c) => `${c.name}: worst error ${c.worst_ratio} of the bound, same f32 as the emulated kernel on ${(c.vs_emulated_identical * 100).toFixed(1)} % of outputs`).join('; ') + '.'];
  if (r.matmul.length) {
    lines.push('', '| matmul f16 M×N×K | f16 GFLOP/s | f32 GFLOP/s | f16 ÷ f32 |', '|---|---|---|---|');
    for (const m of r.matmul) lines.push(`| ${m.M}×${m.N}×${m.K} | ${m.gflops} | ${m.f32_gflops ?? '–'} | ${m.vs_f32 != null ? `${m.vs_f32}×` : '–'} |`);
  }
  return lines;
}
