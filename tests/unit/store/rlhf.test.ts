// The page's RLHF half (issue 16): which charts show for which runs (online and offline side by
// side, no chart of metrics no run's method logs, no run in a chart of another method's metric of
// the same name), the reward model's accuracy in the Reward accuracy chart, the cards' URL tokens
// for reward, grpo and rloo, and the samples-over-steps state (engine rollouts → the table).
import { describe, it, expect } from 'vitest';
import { chartData, chartDefs, chartPlotsRun, visibleCharts } from '../../../src/ui/charts/series';
import { CARD_METHODS, cardKey, methodOfRunId, newCard, runMethod } from '../../../src/store/presets';
import { decodeConfig, encodeConfig, parseCardToken } from '../../../src/store/url';
import { DEFAULT_SETTINGS } from '../../../src/store/settings';
import { reduceEvents, type EventState, type RunView } from '../../../src/store/events';
import { addRollouts, rewardText, rewindRollouts, rolloutRows } from '../../../src/store/samples';
import { isRolloutStep, rolloutsAt, ROLLOUT_ROWS } from '../../../src/worker/sampler';
import { arithmeticJudge } from '../../../src/judge';
import type { Method } from '../../../src/train/objectives';
import type { RolloutsAtStep } from '../../../src/worker/protocol';
import type { OnlineSample } from '../../../src/train/online-trainer';

const view = (id: string, method: Method | undefined, train: RunView['train'] = [], evalRows: RunView['eval'] = []): RunView => ({ id, method, label: id.toUpperCase(), color: '#000', status: 'running', step: train.length, total: 10, checkpointStep: 0, train, eval: evalRows });
const ids = (runs: RunView[]) => visibleCharts(chartDefs(), runs).map((d) => d.id);
const def = (id: string) => chartDefs().find((d) => d.id === id)!;

describe('charts for online and offline runs', () => {
  it('shows each chart only for comparisons with a method that logs its metrics', () => {
    const offline = ['loss', 'logps', 'log-odds', 'margins', 'accuracy', 'nll', 'grad-norm', 'tokens'];
    expect(ids([view('dpo-sigmoid-0.1', 'dpo'), view('orpo-0.1', 'orpo')])).toEqual(offline);
    // GRPO alone: no chosen/rejected charts, the reward, KL and length charts instead
    expect(ids([view('grpo-arithmetic', 'grpo')])).toEqual(['loss', 'reward', 'kl-ref', 'completion-length', 'grad-norm', 'tokens']);
    // the reward model alone: its accuracy and margin
    expect(ids([view('reward', 'reward')])).toEqual(['loss', 'accuracy', 'rm-margin', 'grad-norm', 'tokens']);
    expect(ids([view('grpo-arithmetic', 'grpo'), view('reward', 'reward'), view('dpo-sigmoid-0.1', 'dpo')])).toEqual(['loss', 'reward', 'kl-ref', 'logps', 'log-odds', 'margins', 'accuracy', 'rm-margin', 'nll', 'completion-length', 'grad-norm', 'tokens']);
    // KTO's kl chart only with a KTO run
    expect(ids([view('kto-0.1', 'kto')])).toContain('kl');
    expect(ids([view('grpo-arithmetic', 'grpo')])).not.toContain('kl');
  });

  it('shows PPO’s charts for a PPO run, or once a run of unknown method logs their metrics', () => {
    expect(ids([view('ppo', 'ppo')])).toEqual(['loss', 'completion-length', 'ppo-score', 'ppo-kl', 'value-loss', 'grad-norm', 'tokens']);
    const ppoRow = { step: 1, loss: 1, 'objective/kl': 0, 'objective/scores': 0.3, 'objective/rlhf_reward': 0.3, 'loss/value_avg': 0.5 };
    expect(ids([view('x', undefined, [ppoRow])])).toEqual(expect.arrayContaining(['ppo-score', 'ppo-kl', 'value-loss']));
    expect(ids([view('grpo-arithmetic', 'grpo', [{ step: 1, loss: 0, reward: 0, kl: 0 }])])).not.toContain('value-loss');
    const v = chartData(def('value-loss'), [view('x', undefined, [ppoRow])], 0);
    expect(v.table).toEqual([{ step: 1, 'x|loss/value_avg': 0.5 }]);
  });

  it('keeps GRPO’s kl out of KTO’s chart and KTO’s out of the KL-to-reference chart', () => {
    const grpo = view('grpo-arithmetic', 'grpo', [{ step: 1, loss: 0, kl: 0, reward: 0.5 }, { step: 2, loss: 0, kl: 0.01, reward: 0.75 }]);
    const kto = view('kto-0.1', 'kto', [{ step: 1, loss: 0.7, kl: 0.2 }]);
    expect(chartData(def('kl'), [grpo, kto], 0).lines.map((l) => l.name)).toEqual(['KTO-0.1 · kl']);
    expect(chartData(def('kl-ref'), [grpo, kto], 0).lines.map((l) => l.name)).toEqual(['GRPO-ARITHMETIC · kl']);
    expect(chartData(def('reward'), [grpo, kto], 0).table).toEqual([{ step: 1, 'grpo-arithmetic|reward': 0.5 }, { step: 2, 'grpo-arithmetic|reward': 0.75 }]);
    expect(chartPlotsRun(def('logps'), grpo)).toBe(false);
    // a run whose method is unknown (an old save with another id) is plotted wherever it has data
    expect(chartPlotsRun(def('logps'), view('zz', undefined))).toBe(true);
  });

  it('plots the reward model’s accuracy and held-out accuracy in the Reward accuracy chart beside DPO’s', () => {
    const rm = view('reward', 'reward', [{ step: 1, loss: 0.69, accuracy: 0.5, margin: 0.01 }], [{ step: 1, eval_accuracy: 0.75, eval_margin: 0.02 }]);
    const dpo = view('dpo-sigmoid-0.1', 'dpo', [{ step: 1, loss: 0.69, 'rewards/accuracies': 0.25 }], [{ step: 1, 'eval_rewards/accuracies': 1 }]);
    const d = chartData(def('accuracy'), [rm, dpo], 0);
    expect(d.lines.map((l) => l.name)).toEqual(['REWARD · accuracy', 'REWARD · eval accuracy', 'DPO-SIGMOID-0.1 · accuracy', 'DPO-SIGMOID-0.1 · eval accuracy']);
    expect(d.table).toEqual([{ step: 1, 'reward|accuracy': 0.5, 'reward|eval_accuracy': 0.75, 'dpo-sigmoid-0.1|rewards/accuracies': 0.25, 'dpo-sigmoid-0.1|eval_rewards/accuracies': 1 }]);
    // the reward model's `margin` (reward units) never lands in the policy margins chart
    expect(chartData(def('margins'), [rm, dpo], 0).lines.every((l) => l.runId === 'dpo-sigmoid-0.1')).toBe(true);
    expect(chartData(def('rm-margin'), [rm, dpo], 0).lines.map((l) => l.name)).toEqual(['REWARD · margin', 'REWARD · eval margin']);
  });
});

