// Argument checks shared by the kernel launchers: a launcher refuses a view too small for the
// dimensions it was given, or a dimension that is not a positive integer, before anything is
// dispatched (an out-of-range GPU write is silent).
import type { View } from '../engine/arena';

/** Throws unless `v` holds at least `n` elements (`what`: the unit in the message). */
export function checkView(kernel: string, v: View, n: number, what = 'elements'): void {
  if (v.length < n) throw new Error(`${kernel}: ${v.name} holds ${v.length} ${what}, needs ${n}`);
}

/** Throws unless every dimension is a positive integer. */
export function checkDims(kernel: string, dims: Record<string, number>): void {
  for (const [k, d] of Object.entries(dims)) {
    if (!Number.isInteger(d) || d <= 0) throw new Error(`${kernel}: ${k} = ${d} must be a positive integer`);
  }
}
