// Tier 2: shaders/attention.wgsl as grouped-query attention on real WebGPU (Dawn) against the
// float64 GQA reference (src/reference/attention-gqa.ts): q, k, v packed per token as
// [q (NH·HS) | k (NKV·HS) | v (NKV·HS)], GQA ratios NH/NKV of 1, 2, 3 and NKV = 1, head sizes 8,
// 12 and 64 (not tied to any model width), odd T (above the 64-row workgroup too), B 1 and 3,
// ragged and empty sequences, in both kernel forms (CPU and GPU workgroup sizes).
import { describe, it, beforeAll, afterAll } from 'vitest';
import { testGpu } from '../helpers/gpu';
import { expectClose, freshSeed } from '../helpers/close';
import type { GpuContext } from '../../src/engine/gpu';
import { createView } from '../../src/engine/arena';
import { StepEncoder } from '../../src/engine/encoder';
import { readF32 } from '../../src/engine/readback';
import { attentionForward, attentionBackward, attentionRowStatsSize, attentionQkvWidth } from '../../src/kernels/attention';
import { attentionGqaForwardRef, attentionGqaBackwardRef } from '../../src/reference/attention-gqa';
import { forceAdapterClass, type AdapterClass } from '../../src/kernels/plan';
import { Rng } from '../../src/util/rng';

let gpu: GpuContext;
beforeAll(async () => {
  gpu = await testGpu();
});
afterAll(() => forceAdapterClass(null));

// [B, T, NH, NKV, HS, lengths]
type Shape = [number, number, number, number, number, number[]];
const SHAPES: Shape[] = [
  [1, 7, 2, 2, 8, [7]], // ratio 1 (multi-head)
  [3, 13, 4, 2, 8, [13, 6, 1]], // ratio 2, ragged
  [3, 11, 6, 2, 8, [11, 0, 5]], // ratio 3, an empty sequence
  [2, 9, 3, 1, 8, [9, 4]], // NKV = 1 (multi-query), G = 3
  [1, 5, 9, 3, 12, [5]], // ratio 3, HS = 12 (3 vec4s)
  [3, 70, 2, 1, 8, [70, 65, 3]], // NKV = 1, T > 64
  [1, 67, 4, 1, 64, [67]], // NKV = 1, HS = 64, odd T > 64
  [3, 19, 6, 2, 64, [19, 10, 3]], // ratio 3, HS = 64
  [2, 33, 4, 4, 64, [33, 17]], // ratio 1, HS = 64
  [3, 21, 8, 4, 64, [20, 21, 9]], // ratio 2, HS = 64
];

interface Inputs { q: Float32Array; k: Float32Array; v: Float32Array; qkv: Float32Array }

// q (B,T,NH,HS), k and v (B,T,NKV,HS) drawn at random, and their packed qkv (B,T,(NH+2·NKV)·HS)
function draw(rng: Rng, B: number, T: number, NH: number, NKV: number, HS: number): Inputs {
  const q = rng.floats(B * T * NH * HS, -2, 2);
  const k = rng.floats(B * T * NKV * HS, -2, 2);
  const v = rng.floats(B * T * NKV * HS, -2, 2);
  const W = attentionQkvWidth(NH, NKV, HS);
  const QW = NH * HS, KW = NKV * HS;
  const qkv = new Float32Array(B * T * W);
  for (let r = 0; r < B * T; r++) {
    qkv.set(q.subarray(r * QW, (r + 1) * QW), r * W);
    qkv.set(k.subarray(r * KW, (r + 1) * KW), r * W + QW);
    qkv.set(v.subarray(r * KW, (r + 1) * KW), r * W + QW + KW);
  }
  return { q, k, v, qkv };
}