describe('cards and URL tokens of the RLHF methods', () => {
  it('offers the reward model, GRPO and RLOO as cards', () => {
    for (const m of ['reward', 'grpo', 'rloo'] as const) expect(CARD_METHODS).toContain(m);
  });

  it('round-trips reward, grpo and rloo cards through the URL, the judge by its short name', () => {
    const cards = [newCard('reward'), newCard('reward', { centerRewardsCoefficient: 0.01 }), newCard('grpo'), newCard('grpo', { reward: 'judge:politeness', numGenerations: 4, maxNewTokens: 8, lossType: 'bnpo' }), newCard('rloo', { reward: ['judge:arithmetic', 'judge:politeness'], rewardWeights: [1, 0.5], normalizeAdvantages: true })];
    const q = encodeConfig(cards, DEFAULT_SETTINGS, null);
    expect(q).toContain('runs=reward,reward:0.01,grpo:arithmetic,grpo:politeness:0.04:4:8:1:bnpo,rloo:arithmetic/politeness:0.04:2:32:1:1:0:1:0.2:1/0.5&');
    const back = decodeConfig(q);
    expect(back.problems).toEqual([]);
    expect(back.cards).toEqual(cards);
    // the card id is the token, readable and safe in file names; the method comes back from it
    expect(cards.map((c) => c.id)).toEqual(['reward', 'reward-0.01', 'grpo-arithmetic', 'grpo-politeness-0.04-4-8-1-bnpo', 'rloo-arithmetic-politeness-0.04-2-32-1-1-0-1-0.2-1-0.5']);
    expect(cards.map((c) => methodOfRunId(cardKey(c)))).toEqual(['reward', 'reward', 'grpo', 'grpo', 'rloo']);
    expect(runMethod({ id: 'grpo-arithmetic', method: 'rloo' })).toBe('rloo');
    expect(methodOfRunId('nonsense-1')).toBeNull();
    // a bad value names the option
    expect(parseCardToken('grpo:politeness').values.reward).toBe('judge:politeness');
    expect(() => parseCardToken('grpo:poetry')).toThrow(/reward "poetry" is unknown; expected one of judge:arithmetic, judge:politeness/);
    expect(() => parseCardToken('grpo:arithmetic:0.04:1')).toThrow(/numGenerations/);
  });
});

