// "Will it fit": with a GPU memory budget below what the comparison needs, the run controls say
// how much it needs and offer the settings that fit; one click applies them (bf16 moments, f16
// activations, micro-batches) and the notice goes away once the estimate is under the budget.
// With a PPO card the estimate is per card: the notice lists each run's figure, the Model tab says
// what PPO holds besides the policy, and micro-batches of one pair are not offered.
import { describe, it, expect, inject, afterAll } from 'vitest';
import { openPage, screenshot, type Session } from './browser';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
let s: Session;
afterAll(async () => {
  await s?.browser.close();
});

describe('GPU memory fit', () => {
  it('offers the settings that fit and applies them', async () => {
    s = await openPage(baseUrl + '?bs=8', { webgpu: false });
    const { page } = s;
    const controls = page.getByRole('region', { name: 'Run controls' });
    await expect.poll(() => controls.textContent(), { timeout: 60_000 }).toMatch(/Model: .*parameters/);
    const notice = page.getByRole('alert', { name: 'GPU memory' });
    expect(await notice.count()).toBe(0); // the built-in model fits the default budget
    // a budget between what the settings that fit need and what the current ones need
    await page.evaluate(() => localStorage.setItem('prefplay.gpuBudgetGB', '0.01'));
    await page.reload();
    await notice.waitFor({ timeout: 60_000 });
    const text = (await notice.textContent()) ?? '';
    expect(text).toMatch(/needs ≈ .* of GPU memory \(2 runs × /);
    expect(text).toMatch(/These settings fit:.*bf16 AdamW moments/);
    await screenshot(page, 'fit-notice');
    await notice.getByRole('button', { name: /^Use (it|them)$/ }).click();
    await expect.poll(() => notice.count(), { timeout: 10_000 }).toBe(0);
    expect(new URL(page.url()).searchParams.get('bs') ?? '').not.toBe('8');
    expect(s.consoleErrors).toEqual([]);
  });

  it('a PPO card: each run its own estimate, the parts PPO holds, no micro-batch step', async () => {
    const ppo = await openPage(baseUrl + '?runs=dpo:sigmoid:0.1,ppo:0.05:0.2:0.1:1:8&bs=4', { webgpu: false });
    const { page } = ppo;
    try {
      const controls = page.getByRole('region', { name: 'Run controls' });
      await expect.poll(() => controls.textContent(), { timeout: 60_000 }).toMatch(/Model: .*parameters/);
      await page.evaluate(() => localStorage.setItem('prefplay.gpuBudgetGB', '0.01'));
      await page.reload();
      const notice = page.getByRole('alert', { name: 'GPU memory' });
      await notice.waitFor({ timeout: 60_000 });
      const text = (await notice.textContent()) ?? '';
      const m = /needs ≈ .* of GPU memory \(DPO ([\d.]+) (KB|MB|GB) \+ PPO ([\d.]+) (KB|MB|GB)\)/.exec(text);
      expect(m, text).not.toBeNull();
      const bytes = (v: string, u: string) => Number(v) * { KB: 1e3, MB: 1e6, GB: 1e9 }[u]!;
      expect(bytes(m![3], m![4])).toBeGreaterThan(bytes(m![1], m![2]));
      expect(text).not.toMatch(/micro-batches of one pair/);
      await openTab(page, 'Model');
      const memory = (await page.getByTestId('model-memory').textContent()) ?? '';
      expect(memory).toMatch(/PPO ≈ [\d.]+ (KB|MB|GB) \(policy [\d.]+ (KB|MB|GB), reference copy [\d.]+ (KB|MB|GB), generation cache [\d.]+ (KB|MB|GB), reward model [\d.]+ (KB|MB|GB), value model [\d.]+ (KB|MB|GB)\) · 2 runs ≈/);
      expect(ppo.consoleErrors).toEqual([]);
    } finally {
      await ppo.browser.close();
    }
  });
});
