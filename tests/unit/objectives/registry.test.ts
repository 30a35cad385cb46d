// The registry, the exact metric names of every method (docs/objectives.md / TRL), and the errors bad
// input and bad options produce.
import { describe, expect, it } from 'vitest';
import { createObjective, methodDescriptor, METHODS, ObjectiveInputError, ObjectiveNumericError, type PairBatch, type PairObjective } from '../../../src/train/objectives';
import { Rng } from '../../../src/util/rng';
import { randomPairs, type PairFixture } from './fixtures';

const SHARED = ['logps_avg/chosen', 'logps_avg/rejected', 'margins_avg', 'logps_sum/chosen', 'logps_sum/rejected', 'margins_sum'];
const BASE = ['loss', 'rewards/chosen', 'rewards/rejected', 'rewards/margins', 'rewards/accuracies', 'logps/chosen', 'logps/rejected', 'logits/chosen', 'logits/rejected', 'log_odds/chosen', 'log_odds/rejected', ...SHARED];

const pair = (spec: Parameters<typeof createObjective>[0]) => createObjective(spec) as PairObjective;

describe('metric names', () => {
  const b = randomPairs(new Rng(3), 4);
  it.each([
    ['dpo', pair({ method: 'dpo' }), BASE],
    ['dpo sigmoid+sft', pair({ method: 'dpo', lossType: ['sigmoid', 'sft'], lossWeights: [1, 1] }), BASE],
    ['orpo', pair({ method: 'orpo' }), [...BASE, 'nll_loss', 'log_odds_ratio', 'log_odds_chosen']],
    ['simpo', pair({ method: 'simpo' }), [...BASE, 'nll_loss']],
    ['cpo', pair({ method: 'cpo' }), [...BASE, 'nll_loss']],
    ['sft', pair({ method: 'sft' }), ['loss', 'logps/chosen', 'logps/rejected', 'logits/chosen', 'logits/rejected', 'log_odds/chosen', 'log_odds/rejected', ...SHARED]],
  ])('%s reports exactly its TRL names', (_name, obj, names) => {
    const res = obj.compute(b);
    expect(Object.keys(res.metrics)).toEqual(names);
    expect([...obj.metricNames]).toEqual(names);
    expect(res.metrics.loss).toBe(res.loss);
    for (const v of Object.values(res.metrics)) expect(Number.isFinite(v)).toBe(true);
  });
});

describe('registry', () => {
  it('has one entry per method, and createObjective builds each with its declared needs', () => {
    expect(new Set(METHODS).size).toBe(METHODS.length);
    for (const m of METHODS) {
      const obj = createObjective({ method: m });
      expect(obj.method).toBe(m);
      expect(obj.needsReference).toBe(methodDescriptor(m).needsReference);
      const d = methodDescriptor(m);
      // prompts: GRPO/RLOO ('online') or PPO ('ppo', its own trainer with a value model)
      expect(d.head === 'score' ? ['score'] : d.data === 'prompts' ? ['online', 'ppo'] : [d.data === 'pairs' ? 'pair' : 'unpaired']).toContain(obj.kind);
    }
  });

  it('rejects unknown methods, loss types and options, and bad values, by name', () => {
    expect(() => createObjective({ method: 'rlhf' } as never)).toThrow(/method "rlhf" is unknown; expected one of dpo, orpo/);
    expect(() => createObjective({ method: 'dpo', lossType: 'sigmoidd' as never })).toThrow(/lossType "sigmoidd" is unknown/);
    expect(() => createObjective({ method: 'orpo', simpoGamma: 1 } as never)).toThrow(/orpo: option simpoGamma is not an option of orpo/);
    expect(() => createObjective({ method: 'dpo', beta: 0 })).toThrow(/dpo: option beta must be > 0, got 0/);
    expect(() => createObjective({ method: 'dpo', lossType: 'robust', labelSmoothing: 0.5 })).toThrow(/labelSmoothing is 0.5/);
    expect(() => createObjective({ method: 'dpo', lossType: ['sigmoid', 'sft'], lossWeights: [1] })).toThrow(/has 1 weight for 2 loss types/);
    expect(() => createObjective({ method: 'kto', lossType: 'bco' as never })).toThrow(/lossType "bco" is unknown/);
  });
});

describe('bad input names the pair and the field', () => {
  const good = (): PairFixture => randomPairs(new Rng(11), 4);

  it.each([
    ['chosenLogp', NaN, 2, /dpo: pair 2: chosenLogp is NaN, not a finite number/],
    ['rejectedRefLogp', Infinity, 1, /dpo: pair 1: rejectedRefLogp is Infinity, not a finite number/],
    ['rejectedLogp', -Infinity, 3, /dpo: pair 3: rejectedLogp is -Infinity/],
    ['chosenLen', 0, 0, /dpo: pair 0: chosenLen is 0, expected an integer ≥ 1/],
    ['chosenLogp', 0.5, 1, /dpo: pair 1: chosenLogp is 0.5 > 0: a sum of log-probabilities must be ≤ 0/],
  ])('%s = %s at pair %i', (field, value, i, msg) => {
    const b = good();
    b[field as keyof PairFixture][i] = value;
    const dpo = createObjective({ method: 'dpo' }) as PairObjective;
    expect(() => dpo.compute(b)).toThrow(ObjectiveInputError);
    expect(() => dpo.compute(b)).toThrow(msg);
  });

  it('a NaN NLL sum in ORPO names the pair', () => {
    const b = good();
    b.chosenNllSum[3] = NaN;
    expect(() => (createObjective({ method: 'orpo' }) as PairObjective).compute(b)).toThrow(/orpo: pair 3: chosenNllSum is NaN/);
  });

  it('missing reference or mismatched lengths are named', () => {
    const b = good();
    const { chosenRefLogp: _omit, ...noRef } = b;
    expect(() => (createObjective({ method: 'dpo' }) as PairObjective).compute(noRef as PairBatch)).toThrow(/dpo: chosenRefLogp is missing \(this method needs reference log-probs\)/);
    b.rejectedLen = [3, 4];
    expect(() => (createObjective({ method: 'cpo' }) as PairObjective).compute(b)).toThrow(/cpo: rejectedLen has length 2, expected 4/);
  });

  it('an empty batch is an error', () => {
    const empty = { chosenLogp: [], rejectedLogp: [], chosenLen: [], rejectedLen: [], chosenLogitSum: [], chosenLogitCount: [], rejectedLogitSum: [], rejectedLogitCount: [] };
    expect(() => (createObjective({ method: 'sft' }) as PairObjective).compute(empty)).toThrow(/sft: batch is empty/);
  });

  it('KTO names the example', () => {
    const b = { logp: [-1, NaN], refLogp: [-1, -1], len: [1, 2], desirable: [true, false], logitSum: [0, 0], logitCount: [1, 2], klLogp: [-1], klRefLogp: [-1] };
    const kto = createObjective({ method: 'kto' });
    if (kto.kind !== 'unpaired') throw new Error('kto must be unpaired');
    expect(() => kto.compute(b)).toThrow(/kto: example 1: logp is NaN/);
  });

  it('a loss that overflows names the pair (discopop e^{−z} at a huge negative margin)', () => {
    const b = good();
    b.chosenRefLogp[2] = 0;
    b.chosenLogp[2] = -9000;
    const obj = createObjective({ method: 'dpo', lossType: 'discopop' }) as PairObjective;
    expect(() => obj.compute(b)).toThrow(ObjectiveNumericError);
    expect(() => obj.compute(b)).toThrow(/dpo: the loss or its derivative is not finite for pair 2$/);
  });
});
