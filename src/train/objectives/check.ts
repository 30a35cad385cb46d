// Input validation for objective batches and options, and the output check that names the pairs
// whose loss or derivative is not finite (docs/design.md: stop at that step and name the pairs).
import type { PairBatch, UnpairedBatch, Vec } from './types';

/**
 * A log-prob sum may exceed 0 only by float32 rounding: at most this much per token. Anything
 * larger means the engine sent something that is not a log-probability.
 */
export const LOGP_SLACK_PER_TOKEN = 1e-4;

/** Bad input to an objective: names the objective, the pair (or example) index and the field. */
export class ObjectiveInputError extends Error {
  constructor(
    readonly objective: string,
    readonly index: number,
    readonly field: string,
    reason: string,
    unit = 'pair',
  ) {
    super(index >= 0 ? `${objective}: ${unit} ${index}: ${field} ${reason}` : `${objective}: ${field} ${reason}`);
    this.name = 'ObjectiveInputError';
  }
}

/** The loss or a derivative came out NaN/±Inf; `indices` are the offending pairs (or examples). */
export class ObjectiveNumericError extends Error {
  constructor(
    readonly objective: string,
    readonly indices: number[],
    what: string,
    unit = 'pair',
  ) {
    super(`${objective}: ${what} is not finite for ${unit}${indices.length === 1 ? '' : 's'} ${indices.join(', ')}`);
    this.name = 'ObjectiveNumericError';
  }
}

/** Bad objective option (β ≤ 0, ε out of range, unknown loss type...). */
export class ObjectiveOptionError extends Error {
  constructor(objective: string, option: string, reason: string) {
    super(`${objective}: option ${option} ${reason}`);
    this.name = 'ObjectiveOptionError';
  }
}

function describe(x: unknown): string {
  return typeof x === 'number' ? String(x) : typeof x;
}

class Checker {
  constructor(
    readonly objective: string,
    readonly n: number,
    readonly unit: string,
  ) {}

  array(field: string, v: Vec | ArrayLike<boolean> | undefined, why?: string): void {
    if (v === undefined || v === null) throw new ObjectiveInputError(this.objective, -1, field, `is missing${why ? ` (${why})` : ''}`, this.unit);
    if (typeof v.length !== 'number') throw new ObjectiveInputError(this.objective, -1, field, 'is not an array', this.unit);
    if (v.length !== this.n) throw new ObjectiveInputError(this.objective, -1, field, `has length ${v.length}, expected ${this.n}`, this.unit);
  }

  finite(field: string, v: Vec): void {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) throw new ObjectiveInputError(this.objective, i, field, `is ${describe(x)}, not a finite number`, this.unit);
    }
  }

  count(field: string, v: Vec, min: number): void {
    this.finite(field, v);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isInteger(v[i]) || v[i] < min) throw new ObjectiveInputError(this.objective, i, field, `is ${v[i]}, expected an integer ≥ ${min}`, this.unit);
    }
  }

  logp(field: string, v: Vec, tokens: Vec): void {
    this.finite(field, v);
    for (let i = 0; i < v.length; i++) {
      if (v[i] > LOGP_SLACK_PER_TOKEN * tokens[i]) throw new ObjectiveInputError(this.objective, i, field, `is ${v[i]} > 0: a sum of log-probabilities must be ≤ 0`, this.unit);
    }
  }
}

export interface PairNeeds {
  reference: boolean;
  nll: boolean;
}

