// A method card trains exactly what the CLI's flags train: the same objective values and
// derivatives on random batches, for every card method and DPO loss type.
import { describe, it, expect } from 'vitest';
import { cardProblems, objectiveOf, newCard, runLabels, METHOD_PRESETS as PRESETS, type MethodCard } from '../../../src/store/presets';
import { objectiveFromOptions } from '../../../src/cli/commands/train';
import { createObjective, DPO_LOSS_TYPES, methodDescriptor, type PairObjective } from '../../../src/train/objectives';
import { Rng } from '../../../src/util/rng';
import { freshSeed } from '../../helpers/close';

/** The CLI flags that say what the card says, from the registry's flag names. */
function flags(c: MethodCard): Record<string, unknown> {
  const f: Record<string, unknown> = { method: c.method };
  for (const o of methodDescriptor(c.method).options) {
    const v = c.values[o.key];
    if (v === undefined) continue;
    if (o.kind === 'boolean') f[o.cli] = v !== o.default;
    else f[o.cli] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return f;
}

function batch(rng: Rng, n: number) {
  const lens = () => Array.from({ length: n }, () => 1 + rng.int(9));
  const [lw, ll] = [lens(), lens()];
  const logp = (l: number[]) => l.map((k) => -k * rng.uniform(0.2, 3));
  return {
    chosenLogp: logp(lw), rejectedLogp: logp(ll), chosenRefLogp: logp(lw), rejectedRefLogp: logp(ll), chosenLen: lw, rejectedLen: ll,
    chosenLogitSum: lw.map(() => rng.uniform(-1, 1)), chosenLogitCount: lw, rejectedLogitSum: ll.map(() => rng.uniform(-1, 1)), rejectedLogitCount: ll,
    chosenNllSum: lw.map((k) => -(k + 3) * rng.uniform(0.5, 2)), chosenNllCount: lw.map((k) => k + 3),
  };
}

describe('method cards', () => {
  const cards: MethodCard[] = [
    ...DPO_LOSS_TYPES.map((t) => newCard('dpo', { lossType: t, beta: 0.3, labelSmoothing: t === 'robust' || t === 'exo_pair' ? 0.1 : 0 })),
    newCard('orpo', { beta: 0.25 }),
    newCard('orpo', { beta: 0.25, nllIncludesPrompt: false }),
    newCard('simpo', { beta: 2, simpoGamma: 0.7, cpoAlpha: 0.3 }),
    newCard('cpo', { beta: 0.2, cpoAlpha: 1.5 }),
    newCard('sft'),
  ];
  it('compute what the CLI computes for the same values', () => {
    const seed = freshSeed();
    const rng = new Rng(seed);
    for (const c of cards) {
      const page = createObjective(objectiveOf(c)) as PairObjective;
      const cli = createObjective(objectiveFromOptions(flags(c))) as PairObjective;
      expect(page.nll, c.id).toBe(cli.nll);
      const b = batch(rng, 5);
      const [p, q] = [page.compute(b), cli.compute(b)];
      expect(p.loss, `${c.id} seed=${seed}`).toBe(q.loss);
      expect(p.metrics, c.id).toEqual(q.metrics);
      expect([...p.dChosenLogp, ...p.dRejectedLogp, ...p.dChosenNllSum], c.id).toEqual([...q.dChosenLogp, ...q.dRejectedLogp, ...q.dChosenNllSum]);
    }
  });

  it('label runs so they can be told apart', () => {
    expect(runLabels(PRESETS['dpo-vs-orpo'].cards())).toEqual(['DPO', 'ORPO']);
    expect(runLabels(PRESETS['dpo-loss-types'].cards())).toEqual(['DPO sigmoid', 'DPO ipo', 'DPO hinge', 'DPO robust']);
    expect(runLabels(PRESETS['orpo-lambda'].cards())).toEqual(['ORPO λ=0.05', 'ORPO λ=0.1', 'ORPO λ=0.5', 'ORPO λ=1']);
    expect(runLabels([newCard('dpo'), newCard('dpo', { beta: 0.5 }), newCard('orpo')])).toEqual(['DPO β=0.1', 'DPO β=0.5', 'ORPO']);
  });

  it('name a bad value by the label the card shows', () => {
    expect(cardProblems(newCard('orpo'))).toEqual([]);
    expect(cardProblems(newCard('orpo', { beta: -1 }))).toEqual(['λ must be > 0, got -1']);
    expect(cardProblems(newCard('dpo', { lossType: 'robust', labelSmoothing: 0.7 }))).toEqual(['ε is 0.7, expected 0 ≤ value < 0.5']);
    expect(cardProblems(newCard('simpo', { simpoGamma: -2 }))).toEqual(['γ must be ≥ 0, got -2']);
  });
});
