import { describe, expect, it } from 'vitest';
import { explorerCurves, exploreFormulas } from '../../src/train/objectives/explorer';

describe('explorerCurves', () => {
  const input = { pChosen: 0.8, pRejected: 0.2, beta: 0.1, lambda: 0.1 };
  it('sweeps P(chosen) from 0.01 to 0.99 with the other inputs held', () => {
    const c = explorerCurves(input, 'chosen', 50);
    expect(c).toHaveLength(50);
    expect(c[0].p).toBe(0.01);
    expect(c[49].p).toBe(0.99);
    for (const pt of c) {
      const r = exploreFormulas({ ...input, pChosen: pt.p });
      expect(pt.dpoLoss).toBe(r.dpo.loss);
      expect(pt.orpoLoss).toBe(r.orpo.loss);
      expect(pt.dpoGrad).toBe(r.dpo.dLogpChosen);
      expect(pt.orpoGrad).toBe(r.orpo.dLogpChosen);
    }
    // a likelier chosen answer lowers both losses
    expect(c[49].dpoLoss).toBeLessThan(c[0].dpoLoss);
    expect(c[49].orpoLoss).toBeLessThan(c[0].orpoLoss);
  });
  it('sweeps P(rejected) with the rejected gradients', () => {
    const c = explorerCurves(input, 'rejected', 11);
    const r = exploreFormulas({ ...input, pRejected: c[5].p });
    expect(c[5].dpoGrad).toBe(r.dpo.dLogpRejected);
    expect(c[5].orpoGrad).toBe(r.orpo.dLogpRejected);
    expect(c[10].dpoLoss).toBeGreaterThan(c[0].dpoLoss);
  });
  it('refuses fewer than two points', () => {
    expect(() => explorerCurves(input, 'chosen', 1)).toThrow(/n is 1/);
  });
});
