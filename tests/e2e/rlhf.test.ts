// Tier 3, issue 16 on the page: a GRPO card rewarded by judge:arithmetic and a reward-model card
// train beside DPO on the built-in arithmetic pairs (tiny model, few updates, 8-token
// completions). TRL's metric names reach the metrics export; the reward and KL charts show GRPO
// (kl = 0 at step 1: the policy starts as the reference) and leave DPO and the reward model out;
// the log-prob charts leave GRPO out; the samples-over-steps table's rewards are the judge's
// verdicts on the text it shows; the reward model's held-out accuracy (eval_accuracy) is on the
// Reward accuracy chart. Screenshots at 1280×800 and 390×844 (nothing scrolls sideways).
import { describe, it, expect, inject, afterAll } from 'vitest';
import { mkdirSync } from 'node:fs';
import { openPage, foreignRequests, type Session } from './browser';
import { chartTable, column, waitForSteps } from './page';
import { openTab } from './tabs';
import { unzip } from './unzip';
import { arithmeticJudge } from '../../src/judge';

const baseUrl = inject('baseUrl');
const SHOTS = 'test-results/screenshots';
const STEPS = 4;
// GRPO: judge:arithmetic, β 0.04, G = 2, 8 new tokens; 2 prompts per update
const QUERY = `?runs=grpo:arithmetic:0.04:2:8,reward,dpo:sigmoid:0.1&steps=${STEPS}&bs=2&seed=3&eval=0.02&evalEvery=${STEPS}&data=arithmetic`;
const RUNS = ['GRPO', 'Reward model', 'DPO'];
const sessions: Session[] = [];
afterAll(async () => {
  for (const s of sessions) await s.browser.close();
});

