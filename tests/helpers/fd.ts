// Central finite differences of a scalar function with respect to every entry of x (in place:
// each entry is nudged by ±h and restored). The reference backwards are checked against this.
export function centralDiff(x: Float64Array, f: () => number, h = 1e-6): Float64Array {
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const old = x[i];
    x[i] = old + h;
    const up = f();
    x[i] = old - h;
    const down = f();
    x[i] = old;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}
