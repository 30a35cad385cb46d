// Guards explained (README.md): when a run stops on a non-finite value, which value it was, the
// examples involved with their per-token log-probs under the weights of the failing update, and
// which term of the objective overflows there. The classic case is ORPO's log(1 − e^A): as the
// per-token average log-prob A of an answer reaches 0 (every token has probability ≈ 1), the term
// is log(0) = −∞ and its derivative 1/(1 − e^A) blows up; TRL's ORPOTrainer then returns NaN,
// PrefPlay clamps A at MAX_AVG_LOGP (math.ts). Pure functions of numbers read back from the GPU.
import { MAX_AVG_LOGP } from './math';
import type { MethodSpec as ObjectiveSpec } from './registry';

/** A per-token log-prob above this (probability > 0.999) counts as "near 0". */
export const NEAR_ZERO_LOGP = -1e-3;

/** One completion of an example as the model read it when the guard fired. */
export interface NanSideInput {
  /** 'chosen' / 'rejected' for pairs; 'desirable' / 'undesirable' for KTO's unpaired examples. */
  label: string;
  /** Each completion token as text, and its log-prob log π(y_t | x, y_<t) under the failing weights. */
  tokens: string[];
  logps: number[];
  /** S_ref, for methods with a reference. */
  ref?: number;
}

export interface NanExampleInput {
  index: number;
  line?: number;
  prompt: string;
  sides: NanSideInput[];
}

export interface NanSide extends NanSideInput {
  /** S = Σ log-probs, A = S/|y|. */
  sum: number;
  avg: number;
  /** Tokens whose log-prob is near 0 (> NEAR_ZERO_LOGP) or not finite. */
  nearZero: number;
  nonFinite: number;
  /** log(1 − e^A) without the clamp: −∞ at A = 0. */
  log1mexp: number;
}

export interface NanExample extends Omit<NanExampleInput, 'sides'> {
  sides: NanSide[];
}

export type NanQuantity = 'log-probs' | 'loss' | 'gradient norm' | 'objective';

export interface NanReport {
  step: number;
  method: string;
  /** What the guard found not finite. */
  quantity: NanQuantity;
  /** The guard's own message (naming the file lines). */
  message: string;
  /** Plain sentences: which term overflowed and what to do. */
  explanation: string[];
  examples: NanExample[];
}

/** The guard's subject, from its message (src/train/trainer.ts check and objectiveResult). */
export function nanQuantity(message: string): NanQuantity {
  const m = /non-finite (log-probs|loss|gradient norm)\b/.exec(message);
  return m ? (m[1] as NanQuantity) : 'objective';
}

/** log(1 − e^A), unguarded. */
const rawLog1mexp = (A: number) => (A < -Math.LN2 ? Math.log1p(-Math.exp(A)) : Math.log(-Math.expm1(A)));

function side(s: NanSideInput): NanSide {
  let sum = 0;
  let nearZero = 0;
  let nonFinite = 0;
  for (const v of s.logps) {
    sum += v;
    if (!Number.isFinite(v)) nonFinite++;
    else if (v > NEAR_ZERO_LOGP) nearZero++;
  }
  const avg = s.logps.length ? sum / s.logps.length : NaN;
  return { ...s, sum, avg, nearZero, nonFinite, log1mexp: Number.isFinite(avg) ? rawLog1mexp(Math.min(avg, 0)) : NaN };
}

const fmt = (x: number) => (x === 0 ? '0' : Number.isFinite(x) ? (Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? x.toFixed(4) : x.toExponential(2)) : String(x));
const where = (e: NanExample) => (e.line !== undefined ? `line ${e.line}` : `example ${e.index}`);

/** Which term overflowed, in words, from the examples' per-token log-probs and the method. */
export function explainNan(spec: ObjectiveSpec, message: string, step: number, inputs: readonly NanExampleInput[]): NanReport {
  const quantity = nanQuantity(message);
  const examples: NanExample[] = inputs.map((e) => ({ ...e, sides: e.sides.map(side) }));
  const all = examples.flatMap((e) => e.sides.map((s) => ({ e, s })));
  const out: string[] = [];
  const broken = all.find(({ s }) => s.nonFinite > 0);
  const saturated = all.filter(({ s }) => s.avg >= MAX_AVG_LOGP);
  const steep = all.filter(({ s }) => s.avg > NEAR_ZERO_LOGP && s.avg < MAX_AVG_LOGP);
  if (broken) {
    const k = broken.s.logps.findIndex((v) => !Number.isFinite(v));
    out.push(`The forward pass itself gave a non-finite log-prob (${where(broken.e)}, ${broken.s.label} token ${k + 1} “${broken.s.tokens[k]}”: ${broken.s.logps[k]}): the logits overflowed float32, so the weights have diverged. No objective term is to blame; lower the learning rate, keep gradient clipping on (max grad norm 1) or use a warmup.`);
  }
  if (spec.method === 'orpo' && (saturated.length || steep.length)) {
    for (const { e, s } of saturated) {
      out.push(`ORPO's odds term needs log(1 − e^A) of each answer's per-token average log-prob A. For the ${s.label} answer of ${where(e)}, A = ${fmt(s.avg)} (${s.nearZero} of ${s.tokens.length} tokens have probability above 0.999), so log(1 − e^A) = ${fmt(s.log1mexp)}: this is the overflow TRL's ORPOTrainer reports as NaN. PrefPlay clamps A at ${MAX_AVG_LOGP}, where the term stops moving.`);
    }
    for (const { e, s } of steep) {
      out.push(`The ${s.label} answer of ${where(e)} has A = ${fmt(s.avg)}, close to 0: ORPO's gradient carries the factor 1/(1 − e^A) ≈ ${fmt(1 / -Math.expm1(s.avg))} on every one of its tokens, which is how a confident answer makes the gradient overflow.`);
    }
  } else if (saturated.length && !broken) {
    const { e, s } = saturated[0];
    out.push(`The ${s.label} answer of ${where(e)} has per-token log-probs at 0 (A = ${fmt(s.avg)}): the model is certain of it, so log(1 − e^A) = ${fmt(s.log1mexp)} (the log-odds curves clamp it).`);
  }
  if (!broken) {
    if (quantity === 'gradient norm') out.push('The gradient norm overflowed float32 (above 3.4e38) in the backward pass of these examples: an update that large would destroy the weights, so the run stopped before applying it. Lower the learning rate or β, or check the examples below.');
    else if (quantity === 'objective' || quantity === 'loss') out.push(`The ${spec.method} loss or its derivative was not finite for these examples although their log-probs were finite: a term of the objective overflowed at these log-prob sums (see the sums and the reference sums below).`);
    else if (quantity === 'log-probs') out.push('The log-prob sums were not finite although no single token is: the sum overflowed. Lower the learning rate.');
  }
  return { step, method: spec.method, quantity, message, explanation: out, examples };
}
