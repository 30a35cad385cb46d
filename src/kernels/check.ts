// Argument checks shared by the kernel launchers: a launcher refuses a view too small for the
// dimensions it was given, or a dimension that is not a positive integer, before anything is
// dispatched (an out-of-range GPU write is silent).
import { rowParts, type RowPart, type Rows, type View } from '../engine/arena';

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

/**
 * A (rows, C) matrix as row parts (src/engine/arena.ts): checks that they cover rows 0, 1, … in
 * order with no gap and that each view holds its rows; returns them and the total row count.
 */
export function checkRowParts(kernel: string, w: Rows, C: number): { parts: readonly RowPart[]; rows: number } {
  const parts = rowParts(w, C);
  let next = 0;
  for (const p of parts) {
    if (p.row0 !== next || !Number.isInteger(p.rows) || p.rows <= 0) throw new Error(`${kernel}: ${p.view.name} holds rows [${p.row0}, ${p.row0 + p.rows}), expected rows from ${next}`);
    checkView(kernel, p.view, p.rows * C);
    next += p.rows;
  }
  return { parts, rows: next };
}