// dqkv (B,T,(NH+2·NKV)·HS) -> dq, dk, dv in the reference's layouts
function unpack(dqkv: Float32Array, B: number, T: number, NH: number, NKV: number, HS: number): { dq: Float32Array; dk: Float32Array; dv: Float32Array } {
  const W = attentionQkvWidth(NH, NKV, HS);
  const QW = NH * HS, KW = NKV * HS;
  const dq = new Float32Array(B * T * QW), dk = new Float32Array(B * T * KW), dv = new Float32Array(B * T * KW);
  for (let r = 0; r < B * T; r++) {
    dq.set(dqkv.subarray(r * W, r * W + QW), r * QW);
    dk.set(dqkv.subarray(r * W + QW, r * W + QW + KW), r * KW);
    dv.set(dqkv.subarray(r * W + QW + KW, (r + 1) * W), r * KW);
  }
  return { dq, dk, dv };
}

const FORMS: AdapterClass[] = ['cpu', 'gpu'];

describe.each(FORMS)('grouped-query attention kernels on WebGPU (%s form)', (form) => {
  beforeAll(() => forceAdapterClass(form));

  it.each(SHAPES)('forward B=%i T=%i NH=%i NKV=%i HS=%i lengths=%j matches float64', async (B, T, NH, NKV, HS, lengths) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const x = draw(rng, B, T, NH, NKV, HS);
    const d = gpu.device;
    const vOut = createView(d, 'out', [B, T, NH * HS], rng.floats(B * T * NH * HS)); // garbage: out is written
    const vLse = createView(d, 'lse', [attentionRowStatsSize(B, T, NH)], rng.floats(B * NH * T));
    const enc = new StepEncoder(gpu);
    attentionForward(enc, vOut, vLse, createView(d, 'qkv', [B, T, attentionQkvWidth(NH, NKV, HS)], x.qkv), createView(d, 'lengths', [B], Uint32Array.from(lengths)), B, T, NH, NKV, HS);
    enc.submit();
    const ref = attentionGqaForwardRef(x.q, x.k, x.v, lengths, B, T, NH, NKV, HS);
    expectClose(await readF32(d, vOut), ref.out, { rtol: 1e-4, atol: 1e-4, what: `out seed=${seed}` });
    expectClose(await readF32(d, vLse), ref.lse, { rtol: 1e-4, atol: 1e-4, what: `lse seed=${seed}` });
  });

  it.each(SHAPES)('backward B=%i T=%i NH=%i NKV=%i HS=%i lengths=%j matches float64', async (B, T, NH, NKV, HS, lengths) => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    const x = draw(rng, B, T, NH, NKV, HS);
    const dout = rng.floats(B * T * NH * HS); // nonzero on padded rows too: they must not count
    const fwd = attentionGqaForwardRef(x.q, x.k, x.v, lengths, B, T, NH, NKV, HS);
    const d = gpu.device;
    const rows = attentionRowStatsSize(B, T, NH);
    const W = attentionQkvWidth(NH, NKV, HS);
    const vDqkv = createView(d, 'dqkv', [B, T, W], rng.floats(B * T * W)); // garbage: dqkv is written
    const vDelta = createView(d, 'delta', [rows], new Float32Array(rows).fill(NaN));
    const enc = new StepEncoder(gpu);
    attentionBackward(
      enc, vDqkv, vDelta, createView(d, 'dout', [B, T, NH * HS], dout), createView(d, 'out', [B, T, NH * HS], Float32Array.from(fwd.out)),
      createView(d, 'qkv', [B, T, W], x.qkv), createView(d, 'lse', [rows], Float32Array.from(fwd.lse)), createView(d, 'lengths', [B], Uint32Array.from(lengths)),
      B, T, NH, NKV, HS,
    );
    enc.submit();
    const ref = attentionGqaBackwardRef(dout, x.q, x.k, x.v, fwd.att, lengths, B, T, NH, NKV, HS);
    const got = unpack(await readF32(d, vDqkv), B, T, NH, NKV, HS);
    expectClose(got.dq, ref.dq, { rtol: 1e-3, atol: 1e-4, what: `dq seed=${seed}` });
    expectClose(got.dk, ref.dk, { rtol: 1e-3, atol: 1e-4, what: `dk seed=${seed}` });
    expectClose(got.dv, ref.dv, { rtol: 1e-3, atol: 1e-4, what: `dv seed=${seed}` });
  });
});