/** Validates a PairBatch for an objective; returns N. */
export function checkPairBatch(objective: string, b: PairBatch, needs: PairNeeds): number {
  if (!b || !b.chosenLogp || typeof b.chosenLogp.length !== 'number') throw new ObjectiveInputError(objective, -1, 'chosenLogp', 'is missing');
  const n = b.chosenLogp.length;
  if (n < 1) throw new ObjectiveInputError(objective, -1, 'batch', 'is empty: at least one pair is needed');
  const c = new Checker(objective, n, 'pair');
  for (const f of ['chosenLogp', 'rejectedLogp', 'chosenLen', 'rejectedLen', 'chosenLogitSum', 'chosenLogitCount', 'rejectedLogitSum', 'rejectedLogitCount'] as const) c.array(f, b[f]);
  c.count('chosenLen', b.chosenLen, 1);
  c.count('rejectedLen', b.rejectedLen, 1);
  c.logp('chosenLogp', b.chosenLogp, b.chosenLen);
  c.logp('rejectedLogp', b.rejectedLogp, b.rejectedLen);
  c.finite('chosenLogitSum', b.chosenLogitSum);
  c.finite('rejectedLogitSum', b.rejectedLogitSum);
  c.count('chosenLogitCount', b.chosenLogitCount, 0);
  c.count('rejectedLogitCount', b.rejectedLogitCount, 0);
  if (needs.reference) {
    c.array('chosenRefLogp', b.chosenRefLogp, 'this method needs reference log-probs');
    c.array('rejectedRefLogp', b.rejectedRefLogp, 'this method needs reference log-probs');
    c.logp('chosenRefLogp', b.chosenRefLogp!, b.chosenLen);
    c.logp('rejectedRefLogp', b.rejectedRefLogp!, b.rejectedLen);
  }
  if (needs.nll) {
    c.array('chosenNllSum', b.chosenNllSum, 'this method has an NLL term');
    c.array('chosenNllCount', b.chosenNllCount, 'this method has an NLL term');
    c.count('chosenNllCount', b.chosenNllCount!, 1);
    c.logp('chosenNllSum', b.chosenNllSum!, b.chosenNllCount!);
  }
  return n;
}

/** Validates an UnpairedBatch; returns N. */
export function checkUnpairedBatch(objective: string, b: UnpairedBatch, needsKl: boolean): number {
  if (!b || !b.logp || typeof b.logp.length !== 'number') throw new ObjectiveInputError(objective, -1, 'logp', 'is missing', 'example');
  const n = b.logp.length;
  if (n < 1) throw new ObjectiveInputError(objective, -1, 'batch', 'is empty: at least one example is needed', 'example');
  const c = new Checker(objective, n, 'example');
  for (const f of ['logp', 'refLogp', 'len', 'desirable', 'logitSum', 'logitCount'] as const) c.array(f, b[f]);
  c.count('len', b.len, 1);
  c.logp('logp', b.logp, b.len);
  c.logp('refLogp', b.refLogp, b.len);
  c.finite('logitSum', b.logitSum);
  c.count('logitCount', b.logitCount, 0);
  for (let i = 0; i < n; i++) {
    if (typeof b.desirable[i] !== 'boolean') throw new ObjectiveInputError(objective, i, 'desirable', `is ${describe(b.desirable[i])}, expected true or false`, 'example');
  }
  if (needsKl) {
    const m = b.klLogp?.length ?? 0;
    if (m < 1) throw new ObjectiveInputError(objective, -1, 'klLogp', 'is missing or empty (the KL estimate needs mismatched pairs)', 'example');
    const k = new Checker(objective, m, 'KL sequence');
    k.array('klRefLogp', b.klRefLogp);
    k.finite('klLogp', b.klLogp!);
    k.finite('klRefLogp', b.klRefLogp!);
  }
  return n;
}

/** Throws ObjectiveNumericError naming every index i where some of the arrays is not finite at i. */
export function checkFinite(objective: string, loss: number, perIndex: Float64Array[], unit = 'pair'): void {
  const bad: number[] = [];
  const n = perIndex[0]?.length ?? 0;
  for (let i = 0; i < n; i++) {
    if (perIndex.some((a) => !Number.isFinite(a[i]))) bad.push(i);
  }
  if (bad.length > 0) throw new ObjectiveNumericError(objective, bad, 'the loss or its derivative', unit);
  if (!Number.isFinite(loss)) throw new ObjectiveNumericError(objective, Array.from({ length: n }, (_, i) => i), 'the batch loss', unit);
}

export function requirePositive(objective: string, option: string, x: number): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw new ObjectiveOptionError(objective, option, `is ${describe(x)}, expected a finite number > 0`);
  return x;
}

export function requireNonNegative(objective: string, option: string, x: number): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) throw new ObjectiveOptionError(objective, option, `is ${describe(x)}, expected a finite number ≥ 0`);
  return x;
}

/** lo ≤ x < hi. */
export function requireInRange(objective: string, option: string, x: number, lo: number, hi: number): number {
  if (typeof x !== 'number' || !Number.isFinite(x) || x < lo || x >= hi) throw new ObjectiveOptionError(objective, option, `is ${describe(x)}, expected ${lo} ≤ value < ${hi}`);
  return x;
}