describe('RLHF on the page', () => {
  it('GRPO with judge:arithmetic and a reward model beside DPO: TRL metrics, reward and KL charts, samples over steps, held-out RM accuracy', async () => {
    const s = await openPage(baseUrl + QUERY, { webgpu: true });
    sessions.push(s);
    const { page } = s;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000, state: 'attached' });
    await page.getByTestId('model-name').waitFor({ timeout: 60_000, state: 'attached' });
    await openTab(page, 'Data');
    await expect.poll(() => page.getByRole('status', { name: 'Data status' }).textContent(), { timeout: 30_000 }).toMatch(/arithmetic.*built-in/);
    await openTab(page, 'Methods');
    // the cards come from the registry: GRPO names its judge, the reward model what it trains
    const grpo = page.getByRole('article', { name: 'GRPO method' });
    expect(await grpo.getByLabel('GRPO reward').inputValue()).toBe('judge:arithmetic');
    expect(await grpo.getByLabel('GRPO G').inputValue()).toBe('2');
    expect(await grpo.getByTestId('card-data').textContent()).toMatch(/judge:arithmetic.*first integer of the completion equals/);
    expect(await page.getByRole('article', { name: 'Reward model method' }).getByTestId('card-data').textContent()).toMatch(/score head/);
    const offered = await page.getByLabel('Add a method').locator('option').allTextContents();
    for (const m of ['Reward model', 'GRPO', 'RLOO']) expect(offered).toContain(m);

    await page.getByRole('button', { name: 'Start 3 runs' }).click();
    await waitForSteps(page, RUNS, STEPS, 80_000, true);
    await page.mouse.move(0, 0);

    // TRL's names in the metrics export
    await openTab(page, 'Export');
    const [d] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.getByRole('button', { name: 'Metrics JSON Lines', exact: true }).click()]);
    const text = await (await d.createReadStream()).toArray().then((chunks) => Buffer.concat(chunks).toString('utf8'));
    const rows = text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const keysOf = (run: string) => new Set(rows.filter((r) => r.run === run).flatMap((r) => Object.keys(r)));
    const g = keysOf('GRPO');
    for (const k of ['loss', 'reward', 'reward_std', 'rewards/arithmetic/mean', 'rewards/arithmetic/std', 'frac_reward_zero_std', 'kl', 'entropy', 'clip_ratio/region_mean', 'completions/mean_length', 'completions/clipped_ratio', 'num_tokens', 'grad_norm', 'eval_reward']) expect(g, k).toContain(k);
    const rm = keysOf('Reward model');
    for (const k of ['loss', 'accuracy', 'margin', 'mean_reward', 'min_reward', 'max_reward', 'num_tokens', 'eval_accuracy', 'eval_margin']) expect(rm, k).toContain(k);
    expect(keysOf('DPO')).toContain('rewards/accuracies');
    // the reward model's folder: transformers' GPT2ForSequenceClassification with score.weight
    const [m] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.getByRole('button', { name: 'Reward model model (safetensors)', exact: true }).click()]);
    const folder = unzip(new Uint8Array(Buffer.concat(await (await m.createReadStream()).toArray())));
    const cfg = JSON.parse(new TextDecoder().decode(folder.get('config.json'))) as Record<string, unknown>;
    expect([cfg.architectures, cfg.num_labels]).toEqual([['GPT2ForSequenceClassification'], 1]);
    expect(new TextDecoder().decode(folder.get('model.safetensors')!.slice(0, 4096))).toContain('"score.weight"');

    // the online charts: GRPO only; kl starts at 0
    const reward = await chartTable(page, 'Reward: judge score of the completions');
    expect(reward[0].slice(1).sort()).toEqual(['GRPO · eval reward', 'GRPO · reward']);
    expect(column(reward, 'GRPO · reward').size).toBe(STEPS);
    const kl = await chartTable(page, 'KL to the reference (kl)');
    expect(kl[0].slice(1)).toEqual(['GRPO · kl']);
    expect(column(kl, 'GRPO · kl').get(1)).toBe(0);
    expect(column(await chartTable(page, 'Completion length'), 'GRPO · mean length').size).toBe(STEPS);
    // no chosen/rejected curves for GRPO or the reward model; DPO's are there
    const lp = await chartTable(page, 'Log-probs: chosen vs rejected');
    expect(lp[0].some((h) => h.startsWith('GRPO') || h.startsWith('Reward model'))).toBe(false);
    expect(lp[0]).toContain('DPO · chosen');
    // KTO's kl note is KTO's alone (GRPO logs a kl of another meaning)
    expect(await page.getByRole('note').filter({ hasText: /^GRPO: kl/ }).count()).toBe(0);
    // PPO's charts stay out until a run logs their metrics
    expect(await page.getByRole('figure', { name: 'PPO: value loss chart' }).count()).toBe(0);

    // the reward model's accuracy on held-out pairs beside DPO's
    const acc = await chartTable(page, 'Reward accuracy');
    const heldOut = column(acc, 'Reward model · eval accuracy');
    expect([...heldOut.keys()]).toEqual([STEPS]);
    expect(heldOut.get(STEPS)).toBeGreaterThanOrEqual(0);
    expect(heldOut.get(STEPS)).toBeLessThanOrEqual(1);
    expect(column(acc, 'DPO · eval accuracy').size).toBe(1);
    expect(column(await chartTable(page, 'Reward model: r(chosen) − r(rejected)'), 'Reward model · margin').size).toBe(STEPS);

    // samples over steps: every shown reward is the judge's verdict on the shown prompt and completion
    const table = page.getByRole('table', { name: 'Samples over steps: GRPO' });
    await expect.poll(() => table.locator('tbody tr').count(), { timeout: 30_000 }).toBe(STEPS * 4);
    const cells = await table.evaluate((el) =>
      [...el.querySelectorAll('tbody tr')].map((tr) => ({ step: Number(tr.getAttribute('data-step')), td: [...tr.querySelectorAll('td')].map((c) => c.textContent ?? '') })),
    );
    expect([...new Set(cells.map((c) => c.step))]).toEqual([4, 3, 2, 1]);
    for (const c of cells) {
      const [prompt, completion, rewardCell] = c.td;
      expect(prompt).toMatch(/What is|Calcule|\d/);
      const verdict = arithmeticJudge.judge(prompt, completion).score;
      expect(Number(/^-?[\d.]+/.exec(rewardCell)![0]), `${prompt} → ${completion}`).toBe(verdict);
    }

    // both layouts; the 1280 one goes into the docs
    mkdirSync(SHOTS, { recursive: true });
    await openTab(page, 'Methods');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${SHOTS}/rlhf-1280.png` });
    await page.getByRole('region', { name: 'Samples over steps (online runs)' }).screenshot({ path: `${SHOTS}/rlhf-samples.png` });
    await page.setViewportSize({ width: 390, height: 844 });
    // the charts re-lay out through a resize observer, which can take a while on a busy machine
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), { timeout: 10_000, message: 'nothing sideways at 390 px' }).toBeLessThanOrEqual(0);
    await openTab(page, 'Methods');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${SHOTS}/rlhf-390-top.png` });
    await page.getByRole('figure', { name: 'Reward: judge score of the completions chart' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/rlhf-390-charts.png` });
    await page.getByRole('region', { name: 'Samples over steps (online runs)' }).scrollIntoViewIfNeeded();
    await page.screenshot({ path: `${SHOTS}/rlhf-390.png` });
    const wider = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
    expect(wider.scrollWidth).toBeLessThanOrEqual(wider.innerWidth);
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });

  it('RLHF vs DPO vs ORPO: PPO waits for SFT and the reward model, then trains from SFT’s weights against the reward model', async () => {
    // the preset's cards with short PPO responses (1 PPO epoch, 8 tokens) so the test stays small
    const steps = 2;
    const s = await openPage(`${baseUrl}?runs=sft,reward,ppo:0.05:0.2:0.1:1:8,dpo:sigmoid:0.1,orpo:0.1&steps=${steps}&bs=2&seed=5&eval=0&data=arithmetic`, { webgpu: true });
    sessions.push(s);
    const { page } = s;
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000, state: 'attached' });
    await page.getByTestId('model-name').waitFor({ timeout: 60_000, state: 'attached' });
    expect(await page.getByRole('combobox', { name: 'Preset' }).locator('option').allTextContents()).toContain('RLHF vs DPO vs ORPO');
    await openTab(page, 'Methods');
    expect(await page.getByRole('article', { name: 'PPO method' }).getByTestId('card-data').textContent()).toMatch(/RLHF stage 3: waits for the comparison’s SFT run/);
    await page.getByRole('button', { name: 'Start 5 runs' }).click();
    // PPO is queued, saying what it waits for, while the first stages train
    await expect.poll(async () => (await page.getByRole('list', { name: 'Runs' }).textContent()) ?? '', { timeout: 60_000 }).toMatch(/Waits for SFT and Reward model to finish/);
    await waitForSteps(page, ['SFT', 'Reward model', 'PPO', 'DPO', 'ORPO'], steps, 80_000, true);
    const score = await chartTable(page, 'PPO: reward-model score');
    expect(column(score, 'PPO · score').size).toBe(steps);
    const kl = await chartTable(page, 'PPO: KL to the reference (objective/kl)');
    // the reference is PPO's own start (SFT's final weights): no drift at step 1
    expect(column(kl, 'PPO · objective/kl').get(1)).toBe(0);
    expect(column(await chartTable(page, 'PPO: value loss'), 'PPO · value loss').size).toBe(steps);
    const table = page.getByRole('table', { name: 'Samples over steps: PPO' });
    await expect.poll(() => table.locator('tbody tr').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: `${SHOTS}/rlhf-preset-1280.png` });
    expect(s.consoleErrors).toEqual([]);
  });
});
