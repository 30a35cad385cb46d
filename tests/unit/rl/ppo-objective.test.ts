// PPO's registry entry (src/train/objectives/ppo.ts): TRL PPOConfig's defaults, the CLI flags and
// their validation by flag name, and the objective's steps equal the host math they wrap
// (src/train/rl/ppo.ts, itself checked against TRL's code) with TRL's stop_token='eos'. Also the
// reward-model source's checks (src/train/reward-source.ts, src/cli/reward-model-arg.ts).
import { describe, expect, it } from 'vitest';
import { objectiveFromFlags } from '../../../src/cli/method-flags';
import { rewardModelName, tokenizerProblem } from '../../../src/cli/reward-model-arg';
import { presetConfig } from '../../../src/model/config';
import { rewardConfig } from '../../../src/model/reward';
import { createObjective, PPO_STEP_METRICS, type PpoObjective } from '../../../src/train/objectives';
import { PPO_DEFAULTS, PPO_METRICS, ppoMetrics, ppoMicroBatch, ppoMicroLoss, ppoRollout } from '../../../src/train/rl/ppo';
import { rewardModelProblem } from '../../../src/train/reward-source';
import type { Tokenizer } from '../../../src/tokenizer/types';

const EOS = 9;
const expectCloseTo = (got: number[], want: number[]) => got.forEach((x, i) => expect(x).toBeCloseTo(want[i], 12));

describe('ppo flags', () => {
  it('default to TRL PPOConfig (kl_coef 0.05, cliprange 0.2 / 0.2, vf_coef 0.1, γ 1, λ 0.95, 4 epochs, T 0.7, 53 tokens, k1, no missing-EOS penalty)', () => {
    const o = createObjective(objectiveFromFlags({ method: 'ppo' })) as PpoObjective;
    expect(o.kind).toBe('ppo');
    expect(o.generation).toEqual({ numGenerations: 1, maxNewTokens: PPO_DEFAULTS.responseLength, temperature: PPO_DEFAULTS.temperature, topK: 0, topP: 1 });
    expect([o.numPpoEpochs, o.numMiniBatches]).toEqual([PPO_DEFAULTS.numPpoEpochs, PPO_DEFAULTS.numMiniBatches]);
    expect(objectiveFromFlags({ method: 'ppo' })).toEqual({ method: 'ppo', maxNewTokens: 53, temperature: 0.7, klCoef: 0.05, klEstimator: 'k1', cliprange: 0.2, cliprangeValue: 0.2, vfCoef: 0.1, gamma: 1, lam: 0.95, whitenRewards: false, numPpoEpochs: 4, numMiniBatches: 1, missingEosPenalty: 0 });
    expect(o.metricNames).toEqual(PPO_STEP_METRICS);
    for (const k of PPO_METRICS) expect(o.metricNames).toContain(k);
  });

  it('take --kl-coef, --ppo-epochs, --cliprange-value, --vf-coef, --kl-estimator, --whiten-rewards, --missing-eos-penalty', () => {
    const spec = objectiveFromFlags({ method: 'ppo', 'kl-coef': '0.1', 'ppo-epochs': '2', 'cliprange-value': '0.3', 'vf-coef': '0.5', 'kl-estimator': 'k3', 'whiten-rewards': true, 'missing-eos-penalty': '1', 'max-new-tokens': '8', temperature: '1' });
    expect(spec).toMatchObject({ klCoef: 0.1, numPpoEpochs: 2, cliprangeValue: 0.3, vfCoef: 0.5, klEstimator: 'k3', whitenRewards: true, missingEosPenalty: 1, maxNewTokens: 8, temperature: 1 });
  });

  it('refuse bad values by flag, and flags of other methods', () => {
    expect(() => objectiveFromFlags({ method: 'ppo', 'ppo-epochs': '0' })).toThrow(/--ppo-epochs: .*numPpoEpochs must be ≥ 1/);
    expect(() => objectiveFromFlags({ method: 'ppo', 'num-mini-batches': '1.5' })).toThrow(/--num-mini-batches: .*whole number/);
    expect(() => objectiveFromFlags({ method: 'ppo', 'kl-coef': '-1' })).toThrow(/--kl-coef: .*klCoef must be ≥ 0/);
    expect(() => objectiveFromFlags({ method: 'ppo', 'kl-estimator': 'k2' })).toThrow(/--kl-estimator: .*"k2" is unknown/);
    expect(() => objectiveFromFlags({ method: 'ppo', 'num-generations': '4' })).toThrow(/--num-generations applies to --method grpo, rloo only/);
    expect(() => objectiveFromFlags({ method: 'grpo', 'ppo-epochs': '2' })).toThrow(/--ppo-epochs applies to --method ppo only/);
  });
});