const at = (step: number, reward: number[]): RolloutsAtStep => ({ scale: 'judge', step, rewards: [{ name: 'arithmetic', description: 'right' }], prompts: reward.map(() => 'Q: 1+1?'), completions: reward.map((r) => (r ? '2' : '3')), tokens: reward.map(() => 2), reward, reasons: reward.map(() => 'why'), advantages: reward.map(() => 0), total: 8 });

describe('samples over steps', () => {
  it('keeps an online run’s completions in step order, replaces a redone step, drops them on a rewind', () => {
    let list = addRollouts(undefined, at(2, [1, 0]));
    list = addRollouts(list, at(1, [0, 0]));
    list = addRollouts(list, at(2, [1, 1]));
    expect(list.map((x) => [x.step, x.reward])).toEqual([[1, [0, 0]], [2, [1, 1]]]);
    expect(rewindRollouts(list, 1).rollouts!.map((x) => x.step)).toEqual([1]);
    expect(rewindRollouts(undefined, 1)).toEqual({});
    // the table: newest first, the step cell spanning its rows
    expect(rolloutRows(list).map((r) => [r.step, r.first, r.span, r.completion, r.reward, r.judged])).toEqual([[2, true, 2, '2', 1, true], [2, false, 2, '2', 1, true], [1, true, 2, '3', 0, true], [1, false, 2, '3', 0, true]]);
    expect([rewardText(1), rewardText(0), rewardText(0.5), rewardText(-0.00123)]).toEqual(['1', '0', '0.50', '-0.0012']);
    // PPO: the reward model's score, no per-completion advantage
    const ppo = rolloutRows([{ ...at(3, [0.25]), scale: 'model', advantages: undefined }]);
    expect(ppo.map((r) => [r.reward, r.judged, r.advantage])).toEqual([[0.25, false, null]]);
  });

  it('reduces rollouts events and rewinds them with the run', () => {
    const s0: EventState = { runs: [view('grpo-arithmetic', 'grpo')], pairs: null, phase: 'training', phaseMessage: '', trainPairs: null, evalPairs: null, gpuNotice: null, gpu: { state: 'checking' } };
    const s1 = reduceEvents(s0, [{ type: 'rollouts', runId: 'grpo-arithmetic', at: at(1, [1]) }, { type: 'rollouts', runId: 'grpo-arithmetic', at: at(2, [0]) }]);
    expect(s1.runs[0].rollouts!.map((x) => x.step)).toEqual([1, 2]);
    const s2 = reduceEvents(s1, [{ type: 'rewind', runId: 'grpo-arithmetic', step: 0, resumedAt: 1 }]);
    expect(s2.runs[0].rollouts!.map((x) => x.step)).toEqual([1]);
  });

  it('sends the first completions of the first, every ⌈total/40⌉-th and the last update, with the judge’s reasons', () => {
    expect([1, 2, 3, 4].map((k) => isRolloutStep(k, 4))).toEqual([true, true, true, true]);
    expect([1, 2, 3, 4, 5, 99, 100].map((k) => isRolloutStep(k, 100))).toEqual([true, false, true, false, false, true, true]);
    expect([1, 2, 3, 80, 81].map((k) => isRolloutStep(k, 81))).toEqual([true, false, true, false, true]);
    const prompt = 'Q: What is 2+3?\nA: ';
    const samples: OnlineSample[] = ['5', '4', 'five', '5 ', ' 6'].map((completion, i) => ({ step: 7, prompt, completion, prompt_ids: [1], completion_ids: Array.from({ length: i + 1 }, () => 0), reward: arithmeticJudge.judge(prompt, completion).score, rewards: { arithmetic: arithmeticJudge.judge(prompt, completion).score }, advantage: i / 10 }));
    const r = rolloutsAt(samples)!;
    expect(r.step).toBe(7);
    expect(r.total).toBe(5);
    expect(r.completions).toEqual(['5', '4', 'five', '5 '].slice(0, ROLLOUT_ROWS));
    expect(r.reward).toEqual([1, 0, 0, 1]);
    expect(r.tokens).toEqual([1, 2, 3, 4]);
    expect(r.advantages).toEqual([0, 0.1, 0.2, 0.3]);
    expect(r.reasons).toEqual(['arithmetic: 2+3 = 5, correct', 'arithmetic: 2+3 = 5, answered 4', 'arithmetic: no number in the answer (2+3 = 5)', 'arithmetic: 2+3 = 5, correct']);
    expect(r.rewards).toEqual([{ name: 'arithmetic', description: arithmeticJudge.description }]);
    expect(rolloutsAt([])).toBeNull();
  });
});
