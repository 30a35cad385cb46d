// "Will it fit": with a GPU memory budget below what the comparison needs, the run controls say
// how much it needs and offer the settings that fit; one click applies them (bf16 moments, f16
// activations, micro-batches) and the notice goes away once the estimate is under the budget.
import { describe, it, expect, inject, afterAll } from 'vitest';
import { openPage, screenshot, type Session } from './browser';

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
});