describe('the objective wraps the host math with stop_token = eos', () => {
  // docs/rlhf.md's worked example: response [5, EOS, PAD], kl_coef 0.1, PAD = 0
  const input = { B: 1, T: 3, responses: [5, EOS, 0], logprobs: [-1, -2, -3], refLogprobs: [-1.5, -1, -2], values: [0.5, 0.2, 0.1], scores: [2] };

  it('rollout = ppoRollout(…, stopTokenId = eos) with the options; the worked example', () => {
    const o = createObjective({ method: 'ppo', klCoef: 0.1 }) as PpoObjective;
    const got = o.rollout(input, { eosId: EOS, padId: 0 });
    const want = ppoRollout(input, { eosId: EOS, padId: 0, stopTokenId: EOS, klCoef: 0.1 });
    expect(got).toEqual(want);
    expectCloseTo(Array.from(got.rewards), [-0.05, 0.1, 2]);
    expect(got.advantages[0]).toBeCloseTo(-Math.SQRT1_2, 6);
    expect(got.advantages[1]).toBeCloseTo(Math.SQRT1_2, 6);
  });

  it('cuts after the first end-of-text (pad ≠ eos): later tokens become padding', () => {
    const o = createObjective({ method: 'ppo' }) as PpoObjective;
    const r = o.rollout({ ...input, responses: [5, EOS, 6], values: [0.5, 0.2, 0.1] }, { eosId: EOS, padId: 0 });
    expect(Array.from(r.postprocessed)).toEqual([5, EOS, 0]);
    expect(Array.from(r.responseMask)).toEqual([1, 1, 0]);
  });

  it('missing-EOS penalty: 0 is TRL\'s None; 1 lowers the score of a response without end-of-text', () => {
    const noEos = { ...input, responses: [5, 6, 7] };
    const none = (createObjective({ method: 'ppo' }) as PpoObjective).rollout(noEos, { eosId: EOS, padId: 0 });
    const one = (createObjective({ method: 'ppo', missingEosPenalty: 1 }) as PpoObjective).rollout(noEos, { eosId: EOS, padId: 0 });
    expect(none.scores[0]).toBe(2);
    expect(one.scores[0]).toBe(1);
    expect(one.metrics['objective/scores']).toBe(1);
  });

  it('microLoss = ppoMicroLoss with cliprange, cliprange_value, vf_coef and gradAccum; metrics = ppoMetrics', () => {
    const o = createObjective({ method: 'ppo', cliprange: 0.1, cliprangeValue: 0.05, vfCoef: 0.3 }) as PpoObjective;
    const r = o.rollout(input, { eosId: EOS, padId: 0 });
    const mb = ppoMicroBatch(r, [0], { newLogprobs: [-0.8, -2.5, 0], vpred: [0.7, 0.1, 0], entropies: [1, 2, 3] });
    const got = o.microLoss(mb, 2);
    const want = ppoMicroLoss(mb, { cliprange: 0.1, cliprangeValue: 0.05, vfCoef: 0.3, gradAccum: 2 });
    expect(got).toEqual(want);
    expect(o.metrics(r, [got.stats, want.stats])).toEqual(ppoMetrics(r, [got.stats, want.stats]));
  });
});

describe('reward model as a source', () => {
  const policy = { ...presetConfig('tiny'), vocabSize: 10, eosTokenId: EOS, bosTokenId: EOS };

  it('refuses a causal LM, another vocabulary or another end-of-text id, naming it', () => {
    expect(rewardModelProblem(policy, policy)).toMatch(/not a reward model/);
    expect(rewardModelProblem(policy, rewardConfig(policy))).toBeNull();
    expect(rewardModelProblem(policy, rewardConfig({ ...policy, vocabSize: 12 }))).toMatch(/12 tokens and the policy's 10.*policy's tokenizer/);
    expect(rewardModelProblem(policy, rewardConfig({ ...policy, eosTokenId: 3 }))).toMatch(/end-of-text id is 3 and the policy's 9/);
  });

  it('compares tokenizers by kind, size, special ids and the encoding of a probe text', () => {
    const tok = (over: Partial<Tokenizer> = {}): Tokenizer => ({ kind: 'hf', vocabSize: 10, eosTokenId: EOS, bosTokenId: EOS, encode: (s) => Array.from(s, (c) => c.charCodeAt(0) % 9), decode: () => '', ...over });
    expect(tokenizerProblem(tok(), tok())).toBeNull();
    expect(tokenizerProblem(tok(), tok({ kind: 'byte' }))).toMatch(/byte tokenizer/);
    expect(tokenizerProblem(tok(), tok({ vocabSize: 11 }))).toMatch(/11 tokens and the policy's 10/);
    expect(tokenizerProblem(tok(), tok({ bosTokenId: 1 }))).toMatch(/begin ids/);
    expect(tokenizerProblem(tok(), tok({ encode: (s) => Array.from(s, () => 1) }))).toMatch(/encodes text differently/);
  });

  it('is named as TRL names it: the folder (a run\'s DIR/model: the run\'s DIR), or the Hub repo', () => {
    expect(rewardModelName('runs/rm/model')).toBe('rm');
    expect(rewardModelName('models/my-rm')).toBe('my-rm');
    expect(rewardModelName('hf:OpenAssistant/reward-model-deberta@main')).toBe('reward-model-deberta');
  });
});
