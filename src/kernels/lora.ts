// Launchers for a LoRA adapter on one projection (PEFT's LoraLayer, docs/design.md): the base
// projection y = x·W (+ b) gets + s·(x Aᵀ) Bᵀ, A (r, IC), B (OC, r), s = lora_alpha / r. The four
// products run on the matmul kernels (src/kernels/matmul.ts); shaders/lora.wgsl scales the
// rank-r intermediates and moves columns when the projection's output is one slice of a stacked
// (R, ld) output (the Llama family's q|k|v and gate|up, which run as one matmul).
// Dimensions: R rows (B·T), IC input channels, OC the projection's output channels, r rank,
// ld the row width of the (stacked) output, col0 the projection's first column in it.
import type { View } from '../engine/arena';
import type { StepEncoder } from '../engine/encoder';
import { params } from '../engine/uniforms';
import { strideGroups } from './grid';
import { checkDims, checkView } from './check';
import { matmulTiled } from './matmul';

/** Where a projection's output sits: columns [col0, col0 + OC) of rows of `ld` (default: the whole row, ld = OC). */
export interface LoraColumns {
  col0: number;
  ld: number;
}

function columns(name: string, OC: number, cols?: LoraColumns): LoraColumns {
  const c = cols ?? { col0: 0, ld: OC };
  if (!Number.isInteger(c.col0) || c.col0 < 0 || !Number.isInteger(c.ld) || c.col0 + OC > c.ld) throw new Error(`${name}: columns [${c.col0}, ${c.col0 + OC}) do not fit rows of ${c.ld}`);
  return c;
}

/** x (n) *= s in place. */
export function loraScale(enc: StepEncoder, x: View, n: number, s: number): void {
  checkView('loraScale', x, n);
  enc.dispatch({ shader: 'lora', entryPoint: 'lora_scale' }, [x], params(n, 0, 0, 0, { f: s }, 0, 0, 0), [strideGroups(n)]);
}

/** y (R, ld) columns [col0, col0 + n) += d (R, n). */
export function loraAddColumns(enc: StepEncoder, y: View, d: View, R: number, n: number, col0: number, ld: number): void {
  checkView('loraAddColumns', y, R * ld);
  checkView('loraAddColumns', d, R * n);
  enc.dispatch({ shader: 'lora', entryPoint: 'lora_add_cols' }, [y, d], params(n, R, ld, col0, { f: 0 }, 0, 0, 0), [strideGroups(R * n)]);
}

/** d (R, n) = y (R, ld) columns [col0, col0 + n). */
export function loraGatherColumns(enc: StepEncoder, d: View, y: View, R: number, n: number, col0: number, ld: number): void {
  checkView('loraGatherColumns', y, R * ld);
  checkView('loraGatherColumns', d, R * n);
  enc.dispatch({ shader: 'lora', entryPoint: 'lora_gather_cols' }, [d, y], params(n, R, ld, col0, { f: 0 }, 0, 0, 0), [strideGroups(R * n)]);
}

/**
 * y (R, OC) columns `cols` += s·(x Aᵀ) Bᵀ, after the base projection wrote y. Writes
 * u (R, r) = s·x Aᵀ, which the backward reads (keep it per layer, or recompute it). `delta`
 * (R, OC) is scratch for a stacked output (cols.ld ≠ OC); null when the projection has its own.
 */
export function loraForward(enc: StepEncoder, y: View, u: View, delta: View | null, x: View, A: View, B: View, R: number, IC: number, OC: number, r: number, s: number, cols?: LoraColumns): void {
  checkDims('loraForward', { R, IC, OC, r });
  const { col0, ld } = columns('loraForward', OC, cols);
  checkView('loraForward', x, R * IC);
  checkView('loraForward', A, r * IC);
  checkView('loraForward', B, OC * r);
  checkView('loraForward', u, R * r);
  matmulTiled(enc, u, x, A, null, R, r, IC, { TRANS_B: true }); // u = x Aᵀ
  loraScale(enc, u, R * r, s);
  if (ld === OC) {
    checkView('loraForward', y, R * OC);
    matmulTiled(enc, y, u, B, null, R, OC, r, { TRANS_B: true, ACCUMULATE: true }); // y += u Bᵀ
    return;
  }
  if (!delta) throw new Error('loraForward: a stacked output needs the delta scratch');
  checkView('loraForward', delta, R * OC);
  matmulTiled(enc, delta, u, B, null, R, OC, r, { TRANS_B: true });
  loraAddColumns(enc, y, delta, R, OC, col0, ld);
}

/**
 * The adapter's part of the backward, given dy, the gradient of the projection's output
 * (columns `cols` of an (R, ld) gradient): dB (OC, r) += dyᵀ u; du (R, r) = s·dy B (written,
 * scratch); dA (r, IC) += duᵀ x; dx (R, IC) += du A — after the base projection's backward wrote
 * dx = dy·Wᵀ. u as loraForward wrote it; `delta` (R, OC) is scratch for a stacked output.
 * Parameter gradients accumulate (+=), as every parameter gradient here.
 */
export function loraBackward(enc: StepEncoder, dx: View, dA: View, dB: View, du: View, delta: View | null, dy: View, x: View, u: View, A: View, B: View, R: number, IC: number, OC: number, r: number, s: number, cols?: LoraColumns): void {
  checkDims('loraBackward', { R, IC, OC, r });
  const { col0, ld } = columns('loraBackward', OC, cols);
  for (const [v, n] of [[dx, R * IC], [x, R * IC], [dA, r * IC], [A, r * IC], [dB, OC * r], [B, OC * r], [du, R * r], [u, R * r], [dy, R * ld]] as const) checkView('loraBackward', v, n);
  let g = dy;
  if (ld !== OC) {
    if (!delta) throw new Error('loraBackward: a stacked output needs the delta scratch');
    checkView('loraBackward', delta, R * OC);
    loraGatherColumns(enc, delta, dy, R, OC, col0, ld);
    g = delta;
  }
  matmulTiled(enc, dB, g, u, null, OC, r, R, { TRANS_A: true, ACCUMULATE: true }); // dB += gᵀ u
  matmulTiled(enc, du, g, B, null, R, r, OC, {}); // du = g B
  loraScale(enc, du, R * r, s);
  matmulTiled(enc, dA, du, x, null, r, IC, R, { TRANS_A: true, ACCUMULATE: true }); // dA += duᵀ x
  matmulTiled(enc, dx, du, A, null, R, IC, r, { ACCUMULATE: true }); // dx += du A
}
