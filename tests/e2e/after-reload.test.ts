// Tier 3: a finished comparison after a reload is no dead end. The engine no longer holds the
// runs, yet Generate samples uses each run's last saved weights, and the model and TRL-script
// exports work; an export that cannot work says why beside its button.
import { describe, it, expect, inject, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { openPage, foreignRequests, screenshot, type Session } from './browser';
import { runStatus, waitForSteps, waitForSaves } from './page';
import { unzip } from './unzip';
import { openTab } from './tabs';

const baseUrl = inject('baseUrl');
let s: Session | null = null;
afterAll(async () => {
  await s?.browser.close();
});

async function download(page: Page, button: string): Promise<Uint8Array> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 60_000 }), page.getByRole('button', { name: button, exact: true }).click()]);
  return new Uint8Array(readFileSync(await d.path()));
}

describe('after a reload', () => {
  it('finished runs still generate samples and export their model and TRL script', async () => {
    s = await openPage(baseUrl + '?steps=3&bs=2&eval=0.2&ckpt=100', { webgpu: true });
    const { page } = s;
    await page.getByTestId('adapter-name').waitFor({ timeout: 60_000 });
    await openTab(page, 'Export');
    // before any run: the reasons are on the page, not only in a disabled state
    expect(await page.getByText('Each run’s model and its TRL script appear here once a comparison has started.').count()).toBe(1);
    await expect.poll(() => page.getByRole('region', { name: 'Run controls' }).textContent(), { timeout: 60_000 }).toMatch(/Data: .*\d+ pairs.*Model: built-in demo model/);
    await page.getByRole('button', { name: /^Start/ }).click();
    await waitForSteps(page, ['DPO', 'ORPO'], 3, 180_000, true);
    await waitForSaves(page); // the page saves its state half a second after a change

    await page.reload();
    await expect.poll(() => runStatus(page, 'ORPO'), { timeout: 30_000 }).toMatch(/^done · step 3\/3/);
    await expect.poll(() => page.getByRole('region', { name: 'Run controls' }).textContent(), { timeout: 60_000 }).toMatch(/Data: .*\d+ pairs.*Model: built-in demo model/);
    await page.getByRole('button', { name: 'Generate samples' }).click();
    const samples = page.getByRole('table', { name: /^Samples from the built-in demo model/ });
    await samples.waitFor({ timeout: 120_000 });
    expect(await samples.getByRole('columnheader').allTextContents()).toEqual(['Prompt', 'Before training', 'DPO (step 3)', 'ORPO (step 3)']);
    expect(await page.getByText(/Resume the comparison to generate/).count()).toBe(0);

    await openTab(page, 'Export');
    const trl = unzip(await download(page, 'ORPO TRL script'));
    for (const f of ['train.py', 'data.jsonl', 'eval.jsonl', 'requirements.txt', 'model/config.json', 'model/model.safetensors']) expect(trl.has(f), f).toBe(true);
    expect(new TextDecoder().decode(trl.get('train.py'))).toMatch(/ORPO/);
    const model = unzip(await download(page, 'DPO model (safetensors)'));
    expect(model.has('model.safetensors')).toBe(true);
    await screenshot(page, 'after-reload-exports');
    expect(foreignRequests(s.requests, baseUrl)).toEqual([]);
    expect(s.consoleErrors).toEqual([]);
  });
});
