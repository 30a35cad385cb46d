// Matmul GFLOP/s of the engine's kernel and of the peers' (tf.matMul, jax-js np.matmul) at the
// same shapes, taken alternately (one of ours, one of each peer's, …) so background load hits all
// alike; medians. C (M,N) = A (M,K) · B (K,N), the forward layout; each call is waited for on
// its own; each side's first call (pipeline compilation) is not timed.
import type * as TF from '@tensorflow/tfjs-core';
import type { GpuContext } from '../engine/gpu';
import { createView } from '../engine/arena';
import { StepEncoder } from '../engine/encoder';
import { matmulPlanFor, matmulTiled } from '../kernels/matmul';
import { Rng } from '../util/rng';
import { gflops, median, round } from './stats';
import { peerIdle } from './peer-tfjs';
import { jaxMatmul, type Jax } from './peer-jaxjs';

export interface MatmulResult {
  M: number;
  N: number;
  K: number;
  plan: string;
  ms: number;
  gflops: number;
  peer_ms: number | null;
  peer_gflops: number | null;
  /** ours ÷ peer in GFLOP/s (higher is better). */
  ratio: number | null;
  jaxjs_ms: number | null;
  jaxjs_gflops: number | null;
  /** ours ÷ jax-js in GFLOP/s. */
  ratio_jaxjs: number | null;
}

export async function benchMatmul(gpu: GpuContext, tf: typeof TF | null, M: number, N: number, K: number, reps: number, jax: Jax | null = null): Promise<MatmulResult> {
  const d = gpu.device;
  const rng = new Rng(M * 7919 + N * 31 + K);
  const A = rng.floats(M * K), B = rng.floats(K * N);
  const a = createView(d, 'bench.a', [M, K], A), b = createView(d, 'bench.b', [K, N], B), c = createView(d, 'bench.c', [M, N]);
  const ta = tf ? (tf.tensor2d(A, [M, K]) as TF.Tensor2D) : null;
  const tb = tf ? (tf.tensor2d(B, [K, N]) as TF.Tensor2D) : null;
  const ours = async () => {
    const t0 = performance.now();
    const enc = new StepEncoder(gpu, 'bench:matmul');
    matmulTiled(enc, c, a, b, null, M, N, K, {});
    enc.submit();
    await d.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  const theirs = async () => {
    const t0 = performance.now();
    const out = tf!.matMul(ta!, tb!);
    await peerIdle(tf!);
    const ms = performance.now() - t0;
    out.dispose();
    return ms;
  };
  const jm = jax ? jaxMatmul(jax, A, B, M, N, K) : null;
  const jaxs = async () => {
    const t0 = performance.now();
    await jm!.run();
    return performance.now() - t0;
  };
  await ours();
  if (tf) await theirs();
  if (jm) await jaxs();
  const mine: number[] = [], peer: number[] = [], jx: number[] = [];
  for (let r = 0; r < reps; r++) {
    mine.push(await ours());
    if (tf) peer.push(await theirs());
    if (jm) jx.push(await jaxs());
  }
  for (const v of [a, b, c]) v.buffer.destroy();
  if (tf) tf.dispose([ta!, tb!]);
  jm?.destroy();
  const flops = 2 * M * N * K;
  const ms = median(mine);
  const pms = tf ? median(peer) : null;
  const jms = jm ? median(jx) : null;
  return {
    M, N, K,
    plan: matmulPlanFor(gpu.adapter),
    ms: round(ms, 2),
    gflops: round(gflops(flops, ms), 4),
    peer_ms: pms === null ? null : round(pms, 2),
    peer_gflops: pms === null ? null : round(gflops(flops, pms), 4),
    ratio: pms === null ? null : round(pms / ms, 3),
    jaxjs_ms: jms === null ? null : round(jms, 2),
    jaxjs_gflops: jms === null ? null : round(gflops(flops, jms), 4),
    ratio_jaxjs: jms === null ? null : round(jms / ms, 3),
  };
}
