// Python literals for the generated TRL scripts (trl-script.ts, trl-online.ts): `{ float }` marks
// a float so `1` prints as `1.0`; plain numbers must be integers (TRL's int fields).
import type { PyValue } from '../train/objectives';

export type Py = PyValue;

export const fl = (x: number): Py => ({ float: x });

export function py(v: Py): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`TRL script: ${v} is not an integer`);
    return String(v);
  }
  if (!Number.isFinite(v.float)) throw new Error(`TRL script: ${v.float} is not a finite number`);
  return Number.isInteger(v.float) ? `${v.float}.0` : String(v.float);
}
